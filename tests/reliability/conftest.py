"""Reliability suite: shared tally of what was tried, and the summary at the end.

Every test adds its figures to `TALLY` through the `tally` fixture: faults injected, inputs
tried, messages sent, lost and duplicated. At the end of the session the table is printed
(pytest_terminal_summary). A run writes no file unless RELIABILITY_REPORT names one: then the
figures go to that file, one section per database backend (and per soak), and a run replaces
only its own section, so a SQLite run and a PostgreSQL run into the same file stand side by
side. tests/RELIABILITY.md is the committed record of such a pair of runs; no test run touches
it unless pointed at it.

RELIABILITY_SOAK=1 turns the long variants on (more kills, more messages, more examples).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SOAK = os.environ.get("RELIABILITY_SOAK", "") not in ("", "0")
#: Where the figures are written (a path, relative to where pytest was started); unset: nowhere.
REPORT_VARIABLE = "RELIABILITY_REPORT"
COLUMNS = ("faults injected", "inputs tried", "messages sent", "lost", "duplicated")


def postgres_url() -> str | None:
    """TEST_DATABASE_URL when it is PostgreSQL (the suite runs on SQLite otherwise)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def backend() -> str:
    return "PostgreSQL" if postgres_url() else "SQLite"


@dataclass
class Row:
    faults: int = 0
    inputs: int = 0
    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)

    def values(self) -> tuple[int, ...]:
        return (self.faults, self.inputs, self.sent, self.lost, self.duplicated)


class Tally:
    """Figures by area (`1 crash safety`, `5 hostile input`, …); tests add to them."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.started = time.monotonic()
        self.outcomes: dict[str, int] = {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0}

    def add(
        self,
        area: str,
        *,
        faults: int = 0,
        inputs: int = 0,
        sent: int = 0,
        lost: int = 0,
        duplicated: int = 0,
        note: str | None = None,
    ) -> None:
        row = self.rows.setdefault(area, Row())
        row.faults += faults
        row.inputs += inputs
        row.sent += sent
        row.lost += lost
        row.duplicated += duplicated
        if note:
            row.notes.append(note)

    def table(self) -> list[str]:
        header = ["area", *COLUMNS]
        body = [[area, *map(str, row.values())] for area, row in sorted(self.rows.items())]
        totals = [sum(row.values()[i] for row in self.rows.values()) for i in range(len(COLUMNS))]
        body.append(["total", *map(str, totals)])
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return [line(header), rule, *(line(r) for r in body)]


TALLY = Tally()


@pytest.fixture
def tally() -> Tally:
    return TALLY


@pytest.fixture
def soak() -> bool:
    return SOAK


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/reliability" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if hasattr(report, "wasxfail"):
            TALLY.outcomes["xfailed"] += 1
        else:
            TALLY.outcomes[report.outcome] = TALLY.outcomes.get(report.outcome, 0) + 1


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if not TALLY.rows:
        return
    seconds = time.monotonic() - TALLY.started
    outcomes = ", ".join(f"{v} {k}" for k, v in TALLY.outcomes.items() if v)
    title = f"reliability summary ({backend()}{', soak' if SOAK else ''})"
    terminalreporter.write_sep("=", title)
    for text in TALLY.table():
        terminalreporter.write_line(text)
    for area, row in sorted(TALLY.rows.items()):
        for note in row.notes:
            terminalreporter.write_line(f"  {area}: {note}")
    terminalreporter.write_line(f"  tests: {outcomes}; {seconds:.0f} s")
    report = report_path(config)
    if report is None:
        return
    try:
        _write_report(report, outcomes, seconds, config.invocation_params.args)
    except (OSError, ValueError) as exc:  # a read-only checkout must not fail the run
        terminalreporter.write_line(f"  (could not write {report}: {exc})")
    else:
        terminalreporter.write_line(f"  figures written to {report}")


def report_path(config: pytest.Config) -> Path | None:
    """The file named by RELIABILITY_REPORT (relative to where pytest started), or None."""
    value = os.environ.get(REPORT_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


def _label() -> str:
    return f"{backend()}{' soak' if SOAK else ''}"


#: Sections in the order the file shows them.
_ORDER = ("SQLite", "PostgreSQL", "SQLite soak", "PostgreSQL soak")
_SECTION = re.compile(r"<!-- (?P<label>[\w ]+) start -->\n.*?<!-- (?P=label) end -->", re.S)


def _write_report(path: Path, outcomes: str, seconds: float, args: tuple[str, ...]) -> None:
    """Write this run's section into `path`, keeping the other backends' sections there."""
    label = _label()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["pytest", *args]) if args else "pytest"
    notes = [f"- {area}: {note}" for area, row in sorted(TALLY.rows.items()) for note in row.notes]
    section = "\n".join(
        [
            f"<!-- {label} start -->",
            f"## {backend()}{' (soak)' if SOAK else ''}",
            "",
            f"Last run {when}: `{command}`; tests: {outcomes}; {seconds:.0f} s.",
            "",
            *TALLY.table(),
            "",
            *notes,
            f"<!-- {label} end -->",
        ]
    )
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old.strip() and not old.startswith(_HEADER.partition("\n")[0]):
        raise ValueError("not a reliability report; left as it is")
    sections = {m["label"]: m[0] for m in _SECTION.finditer(old)}
    sections[label] = section
    ordered = sorted(sections, key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), k))
    path.write_text(_HEADER + "".join(f"\n{sections[k]}\n" for k in ordered), encoding="utf-8")


_HEADER = """# Reliability figures

The figures of the reliability suite, one section per database backend. They are
written by `tests/reliability/conftest.py` only when `RELIABILITY_REPORT` names a file; a run
replaces its own backend's section and keeps the others. `tests/RELIABILITY.md` is the
committed record of a full run on both databases, made with

```sh
RELIABILITY_REPORT=tests/RELIABILITY.md .venv/bin/pytest tests/reliability       # SQLite
RELIABILITY_REPORT=tests/RELIABILITY.md \\
  TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
  .venv/bin/pytest tests/reliability                                             # PostgreSQL
```

(`RELIABILITY_SOAK=1` adds the long variants' sections.) Columns: faults injected (Slack
errors, kills, database cuts), inputs tried (commands and requests sent), messages sent
(successful deliveries seen by the fake Slack), lost (a message that should have gone out and
never did: must be 0), duplicated (a message delivered twice: allowed only where Slack posted
it and the bot could not know, a kill between Slack's answer and our commit or a request that
timed out; the tests count each against those causes).
"""

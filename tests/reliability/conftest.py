"""Reliability suite (issue #7): shared tally of what was tried, and the summary at the end.

Every test adds its figures to `TALLY` through the `tally` fixture: faults injected, inputs
tried, messages sent, lost and duplicated. At the end of the session the table is printed
(pytest_terminal_summary) and kept in tests/RELIABILITY.md, one section per database backend,
so the last figures of a SQLite run and of a PostgreSQL run stand side by side.

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
REPORT = Path(__file__).resolve().parent.parent / "RELIABILITY.md"
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
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
    try:
        _write_report(outcomes, seconds)
    except OSError as exc:  # a read-only checkout must not fail the run
        terminalreporter.write_line(f"  (could not write {REPORT}: {exc})")


def _write_report(outcomes: str, seconds: float) -> None:
    start, end = f"<!-- {backend()} start -->", f"<!-- {backend()} end -->"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = [
        f"- {area}: {note}" for area, row in sorted(TALLY.rows.items()) for note in row.notes
    ]
    section = "\n".join(
        [
            start,
            f"## {backend()}{' (soak)' if SOAK else ''}",
            "",
            f"Last run {when}; tests: {outcomes}; {seconds:.0f} s.",
            "",
            *TALLY.table(),
            "",
            *notes,
            end,
        ]
    )
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else _HEADER
    if start in text and end in text:
        pattern = re.escape(start) + ".*?" + re.escape(end)
        text = re.sub(pattern, lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text, encoding="utf-8")


_HEADER = """# Reliability figures

Written by `tests/reliability/conftest.py` at the end of every run of the reliability suite
(issue #7); each database backend keeps its own last figures. Run it with

```sh
.venv/bin/pytest tests/reliability                       # SQLite
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_rel \\
  .venv/bin/pytest tests/reliability                     # PostgreSQL
RELIABILITY_SOAK=1 .venv/bin/pytest tests/reliability    # the long variants
```

Columns: faults injected (Slack errors, kills, database cuts), inputs tried (commands and
requests sent), messages sent (successful deliveries seen by the fake Slack), lost (a message
that should have gone out and never did: must be 0), duplicated (a message delivered twice:
allowed only for kills between Slack's answer and our commit, and counted against them).
"""

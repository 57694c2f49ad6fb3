"""Shared pieces of the benchmarks: databases, bulk data, SQL counting, processes, tables."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, text

ROOT = Path(__file__).resolve().parent.parent
#: The benchmarks' own PostgreSQL database (colleagues' test suites use `test`).
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
#: A Monday morning in winter (GMT): what the in-process benchmarks take "now" to be.
MONDAY = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
#: Slack ids of the chairs the load generator types as.
CHAIRS = tuple(f"UCHAIR{i}" for i in range(1, 5))

# ---------------------------------------------------------------------------- tables


@dataclass
class Row:
    """One line of a result table."""

    measure: str
    figure: str
    target: str = "-"
    baseline: str = "-"
    verdict: str = "-"


@dataclass
class Table:
    """A benchmark's result table: measure | figure | target | baseline | pass/miss."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        measure: str,
        figure: str,
        target: str = "-",
        baseline: str = "-",
        ok: bool | None = None,
    ) -> None:
        verdict = "-" if ok is None else ("pass" if ok else "MISS")
        self.rows.append(Row(measure, figure, target, baseline, verdict))

    def render(self) -> str:
        head = ("measure", "figure", "target", "baseline", "pass/miss")
        cells = [head] + [(r.measure, r.figure, r.target, r.baseline, r.verdict) for r in self.rows]
        widths = [max(len(c[i]) for c in cells) for i in range(5)]

        def line(c: Sequence[str]) -> str:
            return "| " + " | ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) + " |"

        out = [
            f"### {self.title}",
            "",
            line(head),
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        out += [line(c) for c in cells[1:]]
        out += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> str:
    """One line about where the figures come from."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores ({cpu}){mem}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


# ---------------------------------------------------------------------------- databases


def sqlite_url(directory: str | None = None) -> str:
    """A fresh SQLite file in a temporary directory (removed at exit)."""
    folder = directory or tempfile.mkdtemp(prefix="actionbot-bench-")
    atexit.register(_rmtree, folder)
    return f"sqlite:///{folder}/bench.db"


def _rmtree(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def pg_url() -> str:
    return os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)


def fresh_database(url: str) -> str:
    """An empty, migrated schema at `url` (PostgreSQL: the public schema is dropped first)."""
    from storage.migrate import upgrade

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


def databases(which: str) -> list[tuple[str, str]]:
    """(label, url) of the databases asked for: sqlite, postgres or both."""
    out: list[tuple[str, str]] = []
    if which in ("sqlite", "both"):
        out.append(("SQLite", sqlite_url()))
    if which in ("postgres", "both"):
        if postgres_reachable(pg_url()) or create_postgres_database(pg_url()):
            out.append(("PostgreSQL", pg_url()))
        else:
            print(f"(PostgreSQL at {pg_url()} is not reachable: skipped)", file=sys.stderr)
    return out


def create_postgres_database(url: str) -> bool:
    """Create the bench's own database on a server that does not have it yet; True if made."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if not target.database:
        return False
    # CREATE DATABASE cannot run in a transaction; the server's maintenance database can host it.
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            name = conn.dialect.identifier_preparer.quote(target.database)
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception:
        return False
    finally:
        engine.dispose()
    print(f"(created the PostgreSQL database {target.database})", file=sys.stderr)
    return postgres_reachable(url)


def postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


@dataclass
class Plan:
    """What a bulk load made: ids of owners (with their Slack ids) and of actions."""

    owner_ids: list[int]
    slack_ids: list[str]
    action_ids: list[int]


def bulk_load(
    url: str,
    *,
    actions: int,
    due_soon: int = 0,
    overdue: int = 0,
    done: int = 0,
    blocked: int = 0,
    history: int = 0,
    owners: int = 200,
    today: dt.date,
    now: dt.datetime,
    seed: int = 6,
) -> Plan:
    """Fill a migrated database fast (SQLAlchemy Core executemany).

    `due_soon` actions fall due within the next 7 days (all of them have a reminder due),
    `overdue` are past their deadline, `done` and `blocked` are what they say; the rest are open
    and due 30-365 days ahead. `history` entries are spread over the actions.
    """
    from storage.models import Action, HistoryEntry, Identity, Person

    rng = random.Random(seed)
    engine = create_engine(url)
    created = now - dt.timedelta(days=60)
    with engine.begin() as conn:
        people = [
            {
                "display_name": f"Owner {i}",
                "email": f"owner{i}@council.example",
                "created_at": created,
            }
            for i in range(owners)
        ]
        conn.execute(insert(Person), people)
        owner_ids = list(conn.scalars(text("SELECT id FROM people ORDER BY id")).all())
        slack_ids = [f"UOWN{i:05d}" for i in range(owners)]
        conn.execute(
            insert(Identity),
            [
                {"person_id": pid, "platform": "slack", "external_id": sid}
                for pid, sid in zip(owner_ids, slack_ids, strict=True)
            ],
        )
        rows: list[dict[str, Any]] = []
        for n in range(actions):
            status, due, done_at = "open", today + dt.timedelta(days=rng.randint(30, 365)), None
            if n < due_soon:
                due = today + dt.timedelta(days=n % 8)
            elif n < due_soon + overdue:
                due = today - dt.timedelta(days=1 + n % 40)
            elif n < due_soon + overdue + done:
                status, done_at = "done", now - dt.timedelta(days=n % 14, hours=1)
            elif n < due_soon + overdue + done + blocked:
                status = "blocked"
            rows.append(
                {
                    "ref": f"P-{n + 1:06d}",
                    "title": f"Bench action {n + 1}: audit case files and report to the board",
                    "owner_id": owner_ids[n % owners],
                    "due_date": due,
                    "status": status,
                    "rag": ("red", "amber", "green", None)[n % 4],
                    "workstream": f"Workstream {n % 5}",
                    "priority": "high" if n % 3 == 0 else "medium",
                    "created_at": created,
                    "updated_at": created,
                    "done_at": done_at,
                    "blocked_reason": "waiting for data" if status == "blocked" else None,
                    "version": 1,
                }
            )
            if len(rows) >= 10_000:
                conn.execute(insert(Action), rows)
                rows = []
        if rows:
            conn.execute(insert(Action), rows)
        action_ids = list(conn.scalars(text("SELECT id FROM actions ORDER BY id")).all())
        entries: list[dict[str, Any]] = []
        for n in range(history):
            entries.append(
                {
                    "action_id": action_ids[n % len(action_ids)],
                    "at": created + dt.timedelta(minutes=n),
                    "actor_id": owner_ids[n % owners],
                    "source": "slack",
                    "change": "update",
                    "field": None,
                    "old_value": None,
                    "new_value": None,
                    "note": f"progress note {n}",
                }
            )
            if len(entries) >= 10_000:
                conn.execute(insert(HistoryEntry), entries)
                entries = []
        if entries:
            conn.execute(insert(HistoryEntry), entries)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return Plan(owner_ids=owner_ids, slack_ids=slack_ids, action_ids=action_ids)


class StatementCounter:
    """Counts SQL statements an engine sends (before_cursor_execute; executemany counts 1)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.statements: list[str] = []
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(" ".join(str(args[2]).split())[:400])

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)


def summarise_sql(statements: Sequence[str]) -> str:
    """`3x SELECT … FROM people; 1x INSERT INTO outbox`: statements grouped by shape."""
    import re
    from collections import Counter

    shapes: Counter[str] = Counter()
    for sql in statements:
        verb = sql.split(" ", 1)[0].upper()
        match = re.search(r"\b(?:FROM|INTO|UPDATE)\s+([\w\"]+)", sql, re.IGNORECASE)
        shapes[f"{verb} {match.group(1).strip(chr(34)) if match else ''}".strip()] += 1
    return ", ".join(f"{n}x {shape}" for shape, n in shapes.items())


def bench_settings(url: str, **extra: Any) -> Any:
    from bot.config import Settings

    values: dict[str, Any] = {
        "database_url": url,
        "chair_user_ids": CHAIRS,
        "bot_timezone": "Europe/London",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def build_bench_core(url: str, *, now: dt.datetime | None = None, **extra: Any) -> Any:
    """A core on `url` with a fixed clock (or the real one when `now` is None)."""
    from bot.clock import FixedClock, SystemClock
    from bot.domain import Platform
    from bot.people.directory import ConsoleDirectory
    from bot.services.context import Core
    from storage.db import make_engine, make_session_factory

    settings = bench_settings(url, **extra)
    engine = make_engine(settings.database_url)
    return Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=FixedClock(now) if now is not None else SystemClock(),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )


# ---------------------------------------------------------------------------- processes

_CHILDREN: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    args: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A child process in its own process group, stopped at exit (and on Ctrl-C)."""
    out: Any = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        list(args),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _CHILDREN.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc in _CHILDREN:
        _CHILDREN.remove(proc)


def stop_all() -> None:
    for proc in list(_CHILDREN):
        stop(proc, timeout=5)


atexit.register(stop_all)


@contextlib.contextmanager
def children() -> Iterator[None]:
    """Stops every child started inside the block, whatever happens."""
    try:
        yield
    finally:
        stop_all()


def wait_http(
    url: str, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `url` until it answers 200 (bounded)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s: {last}")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes in process group `pgid` (Linux /proc).

    A server spawned by `spawn` leads its own group, so this is the server with its workers.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name (field 2) may hold spaces: count fields after its ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # pgrp, field 5
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / ticks


def python() -> str:
    return sys.executable


def actionbot() -> str:
    """The console script next to this interpreter (the venv's)."""
    script = Path(sys.executable).with_name("actionbot")
    return str(script) if script.exists() else "actionbot"

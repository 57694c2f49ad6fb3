"""9. Soak: 10,000 mixed commands over 10 minutes against `actionbot serve` on PostgreSQL while
`actionbot worker` delivers, watching memory, database connections and the logs.

`python -m bench soak [--minutes 10] [--commands 10000] [--database-url URL] [--record FILE]`

The load generator (bench/soak_load.py, its own process) sends signed slash commands and button
presses at an even pace; the fake Slack (tests/support/fake_slack.py) runs in this process on
loopback. The worker ticks every few seconds with every hour a working hour, so the reminders
that the commands' new deadlines make due are planned and delivered while the load runs.
Every few seconds the bench reads each process's resident memory from /proc (the serve
supervisor, each uvicorn worker process, the worker) and counts the database's connections in
pg_stat_activity; at the end it reads both logs for errors and checks the history's hash chain.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import (
    ROOT,
    Table,
    actionbot,
    bulk_load,
    free_port,
    fresh_database,
    machine,
    ms,
    python,
    spawn,
    stop,
    stop_all,
    wait_http,
)
from bench.latency import percentile, serve_env, start_fake, web_concurrency

DEFAULT_DATABASE = "bench_soak"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ACTIONS = 1_000
OWNERS = 50
#: Targets: memory growth after warm-up, errors in the logs.
GROWTH_TARGET = 0.10
WARMUP = 60.0
#: Seconds between the worker's ticks during the soak (production default: 60).
TICK_SECONDS = 5
#: Connections the second half of the run may peak above the first and still be flat.
CONNECTION_SLACK = 2
#: What counts as an error in a log: a logged ERROR or CRITICAL, a traceback, a 5xx answer.
_ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback \(most recent call last\)|\" 5\d\d\b")
SECTION = "Soak benchmark"


# ---------------------------------------------------------------------------- sampling


@dataclass
class Sample:
    """One look at the processes and the database, `at` seconds into the load."""

    at: float
    rss: dict[str, int]  # label -> resident bytes
    hwm: dict[str, int]  # label -> peak resident bytes so far (VmHWM)
    connections: int | None
    load: float  # the machine's one-minute load average (a shared machine slows the replies)
    #: Sessions waiting for a lock (a row, or the history chain's advisory lock) at that moment.
    waiting: int | None = None
    #: label -> threads (a pool that grows a thread per busy moment grows its memory too)
    threads: dict[str, int] = field(default_factory=dict)


def _status_kb(pid: int) -> tuple[int, int, int] | None:
    """(VmRSS, VmHWM) in bytes and the thread count of a live process, or None once gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
        elif key == "Threads":
            values[key] = int(rest.split()[0])
    if "VmRSS" not in values:
        return None  # a zombie has no memory lines
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"]), values.get("Threads", 0)


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid` (from /proc/PID/task/*/children, else a scan of /proc)."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (task / "children").read_text().split())
        return sorted(found)
    except OSError:
        pass
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return sorted(found)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Sampler:
    """Samples memory and connections in a thread until stopped."""

    serve_pid: int
    worker_pid: int
    database_url: str
    every: float
    samples: list[Sample] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    errors: Counter[str] = field(default_factory=Counter)

    def start(self) -> Sampler:
        self.labels = {self.serve_pid: "serve supervisor", self.worker_pid: "worker"}
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def restart_clock(self) -> None:
        """Times of later samples count from now (the start of the load)."""
        self.started = time.perf_counter()

    def _label(self, pid: int) -> str:
        if pid not in self.labels:
            serving = sum(1 for label in self.labels.values() if label.startswith("serve worker"))
            cmd = _cmdline(pid)
            if "resource_tracker" in cmd:
                self.labels[pid] = "serve resource tracker"
            else:
                self.labels[pid] = f"serve worker {serving + 1}"
        return self.labels[pid]

    def _run(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url, pool_size=1, max_overflow=0)
        # Our own connection is left out of the count; the pid filter does it.
        query = text(
            "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as conn:
                while True:
                    self.take(conn, query)
                    if self._stop.wait(self.every):
                        self.take(conn, query)
                        return
        finally:
            engine.dispose()

    def take(self, conn: Any, query: Any) -> None:
        rss: dict[str, int] = {}
        hwm: dict[str, int] = {}
        threads: dict[str, int] = {}
        for pid in [self.serve_pid, *child_pids(self.serve_pid), self.worker_pid]:
            memory = _status_kb(pid)
            if memory is None:
                continue
            label = self._label(pid)
            rss[label], hwm[label], threads[label] = memory
        connections: int | None
        waiting: int | None
        try:
            connections, waiting = (int(n) for n in conn.execute(query).one())
            conn.commit()
        except Exception as exc:  # a sample lost is noted, not fatal to the soak
            self.errors[type(exc).__name__] += 1
            connections = waiting = None
        try:
            load = float(Path("/proc/loadavg").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            load = float("nan")
        self.samples.append(
            Sample(
                time.perf_counter() - self.started, rss, hwm, connections, load, waiting, threads
            )
        )


# ---------------------------------------------------------------------------- database


def create_database(name: str) -> str:
    """A new, empty database `name` on the local server (dropped first if it is there)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    return f"{SERVER}/{name}"


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        engine.dispose()


def load_plan(url: str, now: dt.datetime) -> dt.date:
    """1,000 actions (100 due this week, 100 overdue, 100 done, 20 blocked) of 50 owners.

    No bulk history: entries written behind the bot's back would not be sealed into the
    history's hash chain, and the soak checks that chain at the end.
    """
    fresh_database(url)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    bulk_load(
        url,
        actions=ACTIONS,
        due_soon=100,
        overdue=100,
        done=100,
        blocked=20,
        history=0,
        owners=OWNERS,
        today=today,
        now=now,
    )
    return today


@dataclass
class Outcome:
    """What the database says after the soak."""

    outbox: Counter[str]
    sent_by: Counter[str]
    kinds: Counter[str]
    history: int


def read_outcome(url: str, pids: dict[int, str]) -> Outcome:
    """Outbox rows by status, sent rows by the process that sent them, history entries."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            outbox = Counter(
                {
                    str(s): int(n)
                    for s, n in conn.execute(
                        text("SELECT status, count(*) FROM outbox GROUP BY status")
                    )
                }
            )
            sent_by: Counter[str] = Counter()
            for who, n in conn.execute(
                text(
                    "SELECT claimed_by, count(*) FROM outbox WHERE status = 'sent'"
                    " GROUP BY claimed_by"
                )
            ):
                # A sender's claim is host:pid:token (bot/outbox/delivery.py), so the pid says
                # which process sent the row; a notice carried in a bundle keeps the bundle's
                # key (bot/outbox/bundles.py): it went out inside that bundle's message.
                claim = str(who or "")
                parts = claim.split(":")
                pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else -1
                if claim.startswith("bundle:"):
                    label = "bundled"
                elif pids.get(pid) == "worker":
                    label = "worker"
                elif pid in pids:
                    label = "serve"
                else:
                    label = "other"
                sent_by[label] += int(n)
            kinds = Counter(
                {
                    str(k): int(n)
                    for k, n in conn.execute(
                        text(
                            "SELECT kind, count(*) FROM outbox WHERE status = 'sent' GROUP BY kind"
                        )
                    )
                }
            )
            history = int(conn.scalar(text("SELECT count(*) FROM action_history")) or 0)
    finally:
        engine.dispose()
    return Outcome(outbox, sent_by, kinds, history)


def wait_for_drain(url: str, timeout: float) -> int:
    """Until no outbox row due by now is waiting (bounded); the rows still waiting."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    waiting = -1
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = int(
                    conn.scalar(
                        text(
                            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
                            " AND (not_before IS NULL OR not_before <= now())"
                        )
                    )
                    or 0
                )
            if waiting == 0:
                break
            time.sleep(1.0)
    finally:
        engine.dispose()
    return waiting


# ---------------------------------------------------------------------------- logs


@dataclass
class LogScan:
    errors: int
    warnings: int
    lines: int
    first: list[str]


def scan_log(path: Path) -> LogScan:
    """Errors (ERROR, CRITICAL, tracebacks, 5xx answers) and warnings in one process's log."""
    errors = warnings = lines = 0
    first: list[str] = []
    with contextlib.suppress(OSError), path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            lines += 1
            if _ERROR_LINE.search(line):
                errors += 1
                if len(first) < 5:
                    first.append(line.strip()[:300])
            elif " WARNING " in line:
                warnings += 1
    return LogScan(errors, warnings, lines, first)


# ---------------------------------------------------------------------------- the run


@dataclass
class Options:
    minutes: float
    commands: int
    database_url: str | None
    record: Path | None
    concurrency: int
    sample_seconds: float
    warmup: float | None
    keep: bool


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench soak",
        description="Soak: mixed commands against actionbot serve on PostgreSQL while "
        "actionbot worker delivers; memory, connections and logs watched.",
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument(
        "--commands", type=int, default=10_000, help="commands and presses, evenly spread"
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL to run on (its public schema is emptied first); default: a new "
        f"database {DEFAULT_DATABASE} on 127.0.0.1, dropped afterwards",
    )
    parser.add_argument(
        "--record",
        type=Path,
        help="write the figures into this reliability record (tests/RELIABILITY.md), "
        f"replacing its '{SECTION}' section",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="load generator connections (default 8)"
    )
    parser.add_argument(
        "--sample-seconds", type=float, default=5.0, help="seconds between samples (default 5)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help=f"seconds of load before memory is compared (default {WARMUP:.0f}, "
        "a third of a shorter run)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="do not drop the database made for the run"
    )
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.commands <= 0:
        parser.error("--minutes and --commands must be positive")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (postgresql+psycopg://…)")
    return Options(
        minutes=args.minutes,
        commands=args.commands,
        database_url=args.database_url,
        record=args.record,
        concurrency=max(1, args.concurrency),
        sample_seconds=max(0.5, args.sample_seconds),
        warmup=args.warmup,
        keep=args.keep_database,
    )


def here() -> dict[str, str]:
    """Children import this checkout's code (first on their path), not the one the
    interpreter was installed from: the soak can measure a clean checkout of a commit."""
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def worker_env(url: str, port: int, fake: Any) -> dict[str, str]:
    """The worker's environment: the same bot, ticking often, every hour a working hour."""
    return {
        **serve_env(url, port, fake),
        **here(),
        "WORKER_TICK_SECONDS": str(TICK_SECONDS),
        "WORKING_DAYS": "mon-sun",
        "WORKING_HOURS": "00:00-23:59",
        "HOLIDAY_COUNTRY": "none",
    }


@dataclass
class Run:
    """Everything measured, for the table."""

    options: Options
    seconds: float
    warmup: float
    load: dict[str, Any]
    samples: list[Sample]
    labels: dict[int, str]
    sampler_errors: Counter[str]
    outcome: Outcome
    posts: int
    calls: Counter[str]
    waiting: int
    logs: dict[str, LogScan]
    exits: dict[str, int | None]
    chain: tuple[int, str]
    log_dir: Path
    processes: int


def soak(options: Options) -> Run:
    from bot.clock import SystemClock

    seconds = options.minutes * 60
    warmup = options.warmup if options.warmup is not None else min(WARMUP, seconds / 3)
    made = None
    url = options.database_url
    if url is None:
        made = DEFAULT_DATABASE
        url = create_database(made)
    log_dir = Path(tempfile.mkdtemp(prefix="actionbot-soak-logs-"))
    try:
        today = load_plan(url, SystemClock().now())
        fake = start_fake()
        try:
            run = _measure(options, url, fake, today, seconds, warmup, log_dir)
        finally:
            fake.stop()
    finally:
        stop_all()
        if made is not None and not options.keep:
            drop_database(made)
    return run


def _measure(
    options: Options,
    url: str,
    fake: Any,
    today: dt.date,
    seconds: float,
    warmup: float,
    log_dir: Path,
) -> Run:
    port = free_port()
    serve = spawn(
        [actionbot(), "serve"],
        env={**serve_env(url, port, fake), **here()},
        log=log_dir / "serve.log",
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", timeout=90, proc=serve)
    worker = spawn(
        [actionbot(), "worker"], env=worker_env(url, port, fake), log=log_dir / "worker.log"
    )
    sampler = Sampler(serve.pid, worker.pid, url, options.sample_seconds).start()
    args = [
        python(),
        "-m",
        "bench.soak_load",
        "--url",
        f"http://127.0.0.1:{port}/slack/events",
        "--commands",
        str(options.commands),
        "--seconds",
        str(seconds),
        "--concurrency",
        str(options.concurrency),
        "--actions",
        str(ACTIONS),
        "--response-url",
        fake.response_url(),
        "--today",
        today.isoformat(),
    ]
    for n in range(0, OWNERS, 5):
        args += ["--owner", f"UOWN{n:05d}"]
    sampler.restart_clock()
    loaded = subprocess.run(
        args,
        cwd=ROOT,
        env={**os.environ, **here()},
        capture_output=True,
        text=True,
        timeout=seconds + 900,
        check=False,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{loaded.stderr[-3000:]}")
    load: dict[str, Any] = json.loads(loaded.stdout.strip().splitlines()[-1])
    # What the last commands queued goes out before the processes stop (bounded wait).
    waiting = wait_for_drain(url, timeout=60)
    sampler.stop()
    pids = dict(sampler.labels)
    exits: dict[str, int | None] = {}
    stop(worker)  # SIGTERM: finishes the message in hand, exits 0
    exits["worker"] = worker.returncode
    stop(serve)
    exits["serve"] = serve.returncode
    outcome = read_outcome(url, pids)
    chain = subprocess.run(
        [actionbot(), "verify-history"],
        cwd=ROOT,
        env={**os.environ, **here(), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = (chain.stdout.strip() or chain.stderr.strip()).splitlines()
    return Run(
        options=options,
        seconds=seconds,
        warmup=warmup,
        load=load,
        samples=sampler.samples,
        labels=pids,
        sampler_errors=sampler.errors,
        outcome=outcome,
        posts=len(fake.calls("chat.postMessage", ok=True)),
        calls=Counter(call.method for call in fake.calls(ok=True)),
        waiting=waiting,
        logs={name: scan_log(log_dir / f"{name}.log") for name in ("serve", "worker")},
        exits=exits,
        chain=(chain.returncode, summary[-1] if summary else ""),
        log_dir=log_dir,
        processes=int(web_concurrency()),
    )


# ---------------------------------------------------------------------------- figures


def _mb(value: float) -> str:
    return f"{value / 1024 / 1024:.1f} MB"


def memory_rows(run: Run, table: Table) -> int:
    """One row per process: RSS after warm-up → at the end, growth; the misses counted."""
    after = [s for s in run.samples if s.at >= run.warmup]
    missed = 0
    labels = sorted(
        {label for s in run.samples for label in s.rss},
        key=lambda k: (k != "serve supervisor", k == "worker", k),
    )
    for label in labels:
        mine = [s for s in after if label in s.rss]
        if len(mine) < 2:
            table.add(f"RSS {label}", "too few samples after warm-up", "< 10 % growth", ok=False)
            missed += 1
            continue
        first, last = mine[0].rss[label], mine[-1].rss[label]
        peak = max(s.hwm.get(label, 0) for s in run.samples)
        growth = (last - first) / first if first else 0.0
        ok = growth < GROWTH_TARGET
        missed += not ok
        counts = [mine[0].threads.get(label), mine[-1].threads.get(label)]
        threads = f"; threads {counts[0]} → {counts[1]}" if None not in counts else ""
        table.add(
            f"RSS {label}: after warm-up → end (peak)",
            f"{_mb(first)} → {_mb(last)} ({_mb(peak)}): {growth * 100:+.1f} %{threads}",
            f"< {GROWTH_TARGET * 100:.0f} % growth",
            ok=ok,
        )
    return missed


def connection_rows(run: Run, table: Table) -> int:
    """Connections to the database over the run: flat after warm-up, within the pools."""
    counts = [(s.at, s.connections) for s in run.samples if s.connections is not None]
    warm = [n for at, n in counts if at < run.warmup]
    after = [n for at, n in counts if at >= run.warmup]
    if not after:
        table.add("PostgreSQL connections", "no samples after warm-up", "flat", ok=False)
        return 1
    # Each pool opens a connection when its busiest moment so far needs one and keeps up to
    # POOL_SIZE idle (storage/db.py), so connections climb to a plateau and stay: flat means
    # within the pools' bound and no longer climbing, the second half of the run after warm-up
    # peaking at most SLACK above the first (a rarer moment of simultaneity on a busy machine
    # may check out one or two more; a leak climbs with the commands sent).
    from storage.db import POOL_SIZE

    bound = POOL_SIZE * (run.processes + 2)  # the supervisor, its workers, the worker
    half = max(1, len(after) // 2)
    early_peak, late_peak = max(after[:half]), max(after[half:] or after[:half])
    ok = late_peak <= early_peak + CONNECTION_SLACK and max(after) <= bound
    table.add(
        "PostgreSQL connections after warm-up: min / max (end)",
        f"{min(after)} / {max(after)} ({after[-1]})",
        "flat",
        ok=ok,
    )
    table.add(
        "  peak in the first / second half; during warm-up",
        f"{early_peak} / {late_peak}; {min(warm) if warm else '-'}–{max(warm) if warm else '-'}",
        f"second ≤ first + {CONNECTION_SLACK}, all ≤ {bound}",
    )
    waits = [s.waiting for s in run.samples if s.waiting is not None]
    if waits:
        table.add(
            "  sessions waiting on a lock, per sample: max / mean",
            f"{max(waits)} / {statistics.fmean(waits):.1f}",
        )
    return int(not ok)


def build_table(run: Run) -> tuple[Table, int]:
    load = run.load
    table = Table(
        f"9. Soak ({run.options.commands:,} commands over {run.options.minutes:g} min, "
        f"PostgreSQL; serve with {run.processes} process(es) + worker)"
    )
    lat = [x for values in load["latencies"].values() for x in values]
    # A late answer is Slack's deadline kept the slow way ("Working on it…" at once, the reply
    # by response_url when ready): counted apart from failures, which lose or break a reply.
    problems: dict[str, int] = dict(load["problems"])
    late = problems.pop("late_ack", 0)
    errors = sum(problems.values())
    missed = 0
    table.add(
        "commands sent (of planned) in",
        f"{load['sent']:,} of {load['planned']:,} in {load['wall']:.0f} s "
        f"({load['sent'] / load['wall']:.1f}/s)",
        f"{load['planned']:,}",
        ok=load["sent"] == load["planned"],
    )
    missed += load["sent"] != load["planned"]
    table.add(
        "  errors (5xx, 'went wrong', connection dropped)",
        str(errors) + (f" {problems}" if problems else ""),
        "0",
        ok=not errors,
    )
    missed += bool(errors)
    table.add("  late answers ('Working on it…', then the reply)", str(late))
    table.add(
        "  p50 / p99 (acknowledgement with the reply)",
        f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 99))}",
    )
    minutes = sorted(load.get("minutes", {}).items(), key=lambda kv: int(kv[0]))
    if len(minutes) > 1:
        first, last = minutes[0][1], minutes[-1][1]
        table.add(
            "  p50 / p99 in the first minute → the last",
            f"{ms(percentile(first, 50))} / {ms(percentile(first, 99))} → "
            f"{ms(percentile(last, 50))} / {ms(percentile(last, 99))}",
        )
    table.add(
        "  refusals (no such action, already done…)",
        f"{sum(load['refused'].values()):,}",
    )
    missed += memory_rows(run, table)
    missed += connection_rows(run, table)
    by = run.outcome.sent_by
    table.add(
        "messages delivered: by the worker / by serve",
        f"{by.get('worker', 0):,} / {by.get('serve', 0):,}"
        + (f" (+{by['other']:,} by another process)" if by.get("other") else ""),
        "> 0 from the worker",
        ok=by.get("worker", 0) > 0,
    )
    table.add(
        "  notices carried in bundles; Slack posts",
        f"{by.get('bundled', 0):,}; {run.posts:,}",
    )
    missed += by.get("worker", 0) == 0
    table.add(
        "  outbox after the run",
        ", ".join(f"{k} {v:,}" for k, v in sorted(run.outcome.outbox.items())) or "empty",
        "none waiting",
        ok=run.waiting == 0,
    )
    missed += run.waiting != 0
    log_errors = sum(scan.errors for scan in run.logs.values())
    table.add(
        "log errors (serve / worker)",
        f"{run.logs['serve'].errors} / {run.logs['worker'].errors}",
        "0",
        ok=log_errors == 0,
    )
    missed += log_errors != 0
    clean = all(code == 0 for code in run.exits.values())
    table.add(
        "clean stop (SIGTERM): exit codes serve / worker",
        f"{run.exits['serve']} / {run.exits['worker']}",
        "0 / 0",
        ok=clean,
    )
    missed += not clean
    table.add(
        "history chain afterwards (verify-history)",
        f"{run.outcome.history:,} entries, exit {run.chain[0]}",
        "exit 0",
        ok=run.chain[0] == 0,
    )
    missed += run.chain[0] != 0
    _notes(run, table)
    return table, missed


def _notes(run: Run, table: Table) -> None:
    load = run.load
    by_kind = ", ".join(
        f"{kind} {len(values):,} (p50 {ms(statistics.median(values))})"
        for kind, values in sorted(load["latencies"].items(), key=lambda kv: -len(kv[1]))
        if values
    )
    table.notes.append(f"mix: {by_kind}")
    if load.get("substituted"):
        table.notes.append(
            f"presses sent as lists before any button was seen: {load['substituted']}"
        )
    table.notes.append(
        "outbox rows sent, by kind: "
        + ", ".join(f"{k} {n:,}" for k, n in run.outcome.kinds.most_common())
        + "; fake Slack answered: "
        + ", ".join(f"{k} {n:,}" for k, n in run.calls.most_common())
    )
    table.notes.append(
        f"warm-up {run.warmup:.0f} s; {len(run.samples)} samples every "
        f"{run.options.sample_seconds:g} s; the schedule slipped at most {load['lag']:.2f} s; "
        f"worker tick {TICK_SECONDS} s with every hour a working hour; "
        f"{run.options.concurrency} load connections; machine load average (1 min) "
        f"{_load_range(run.samples)} on {os.cpu_count()} cores"
    )
    for name, scan in run.logs.items():
        if scan.first:
            table.notes.append(f"{name} log, first errors: " + " | ".join(scan.first))
        table.notes.append(f"{name} log: {scan.lines:,} lines, {scan.warnings} warning(s)")
    if run.sampler_errors:
        table.notes.append(f"samples lost: {dict(run.sampler_errors)}")
    table.notes.append(f"history check: {run.chain[1]}")
    table.notes.append(f"logs in {run.log_dir}")


def _load_range(samples: list[Sample]) -> str:
    loads = [s.load for s in samples if s.load == s.load]
    return f"{min(loads):.1f}–{max(loads):.1f}" if loads else "unknown"


def memory_series(run: Run) -> list[str]:
    """RSS per process once a minute (and the connections), for the record."""
    lines = []
    step = 60.0 if run.seconds >= 300 else max(run.options.sample_seconds, run.seconds / 6)
    mark = 0.0
    for sample in run.samples:
        if sample.at + 1e-6 < mark:
            continue
        mark = sample.at + step
        memory = ", ".join(f"{k} {_mb(v)}" for k, v in sorted(sample.rss.items()))
        lines.append(
            f"{sample.at:5.0f} s: {memory}; connections {sample.connections}; "
            f"load {sample.load:.1f}"
        )
    return lines


# ---------------------------------------------------------------------------- the record


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain", "-uno") else "")


def _shown(arg: str, record: Path) -> str:
    """The record's own path as seen from its repository (the run may start elsewhere)."""
    if Path(arg).resolve() != record.resolve():
        return arg
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=record.resolve().parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return str(record.resolve().relative_to(top)) if top else arg


def write_record(path: Path, table: Table, run: Run, argv: list[str]) -> None:
    """Replace (or add) the soak's section of the reliability record, keeping the rest."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python -m bench soak", *(_shown(arg, path) for arg in argv)])
    body = "\n".join(
        [
            f"<!-- {SECTION} start -->",
            "## Soak (`python -m bench soak`, PostgreSQL)",
            "",
            f"Last run {when}, commit {commit()}: `{command}`.",
            f"Machine: {machine()}.",
            "",
            "A benchmark, not a test: signed slash commands and button presses at an even pace "
            "against `actionbot serve` while `actionbot worker` delivers to the fake Slack; "
            "resident memory of every process read from /proc and the database's connections "
            "from pg_stat_activity every few seconds; both logs read for errors at the end.",
            "",
            table.render().rstrip(),
            "",
            "Memory and connections, once a minute from the start of the load:",
            "",
            "```",
            *memory_series(run),
            "```",
            f"<!-- {SECTION} end -->",
        ]
    )
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(
        rf"<!-- {re.escape(SECTION)} start -->\n.*?<!-- {re.escape(SECTION)} end -->", re.S
    )
    if pattern.search(old):
        new = pattern.sub(lambda _m: body, old)
    else:
        new = old.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse(argv)
    print(f"Machine: {machine()}\n", flush=True)
    print(
        f"soak: {options.commands:,} commands over {options.minutes:g} min; figures when it ends",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    run = soak(options)
    table, missed = build_table(run)
    table.notes.append(f"benchmark took {time.perf_counter() - started:.0f} s")
    print(table.render(), flush=True)
    print("\n".join(memory_series(run)) + "\n")
    if options.record is not None:
        write_record(options.record, table, run, argv)
        print(f"figures written to {options.record}")
    print(f"{missed} target(s) missed" if missed else "all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The soak benchmark's bookkeeping: its mix, its reading of logs and /proc, its table and the
section it writes into the reliability record (the soak itself runs by hand: python -m bench soak).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from bench.soak import (
    SECTION,
    LogScan,
    Options,
    Outcome,
    Run,
    Sample,
    _status_kb,
    build_table,
    child_pids,
    scan_log,
    write_record,
)
from bench.soak_load import MIX, plan_kinds

MB = 1024 * 1024


def test_the_mix_keeps_its_proportions_and_is_the_same_for_a_seed() -> None:
    kinds = plan_kinds(10_000, seed=18)
    assert len(kinds) == 10_000
    counts = Counter(kinds)
    for kind, weight in MIX:
        assert counts[kind] == 10_000 * weight // 100
    assert kinds == plan_kinds(10_000, seed=18)
    assert kinds != plan_kinds(10_000, seed=19)


def test_a_log_counts_errors_tracebacks_and_server_errors_not_info(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text(
        "2026-11-29 02:00:00,000 INFO actionbot: started\n"
        '127.0.0.1:5000 - "POST /slack/events HTTP/1.1" 200\n'
        '127.0.0.1:5000 - "POST /slack/events HTTP/1.1" 500\n'
        "2026-11-29 02:00:01,000 WARNING slack_bolt: token unused\n"
        "2026-11-29 02:00:02,000 ERROR actionbot.worker: job failed\n"
        "Traceback (most recent call last):\n"
        "  a note about an ERRORS column is not an error\n",
        encoding="utf-8",
    )
    scan = scan_log(log)
    assert (scan.errors, scan.warnings, scan.lines) == (3, 1, 7)
    assert scan.first[0].endswith('" 500')
    assert scan_log(tmp_path / "missing.log") == LogScan(0, 0, 0, [])


def test_proc_reads_this_process_and_its_children() -> None:
    memory = _status_kb(os.getpid())
    assert memory is not None and memory[0] > 0 and memory[1] >= memory[0]
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in child_pids(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert _status_kb(child.pid) is None


def _run(tmp_path: Path, *, worker_end: int, connections: list[int], errors: int = 0) -> Run:
    samples = [
        Sample(
            at=float(at),
            rss={"serve worker 1": 100 * MB, "worker": (90 if at < 120 else worker_end) * MB},
            hwm={"serve worker 1": 101 * MB, "worker": max(90, worker_end) * MB},
            connections=n,
            load=1.5,
            waiting=at % 3,
            threads={"serve worker 1": 9, "worker": 5},
        )
        for at, n in zip(range(0, 180, 10), connections, strict=True)
    ]
    return Run(
        options=Options(3, 300, None, None, 8, 10, 60, keep=False),
        seconds=180,
        warmup=60,
        load={
            "latencies": {"/status": [0.010] * 150, "/action done": [0.020] * 150},
            "minutes": {"0": [0.01] * 100, "1": [0.01] * 100, "2": [0.02] * 100},
            "problems": {"late_ack": 2},
            "refused": {"/action done": 3},
            "substituted": {},
            "lag": 0.01,
            "wall": 180.0,
            "sent": 300,
            "planned": 300,
        },
        samples=samples,
        labels={10: "serve worker 1", 11: "worker"},
        sampler_errors=Counter(),
        outcome=Outcome(
            outbox=Counter({"sent": 40}),
            sent_by=Counter({"worker": 10, "serve": 20, "bundled": 10}),
            kinds=Counter({"bundle": 10, "reminder": 10}),
            history=300,
        ),
        posts=30,
        calls=Counter({"chat.postMessage": 30}),
        waiting=0,
        logs={"serve": LogScan(0, 1, 300, []), "worker": LogScan(errors, 0, 40, [])},
        exits={"serve": 0, "worker": 0},
        chain=(0, "300 entries, chain intact."),
        log_dir=tmp_path,
        processes=2,
    )


def test_the_table_passes_a_steady_run_and_names_each_miss(tmp_path: Path) -> None:
    steady = _run(tmp_path, worker_end=91, connections=[2, 5, 8, 8, 9, 9, 9, 9, 9] * 2)
    table, missed = build_table(steady)
    assert missed == 0
    rows = {row.measure: row for row in table.rows}
    assert rows["RSS worker: after warm-up → end (peak)"].figure.endswith("+1.1 %; threads 5 → 5")
    assert rows["  sessions waiting on a lock, per sample: max / mean"].figure == "2 / 1.0"
    assert rows["PostgreSQL connections after warm-up: min / max (end)"].verdict == "pass"
    assert rows["  late answers ('Working on it…', then the reply)"].figure == "2"

    leaking = _run(
        tmp_path,
        worker_end=120,
        connections=[2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        errors=2,
    )
    table, missed = build_table(leaking)
    misses = {row.measure for row in table.rows if row.verdict == "MISS"}
    assert misses == {
        "RSS worker: after warm-up → end (peak)",
        "PostgreSQL connections after warm-up: min / max (end)",
        "log errors (serve / worker)",
    }
    assert missed == 3


def test_the_record_gains_one_soak_section_and_keeps_the_rest(tmp_path: Path) -> None:
    record = tmp_path / "RELIABILITY.md"
    before = "# Reliability figures\n\n<!-- SQLite start -->\n## SQLite\n<!-- SQLite end -->\n"
    record.write_text(before, encoding="utf-8")
    run = _run(tmp_path, worker_end=91, connections=[2, 5, 8, 8, 9, 9, 9, 9, 9] * 2)
    table, _ = build_table(run)
    write_record(record, table, run, ["--minutes", "3"])
    first = record.read_text(encoding="utf-8")
    assert first.startswith(before)
    assert first.count(f"<!-- {SECTION} start -->") == 1
    assert "`python -m bench soak --minutes 3`" in first
    assert "| log errors (serve / worker)" in first

    write_record(record, table, run, ["--minutes", "4"])
    second = record.read_text(encoding="utf-8")
    assert second.count(f"<!-- {SECTION} start -->") == 1
    assert "--minutes 4" in second and "--minutes 3`" not in second
    assert second.startswith(before)

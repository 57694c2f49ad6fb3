"""2. Reminder planning at scale: one reminder run's planning over 100,000 actions.

Each measurement runs in a fresh child process (`python -m bench.planning --child URL`), so the
peak RSS is that of a worker that only plans, not of the bulk load.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import (
    MONDAY,
    Table,
    bulk_load,
    databases,
    fresh_database,
    python,
    summarise_sql,
)

#: (actions, due within the lead window): the small run shows the statement count is flat.
SCALES = ((10_000, 1_000), (100_000, 10_000))
TIME_TARGET = 2.0
MEMORY_TARGET_MB = 250.0


def _child(url: str, trace: bool) -> dict[str, Any]:
    from bench.common import StatementCounter, build_bench_core
    from bot.domain import Platform
    from bot.domain.workdays import WorkingCalendar
    from scheduler.jobs import plan_messages

    core = build_bench_core(url, now=MONDAY)
    calendar = WorkingCalendar.from_settings(core.settings)
    counter = StatementCounter(core.sessions.kw["bind"])
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    planned = plan_messages(core, calendar, platforms=[Platform.SLACK])
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    return {
        "seconds": elapsed,
        "statements": counter.count,
        "planned": dict(planned),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mb": peak / 1024 / 1024,
        "sql": counter.statements,
    }


def _measure(url: str, trace: bool) -> dict[str, Any]:
    args = [python(), "-m", "bench.planning", "--child", url] + (["--trace"] if trace else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"planning child failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _clear_outbox(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
    engine.dispose()


def run(db: str = "both", quick: bool = False) -> list[Table]:
    tables = []
    scales = SCALES[:1] if quick else SCALES
    for label, url in databases(db):
        table = Table(f"2. Reminder planning at scale ({label})")
        counts: list[int] = []
        for actions, due in scales:
            fresh_database(url)
            started = time.perf_counter()
            bulk_load(
                url,
                actions=actions,
                due_soon=due,
                overdue=actions // 100,
                done=actions // 5,
                blocked=actions // 200,
                history=0,
                owners=500,
                today=MONDAY.date(),
                now=MONDAY,
            )
            load = time.perf_counter() - started
            first = _measure(url, trace=False)
            _clear_outbox(url)
            traced = _measure(url, trace=True)
            counts.append(first["statements"])
            size = f"{actions:,} actions, {due:,} due"
            planned = sum(first["planned"].values())
            table.add(
                f"plan one run, {size}",
                f"{first['seconds']:.2f} s",
                f"< {TIME_TARGET:.0f} s" if actions == SCALES[-1][0] else "-",
                ok=first["seconds"] < TIME_TARGET if actions == SCALES[-1][0] else None,
            )
            table.add(f"  messages queued, {size}", f"{planned:,} {first['planned']}")
            table.add(f"  SQL statements, {size}", str(first["statements"]), "flat")
            table.add(
                f"  peak RSS of the planning process, {size}",
                f"{first['maxrss_mb']:.0f} MB",
                f"< {MEMORY_TARGET_MB:.0f} MB",
                ok=first["maxrss_mb"] < MEMORY_TARGET_MB,
            )
            table.add(
                f"  peak Python heap (tracemalloc), {size}",
                f"{traced['traced_peak_mb']:.0f} MB",
                f"< {MEMORY_TARGET_MB:.0f} MB",
                ok=traced["traced_peak_mb"] < MEMORY_TARGET_MB,
            )
            table.notes.append(f"{size}: bulk load took {load:.1f} s (not measured)")
            if actions == scales[-1][0]:
                table.notes.append("statements: " + summarise_sql(first["sql"]))
        if len(counts) > 1:
            table.add(
                "SQL statements grow with actions?",
                " -> ".join(map(str, counts)),
                "no",
                ok=counts[-1] <= counts[0],
            )
        tables.append(table)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.WARNING)
        print(json.dumps(_child(args.child, args.trace)))
        return
    for table in run():
        print(table.render())


if __name__ == "__main__":
    sys.exit(main())

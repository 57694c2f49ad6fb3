"""2. Reminder planning at scale: one reminder run's planning over 100,000 actions, on one
board and on 1,000 boards of 100 actions each.

Each measurement runs in a fresh child process (`python -m bench.planning --child URL`), so the
peak RSS is that of a worker that only plans, not of the bulk load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

from sqlalchemy import create_engine, insert, text

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
#: (boards, actions each): one board, then 1,000 boards of 100,000 actions in all.
BOARD_SCALES = ((1, 100), (1_000, 100))
TIME_TARGET = 2.0
MEMORY_TARGET_MB = 250.0
#: Owners of each board's actions in `load_boards` (the first is the board's chair).
OWNERS_PER_BOARD = 10


def load_boards(
    url: str,
    *,
    board_ids: Sequence[int],
    per_board: int,
    today: dt.date,
    now: dt.datetime,
    due_soon: bool = True,
    seed: int = 6,
) -> None:
    """Boards `board_ids` (those not there yet made, each with its channel), each with
    OWNERS_PER_BOARD owners (the first the chair of a board made here) and `per_board`
    actions: a tenth due within the week and one 20 days overdue (unless not `due_soon`:
    then none is due for a month), a fifth done, one blocked, the rest due in 1-12 months."""
    from storage.models import Action, Board, BoardMember, Identity, Person

    rng = random.Random(seed)
    created = now - dt.timedelta(days=60)
    engine = create_engine(url)
    with engine.begin() as conn:
        there = set(conn.scalars(text("SELECT id FROM boards")))
        new = [b for b in board_ids if b not in there]
        if new:
            conn.execute(
                insert(Board),
                [
                    {"id": b, "name": f"Board {b}", "slack_channel": f"CB{b:05d}",
                     "created_at": created}
                    for b in new
                ],
            )  # fmt: skip
            if url.startswith("postgresql"):
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('boards', 'id'), max(id)) FROM boards"
                    )
                )
        first = int(conn.scalar(text("SELECT coalesce(max(id), 0) FROM people")) or 0)
        conn.execute(
            insert(Person),
            [
                {"display_name": f"Board {b} owner {i}", "email": f"b{b}.owner{i}@council.example",
                 "created_at": created}
                for b in board_ids
                for i in range(OWNERS_PER_BOARD)
            ],
        )  # fmt: skip
        ids = list(conn.scalars(text("SELECT id FROM people WHERE id > :first ORDER BY id"),
                                {"first": first}))  # fmt: skip
        owners = {
            b: ids[n * OWNERS_PER_BOARD : (n + 1) * OWNERS_PER_BOARD]
            for n, b in enumerate(board_ids)
        }
        conn.execute(
            insert(Identity),
            [
                {"person_id": pid, "platform": "slack", "external_id": f"UB{b:05d}O{i}"}
                for b in board_ids
                for i, pid in enumerate(owners[b])
            ],
        )
        members = [{"board_id": b, "person_id": owners[b][0], "role": "chair"} for b in new]
        if members:
            conn.execute(insert(BoardMember), members)
        rows: list[dict[str, Any]] = []
        for b in board_ids:
            for n in range(per_board):
                status, done_at = "open", None
                due = today + dt.timedelta(days=rng.randint(30, 365))
                if n < per_board // 10:
                    if due_soon:
                        due = today + dt.timedelta(days=n % 8)
                elif n == per_board // 10:
                    if due_soon:
                        due = today - dt.timedelta(days=20)  # up the ladder to the chairs
                elif n <= per_board // 10 + per_board // 5:
                    status, done_at = "done", now - dt.timedelta(days=n % 14, hours=1)
                elif n == per_board // 10 + per_board // 5 + 1:
                    status = "blocked"
                rows.append(
                    {
                        "board_id": b,
                        "ref": f"P-{n + 1:04d}",
                        "title": f"Board {b} action {n + 1}: audit case files and report",
                        "owner_id": owners[b][n % OWNERS_PER_BOARD],
                        "due_date": due,
                        "status": status,
                        "rag": ("red", "amber", "green", None)[n % 4],
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
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


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
        _boards(table, url, quick=quick)
        tables.append(table)
    return tables


def _boards(table: Table, url: str, *, quick: bool) -> None:
    """The same planning over many boards of the same settings: one group, one plan."""
    counts: list[int] = []
    scales = ((1, 100), (100, 100)) if quick else BOARD_SCALES
    for boards, per_board in scales:
        fresh_database(url)
        started = time.perf_counter()
        load_boards(
            url,
            board_ids=range(1, boards + 1),
            per_board=per_board,
            today=MONDAY.date(),
            now=MONDAY,
        )
        load = time.perf_counter() - started
        first = _measure(url, trace=False)
        counts.append(first["statements"])
        size = f"{boards:,} board{'s' if boards > 1 else ''} x {per_board} actions"
        last = boards == scales[-1][0]
        table.add(
            f"plan one tick, {size}",
            f"{first['seconds']:.2f} s",
            f"< {TIME_TARGET:.0f} s" if last else "-",
            ok=first["seconds"] < TIME_TARGET if last else None,
        )
        planned = sum(first["planned"].values())
        table.add(f"  messages queued, {size}", f"{planned:,} {first['planned']}")
        table.add(f"  SQL statements, {size}", str(first["statements"]), "flat")
        table.add(
            f"  peak RSS of the planning process, {size}",
            f"{first['maxrss_mb']:.0f} MB",
            f"< {MEMORY_TARGET_MB:.0f} MB",
            ok=first["maxrss_mb"] < MEMORY_TARGET_MB,
        )
        table.notes.append(f"{size}: bulk load took {load:.1f} s (not measured)")
        if last:
            table.notes.append(f"statements, {size}: " + summarise_sql(first["sql"]))
    table.add(
        "SQL statements grow with boards?",
        " -> ".join(map(str, counts)),
        "no",
        ok=counts[-1] <= counts[0],
    )


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

"""3. Digest at scale: build (and render for Slack) the weekly digest of 10,000 actions; build
and queue the digests of 1,000 boards of 100 actions each."""

from __future__ import annotations

import re
import statistics
import time

from bench.common import (
    MONDAY,
    StatementCounter,
    Table,
    build_bench_core,
    bulk_load,
    databases,
    fresh_database,
    ms,
)

ACTIONS = 10_000
TIME_TARGET = 0.200
BLOCK_TARGET = 50
RUNS = 7
#: Boards of BOARD_ACTIONS actions whose digests one run builds and queues.
BOARDS = 1_000
BOARD_ACTIONS = 100
BOARDS_TARGET = 30.0


def run(db: str = "both", quick: bool = False) -> list[Table]:
    from bot.services.digest import build_digest
    from handlers.slack.blocks import render
    from storage.db import transaction

    tables = []
    for label, url in databases(db):
        fresh_database(url)
        bulk_load(
            url,
            actions=ACTIONS,
            due_soon=ACTIONS // 10,
            overdue=ACTIONS // 10,
            done=ACTIONS // 5,
            blocked=ACTIONS // 50,
            history=0,
            owners=300,
            today=MONDAY.date(),
            now=MONDAY,
        )
        core = build_bench_core(url, now=MONDAY, board_channel="CBOARD01")
        settings = core.settings
        counter = StatementCounter(core.sessions.kw["bind"])
        timings: list[float] = []
        blocks = natural = statements = 0
        for _ in range(3 if quick else RUNS):
            counter.reset()
            started = time.perf_counter()
            with transaction(core.sessions) as session:
                digest = build_digest(
                    session, settings=settings, now=MONDAY, channel="CBOARD01", board_id=1
                )
            slack = render(digest.message, today=MONDAY.date(), tz=settings.tz)
            timings.append(time.perf_counter() - started)
            statements = counter.count
            blocks = len(slack.blocks)
            natural = len(
                render(
                    digest.message, today=MONDAY.date(), tz=settings.tz, max_blocks=10_000
                ).blocks
            )
        counter.close()
        median = statistics.median(timings)
        table = Table(f"3. Digest at scale ({label}, {ACTIONS:,} actions)")
        table.add(
            "build + render digest, median of runs",
            ms(median),
            f"< {TIME_TARGET * 1000:.0f} ms",
            ok=median < TIME_TARGET,
        )
        table.add(
            "  first (cold) run",
            ms(timings[0]),
            f"< {TIME_TARGET * 1000:.0f} ms",
            ok=timings[0] < TIME_TARGET,
        )
        table.add("  worst run", ms(max(timings)))
        table.add(
            "Slack blocks (as sent / before any cap)",
            f"{blocks} / {natural}",
            f"<= {BLOCK_TARGET}",
            ok=natural <= BLOCK_TARGET,
        )
        table.add("SQL statements per digest", str(statements))
        table.notes.append("figures: " + ", ".join(f"{k} {v}" for k, v in digest.counts.items()))
        core.sessions.kw["bind"].dispose()
        tables.append(table)
        tables.append(_boards(label, url, quick=quick))
    return tables


def _boards(label: str, url: str, *, quick: bool) -> Table:
    """Every board's digest of the week, as the worker's tick queues them on Monday morning."""
    from sqlalchemy import text

    from bench.planning import load_boards
    from scheduler.weekly_digest import queue_weekly_digests

    boards = 100 if quick else BOARDS
    fresh_database(url)
    load_boards(
        url,
        board_ids=range(1, boards + 1),
        per_board=BOARD_ACTIONS,
        today=MONDAY.date(),
        now=MONDAY,
    )
    # The default board posts to BOARD_CHANNEL; the others to their own channels.
    core = build_bench_core(url, now=MONDAY, board_channel="CB00001")
    engine = core.sessions.kw["bind"]
    counter = StatementCounter(engine)
    started = time.perf_counter()
    results = queue_weekly_digests(core, now=MONDAY)
    elapsed = time.perf_counter() - started
    statements = counter.count
    core.boards.all()  # read again here if kept longer than the registry keeps them
    counter.reset()
    again = queue_weekly_digests(core, now=MONDAY)
    statements_again = counter.count
    counter.close()
    queued = sum(1 for r in results if r.outbox_id is not None)
    # Each digest names its own board's actions only (their titles say the board).
    mixed = 0
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT board_id, CAST(payload AS TEXT) FROM outbox WHERE kind = 'digest'")
        ).all()
    for board_id, payload in rows:
        named = {int(n) for n in re.findall(r"Board (\d+) action", payload)}
        mixed += bool(named - {board_id})
    engine.dispose()
    table = Table(f"3. Digests of many boards ({label}, {boards:,} boards x {BOARD_ACTIONS})")
    table.add(
        f"build and queue {boards:,} digests",
        f"{elapsed:.1f} s",
        f"< {BOARDS_TARGET:.0f} s",
        ok=elapsed < BOARDS_TARGET,
    )
    table.add("  per digest", ms(elapsed / max(queued, 1)))
    table.add(
        "  digests queued (one per board)",
        f"{queued:,} / {boards:,}",
        f"{boards:,}",
        ok=queued == boards == len(rows),
    )
    table.add("  digests naming another board's actions", str(mixed), "0", ok=mixed == 0)
    table.add("  SQL statements per digest", f"{statements / max(queued, 1):.1f}")
    table.add(
        "next tick, every digest queued: SQL statements",
        str(statements_again),
        "1",
        ok=statements_again == 1 and not any(r.outbox_id for r in again),
    )
    return table

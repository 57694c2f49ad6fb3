"""3. Digest at scale: build (and render for Slack) the weekly digest of 10,000 actions."""

from __future__ import annotations

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
                digest = build_digest(session, settings=settings, now=MONDAY, channel="CBOARD01")
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
    return tables

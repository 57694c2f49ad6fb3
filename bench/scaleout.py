"""6. Scale-out: two `actionbot serve` and two `actionbot worker` processes on one PostgreSQL.

The command load of (1) at concurrency 16, split over both servers, runs while the workers
deliver REMINDERS queued reminders (plus whatever their own planning adds) through the fake
Slack. Every outbox row must reach Slack once: successful chat.postMessage calls are counted
against rows marked sent, and the bench reminders are checked one by one.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    Table,
    actionbot,
    free_port,
    ms,
    pg_url,
    postgres_reachable,
    python,
    spawn,
    stop,
    wait_http,
)
from bench.latency import ACTIONS, load_database, percentile, serve_env, start_fake

REMINDERS = 1_000
CONCURRENCY = 16
REQUESTS = 800
#: Bounded wait for the outbox to drain.
DRAIN_TIMEOUT = 180.0


def _queue_reminders(url: str, count: int) -> None:
    from sqlalchemy import create_engine, insert, text

    from bot.clock import SystemClock
    from bot.render.model import Message, Paragraph
    from storage.models import OutboxMessage

    now = SystemClock().now() - dt.timedelta(seconds=5)
    engine = create_engine(url)
    with engine.begin() as conn:
        people = list(
            conn.scalars(
                text("SELECT person_id FROM identities WHERE external_id LIKE 'UOWN%' ORDER BY id")
            )
        )
        rows: list[dict[str, Any]] = []
        for n in range(count):
            body = f"bench reminder {n}"
            rows.append(
                {
                    "key": f"bench:{n}",
                    "kind": "reminder",
                    "recipient_id": people[n % len(people)],
                    "payload": Message(text=body, blocks=[Paragraph(text=body)]).model_dump(
                        mode="json"
                    ),
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
            )
        conn.execute(insert(OutboxMessage), rows)
    engine.dispose()


def _outbox_state(url: str) -> tuple[Counter[str], Counter[str], int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        states = Counter(
            {
                str(s): int(n)
                for s, n in conn.execute(
                    text("SELECT status, count(*) FROM outbox GROUP BY status")
                )
            }
        )
        by_worker: Counter[str] = Counter()
        for who, n in conn.execute(
            text(
                "SELECT claimed_by, count(*) FROM outbox"
                " WHERE status = 'sent' AND key LIKE 'bench:%' GROUP BY claimed_by"
            )
        ):
            by_worker[str(who).rsplit(":", 1)[0]] += int(n)  # host:pid (the token's tail varies)
        pending = int(
            conn.scalar(
                text("SELECT count(*) FROM outbox WHERE key LIKE 'bench:%' AND status <> 'sent'")
            )
            or 0
        )
    engine.dispose()
    return states, by_worker, pending


def run(db: str = "both", quick: bool = False) -> list[Table]:
    import subprocess

    url = pg_url()
    table = Table("6. Scale-out: 2 serve + 2 worker processes on one PostgreSQL")
    if not postgres_reachable(url):
        table.notes.append(f"not run: PostgreSQL at {url} is not reachable")
        return [table]
    reminders = 200 if quick else REMINDERS
    requests = 240 if quick else REQUESTS
    logs = Path(tempfile.mkdtemp(prefix="actionbot-bench-logs-"))
    load_database(url)
    _queue_reminders(url, reminders)
    fake = start_fake()
    procs = []
    try:
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            procs.append(
                spawn(
                    [actionbot(), "serve"],
                    # Two single-process servers: the scale-out under test is across processes.
                    env={**serve_env(url, port, fake), "WEB_CONCURRENCY": "1"},
                    log=logs / f"serve{n}.log",
                )
            )
        for proc, port in zip(procs, ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)
        started = time.perf_counter()
        for n in range(2):
            # The worker ignores PORT; serve_env gives it the same database and fake Slack.
            procs.append(
                spawn(
                    [actionbot(), "worker"],
                    env=serve_env(url, ports[0], fake),
                    log=logs / f"worker{n}.log",
                )
            )
        # The load starts once both workers are sending: their start-up (imports, schema
        # check, planning) is a burst of CPU that belongs to a deploy, not to steady running.
        _wait_for_sends(fake, workers=procs[-2:], timeout=60)
        args = [
            python(),
            "-m",
            "bench.loadgen",
            "--concurrency",
            str(CONCURRENCY),
            "--requests",
            str(requests),
            "--actions",
            str(ACTIONS),
            "--response-url",
            fake.response_url(),
        ]
        for port in ports:
            args += ["--url", f"http://127.0.0.1:{port}/slack/events"]
        loadgen = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
        if loadgen.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{loadgen.stderr[-3000:]}")
        result = json.loads(loadgen.stdout.strip().splitlines()[-1])
        pending = reminders
        while time.perf_counter() - started < DRAIN_TIMEOUT:
            _, _, pending = _outbox_state(url)
            if not pending:
                break
            time.sleep(0.5)
        drained = time.perf_counter() - started
    finally:
        for proc in procs:
            stop(proc)  # SIGTERM: a worker finishes the message in hand
        calls = fake.calls("chat.postMessage", ok=True)
        fake.stop()
    states, by_worker, pending = _outbox_state(url)
    bench_calls = Counter(c.text for c in calls if (c.text or "").startswith("bench reminder "))
    twice = sum(1 for n in bench_calls.values() if n > 1)
    extra_calls = len(calls) - states.get("sent", 0)
    lat = result["latencies"]
    sends = [c.at for c in calls if (c.text or "").startswith("bench reminder ")]
    span = (max(sends) - min(sends)) if len(sends) > 1 else float("nan")
    table.add("commands/s (c=16 over both servers)", f"{len(lat) / result['wall']:.0f}")
    table.add(
        "  command p50 / p99",
        f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 99))}",
        "p99 < 250 ms",
        ok=percentile(lat, 99) < 0.250,
    )
    table.add(
        "  command problems", str(result["problems"] or "none"), "none", ok=not result["problems"]
    )
    table.add(
        "bench reminders delivered",
        f"{len(bench_calls):,} / {reminders:,} in {drained:.1f} s",
        f"{reminders:,}",
        ok=len(bench_calls) == reminders and not pending,
    )
    table.add(
        "  delivery rate (first to last send)",
        f"{len(sends) / span:.0f} msg/s" if span == span and span > 0 else "-",
    )
    table.add(
        "  sent by each worker",
        ", ".join(f"{n}" for n in by_worker.values()) or "-",
        "both work",
        ok=len(by_worker) == 2,
    )
    table.add("bench reminders sent twice", str(twice), "0", ok=twice == 0)
    table.add(
        "Slack posts beyond rows marked sent (all kinds)",
        str(extra_calls),
        "0",
        ok=extra_calls == 0,
    )
    table.notes.append(
        "the command load starts once the workers are delivering; outbox after the run: "
        f"{dict(states)} (the bench waits for its 1,000 reminders only: what is pending is the "
        f"run's nudges and escalations still queued); logs in {logs}"
    )
    return [table]


def _wait_for_sends(fake: Any, *, workers: list[Any], timeout: float) -> None:
    """Until the fake Slack has taken a bench reminder (the workers are up and delivering)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            (c.text or "").startswith("bench reminder ")
            for c in fake.calls("chat.postMessage", ok=True)
        ):
            return
        if all(w.poll() is not None for w in workers):
            raise RuntimeError("both workers exited before sending anything")
        time.sleep(0.05)
    raise RuntimeError(f"no reminder was sent within {timeout:.0f} s of starting the workers")

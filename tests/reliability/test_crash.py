"""1. Crash safety: `actionbot run reminders` killed with SIGKILL at random points while it
delivers, then run again; every reminder arrives, and a duplicate only where a kill landed
between Slack's answer and our commit."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, OutboxStatus
from tests.reliability.conftest import SOAK, Tally
from tests.reliability.slackworld import CHAIR_ID, posts_by_channel, seed_owners
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
REMINDERS = 2000 if SOAK else 500
KILLS = 60 if SOAK else 20
#: A Monday in working time; each run is 6 minutes later, so a dead run's claim (5 min) expires.
START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
#: Unique per run: only calls made with it are counted (a stray process cannot pollute them).
TOKEN = f"xoxb-crash-{uuid.uuid4().hex}"


class KillingSlack(FakeSlack):
    """Kills the worker with SIGKILL while answering its n-th chat.postMessage: Slack has
    posted the message, the worker never hears so (the one window the outbox allows)."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: int | None = None
        self.kill_at: int | None = None
        self.seen = 0
        self.mine: set[str] = set()
        self.kill_lock = threading.Lock()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        answer = super()._answer(method, params)
        if method == "chat.postMessage" and params.get("channel") in self.mine:
            with self.kill_lock:
                self.seen += 1
                due = self.kill_at is not None and self.seen >= self.kill_at
                if self.victim is not None and due:
                    os.kill(self.victim, signal.SIGKILL)
                    self.kill_at = None
        return answer


def _env(database_url: str, fake: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(
        DATABASE_URL=database_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET="crash-secret",
        SLACK_API_URL=fake.api_url, CHAIR_USER_IDS=CHAIR_ID, BOT_TIMEZONE="Europe/London",
        PYTHONPATH=str(ROOT),
    )
    env.pop("BOARD_CHANNEL", None)
    return env


def _start(env: dict[str, str], run: int, logdir: Path) -> subprocess.Popen[bytes]:
    """The worker, logging at debug level to a file (a pipe nobody reads would block it)."""
    now = (START + dt.timedelta(minutes=6 * run)).isoformat()
    log = (logdir / f"run{run:03d}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "-v", "run", "reminders", "--now", now],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )


def _in_flight(database_url: str) -> set[str]:
    """Owners whose reminder a dead run left claimed (status sending)."""
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING)
        ).all()
        owners = {r.recipient.identities[0].external_id for r in rows if r.recipient}
    engine.dispose()
    return owners


def test_sigkill_while_delivering_loses_nothing(
    database_url: str, tally: Tally, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    users = seed_owners(database_url, REMINDERS, START.date())
    with KillingSlack() as fake:
        fake.mine = set(users)
        env = _env(database_url, fake)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            windowed = _kill_and_restart(fake, env, procs, database_url, tmp_path, rng)
        finally:  # never leave a worker behind, whatever failed
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
        run = len(procs)
        posts = posts_by_channel(fake, TOKEN)
    _check(database_url, users, posts, windowed, run, tally, tmp_path)


def _kill_and_restart(
    fake: KillingSlack, env: dict[str, str], procs: list[subprocess.Popen[bytes]],
    database_url: str, tmp_path: Path, rng: random.Random,
) -> set[str]:
    windowed: set[str] = set()
    run = 0
    for kill in range(KILLS):
        before = posts_by_channel(fake, TOKEN)
        proc = _start(env, run, tmp_path)
        procs.append(proc)
        run += 1
        if kill % 2 == 0:
            # Inside Slack's answer: after the k-th post, before the worker hears back.
            with fake.kill_lock:
                fake.victim, fake.kill_at = proc.pid, fake.seen + rng.randint(1, 30)
            try:
                proc.wait(timeout=120)
            finally:
                fake.victim = fake.kill_at = None
        else:
            # Anywhere: start-up and planning, or (after its first post) claiming,
            # sending, marking sent. Bounded polling, no blind sleep.
            if kill % 4 == 1:
                delay = rng.uniform(0.2, 1.5)
            else:
                first = fake.seen
                deadline = time.monotonic() + 60
                while fake.seen == first and proc.poll() is None:
                    assert time.monotonic() < deadline, "the worker never posted"
                    time.sleep(0.005)
                delay = rng.uniform(0.0, 0.25)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
        # A row left "sending" whose message Slack has: that kill was in the window.
        after = posts_by_channel(fake, TOKEN)
        windowed |= {u for u in _in_flight(database_url) if after[u] > before.get(u, 0)}
    # Restart until done (a row a kill left claimed is taken over after the 5 min lease).
    for _ in range(3):
        proc = _start(env, run, tmp_path)
        procs.append(proc)
        run += 1
        proc.wait(timeout=300)
        assert proc.returncode == 0, (tmp_path / f"run{run - 1:03d}.log").read_text()[-2000:]
        if not _in_flight(database_url):
            break
    return windowed


def _check(
    database_url: str, users: list[str], posts: Counter[str], windowed: set[str], run: int,
    tally: Tally, tmp_path: Path,
) -> None:
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        # Each owner's reminder goes out inside their one message of the run (a bundle row).
        statuses = list(
            session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "reminder"))
        )
        carriers = set(
            session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "bundle"))
        )
    engine.dispose()
    lost = [u for u in users if posts[u] == 0]
    duplicated = sum(n - 1 for u, n in posts.items() if n > 1)
    tally.add("1 crash safety", faults=KILLS, inputs=REMINDERS, sent=sum(posts.values()),
              lost=len(lost), duplicated=duplicated,
              note=f"{KILLS} SIGKILLs over {run} runs of `actionbot run reminders`; "
              f"{len(windowed)} landed between Slack's answer and our commit; "
              f"{duplicated} duplicate(s)")
    print(f"\ncrash safety: kills in the window {len(windowed)}, duplicates {duplicated}")
    assert len(statuses) == REMINDERS and set(statuses) == {OutboxStatus.SENT}
    assert carriers == {OutboxStatus.SENT}
    assert lost == []
    assert duplicated <= len(windowed)
    assert {u for u, n in posts.items() if n > 1} <= windowed
    for log in sorted(tmp_path.glob("run*.log")):  # debug logs of every run: no token
        assert TOKEN not in log.read_text(errors="replace"), log.name

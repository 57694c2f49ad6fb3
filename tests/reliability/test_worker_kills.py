"""1b. The worker, not a one-shot run: `actionbot worker` stopped with SIGTERM 10 times and
killed with SIGKILL 20 times while it delivers 500 reminders (one message per person), then
two workers at once under steady planning.

SIGTERM must finish the message in hand and exit 0 within 10 s: after each stop the outbox
and the fake Slack agree exactly (every message Slack answered is marked sent with the ts it
answered, nothing is left claimed), so a stop never sends anything twice. A SIGKILL may cost
a duplicate only where it fell between Slack's answer and our commit; those are counted.
"""

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.domain.workdays import WorkingCalendar
from bot.outbox.delivery import CLAIM_LEASE
from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, OutboxStatus
from tests.reliability.conftest import SOAK, Tally
from tests.reliability.slackworld import CHAIR_ID, posts_by_channel, seed_owners
from tests.support.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
AREA = "1b worker kills"
MESSAGES = 2000 if SOAK else 500
KILLS = 60 if SOAK else 20
TERMS = 10
#: How long a SIGTERM may take to end the worker, the message in hand included.
STOP_WITHIN = 10.0
#: Seconds the fake Slack takes over each post: 500 messages take some 10 s to deliver.
PACE = 0.02
#: Two workers at once under steady planning, for this long.
TOGETHER_SECONDS = 300 if SOAK else 60
#: Owners the planner adds, and how often, while two workers run.
PLANNED_PER_BATCH, PLANNING_EVERY = 3, 0.5
#: The worker's tick in these tests (WORKER_TICK_SECONDS): short, so that each start and each
#: new batch of actions is planned and delivered within a second or two, not a minute.
KILL_TICK, TOGETHER_TICK = 5, 1


def _zone() -> str:
    """A fixed-offset zone where it is about noon now: far from midnight, the test's whole run
    falls on one local day whatever the hour it starts."""
    offset = 12 - dt.datetime.now(dt.UTC).hour  # -11 … +12 hours from UTC
    # The POSIX-style names count the other way: Etc/GMT-5 is five hours ahead of UTC.
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _today(zone: str) -> dt.date:
    """Today where the worker works, or a skip when no reminder may go out today."""
    settings = Settings(
        _env_file=None,
        bot_timezone=zone, working_hours="00:00-23:59", working_days=tuple(range(7)),
    )
    now = dt.datetime.now(dt.UTC)
    if not WorkingCalendar.from_settings(settings).in_working_time(now):
        pytest.skip("a bank holiday in England: the worker plans no reminder today")
    return now.astimezone(ZoneInfo(zone)).date()


class SignallingSlack(FakeSlack):
    """Signals a worker while answering the n-th post of ours: Slack has posted the message and
    the worker has not heard back. SIGKILL there is the one window the outbox allows for a
    duplicate; SIGTERM there must still see the message marked sent."""

    def __init__(self) -> None:
        super().__init__()
        self.mine: set[str] = set()
        self.seen = 0
        self.victim: int | None = None
        self.signum = signal.SIGKILL
        self.at: int | None = None
        self.signalled_at: float | None = None
        self.lock = threading.Lock()

    def arm(self, pid: int, signum: signal.Signals, after: int) -> None:
        with self.lock:
            self.victim, self.signum, self.at = pid, signum, self.seen + after
            self.signalled_at = None

    def disarm(self) -> None:
        with self.lock:
            self.victim = self.at = None

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        answer = super()._answer(method, params)
        if method == "chat.postMessage" and answer.outcome == "ok":
            with self.lock:
                if str(params.get("channel")) in self.mine:
                    self.seen += 1
                if self.victim is not None and self.at is not None and self.seen >= self.at:
                    os.kill(self.victim, self.signum)
                    self.signalled_at = time.monotonic()
                    self.victim = self.at = None
        return answer


def _env(database_url: str, fake: FakeSlack, token: str, zone: str, tick: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    for name in ("BOARD_CHANNEL", "REMINDER_DAYS", "HOLIDAY_COUNTRY", "HOLIDAY_SUBDIVISION"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET="worker-secret",
        SLACK_API_URL=fake.api_url, CHAIR_USER_IDS=CHAIR_ID, BOT_TIMEZONE=zone,
        # Always working time, so a test in real time has reminders to send whenever it runs.
        WORKING_HOURS="00:00-23:59", WORKING_DAYS="mon-sun", WORKER_TICK_SECONDS=str(tick),
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class Workers:
    """Every `actionbot worker` a test started, each logging at debug level to its own file
    (a pipe nobody reads would block it); all are killed when the test ends, whatever failed."""

    logdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logdir / f"worker{len(self.procs):03d}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "worker"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own copy
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        path = self.logdir / f"worker{self.procs.index(proc):03d}.log"
        return path.read_text(errors="replace")

    def logs(self) -> Iterator[tuple[str, str]]:
        for path in sorted(self.logdir.glob("worker*.log")):
            yield path.name, path.read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


@contextmanager
def workers(logdir: Path) -> Iterator[Workers]:
    started = Workers(logdir)
    try:
        yield started
    finally:
        started.stop_all()


def _stop(proc: subprocess.Popen[bytes], since: float | None = None) -> float:
    """SIGTERM (unless already sent at `since`) and the seconds until the process ended."""
    if since is None:
        since = time.monotonic()
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_WITHIN + 20)  # longer than allowed, to report how much longer
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        raise AssertionError(f"the worker ignored SIGTERM for {STOP_WITHIN + 20:.0f} s") from None
    return time.monotonic() - since


def _wait_for_post(fake: SignallingSlack, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the worker has posted once more (it is delivering). Bounded polling, no blind
    sleep: a worker that never posts fails here."""
    first = fake.seen
    deadline = time.monotonic() + timeout
    while fake.seen == first:
        assert proc.poll() is None, "the worker exited before delivering"
        assert time.monotonic() < deadline, "the worker never posted"
        time.sleep(0.005)


def _outbox(database_url: str) -> list[tuple[str, str, OutboxStatus, str | None]]:
    """(kind, recipient's Slack id, status, platform ts) of every row with a recipient."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            rows = session.scalars(select(OutboxMessage)).all()
            return [
                (r.kind, r.recipient.identities[0].external_id, r.status, r.platform_ref)
                for r in rows
                if r.recipient is not None
            ]
    finally:
        engine.dispose()


def _posted_ts(fake: FakeSlack, users: set[str]) -> dict[str, list[str]]:
    """The ts Slack answered for each post to one of `users`, by user."""
    found: dict[str, list[str]] = {}
    for call in fake.calls("chat.postMessage", ok=True):
        channel = str(call.params.get("channel"))
        user = channel[1:] if channel.startswith("DU") else channel
        if user in users and call.response is not None:
            found.setdefault(user, []).append(str(call.response["ts"]))
    return found


def _in_flight(database_url: str) -> set[str]:
    """Owners whose message a dead worker left claimed (status sending)."""
    return {who for _, who, status, _ in _outbox(database_url) if status == OutboxStatus.SENDING}


def _expire_claims(database_url: str) -> int:
    """Move the dead workers' claims back past their lease, as if its five minutes had passed
    (the takeover itself is what test_crash proves; here the worker's restart is)."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            moved = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING)
                .values(claimed_at=dt.datetime.now(dt.UTC) - CLAIM_LEASE - dt.timedelta(minutes=1))
                .execution_options(synchronize_session=False)
            )
            return int(moved.rowcount)  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def _check_agreement(database_url: str, fake: FakeSlack, users: set[str], stop: int) -> int:
    """After a clean stop the outbox and Slack agree: each message Slack answered is its
    bundle row, marked sent with that ts; no row is left claimed; nobody got two. Returns
    the messages sent so far."""
    posted = _posted_ts(fake, users)
    twice = {u: ts for u, ts in posted.items() if len(ts) > 1}
    assert not twice, f"stop {stop}: sent twice without a kill: {twice}"
    rows = _outbox(database_url)
    claimed = [(kind, who) for kind, who, status, _ in rows if status == OutboxStatus.SENDING]
    assert claimed == [], f"stop {stop}: left claimed after SIGTERM: {claimed}"
    sent = {
        who: ts for kind, who, status, ts in rows
        if kind == "bundle" and status == OutboxStatus.SENT and who in users
    }
    answered = {u: ts[0] for u, ts in posted.items()}
    assert sent == answered, (
        f"stop {stop}: Slack answered but not marked sent: "
        f"{sorted(set(answered.items()) - set(sent.items()))[:5]}; "
        f"marked sent but never answered: {sorted(set(sent.items()) - set(answered.items()))[:5]}"
    )
    return len(sent)


def test_worker_under_sigterm_and_sigkill_loses_nothing(
    database_url: str, tally: Tally, tmp_path: Path
) -> None:
    rng = random.Random(20261129)
    zone = _zone()
    users = seed_owners(database_url, MESSAGES, _today(zone))
    token = f"xoxb-worker-{uuid.uuid4().hex}"
    fake = SignallingSlack()
    with fake, workers(tmp_path) as started:
        fake.mine = set(users)
        fake.pace("chat.postMessage", PACE)
        env = _env(database_url, fake, token, zone, KILL_TICK)
        stop_seconds = _sigterms(fake, env, started, database_url, set(users), rng)
        windowed = _sigkills(fake, env, started, database_url, rng)
        _expire_claims(database_url)
        # The last worker delivers what is left; then it, too, is stopped cleanly.
        last = started.start(env)
        deadline = time.monotonic() + 120
        while {u for u in users if posts_by_channel(fake, token)[u] == 0} or _pending(
            database_url
        ):
            assert last.poll() is None, started.log(last)[-3000:]
            assert time.monotonic() < deadline, "the last worker did not deliver the rest"
            time.sleep(0.1)
        stop_seconds.append(_stop(last))
        assert last.returncode == 0, started.log(last)[-3000:]
        posts = posts_by_channel(fake, token)
        logs = list(started.logs())
        runs = len(started.procs)
    lost = [u for u in users if posts[u] == 0]
    duplicated = sum(n - 1 for u, n in posts.items() if n > 1)
    tally.add(AREA, faults=KILLS + TERMS, inputs=MESSAGES, sent=sum(posts.values()),
              lost=len(lost), duplicated=duplicated,
              note=f"`actionbot worker`: {TERMS} SIGTERMs, each ended with exit 0 within "
              f"{max(stop_seconds):.1f} s and nothing half-sent; {KILLS} SIGKILLs, "
              f"{len(windowed)} between Slack's answer and our commit; {duplicated} "
              f"duplicate(s); {runs} starts in all")
    print(f"\nworker kills: slowest stop {max(stop_seconds):.1f} s, kills in the window "
          f"{len(windowed)}, duplicates {duplicated}, lost {len(lost)}")
    rows = _outbox(database_url)
    assert {s for k, _, s, _ in rows if k == "reminder"} == {OutboxStatus.SENT}
    assert len([k for k, _, _, _ in rows if k == "reminder"]) == MESSAGES
    assert {s for k, _, s, _ in rows if k == "bundle"} == {OutboxStatus.SENT}
    assert lost == []
    assert duplicated <= len(windowed) <= KILLS
    assert {u for u, n in posts.items() if n > 1} <= windowed
    for name, text in logs:  # debug logs of every start: no token, no failed tick
        assert token not in text, name
        assert "job failed" not in text, name


def _sigterms(
    fake: SignallingSlack, env: dict[str, str], started: Workers, database_url: str,
    users: set[str], rng: random.Random,
) -> list[float]:
    """SIGTERM 10 times while the worker delivers: half inside Slack's answer (the message in
    hand is certain), half at a random moment after a post. Each must exit 0 in time, and
    leave the outbox agreeing with Slack."""
    seconds: list[float] = []
    for stop in range(TERMS):
        proc = started.start(env)
        if stop % 2 == 0:
            fake.arm(proc.pid, signal.SIGTERM, rng.randint(1, 25))
            deadline = time.monotonic() + 60
            while fake.signalled_at is None:
                assert proc.poll() is None, started.log(proc)[-3000:]
                assert time.monotonic() < deadline, "the worker never got to the armed post"
                time.sleep(0.005)
            fake.disarm()
            took = _stop(proc, since=fake.signalled_at)
        else:
            _wait_for_post(fake, proc, 60)
            time.sleep(rng.uniform(0.0, 0.4))
            took = _stop(proc)
        seconds.append(took)
        assert proc.returncode == 0, started.log(proc)[-3000:]
        assert took <= STOP_WITHIN, f"stop {stop} took {took:.1f} s"
        assert "SIGTERM: finishing the message in hand" in started.log(proc)
        _check_agreement(database_url, fake, users, stop)
    return seconds


def _sigkills(
    fake: SignallingSlack, env: dict[str, str], started: Workers, database_url: str,
    rng: random.Random,
) -> set[str]:
    """SIGKILL 20 times: half inside Slack's answer, half anywhere (start-up, planning,
    bundling, claiming, sending, marking sent). Owners whose message a kill left claimed
    after Slack had posted it are the window, returned."""
    windowed: set[str] = set()
    for kill in range(KILLS):
        before = posts_by_channel(fake, env["SLACK_BOT_TOKEN"])
        proc = started.start(env)
        if kill % 2 == 0:
            fake.arm(proc.pid, signal.SIGKILL, rng.randint(1, 25))
            try:
                proc.wait(timeout=120)
            finally:
                fake.disarm()
        else:
            if kill % 4 == 1:
                delay = rng.uniform(0.5, 3.0)  # start-up, planning, bundling or delivering
            else:
                _wait_for_post(fake, proc, 60)
                delay = rng.uniform(0.0, 0.3)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, started.log(proc)[-3000:]
        after = posts_by_channel(fake, env["SLACK_BOT_TOKEN"])
        windowed |= {u for u in _in_flight(database_url) if after[u] > before.get(u, 0)}
    return windowed


def _pending(database_url: str) -> bool:
    """Whether any row still waits to go out (or to be settled with its bundle)."""
    waiting = {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.BUNDLED}
    return any(status in waiting for _, _, status, _ in _outbox(database_url))


def test_two_workers_under_steady_planning_never_send_twice(
    database_url: str, tally: Tally, tmp_path: Path
) -> None:
    zone = _zone()
    today = _today(zone)
    tokens = (f"xoxb-worker-a-{uuid.uuid4().hex}", f"xoxb-worker-b-{uuid.uuid4().hex}")
    users: list[str] = []
    planning = threading.Event()
    failures: list[BaseException] = []

    def planner() -> None:
        # Owners with an action due today keep arriving, as a board adds actions through
        # the day; each batch changes what the workers' next tick plans.
        try:
            while planning.is_set():
                start = len(users) + 1
                users.extend(seed_owners(database_url, PLANNED_PER_BATCH, today, start=start))
                time.sleep(PLANNING_EVERY)
        except BaseException as exc:
            failures.append(exc)

    with FakeSlack() as fake, workers(tmp_path) as started:
        fake.pace("chat.postMessage", PACE)
        pair = [started.start(_env(database_url, fake, t, zone, TOGETHER_TICK)) for t in tokens]
        planning.set()
        thread = threading.Thread(target=planner, name="planner")
        thread.start()
        try:
            ends = time.monotonic() + TOGETHER_SECONDS
            while time.monotonic() < ends:
                assert all(p.poll() is None for p in pair), [started.log(p)[-3000:] for p in pair]
                time.sleep(0.5)
        finally:
            planning.clear()
            thread.join(timeout=30)
        assert not failures, failures
        # Both finish what was planned last; then a few more ticks, where a duplicate would show.
        deadline = time.monotonic() + 60
        while _missing(fake, users) or _pending(database_url):
            assert time.monotonic() < deadline, f"not delivered: {_missing(fake, users)[:5]}"
            time.sleep(0.2)
        time.sleep(3 * TOGETHER_TICK)
        stops = [_stop(p) for p in pair]
        codes = [p.returncode for p in pair]
        by_worker = [sum(posts_by_channel(fake, t).values()) for t in tokens]
        posts = posts_by_channel(fake)
        logs = list(started.logs())
    duplicated = sum(n - 1 for u, n in posts.items() if n > 1)
    lost = len(_missing_from(posts, users))
    tally.add(AREA, inputs=len(users), sent=sum(posts.values()), lost=lost,
              duplicated=duplicated,
              note=f"two `actionbot worker`s for {TOGETHER_SECONDS} s while {len(users)} owners' "
              f"actions were planned: {by_worker[0]} and {by_worker[1]} messages, "
              f"{duplicated} duplicate(s)")
    print(f"\ntwo workers: {len(users)} owners, sent {by_worker}, duplicates {duplicated}")
    assert codes == [0, 0] and max(stops) <= STOP_WITHIN, (codes, stops)
    assert lost == 0
    assert duplicated == 0, {u: n for u, n in posts.items() if n > 1}
    # Both workers did some of the work (otherwise this proved nothing about two at once).
    assert min(by_worker) > 0, by_worker
    rows = _outbox(database_url)
    assert {s for k, _, s, _ in rows if k in ("reminder", "bundle")} == {OutboxStatus.SENT}
    for name, text in logs:
        assert "job failed" not in text and "Traceback" not in text, name
        assert not any(t in text for t in tokens), name


def _missing(fake: FakeSlack, users: list[str]) -> list[str]:
    return _missing_from(posts_by_channel(fake), users)


def _missing_from(posts: Counter[str], users: list[str]) -> list[str]:
    return [u for u in users if posts[u] == 0]

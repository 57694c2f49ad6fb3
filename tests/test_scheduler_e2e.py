"""End to end: `actionbot run …` and `actionbot worker` as processes, against a Slack Web API
fake on loopback (SLACK_API_URL), on the test database."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from bot.domain import Platform, Status
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Action, Identity, Person

ROOT = Path(__file__).resolve().parent.parent
BOARD = "C0BOARD01"
GONE = "U0GONE"


@dataclass
class SlackStandIn:
    """Just enough of chat.postMessage: records calls; some users have left the workspace."""

    gone: set[str] = field(default_factory=lambda: {GONE})
    posts: list[dict[str, Any]] = field(default_factory=list)
    #: Answers to give, by channel, before the normal one: (HTTP status, headers).
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def channels(self) -> list[str]:
        with self.lock:
            return [str(p["channel"]) for p in self.posts]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    fake = SlackStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args = json.loads(body or "{}")
            else:
                args = {k: v[0] for k, v in parse_qs(body).items()}
            method = self.path.rsplit("/", 1)[-1]
            if method == "chat.postMessage":
                channel = str(args.get("channel"))
                with fake.lock:
                    scripted = fake.script.get(channel)
                    status, headers = scripted.pop(0) if scripted else (200, {})
                    fake.calls.append((channel, status))
                if status != 200:
                    error = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                with fake.lock:
                    fake.posts.append(args)
                    ts = f"{1700000000 + len(fake.posts)}.000100"
                if channel in fake.gone:
                    answer: dict[str, Any] = {"ok": False, "error": "user_not_found"}
                else:
                    answer = {"ok": True, "channel": "D" + channel[1:], "ts": ts}
            elif method == "auth.test":
                answer = {"ok": True, "user_id": "UBOT", "team_id": "T1"}
            else:
                answer = {"ok": False, "error": "unknown_method"}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def environment(database_url: str, slack: SlackStandIn, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=slack.url,
        CHAIR_USER_IDS="U0CHAIR",
        BOARD_CHANNEL=BOARD,
        BOT_TIMEZONE="Europe/London",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def actionbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def seed(database_url: str, owners_due: dict[str, int]) -> None:
    """One open action per Slack user, due that many days from today in London."""
    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    created = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        for user, ahead in owners_due.items():
            owner = Person(display_name=f"Owner {user}", created_at=created)
            owner.identities.append(Identity(platform=Platform.SLACK, external_id=user))
            session.add(
                Action(
                    title=f"Action for {user}",
                    owner=owner,
                    due_date=today + dt.timedelta(days=ahead),
                    status=Status.OPEN,
                    created_at=created,
                    updated_at=created,
                )
            )
    engine.dispose()


def test_run_reminders_and_digest_end_to_end(database_url: str, slack: SlackStandIn) -> None:
    seed(database_url, {"U0ZERO": 0, "U0ONE": 1, "U0SEVEN": 7, "U0TWENTY": 20, GONE: 1})
    env = environment(database_url, slack)

    first = actionbot(env, "run", "reminders")
    assert first.returncode == 0, first.stderr
    # Exactly the owners due in 0, 1 and 7 days, the one who left, then the chair told of it.
    assert sorted(slack.channels()[:4]) == sorted(["U0ZERO", "U0ONE", "U0SEVEN", GONE])
    assert slack.channels()[4:] == ["U0CHAIR"]
    notice = slack.posts[4]["text"]
    assert f"to Owner {GONE} (Slack refused the message: user_not_found)" in notice
    assert first.stdout.strip() == "reminders: queued 4 (reminder 4); sent 4, retried 0, failed 1"
    assert "gave up on bundle:" in first.stderr and "told 1 chair(s)" in first.stderr

    second = actionbot(env, "run", "reminders")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "reminders: queued 0; sent 0, retried 0, failed 0"
    assert len(slack.posts) == 5

    digest = actionbot(env, "run", "digest")
    assert digest.returncode == 0, digest.stderr
    assert slack.channels()[5:] == [BOARD]
    # The notification leads with what needs attention, then says what it is.
    assert re.match(r"\d+ overdue( \(\d+ red\))?, \d+ blocked, ", slack.posts[5]["text"])
    assert " · weekly digest, week of " in slack.posts[5]["text"]
    assert len(slack.posts[5]["blocks"]) <= 50
    again = actionbot(env, "run", "digest")
    assert again.returncode == 0, again.stderr
    assert len(slack.posts) == 6
    assert "this week's digest was already posted on " in again.stdout


def test_run_with_now_replays_a_day(database_url: str, slack: SlackStandIn) -> None:
    seed(database_url, {"U0ZERO": 0})
    env = environment(database_url, slack)
    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    week_before = f"{today - dt.timedelta(days=7)}T10:00+00:00"
    replay = actionbot(env, "run", "reminders", "--now", week_before)
    assert replay.returncode == 0, replay.stderr
    assert slack.channels() == ["U0ZERO"]
    assert slack.posts[0]["text"].startswith("📅 Due in 7 days, Sun 29 Nov: #1 ")


def test_run_refuses_without_slack(database_url: str, slack: SlackStandIn) -> None:
    env = environment(database_url, slack)
    del env["SLACK_BOT_TOKEN"]
    result = actionbot(env, "run", "reminders")
    assert result.returncode == 2
    assert "no messaging platform is configured" in result.stderr
    env = environment(database_url, slack)
    del env["BOARD_CHANNEL"]
    result = actionbot(env, "run", "digest")
    assert result.returncode == 2
    assert "BOARD_CHANNEL is not set" in result.stderr
    assert slack.posts == []


def _collect(stream: IO[str], lines: list[str]) -> None:
    lines.extend(iter(stream.readline, ""))


def test_worker_catches_up_the_digest_and_stops_on_sigterm(
    database_url: str, slack: SlackStandIn
) -> None:
    # Scheduled for Monday 00:00, which has passed this week whatever today is.
    env = environment(database_url, slack, DIGEST_SCHEDULE="mon 00:00")
    for round_ in (1, 2):
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        assert worker.stderr is not None
        reader = threading.Thread(target=_collect, args=(worker.stderr, lines))
        reader.start()
        try:
            # Waiting on a real process here, not on business time.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                any("worker started" in line for line in lines)
                and (round_ == 2 or BOARD in slack.channels())
            ):
                assert worker.poll() is None, "".join(lines)
                time.sleep(0.05)
            if round_ == 2:
                time.sleep(2)  # the first tick has run: a second worker must not post again
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
            reader.join(timeout=10)
        err = "".join(lines)
        assert worker.returncode == 0, err
        assert "SIGTERM: finishing the message in hand" in err and "worker stopped" in err
        assert slack.channels().count(BOARD) == 1  # caught up once; not again on restart


def test_slack_rate_limits_and_server_errors_through_the_real_client(
    database_url: str, slack: SlackStandIn
) -> None:
    from bot.clock import FixedClock
    from bot.config import Settings
    from bot.domain.workdays import WorkingCalendar
    from bot.outbox.delivery import deliver
    from scheduler.jobs import run_reminders
    from storage.models import OutboxMessage, OutboxStatus
    from wiring.root import compose

    seed(database_url, {"U0LIMITED": 0, "U0FLAKY": 0})
    slack.script = {
        # A long Retry-After is handed back to the outbox rather than slept on in the client.
        "U0LIMITED": [(429, {"Retry-After": "30"})],
        # 500s: the sender retries once at once, then the outbox backs off and tries again.
        "U0FLAKY": [(500, {})] * 3,
    }
    config = Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.url,
        chair_user_ids=("U0CHAIR",),
    )
    clock = FixedClock(dt.datetime.now(dt.UTC))
    process = compose(config, clock=clock)
    core, senders = process.core, process.senders
    first = run_reminders(core, senders, WorkingCalendar.from_settings(config))
    assert first.delivery.retried  # the 429: the pass pauses at once
    assert first.delivery.paused_until == clock.now() + dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=30))
    second = deliver(core, senders)
    clock.advance(dt.timedelta(minutes=1))
    third = deliver(core, senders)
    sent = sorted(c for c, status in slack.calls if status == 200)
    assert sent == ["U0FLAKY", "U0LIMITED"]
    assert [s for c, s in slack.calls if c == "U0FLAKY"] == [500, 500, 500, 200]
    with core.sessions() as session:
        rows = session.query(OutboxMessage).all()
        assert {r.status for r in rows} == {OutboxStatus.SENT}
        assert all(r.platform_ref for r in rows)
    assert len(second.sent) + len(third.sent) + len(first.delivery.sent) == 2

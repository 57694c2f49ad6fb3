"""`actionbot serve` as a real process: configured by environment variables like a deployment,
talking to a fake Slack on loopback, stopped with SIGTERM."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from storage.db import make_engine, make_session_factory
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import signed_headers, slash_command_body
from tests.test_slack_blocks import all_text, validated
from wiring.serve import run_socket

SECRET = "test-signing-secret"
CHAIR, AMIRA = "UCHAIR", "UAMIRA"
ACTIONBOT = Path(sys.executable).with_name("actionbot")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_overdue(database_url: str) -> None:
    """Two actions added ten days ago by the chair, both overdue today (real time)."""
    ten_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        chair_user_ids=(CHAIR,),
    )
    engine = make_engine(database_url)
    core = Core(settings, make_session_factory(engine), FixedClock(ten_days_ago))
    chair = Caller(Platform.SLACK, CHAIR, "Sarah Chair")
    amira = Caller(Platform.SLACK, AMIRA, "Amira Khan")
    run_command(core, amira, "/status", "mine")  # Amira becomes known to the bot
    for title, days in (("Audit the front door", 2), ("Refresh the threshold document", 5)):
        outcome = run_command(core, chair, "/action", f"add {title} <@{AMIRA}> due in {days} days")
        assert outcome.message.tone == "success", outcome.message.text
    engine.dispose()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(CHAIR, "sarah.chair@board.example", "Sarah Chair")
        fake.add_user(AMIRA, "amira.khan@council.example", "Amira Khan")
        yield fake


@pytest.fixture
def served(database_url: str, slack: FakeSlack, tmp_path: Path) -> Iterator[str]:
    """`actionbot serve` on 127.0.0.1:<free port>; yields its base URL, stops it with SIGTERM."""
    seed_overdue(database_url)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "CHAIR_USER_IDS": CHAIR,
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(ACTIONBOT), "serve"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited: {(tmp_path / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not start: {(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log.close()
    # uvicorn finishes in-flight requests, then re-raises the signal so a supervisor sees it.
    output = (tmp_path / "serve.log").read_text()
    assert code in (0, -signal.SIGTERM), output
    assert "Finished server process" in output


def test_serve_process_answers_a_chairs_status_overdue(served: str, slack: FakeSlack) -> None:
    assert httpx.get(f"{served}/healthz").json() == {"ok": True}
    assert [c.method for c in slack.calls()] == ["auth.test"]  # the token is checked at start

    body = slash_command_body(command="/status", text="overdue", user_id=CHAIR, user_name="sarah")
    response = httpx.post(
        f"{served}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Overdue actions: 2"
    text = all_text(validated(answer["blocks"]))
    assert text.index("Audit the front door") < text.index("Refresh the threshold document")
    # The owner is a real mention: Slack draws it as her name.
    assert f"<@{AMIRA}>" in text and "5 days late" in text and "8 days late" in text

    forged = httpx.post(
        f"{served}/slack/events", content=body, headers=signed_headers(body, "wrong"), timeout=10
    )
    assert forged.status_code == 401


def test_serve_refuses_to_start_with_a_token_slack_rejects(
    database_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    slack.fail_next("auth.test", status=200, error="invalid_auth")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-wrong",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
    }
    result = subprocess.run(
        [str(ACTIONBOT), "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60
    )
    assert result.returncode == 1
    assert b"invalid_auth" in result.stderr


def test_socket_mode_needs_both_tokens(settings: Settings) -> None:
    assert run_socket(settings) == 2

"""Socket Mode end to end: the real `actionbot socket` process against a fake Slack and a fake
Socket Mode endpoint on loopback. Commands, buttons and events arrive as envelopes and are
acknowledged; the endpoint asks for a refresh, drops the connection and restarts; an envelope
Slack sends again is answered without running twice; SIGTERM ends the process with 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

import pytest
from sqlalchemy import Engine, func, select

from bot.domain import Status
from handlers.slack.blocks import DONE
from storage.db import make_engine
from storage.models import Action
from tests.reliability.conftest import Tally
from tests.support.fake_slack import APP_ID, TEAM_ID, FakeSlack
from tests.support.fake_socket_mode import Ack, FakeSocketMode
from tests.support.slack_signing import block_actions_body, slash_command_body
from tests.test_slack_serve import ACTIONBOT, AMIRA, CHAIR, seed_overdue

AREA = "10 socket mode"
#: Bounds on real I/O: a reconnection after a silent drop waits for the client's ping check.
CONNECT_WAIT = 40.0
ACK_WAIT = 20.0


@dataclass
class Rig:
    slack: FakeSlack
    socket_mode: FakeSocketMode
    process: subprocess.Popen[bytes]
    engine: Engine
    log: Path
    triggers: Iterator[int]

    def command(self, user: str, name: str, text: str, *, envelope_id: str | None = None) -> str:
        trigger = f"T{next(self.triggers):04d}"
        body = slash_command_body(command=name, text=text, user_id=user,
                                  user_name=user.lower(), trigger_id=trigger,
                                  response_url=self.slack.response_url(trigger))
        payload = dict(parse_qsl(body.decode(), keep_blank_values=True))
        return self.socket_mode.send("slash_commands", payload, envelope_id=envelope_id)

    def press(self, user: str, action_id: str, value: str) -> str:
        trigger = f"T{next(self.triggers):04d}"
        body = block_actions_body(user, action_id, value, trigger_id=trigger,
                                  response_url=self.slack.response_url(trigger))
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        return self.socket_mode.send("interactive", payload)

    def open_home(self, user: str, event_id: str) -> str:
        payload = {
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": APP_ID,
            "event": {"type": "app_home_opened", "user": user, "channel": "D" + user,
                      "tab": "home", "event_ts": f"{time.time():.6f}"},
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        }
        return self.socket_mode.send("events_api", payload)

    def ack(self, envelope_id: str) -> Ack:
        return self.socket_mode.wait_ack(envelope_id, timeout=ACK_WAIT)

    def titles(self, title: str) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(
                select(func.count()).select_from(Action).where(Action.title == title)) or 0)

    def status_of(self, number: int) -> Status | None:
        with self.engine.connect() as connection:
            return connection.scalar(select(Action.status).where(Action.id == number))

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(check: Callable[[], bool], what: str, timeout: float = ACK_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    seed_overdue(database_url)
    log = tmp_path / "socket.log"
    with FakeSlack() as slack, FakeSocketMode() as socket_mode, log.open("wb") as out:
        slack.socket_mode(socket_mode.url)
        slack.add_user(CHAIR, "sarah.chair@board.example", "Sarah Chair")
        slack.add_user(AMIRA, "amira.khan@council.example", "Amira Khan")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))},
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-1-test",
            "SLACK_API_URL": slack.api_url,
            "CHAIR_USER_IDS": CHAIR,
        }
        process = subprocess.Popen([str(ACTIONBOT), "socket"], env=env, cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT)
        engine = make_engine(database_url)
        rig = Rig(slack, socket_mode, process, engine, log, iter(range(1, 10_000)))
        try:
            yield rig
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            engine.dispose()


def stop(rig: Rig) -> tuple[int, float]:
    """SIGTERM the process; its exit code and how long it took to exit."""
    started = time.monotonic()
    rig.process.send_signal(signal.SIGTERM)
    try:
        code = rig.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        rig.process.kill()
        raise AssertionError(f"socket did not stop on SIGTERM:\n{rig.output()}") from None
    return code, time.monotonic() - started


def test_socket_mode_serves_reconnects_and_runs_each_envelope_once(
    rig: Rig, tally: Tally
) -> None:
    socket_mode, slack = rig.socket_mode, rig.slack
    socket_mode.wait_connected(1, timeout=CONNECT_WAIT)
    [opened] = slack.calls("apps.connections.open")
    assert opened.headers["authorization"] == "Bearer xapp-1-test"  # the app-level token
    inputs = faults = 0

    # A command: its reply travels in the acknowledgement.
    status = rig.command(CHAIR, "/status", "overdue")
    answer = rig.ack(status).payload
    assert answer is not None and answer["response_type"] == "ephemeral"
    assert answer["text"] == "Overdue actions: 2"
    # A command that tells someone: acknowledged with its reply, then the DM goes out.
    added = rig.command(CHAIR, "/action", f"add Check the lifts <@{AMIRA}> due in 9 days")
    reply = rig.ack(added).payload
    assert reply is not None and reply["text"].startswith("Added action #3"), reply
    slack.wait_for("chat.postMessage", 1, timeout=ACK_WAIT)
    # A button: acknowledged empty at once, the change then shown where it was pressed.
    pressed = rig.press(AMIRA, DONE, "1")
    assert rig.ack(pressed).payload is None
    wait_until(lambda: rig.status_of(1) == Status.DONE, "Mark done applied")
    slack.wait_for("chat.update", 1, timeout=ACK_WAIT)
    # An event: acknowledged, and the Home tab drawn.
    home = rig.open_home(CHAIR, "Ev0001")
    rig.ack(home)
    wait_until(lambda: slack.published_home(CHAIR) is not None, "Home published")
    inputs += 4

    # Slack asks for a refresh: the app moves to a new connection and carries on there.
    socket_mode.disconnect("refresh_requested")
    socket_mode.wait_connected(2, timeout=CONNECT_WAIT)
    after_refresh = rig.ack(rig.command(CHAIR, "/status", "overdue"))
    assert after_refresh.connection == 2 and after_refresh.payload is not None
    # The connection is cut without a word: the app notices and reconnects.
    socket_mode.drop()
    socket_mode.wait_connected(3, timeout=CONNECT_WAIT)
    assert rig.ack(rig.command(CHAIR, "/status", "overdue")).connection == 3
    # The endpoint restarts: its connections go away, the app asks Slack for a new URL.
    socket_mode.restart()
    socket_mode.wait_connected(4, timeout=CONNECT_WAIT)
    assert rig.ack(rig.command(CHAIR, "/status", "overdue")).connection == 4
    faults += 3
    inputs += 3

    # An envelope whose acknowledgement never came (the connection went while the command was
    # in hand) is sent again on the next connection: it is answered, and runs once.
    boiler = rig.command(CHAIR, "/action", f"add Replace the boiler <@{AMIRA}> due in 5 days")
    socket_mode.drop()
    socket_mode.wait_connected(5, timeout=CONNECT_WAIT)
    first = rig.ack(boiler)
    assert first.payload is not None and first.payload["text"].startswith("Added action #4")
    # Slack sends the same envelope once more (its acknowledgement was late): same answer.
    again = rig.command(CHAIR, "/action", f"add Replace the boiler <@{AMIRA}> due in 5 days",
                        envelope_id=boiler)
    wait_until(lambda: len(socket_mode.acks_for(again)) >= 2, "the copy acknowledged")
    # And an event delivered twice under two envelopes: one Home drawn per event.
    publishes = len(slack.calls("views.publish"))
    rig.ack(rig.open_home(AMIRA, "Ev0002"))
    rig.ack(rig.open_home(AMIRA, "Ev0002"))
    faults += 3
    inputs += 4

    # SIGTERM: the requests in hand are finished, then a clean exit 0.
    code, took = stop(rig)
    output = rig.output()
    assert code == 0 and took < 10, output
    assert "Socket Mode stopped" in output

    acked = {a.envelope_id for a in socket_mode.acks}
    sent = {m["envelope_id"] for m in socket_mode.sent}
    lost = len(sent - acked)
    duplicated = max(0, rig.titles("Replace the boiler") - 1) + max(
        0, rig.titles("Check the lifts") - 1) + max(
        0, len(slack.calls("views.publish")) - publishes - 1)
    dms = slack.messages_to(AMIRA)
    resent = sum(1 for m in socket_mode.sent if m.get("retry_attempt"))
    tally.add(AREA, faults=faults, inputs=inputs, sent=len(dms) + len(slack.calls("chat.update"))
              + len(slack.calls("views.publish")), lost=lost, duplicated=duplicated,
              note=f"{socket_mode.connections} connections; {resent} envelope(s) re-sent")
    assert lost == 0 and socket_mode.pending() == []
    assert all(a.payload == first.payload for a in socket_mode.acks_for(boiler)), "same answer"
    assert duplicated == 0
    assert rig.titles("Replace the boiler") == 1 and rig.titles("Check the lifts") == 1
    assert len([m for m in dms if "Replace the boiler" in json.dumps(m.params)]) == 1

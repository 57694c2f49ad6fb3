"""Teams end to end through Microsoft's Agents Playground (npm `@microsoft/m365agentsplayground`).

The playground is the Teams client and Bot Connector Microsoft ships for offline testing: its
HTTP API takes what a user types or presses and relays it to the bot's `/api/messages` as
Teams activities, and the bot's answers go back to its mocked connector. Its web UI reads the
conversation from a WebSocket (`/_ws_conversation/v1/conversations/stream`, which replays
what was said before the socket opened); this test reads the same stream.

Everything is real and runs as separate processes on loopback: `actionbot serve` (insecure
mode, as the README says for the playground), the playground, and `actionbot run digest`.
`bash .ci/run` installs the playground into `.ci/node`; without Node or the package the test
is skipped and says how to install it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.domain import Status
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Action, Person

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "@microsoft/m365agentsplayground"
VERSION = "0.2.28"
CLI = ROOT / ".ci" / "node" / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
INSTALL = f"npm install --prefix .ci/node {PACKAGE}@{VERSION}"
#: The playground's own user of the personal chat (its default mock data).
EMAIL = "alexw@example.com"
ACTIONBOT = Path(sys.executable).with_name("actionbot")
TIMEOUT = 30.0


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return f"Node.js is not installed: the Agents Playground needs it (then `{INSTALL}`)"
    if not CLI.is_file():
        return f"the Agents Playground is not installed: run `{INSTALL}` (bash .ci/run does)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stream:
    """A minimal WebSocket client (RFC 6455, text frames from the server) on a thread.

    The standard library has none and the project needs none elsewhere; the playground's
    stream only sends unmasked text frames, which is all this reads.
    """

    def __init__(self, port: int, path: str) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self._recv()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._buffer += self._recv()
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def _read(self) -> None:
        text = b""
        try:
            while True:
                first, second = self._take(2)
                size = second & 0x7F
                if size == 126:
                    size = struct.unpack(">H", self._take(2))[0]
                elif size == 127:
                    size = struct.unpack(">Q", self._take(8))[0]
                payload = self._take(size)
                if first & 0x0F in (0, 1):
                    text += payload
                    if first & 0x80:
                        self.events.put(json.loads(text))
                        text = b""
        except (OSError, EOFError, ValueError):
            return

    def wait_for(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event (seen before or arriving within the timeout) that `matches`."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for event in self.seen:
                if matches(event):
                    self.seen.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"nothing matched in the playground's stream: {self.seen}")
            try:
                self.seen.append(self.events.get(timeout=remaining))
            except queue.Empty:
                continue

    def close(self) -> None:
        self._sock.close()


@dataclass
class Playground:
    """The playground's HTTP API, its mock data and its conversation stream."""

    url: str
    stream: Stream
    config: dict[str, Any]
    http: httpx.Client
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def user(self) -> str:
        return str(self.config["currentUser"]["id"])

    @property
    def personal(self) -> str:
        return str(self.config["personalChat"]["id"])

    @property
    def channel(self) -> str:
        return str(self.config["teams"][0]["channels"][0]["id"])

    @property
    def bot(self) -> dict[str, Any]:
        return dict(self.config["bot"])

    def say(self, conversation: str, text: str, **extra: Any) -> dict[str, Any]:
        """What the user types (the web UI's send box)."""
        answer = self.http.post(
            f"{self.url}/_conversation/v1/conversations/{conversation}/messages",
            json={"from": {"id": self.user}, "text": text, "textFormat": "plain", **extra},
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def bot_message(self, conversation: str, contains: str) -> dict[str, Any]:
        """The next message the bot posted in `conversation` (or in one of its threads, as
        `id;messageid=…`) whose card mentions `contains`."""

        def matches(event: dict[str, Any]) -> bool:
            place = str(event.get("actionConversationId"))
            return (
                event.get("action") == "createMessage"
                and (place == conversation or place.startswith(f"{conversation};"))
                and event["message"]["from"]["id"] == self.bot["id"]
                and contains in json.dumps(event["message"].get("attachments"))
            )

        return dict(self.stream.wait_for(matches)["message"])


def card(message: dict[str, Any]) -> dict[str, Any]:
    return dict(message["attachments"][0]["content"])


def executes(node: Any) -> list[dict[str, Any]]:
    """Every `Action.Execute` of a card, nested forms included."""
    if isinstance(node, dict):
        own = [node] if node.get("type") == "Action.Execute" else []
        return own + [a for value in node.values() for a in executes(value)]
    if isinstance(node, list):
        return [a for item in node for a in executes(item)]
    return []


def wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            out = process.stdout.read().decode() if process.stdout and process.poll() else ""
            raise AssertionError(f"{what} did not start: {out}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def seed(database_url: str) -> tuple[int, int]:
    """The playground user's two actions: one overdue, one due next week."""
    engine = make_engine(database_url)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    today = dt.date.today()
    with transaction(make_session_factory(engine)) as session:
        alex = Person(display_name="Alex Wilber", email=EMAIL, created_at=created)
        ids = []
        for title, ahead in (("Audit <case> files", -2), ("Train managers", 7)):
            action = Action(
                title=title,
                owner=alex,
                due_date=today + dt.timedelta(days=ahead),
                status=Status.OPEN,
                created_at=created,
                updated_at=created,
            )
            session.add(action)
            session.flush()
            ids.append(action.id)
    engine.dispose()
    return ids[0], ids[1]


def status_of(database_url: str, number: int) -> Status:
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        status = session.scalars(select(Action.status).where(Action.id == number)).one()
    engine.dispose()
    return status


@pytest.fixture
def playground(database_url: str, tmp_path: Path) -> Iterator[tuple[Playground, dict[str, str]]]:
    bot_port, playground_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEAMS_INSECURE_NO_AUTH": "1",
        "HOST": "127.0.0.1",
        "PORT": str(bot_port),
        "CHAIR_USER_IDS": EMAIL,
        # The playground opens a browser unless told not to; its log and config stay here.
        "TEAMSAPPTESTER_BROWSER": "none",
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(tmp_path / "playground.log"),
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(tmp_path / ".m365agentsplayground.yml"),
    }
    for name in ("BOARD_CHANNEL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID"):
        env.pop(name, None)
    processes: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        # Run in tmp_path so that neither a developer's .env nor the playground's files
        # (devTools/, its config) touch the working tree.
        process = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    try:
        serve = start(str(ACTIONBOT), "serve")
        wait_until(lambda: answers(f"http://127.0.0.1:{bot_port}/healthz"), "actionbot", serve)
        connector = f"http://127.0.0.1:{playground_port}/_connector"
        node = start(
            "node",
            str(CLI),
            "--app-endpoint",
            f"http://127.0.0.1:{bot_port}/api/messages",
            "--channel-id",
            "msteams",
            "--port",
            str(playground_port),
            "--service-url",
            connector,
            "--disable-telemetry",
        )
        url = f"http://127.0.0.1:{playground_port}"
        wait_until(lambda: answers(f"{url}/_internal/v1/config"), "the Agents Playground", node)
        with httpx.Client(timeout=TIMEOUT) as http:
            config = http.get(f"{url}/_internal/v1/config").json()["config"]
            stream = Stream(playground_port, "/_ws_conversation/v1/conversations/stream")
            try:
                yield Playground(url, stream, config, http, processes), env
            finally:
                stream.close()
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_command_a_card_button_and_the_digest_through_the_agents_playground(
    playground: tuple[Playground, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    pg, env = playground
    overdue, later = seed(database_url)

    # A command typed in the personal chat: the help card keeps its `<id>` placeholders.
    pg.say(pg.personal, "action help")
    help_card = card(pg.bot_message(pg.personal, "commands"))
    assert r"/action done \\<id\\>" in json.dumps(help_card)

    # A list with the owner's buttons, then Mark done pressed on it (Universal Actions).
    pg.say(pg.personal, "action list mine")
    listing = pg.bot_message(pg.personal, "Train managers")
    assert r"Audit \\<case\\> files" in json.dumps(card(listing))
    [done] = [
        a for a in executes(card(listing)) if a["data"]["action"] == overdue and a["verb"] == "done"
    ]
    pressed = pg.http.post(
        f"{pg.url}/_conversation/v1/invoke",
        json={
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": "done", "data": done["data"]}},
            "from": {"id": pg.user},
            "conversation": {"id": pg.personal},
            "replyToId": listing["messageId"],
        },
    )
    assert pressed.status_code == 200, pressed.text
    redrawn = pressed.json()
    assert redrawn["type"] == "application/vnd.microsoft.card.adaptive"
    shown = json.dumps(redrawn["value"])
    assert "Train managers" in shown and r"Audit \\<case\\> files" in shown
    assert {a["data"]["action"] for a in executes(redrawn["value"])} == {later}
    assert status_of(database_url, overdue) == Status.DONE

    # An older client's Action.Submit (a message activity with a value) still works.
    submitted = pg.http.post(
        f"{pg.url}/_conversation/v1/submit",
        json={
            "conversation": {"id": pg.personal},
            "from": {"id": pg.user},
            "replyToId": listing["messageId"],
            "value": {"actionbot": "update", "action": later, f"note_{later}_update": "Booked"},
        },
    )
    assert submitted.status_code == 200, submitted.text
    assert f"#{later} Train managers" in json.dumps(
        card(pg.bot_message(pg.personal, "Added your update"))
    )

    # The bot is used in the team's channel (the playground's channel ids are not 19:…),
    # and the weekly digest goes there.
    bot = pg.bot
    mention = f"<at>{bot['name']}</at>"
    pg.say(
        pg.channel,
        f"{mention} status",
        mentions=[{"mentioned": {"id": bot["id"]}, "text": mention}],
    )
    pg.bot_message(pg.channel, "Improvement plan")
    digest = subprocess.run(
        [str(ACTIONBOT), "run", "digest"],
        cwd=tmp_path,
        env={**env, "BOARD_CHANNEL": pg.channel},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert digest.returncode == 0, digest.stdout + digest.stderr
    posted = card(pg.bot_message(pg.channel, "Weekly digest"))
    assert "overdue" in json.dumps(posted)

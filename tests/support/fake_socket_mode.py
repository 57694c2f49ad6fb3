"""A fake Slack Socket Mode endpoint: a WebSocket server on loopback that sends envelopes.

Slack's side of https://api.slack.com/apis/socket-mode as far as an app can see it: a new
connection gets `hello`; requests arrive as envelopes (`slash_commands`, `interactive`,
`events_api`) and are acknowledged with their `envelope_id` (and a reply payload where one
travels in the acknowledgement); `disconnect` (refresh_requested) asks the app to move to a
new connection. An envelope not acknowledged when its connection goes is sent again on the
next connection, with `retry_attempt` counting up, as Slack does.

Point FakeSlack's `apps.connections.open` at `url` (FakeSlack.socket_mode(fake.url)).

Example::

    with FakeSocketMode() as socket_mode, FakeSlack() as slack:
        slack.socket_mode(socket_mode.url)
        ...  # start the app with SLACK_API_URL=slack.api_url
        socket_mode.wait_connected()
        envelope = socket_mode.send("slash_commands", {"command": "/status", ...})
        ack = socket_mode.wait_ack(envelope)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["Ack", "FakeSocketMode"]


@dataclass(frozen=True)
class Ack:
    """An acknowledgement the app sent: the envelope it names, any payload, which connection."""

    envelope_id: str
    payload: dict[str, Any] | None
    connection: int


class FakeSocketMode:
    """A thread-safe fake of Slack's Socket Mode WebSocket endpoint on 127.0.0.1."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._tickets = itertools.count(1)
        #: Open connections, oldest first; envelopes go to the newest.
        self._open: list[tuple[int, ServerConnection]] = []
        #: Every connection ever accepted (for the test to count reconnections).
        self.connections = 0
        #: Sent and not yet acknowledged, in the order sent: the message as last sent.
        self._pending: dict[str, dict[str, Any]] = {}
        self.acks: list[Ack] = []
        #: Every envelope as sent, re-sends included.
        self.sent: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSocketMode:
        """Listen on an OS-chosen loopback port, serving in a daemon thread."""
        server = serve(self._session, "127.0.0.1", 0, compression=None, ping_interval=None)
        thread = threading.Thread(target=server.serve_forever, name="fake-socket-mode", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Close every connection (1001, going away) and stop listening (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def restart(self) -> None:
        """Slack's endpoint restarts: a new server takes new connections, the old one goes
        away with its connections (1001), and the app must reconnect through
        `apps.connections.open` to keep receiving."""
        old, old_thread = self._server, self._thread
        self.start()
        if old is not None:
            old.shutdown()
        if old_thread is not None:
            old_thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self) -> str:
        """A new WebSocket URL, as `apps.connections.open` issues one per call."""
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={next(self._tickets)}"

    # ------------------------------------------------------------------ scripting
    def send(
        self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None
    ) -> str:
        """Send an envelope on the newest connection (or on the next one, if none is open)."""
        envelope_id = envelope_id or f"env-{next(self._ids):04d}"
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            message["retry_attempt"] = 0
            message["retry_reason"] = ""
        with self._cond:
            self._pending[envelope_id] = message
            target = self._open[-1][1] if self._open else None
        if target is not None:
            self._transmit(target, message)
        return envelope_id

    def drop(self) -> None:
        """Cut the newest connection without a close frame, as a network failure would."""
        with self._cond:
            if not self._open:
                raise AssertionError("no connection to drop")
            _, connection = self._open.pop()
        with contextlib.suppress(OSError):
            connection.socket.shutdown(socket.SHUT_RDWR)
        connection.socket.close()

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to move to a new connection, as Slack does before closing one."""
        with self._cond:
            target = self._open[-1][1] if self._open else None
        if target is None:
            raise AssertionError("no connection to send disconnect on")
        self._transmit(target, {"type": "disconnect", "reason": reason,
                                "debug_info": {"host": "fake-socket-mode"}})

    # ------------------------------------------------------------------ inspection
    def pending(self) -> list[str]:
        """Envelope ids sent and not yet acknowledged."""
        with self._cond:
            return list(self._pending)

    def acks_for(self, envelope_id: str) -> list[Ack]:
        """Every acknowledgement of one envelope (more than one: the app answered a copy)."""
        with self._cond:
            return [a for a in self.acks if a.envelope_id == envelope_id]

    def wait_connected(self, count: int = 1, timeout: float = 20.0) -> None:
        """Until `count` connections have been made in all and one is open."""
        self._wait(lambda: self.connections >= count and bool(self._open), timeout,
                   f"{count} connection(s)")

    def wait_ack(self, envelope_id: str, timeout: float = 20.0) -> Ack:
        """The first acknowledgement of an envelope, waiting for it."""
        self._wait(lambda: any(a.envelope_id == envelope_id for a in self.acks), timeout,
                   f"an ack of {envelope_id}")
        return self.acks_for(envelope_id)[0]

    def _wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no {what} within {timeout}s; connections {self.connections}, "
                        f"open {len(self._open)}, pending {list(self._pending)}"
                    )
                self._cond.wait(remaining)

    # ------------------------------------------------------------------ internals
    def _transmit(self, connection: ServerConnection, message: dict[str, Any]) -> None:
        if "envelope_id" in message:
            with self._cond:
                self.sent.append(message)
        with contextlib.suppress(ConnectionClosed, OSError):  # gone: re-sent on the next one
            connection.send(json.dumps(message))

    def _session(self, connection: ServerConnection) -> None:
        with self._cond:
            self.connections += 1
            number = self.connections
        connection.send(json.dumps({
            "type": "hello",
            "num_connections": 1,
            "connection_info": {"app_id": "A0001"},
            "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 3600},
        }))
        with self._cond:
            self._open.append((number, connection))
            # What the last connection left unacknowledged comes again, marked as a retry.
            again = [dict(m) for m in self._pending.values()]
            for message in again:
                message["retry_attempt"] = int(message.get("retry_attempt") or 0) + 1
                message["retry_reason"] = "timeout"
                self._pending[message["envelope_id"]] = message
            self._cond.notify_all()
        for message in again:
            self._transmit(connection, message)
        try:
            for raw in connection:
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(data, dict) or "envelope_id" not in data:
                    continue
                payload = data.get("payload")
                with self._cond:
                    self.acks.append(Ack(str(data["envelope_id"]),
                                         payload if isinstance(payload, dict) else None, number))
                    self._pending.pop(str(data["envelope_id"]), None)
                    self._cond.notify_all()
        except (ConnectionClosed, OSError):
            pass
        finally:
            with self._cond:
                self._open = [(n, c) for n, c in self._open if n != number]
                self._cond.notify_all()

"""`actionbot socket`: the same Bolt app over Socket Mode, for running without a public URL.

https://api.slack.com/apis/socket-mode — Slack opens a WebSocket to us with the app-level
token (`xapp-…`, scope `connections:write`); requests arrive unsigned over that socket, each in
an envelope the app acknowledges with its `envelope_id` (a command's reply travels in that
acknowledgement).

Slack sends an envelope again when its acknowledgement did not arrive: the connection dropped
after the app had read it, or was refreshed while the app worked on it. The app has by then
usually done the work (a command ran and committed), so a copy must not run it again: `/action
add` would add the action twice and `/action update` would record the note twice. Each
request is remembered by its envelope id and by Slack's own id of what the user did (the
event's `event_id`, the command's or click's `trigger_id`); a copy is answered with the first
copy's acknowledgement, and nothing runs twice. The memory is this process's: a copy that
reaches a restarted process runs again, which is why the process stops only after the work in
hand is done and acknowledged (SIGTERM).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)

#: Requests remembered for copies: Slack re-sends within minutes, a busy board sends a few
#: hundred requests an hour.
REMEMBERED = 10_000
#: Seconds between the client's pings. It notices a connection cut without a close frame (a
#: network failure, a proxy's idle timeout) only when about five pings in a row fail to go
#: out: at Bolt's 10 s that is close to a minute of Slack writing into a dead socket; at 2 s,
#: about 12 s. A ping is a few bytes.
PING_INTERVAL = 2.0
#: How long a copy waits for the first copy's acknowledgement before giving up on answering:
#: longer than a command's ack deadline, so the copy's answer is the real one.
COPY_WAIT = 10.0


class _Answer:
    """The acknowledgement of one request, once the first copy has worked it out."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.response: BoltResponse | None = None


class Answers:
    """Requests seen, by every id a copy of them may carry; the oldest are forgotten."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, _Answer] = OrderedDict()

    def claim(self, keys: Iterable[str]) -> tuple[_Answer, bool]:
        """The request's answer, and whether this copy is the first (and must do the work)."""
        keys = list(keys)
        with self._lock:
            found = next((self._seen[k] for k in keys if k in self._seen), None)
            answer = found or _Answer()
            for key in keys:
                self._seen[key] = answer
                self._seen.move_to_end(key)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return answer, found is None


def request_keys(req: SocketModeRequest) -> list[str]:
    """The ids a copy of this request carries: the envelope's, and Slack's id of the act."""
    keys = [f"envelope:{req.envelope_id}"]
    payload = req.payload if isinstance(req.payload, dict) else {}
    if payload.get("event_id"):
        keys.append(f"event:{payload['event_id']}")
    if payload.get("trigger_id"):
        keys.append(f"trigger:{payload['trigger_id']}")
    return keys


class OnceSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler that runs each request once, however often Slack sends it."""

    def __init__(self, bot: SlackBot, app_token: str) -> None:
        super().__init__(bot.app, app_token, ping_interval=PING_INTERVAL)
        self.answers = Answers()

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        answer, first = self.answers.claim(request_keys(req))
        if not first:
            log.info(
                "Slack sent %s again (retry %s); answering it without running it twice",
                req.envelope_id,
                req.retry_attempt,
            )
            if answer.done.wait(COPY_WAIT) and answer.response is not None:
                send_response(client, req, answer.response, started)
            return
        try:
            response: BoltResponse = run_bolt_app(self.app, req)
            answer.response = response
        finally:
            answer.done.set()
        send_response(client, req, response, started)


def run_socket_mode(bot: SlackBot, app_token: str, *, stop: threading.Event) -> int:
    """Serve over Socket Mode until `stop` is set (SIGTERM, Ctrl-C); 1 if Slack refuses."""
    handler = OnceSocketModeHandler(bot, app_token)
    log.info("Connecting to Slack over Socket Mode")
    try:
        try:
            handler.connect()  # type: ignore[no-untyped-call]
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.error("Slack would not open a Socket Mode connection: %s", exc)
            return 1
        log.info("Connected to Slack over Socket Mode; SIGTERM or Ctrl-C stops it")
        # The main thread only waits, so a signal is handled at once.
        while not stop.wait(1.0):
            pass
        log.info("Socket Mode stopping: finishing the requests in hand")
        # Finished while the connection is still open, so their acknowledgements reach Slack;
        # an envelope arriving now is left unacknowledged, and Slack sends it again elsewhere.
        handler.client.message_workers.shutdown(wait=True)
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        bot.close()
    log.info("Socket Mode stopped")
    return 0

"""A fake Bot Connector on loopback: records what the bot posts and edits, answers member
lookups.

Also serves an OpenID configuration and a JWKS document, so the SDK's real JWT validator can
be pointed at it with a test key (see test_teams_auth.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

_ACTIVITIES = re.compile(r"^/v3/conversations/([^/]+)/activities(?:/([^/]+))?$")
_MEMBER = re.compile(r"^/v3/conversations/([^/]+)/members/([^/]+)$")
_PAGED = re.compile(r"^/v3/conversations/([^/?]+)/pagedmembers(?:\?(.*))?$")


@dataclass
class Call:
    """One request the bot made."""

    method: str
    path: str
    body: Any
    authorization: str | None


@dataclass
class Post:
    """An activity the bot sent: a reply when `reply_to` is set, otherwise proactive."""

    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card of the activity (the first attachment)."""
        return dict(self.activity["attachments"][0]["content"])

    @property
    def card_text(self) -> str:
        """Every string of the card's TextBlocks and facts, one per line, for assertions."""
        lines: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "TextBlock":
                    lines.append(str(node["text"]))
                if node.get("type") == "FactSet":
                    lines.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.card.get("body"))
        return "\n".join(lines)


@dataclass
class Update:
    """An activity the bot replaced (PUT): `activity_id` is the id its post was given."""

    conversation_id: str
    activity_id: str
    activity: dict[str, Any]

    @property
    def post(self) -> Post:
        """The new face of the activity, read like a post."""
        return Post(self.conversation_id, None, self.activity)


@dataclass
class FakeConnector:
    """State shared with the handler thread; read it from the test."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    #: Activities replaced in place (edits), in order.
    updates: list[Update] = field(default_factory=list)
    #: Statuses to answer the next activity updates (PUT) with, first to last (then 200).
    fail_updates: list[int] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    #: Teams user id -> the member profile the connector returns (name, email, …).
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Conversation (team or channel) id -> the Teams user ids of its members, in order.
    teams: dict[str, list[str]] = field(default_factory=dict)
    #: Members per page of pagedmembers, whatever pageSize asks: small, so paging is exercised.
    page_size: int = 2
    #: The JWKS document served at /keys (empty: no keys).
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    #: Statuses to answer the next activity posts with, first to last (then 200).
    fail_next: list[int] = field(default_factory=list)
    #: The Retry-After header of a scripted 429, in seconds.
    retry_after: str = "1"
    #: Seconds to hold the answer to the next activity posts, first to last: the post is made
    #: (recorded) at once and answered late, like a connector that acts and then times out.
    delay_next: list[float] = field(default_factory=list)
    #: Conversation id -> the status every post there is answered with, for good: 403 (the bot
    #: was removed or blocked) or 404 (the conversation is gone).
    refused: dict[str, int] = field(default_factory=dict)
    #: Attachment id -> the bytes served at its contentUrl (`add_file`).
    files: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def openid_url(self) -> str:
        """Where the OpenID metadata is (the SDK derives the keys URL from it)."""
        return f"{self.url}/v1/.well-known/openidconfiguration"

    def add_file(self, attachment_id: str, content: bytes) -> str:
        """A file someone attached in a chat; returns its contentUrl, served by the fake
        like the Bot Connector's attachment views (404 for an id it does not know)."""
        with self.lock:
            self.files[attachment_id] = content
        return f"{self.url}/v3/attachments/{attachment_id}/views/original"

    def proactive(self) -> list[Post]:
        """Posts that were not replies to an activity."""
        with self.lock:
            return [p for p in self.posts if p.reply_to is None]

    def replies(self) -> list[Post]:
        """Posts that answered an activity."""
        with self.lock:
            return [p for p in self.posts if p.reply_to is not None]


def _handler(state: FakeConnector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", state.retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: Any) -> None:
            with state.lock:
                state.calls.append(
                    Call(self.command, self.path, body, self.headers.get("Authorization"))
                )

        def _file(self) -> None:
            attachment = self.path.split("/")[3] if self.path.count("/") >= 3 else ""
            with state.lock:
                content = state.files.get(unquote(attachment))
            if content is None:
                self._answer(404, {"error": {"code": "NotFound"}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_GET(self) -> None:
            self._record(None)
            if self.path == "/v1/.well-known/openidconfiguration":
                self._answer(
                    200, {"issuer": "test", "jwks_uri": f"{state.url}/v1/.well-known/keys"}
                )
                return
            if self.path.startswith("/v3/attachments/"):
                self._file()
                return
            if self.path == "/v1/.well-known/keys":
                self._answer(200, state.jwks)
                return
            paged = _PAGED.match(self.path)
            if paged:
                team = state.teams.get(unquote(paged.group(1)))
                if team is None:
                    self._answer(404, {"error": {"code": "ConversationNotFound"}})
                    return
                query = parse_qs(paged.group(2) or "")
                start = int(query.get("continuationToken", ["0"])[0])
                page = team[start : start + state.page_size]
                answer: dict[str, Any] = {
                    "members": [
                        {"id": user, "userRole": "user", **state.members[user]} for user in page
                    ]
                }
                if start + state.page_size < len(team):
                    answer["continuationToken"] = str(start + state.page_size)
                self._answer(200, answer)
                return
            match = _MEMBER.match(self.path)
            if match:
                member = state.members.get(unquote(match.group(2)))
                if member is None:
                    self._answer(404, {"error": {"code": "MemberNotFoundInConversation"}})
                else:
                    # Teams gives each member's role: "user", or "guest" for a guest.
                    self._answer(200, {"id": unquote(match.group(2)), "userRole": "user", **member})
                return
            self._answer(404, {"error": {"code": "NotFound"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            self._record(body)
            if self.path == "/v3/conversations":
                user = body["members"][0]["id"]
                with state.lock:
                    state.created.append(body)
                self._answer(200, {"id": f"a:personal-{user}"})
                return
            match = _ACTIVITIES.match(self.path)
            if match:
                with state.lock:
                    status = state.refused.get(unquote(match.group(1)), 0)
                    if not status:
                        status = state.fail_next.pop(0) if state.fail_next else 200
                    delay = state.delay_next.pop(0) if status == 200 and state.delay_next else 0
                    if status == 200:
                        state.posts.append(
                            Post(
                                unquote(match.group(1)),
                                unquote(match.group(2)) if match.group(2) else None,
                                body,
                            )
                        )
                        number = len(state.posts)
                if status != 200:
                    self._answer(status, {"error": {"code": "Scripted"}})
                    return
                if delay:
                    time.sleep(delay)
                with contextlib.suppress(OSError):  # the bot gave up waiting
                    self._answer(200, {"id": f"activity-{number}"})
                return
            self._answer(404, {"error": {"code": "NotFound"}})

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            self._record(body)
            match = _ACTIVITIES.match(self.path)
            if not match or not match.group(2):
                self._answer(404, {"error": {"code": "NotFound"}})
                return
            conversation, activity = unquote(match.group(1)), unquote(match.group(2))
            with state.lock:
                # Only an activity posted in that conversation can be replaced, as in Teams.
                known = {
                    f"activity-{number}"
                    for number, post in enumerate(state.posts, start=1)
                    if post.conversation_id == conversation
                }
                status = state.refused.get(conversation, 0)
                if not status and activity not in known:
                    status = 404
                if not status:
                    status = state.fail_updates.pop(0) if state.fail_updates else 200
                if status == 200:
                    state.updates.append(Update(conversation, activity, body))
            if status != 200:
                code = "ActivityNotFound" if status == 404 else "Scripted"
                self._answer(status, {"error": {"code": code}})
                return
            self._answer(200, {"id": activity})

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


@contextmanager
def fake_connector() -> Iterator[FakeConnector]:
    """A running fake connector on 127.0.0.1; stopped on exit."""
    state = FakeConnector()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""A fake Slack Web API served over real HTTP on the loopback interface.

Point ``slack_sdk.WebClient(base_url=fake.api_url)`` (or a Bolt ``App`` built on such a
client) at a running :class:`FakeSlack` and every call is answered the way Slack would
answer it and recorded as a :class:`Call`. Faults (rate limits, 500s, connection resets,
slow answers, API errors) can be injected per method, once or persistently.

Several workspaces: ``add_workspace`` registers a team with its bot token; a call made with
one team's token sees only that team's users and channels (tokens the fake was never told
about belong to the default team, ``TEAM_ID``). ``install_code`` gives a code that
``oauth.v2.access`` exchanges once for a new installation, as Slack's OAuth redirect does;
``revoke`` makes a team's tokens answer ``token_revoked``.

Example::

    with FakeSlack() as slack:
        slack.add_user("U1", email="amira@example.com")
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls("chat.postMessage")[0].params["text"] == "hi"
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "FIRST_TS_SECONDS",
    "PARTNER_TEAM_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "Call",
    "FakeSlack",
    "dm_channel_id",
]

TEAM_ID = "T0001"
#: The team of a partner organisation's users (Slack Connect).
PARTNER_TEAM_ID = "T0PARTNER"
TEAM_DOMAIN = "fake-team"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
FIRST_TS_SECONDS = 1_700_000_000
#: The scopes oauth.v2.access grants (deploy/slack/manifest.yml's).
_BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "files:read",
    "files:write",
)
_FIRST_TS_MICROS = FIRST_TS_SECONDS * 1_000_000 + 100
_TS_STEP_MICROS = 100
# Form fields that Slack clients send as JSON-encoded strings; decoded when recorded.
_JSON_FORM_FIELDS = frozenset({"blocks", "attachments", "view", "metadata"})


def dm_channel_id(user_id: str) -> str:
    """The id ``conversations.open`` gives the bot's DM with ``user_id``: ``"D" + user_id``."""
    return "D" + user_id


@dataclass(frozen=True)
class Call:
    """One request received by the fake (recorded on receipt, before any delay).

    ``headers`` keys are lower-cased. ``outcome`` is ``"ok"``, the Slack error string
    answered (e.g. ``"ratelimited"``, ``"users_not_found"``), ``"http_500"`` or ``"reset"``.
    ``path`` is the request path (useful for ``response_url`` calls), ``response`` the JSON
    answered (``None`` for non-JSON answers and resets), ``at`` a ``time.monotonic()`` stamp.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    outcome: str
    path: str = ""
    response: dict[str, Any] | None = None
    at: float = 0.0
    #: The workspace whose token the call was made with (``TEAM_ID`` for unknown tokens).
    team: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.outcome == "ok"

    @property
    def text(self) -> str | None:
        """The ``text`` parameter, if any."""
        text = self.params.get("text")
        return None if text is None else str(text)

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        """The ``blocks`` parameter (decoded from JSON if it came form-encoded)."""
        blocks = self.params.get("blocks")
        return blocks if isinstance(blocks, list) else None


@dataclass
class _Fault:
    times: int
    status: int
    error: str
    retry_after: int
    reset: bool
    delay: float


@dataclass
class _Rule:
    predicate: Callable[[dict[str, Any]], bool]
    error: str
    status: int


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"
    reset: bool = False
    delay: float = 0.0
    payload: dict[str, Any] | None = None


def _json_answer(payload: dict[str, Any], status: int = 200, **extra: Any) -> _Answer:
    outcome = "ok" if payload.get("ok") else str(payload.get("error", "error"))
    return _Answer(
        status=status, body=json.dumps(payload).encode(), outcome=outcome, payload=payload, **extra
    )


def _dm_key(channel: str) -> str:
    """Normalise a user id (``U…``/``W…``) to its DM channel id; other ids unchanged."""
    return dm_channel_id(channel) if channel[:1] in ("U", "W") else channel


class FakeSlack:
    """A thread-safe fake of the Slack Web API and of slash-command ``response_url``s."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        """Create the fake; call :meth:`start` (or use ``with``) to begin serving."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("FakeSlack only listens on loopback")
        self._host = host
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._rules: dict[str, list[_Rule]] = {}
        # Seconds every well-formed call of a method waits before its answer (see `pace`).
        self._paces: dict[str, float] = {}
        self._users: dict[str, dict[str, Any]] = {}
        # Users removed from the workspace: Slack no longer knows them at all.
        self._removed: set[str] = set()
        self._homes: dict[str, dict[str, Any]] = {}
        # Files uploaded (through a form's file input): their metadata and their bytes.
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        # The upload API: files asked for (files.getUploadURLExternal) by id, with the
        # length declared and the bytes once POSTed to their upload URL; and what
        # files.completeUploadExternal shared, in order.
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._shared_uploads: list[dict[str, Any]] = []
        # Channels the bot is not a member of (uploads there answer not_in_channel).
        self._not_member: set[str] = set()
        self._next_file = 1
        self._next_ts = _FIRST_TS_MICROS
        self._next_view = 1
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_url: Callable[[], str] | None = None
        # Several workspaces: team id -> its name and bot; token -> team; who is in which.
        self._workspaces: dict[str, dict[str, str]] = {
            TEAM_ID: {"name": "Fake Team", "bot_user_id": BOT_USER_ID, "bot_id": BOT_ID}
        }
        self._tokens: dict[str, str] = {}
        self._revoked: set[str] = set()
        self._user_team: dict[str, str] = {}
        self._channel_team: dict[str, str] = {}
        # oauth.v2.access: codes not yet exchanged, refresh tokens not yet spent.
        self._codes: dict[str, dict[str, Any]] = {}
        self._refresh_tokens: dict[str, str] = {}
        self._oauth_client: tuple[str, str] | None = None
        self._serial = itertools.count(1)
        # The team of the call being answered (each request has its own thread).
        self._calling = threading.local()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        """Bind an OS-chosen port on loopback and serve in a daemon thread."""
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer((self._host, 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for serve_forever's next poll: the default 0.5 s would add half a
        # second to every test that starts a fake.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A slash-command ``response_url``; POSTs to it are recorded as ``"response_url"``."""
        return f"{self.base_url}/response/{name}"

    # ------------------------------------------------------------------ setup
    def add_user(
        self,
        user_id: str,
        email: str | None = None,
        real_name: str | None = None,
        deleted: bool = False,
        *,
        tz: str = "Europe/London",
        workspace: str = TEAM_ID,
    ) -> dict[str, Any]:
        """Register a user of ``workspace`` for ``users.info`` / ``users.lookupByEmail``;
        returns its record."""
        name = email.split("@")[0] if email else user_id.lower()
        profile: dict[str, Any] = {
            "real_name": real_name or name,
            "display_name": name,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": workspace,
            "name": name,
            "real_name": real_name or name,
            "deleted": deleted,
            "is_bot": False,
            "tz": tz,
            "profile": profile,
        }
        with self._lock:
            self._users[user_id] = user
            self._user_team[user_id] = workspace
            self._removed.discard(user_id)
        return user

    def add_workspace(
        self, team_id: str, name: str | None = None, *, token: str | None = None
    ) -> str:
        """Register a workspace (team) with a bot of its own; returns its bot token."""
        token = token or f"xoxb-{team_id.lower()}-bot"
        with self._lock:
            self._workspaces[team_id] = {
                "name": name or f"Team {team_id}",
                "bot_user_id": f"UBOT{team_id}",
                "bot_id": f"BBOT{team_id}",
            }
            self._tokens[token] = team_id
        return token

    def add_channel(self, channel: str, workspace: str = TEAM_ID) -> None:
        """A channel of ``workspace``: posts there with another team's token are refused."""
        with self._lock:
            self._channel_team[channel] = workspace

    def oauth_client(self, client_id: str, client_secret: str) -> None:
        """The app's credentials: ``oauth.v2.access`` refuses others, as Slack does."""
        with self._lock:
            self._oauth_client = (client_id, client_secret)

    def install_code(
        self, team_id: str, *, user: str = "UINSTALLER", rotating: bool = False
    ) -> str:
        """A code Slack's redirect would carry after someone of ``team_id`` (registered with
        ``add_workspace``) approved the install; ``oauth.v2.access`` exchanges it once for a
        new bot token (with a refresh token and ``expires_in`` when ``rotating``)."""
        code = f"code-{team_id}-{next(self._serial)}"
        with self._lock:
            if team_id not in self._workspaces:
                raise ValueError(f"unknown workspace {team_id}: add_workspace first")
            self._codes[code] = {"team": team_id, "user": user, "rotating": rotating}
        return code

    def revoke(self, team_id: str) -> None:
        """Every token of ``team_id`` answers ``token_revoked`` from now on (an uninstall)."""
        with self._lock:
            self._revoked.update(t for t, team in self._tokens.items() if team == team_id)

    def token_team(self, token: str) -> str:
        """The workspace a token belongs to (``TEAM_ID`` for tokens never registered)."""
        with self._lock:
            return self._tokens.get(token, TEAM_ID)

    def add_external_user(
        self,
        user_id: str,
        email: str | None = None,
        real_name: str | None = None,
        *,
        team_id: str = PARTNER_TEAM_ID,
        stranger: bool = False,
        guest: bool = False,
    ) -> dict[str, Any]:
        """Register someone from outside the workspace, as ``users.info`` describes them.

        A Slack Connect user of a partner organisation has that organisation's ``team_id``
        (and ``profile.team``); one the workspace shares no channel with is ``is_stranger``
        and shows no email; a guest of this workspace keeps its team but is
        ``is_restricted``. ``users.lookupByEmail`` finds only the workspace's own members.
        """
        user = self.add_user(user_id, email, real_name)
        with self._lock:
            user = self._users[user_id]
            if guest:
                user["is_restricted"] = True
            else:
                user["team_id"] = team_id
                user["profile"]["team"] = team_id
            if stranger:
                user["is_stranger"] = True
                user["profile"].pop("email", None)
        return json.loads(json.dumps(user))

    def deactivate_user(self, user_id: str) -> None:
        """Deactivate a registered user, as an admin does when someone leaves.

        ``users.info`` then says ``deleted: true`` and ``chat.postMessage`` to them is refused
        with ``account_inactive``.
        """
        with self._lock:
            self._users[user_id]["deleted"] = True

    def remove_user(self, user_id: str) -> None:
        """Forget a user entirely: ``users.info`` answers ``user_not_found``, and so does
        ``chat.postMessage`` to them. (Ids never registered are still accepted as DM targets,
        so tests that need no directory need not register everyone.)"""
        with self._lock:
            self._users.pop(user_id, None)
            self._removed.add(user_id)

    def add_file(
        self, file_id: str, name: str, content: bytes, *, user: str | None = None
    ) -> dict[str, Any]:
        """A file someone uploaded; files.info describes it and its url_private serves it
        (with a bearer token only, as Slack does). Returns the file object."""
        url = f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/{name}"
        meta = {
            "id": file_id,
            "name": name,
            "title": name,
            "size": len(content),
            "user": user,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{user}/{file_id}/{name}",
        }
        with self._lock:
            self._files[file_id] = (meta, content)
        return dict(meta)

    def leave_channel(self, channel: str) -> None:
        """The bot is no longer in `channel`: files shared there answer `not_in_channel`."""
        with self._lock:
            self._not_member.add(channel)

    def uploads(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared by files.completeUploadExternal (in `channel`), each with its
        ``name``, ``title``, ``content``, ``channel`` and ``initial_comment``."""
        with self._lock:
            return [dict(u) for u in self._shared_uploads if channel in (None, u["channel"])]

    def socket_mode(self, url: Callable[[], str]) -> None:
        """Answer ``apps.connections.open`` with ``url()``: a Socket Mode endpoint's address
        (tests/support/fake_socket_mode.py), a new one per call as Slack issues them."""
        with self._lock:
            self._socket_url = url

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        reset: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` misbehave.

        ``status=429`` (the default) answers with ``Retry-After`` and ``{"ok": false, "error":
        "ratelimited"}``; ``status>=500`` answers an HTML page; any other status answers
        ``{"ok": false, "error": error}`` with that status; ``reset=True`` closes the socket
        without answering. ``delay`` sleeps server-side before answering; given without
        ``status``/``error`` the call is then answered normally (a slow success). Calls are
        recorded on receipt, so a client that times out still finds its call recorded.
        """
        if status is None and error is None and (delay or reset):
            status, error = 200, ""
        status = 429 if status is None else status
        error = ("ratelimited" if status == 429 else "") if error is None else error
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(times, status, error, retry_after, reset, delay)
            )

    def pace(self, method: str, seconds: float) -> None:
        """Answer every later call of ``method`` that no fault or rule answers after
        ``seconds``: a Slack that is slow but well, so a delivery lasts long enough to be
        interrupted. ``0`` answers at once again."""
        with self._lock:
            self._paces[method] = max(0.0, seconds)

    def fail_when(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool],
        *,
        error: str,
        status: int = 200,
    ) -> None:
        """Persistently answer ``{"ok": false, "error": error}`` when ``predicate(params)``."""
        with self._lock:
            self._rules.setdefault(method, []).append(_Rule(predicate, error, status))

    def clear(self) -> None:
        """Forget recorded calls (faults, rules, users and Home views are kept)."""
        with self._lock:
            self._calls.clear()

    def clear_faults(self) -> None:
        """Drop pending ``fail_next`` faults and ``fail_when`` rules."""
        with self._lock:
            self._faults.clear()
            self._rules.clear()

    # ------------------------------------------------------------------ inspection
    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls, oldest first; optionally only ``method`` and/or only (un)successful."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (ok is None or c.ok == ok)
            ]

    @staticmethod
    def dm_channel(user_id: str) -> str:
        """The DM channel id the fake gives ``user_id``: ``"D" + user_id``."""
        return dm_channel_id(user_id)

    def messages_to(self, channel: str) -> list[Call]:
        """Successful ``chat.postMessage`` calls to ``channel``.

        A user id and its DM channel (``"D" + user id``) count as the same destination.
        """
        key = _dm_key(channel)
        return [
            c
            for c in self.calls("chat.postMessage", ok=True)
            if _dm_key(str(c.params.get("channel", ""))) == key
        ]

    def ephemerals_to(self, user_id: str) -> list[Call]:
        """Successful ``chat.postEphemeral`` calls addressed to ``user_id``."""
        return [
            c for c in self.calls("chat.postEphemeral", ok=True) if c.params.get("user") == user_id
        ]

    def published_home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for ``user_id`` (as answered), or ``None``."""
        with self._lock:
            home = self._homes.get(user_id)
            return None if home is None else json.loads(json.dumps(home))

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` were answered; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self.calls(method)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = "\n".join(
                        f"  {c.method} -> {c.outcome} {c.params!r}" for c in self._calls
                    )
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, "
                        f"got {len(found)}; calls so far:\n{seen or '  (none)'}"
                    )
                self._cond.wait(remaining)

    # ------------------------------------------------------------------ internals
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _new_ts(self) -> str:
        with self._lock:
            micros = self._next_ts
            self._next_ts += _TS_STEP_MICROS
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_view_id(self) -> str:
        with self._lock:
            n = self._next_view
            self._next_view += 1
        return f"V{n:08d}"

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _matching_rule(self, method: str, params: dict[str, Any]) -> _Rule | None:
        with self._lock:
            rules = list(self._rules.get(method, ()))
        for rule in rules:
            if rule.predicate(params):
                return rule
        return None

    def _answer(self, method: str, params: dict[str, Any]) -> _Answer:
        """Decide how to answer one call (faults first, then rules, then normal)."""
        fault = self._take_fault(method)
        if fault is not None:
            if fault.reset:
                return _Answer(outcome="reset", reset=True, delay=fault.delay)
            if fault.status == 429:
                return _json_answer(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(fault.retry_after)},
                    delay=fault.delay,
                )
            if fault.status >= 500:
                html = (
                    f"<html><body><h1>{fault.status} Internal Server Error</h1></body></html>"
                ).encode()
                return _Answer(
                    status=fault.status,
                    body=html,
                    content_type="text/html; charset=utf-8",
                    outcome=f"http_{fault.status}",
                    delay=fault.delay,
                )
            if fault.error:
                return _json_answer(
                    {"ok": False, "error": fault.error}, status=fault.status, delay=fault.delay
                )
            answer = self._normal(method, params)
            answer.delay = fault.delay
            return answer
        rule = self._matching_rule(method, params)
        if rule is not None:
            return _json_answer({"ok": False, "error": rule.error}, status=rule.status)
        with self._lock:
            revoked = getattr(self._calling, "token", "") in self._revoked
        if revoked and method != "response_url":
            return _json_answer({"ok": False, "error": "token_revoked"})
        answer = self._normal(method, params)
        with self._lock:
            answer.delay = self._paces.get(method, 0.0)
        return answer

    def _normal(self, method: str, params: dict[str, Any]) -> _Answer:
        """The answer Slack would give to a well-formed call."""
        if "blocks" in params and not _valid_blocks(params["blocks"]):
            # What Slack answers to blocks it cannot read; the bot builds them as plain dicts,
            # so every test that sends a message also checks them with slack_sdk's models.
            return _json_answer({"ok": False, "error": "invalid_blocks"})
        if method == "response_url":
            return _Answer(body=b"ok", content_type="text/plain; charset=utf-8")
        handler = _METHODS.get(method)
        payload = handler(self, params) if handler is not None else {"ok": True}
        return _json_answer(payload)

    # ---- method implementations (return the JSON payload)
    def _team(self) -> str:
        """The workspace of the call being answered (its token's)."""
        return getattr(self._calling, "team", None) or TEAM_ID

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        team = self._team()
        with self._lock:
            workspace = dict(self._workspaces.get(team, self._workspaces[TEAM_ID]))
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": workspace["name"],
            "user": "actionbot",
            "team_id": team,
            "user_id": workspace["bot_user_id"],
            "bot_id": workspace["bot_id"],
            "is_enterprise_install": False,
        }

    def _bots_info(self, params: dict[str, Any]) -> dict[str, Any]:
        bot_id = str(params.get("bot", ""))
        with self._lock:
            for team, workspace in self._workspaces.items():
                if workspace["bot_id"] == bot_id:
                    bot = {"id": bot_id, "app_id": APP_ID, "user_id": workspace["bot_user_id"]}
                    return {"ok": True, "bot": {**bot, "name": "actionbot", "team_id": team}}
        return {"ok": False, "error": "bot_not_found"}

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code from `install_code` (once) or a refresh token (once) for a
        new bot token of its workspace; anything else is refused as Slack refuses it."""
        basic = getattr(self._calling, "basic", "")
        given = base64.b64decode(basic).decode() if basic else ""
        with self._lock:
            expected = self._oauth_client
            if expected is not None and given != f"{expected[0]}:{expected[1]}":
                return {"ok": False, "error": "invalid_client_id"}
            if params.get("grant_type") == "refresh_token":
                team = self._refresh_tokens.pop(str(params.get("refresh_token", "")), None)
                if team is None:
                    return {"ok": False, "error": "invalid_refresh_token"}
                grant: dict[str, Any] = {"team": team, "user": None, "rotating": True}
            else:
                found = self._codes.pop(str(params.get("code", "")), None)
                if found is None:
                    return {"ok": False, "error": "invalid_code"}
                grant = found
            team = grant["team"]
            workspace = self._workspaces[team]
            serial = next(self._serial)
            token = f"xoxb-{team.lower()}-{serial}"
            if grant["rotating"]:
                token = f"xoxe.{token}"
            self._tokens[token] = team
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": APP_ID,
            "scope": ",".join(_BOT_SCOPES),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": workspace["bot_user_id"],
            "team": {"id": team, "name": workspace["name"]},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if grant["user"] is not None:
            answer["authed_user"] = {"id": grant["user"]}
        if grant["rotating"]:
            refresh = f"xoxe-1-refresh-{team.lower()}-{serial}"
            with self._lock:
                self._refresh_tokens[refresh] = team
            answer.update({"refresh_token": refresh, "expires_in": 43200})
        return answer

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            url = self._socket_url
        if url is None:  # what Slack says when Socket Mode is off for the app
            return {"ok": False, "error": "socket_mode_disabled"}
        return {"ok": True, "url": url()}

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "ts": ts,
            "team": TEAM_ID,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                message[key] = params[key]
        return message

    def _gone(self, channel: str) -> str | None:
        """Slack's error for a DM to a deactivated or removed user (by user or DM id), or to a
        user or channel of another workspace than the token's."""
        user_id = channel[1:] if channel.startswith("D") else channel
        team = self._team()
        with self._lock:
            if self._channel_team.get(channel, team) != team:
                return "channel_not_found"
            if self._user_team.get(user_id, team) != team:
                return "user_not_found"
            if user_id in self._removed:
                return "user_not_found"
            user = self._users.get(user_id)
            return "account_inactive" if user is not None and user.get("deleted") else None

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if (gone := self._gone(str(params["channel"]))) is not None:
            return {"ok": False, "error": gone}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._new_ts()
        return {
            "ok": True,
            "channel": _dm_key(str(params["channel"])),
            "ts": ts,
            "message": self._message(params, ts),
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._new_ts()}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("ts", ""))
        return {
            "ok": True,
            "channel": params.get("channel", ""),
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts),
        }

    def _delete(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel", ""), "ts": params.get("ts", "")}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            channel_id = str(params["channel"])
        else:
            users = params.get("users", "")
            if isinstance(users, list):
                users = ",".join(users)
            first = str(users).split(",")[0].strip()
            if not first:
                return {"ok": False, "error": "users_list_not_supplied"}
            channel_id = dm_channel_id(first)
            if (gone := self._gone(first)) is not None:
                return {"ok": False, "error": gone}
        return {"ok": True, "channel": {"id": channel_id, "is_im": channel_id.startswith("D")}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        with self._lock:
            user = self._users.get(user_id)
            elsewhere = self._user_team.get(user_id, self._team()) != self._team()
        if user is None or elsewhere:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": json.loads(json.dumps(user))}

    def _lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).strip().lower()
        with self._lock:
            for user in self._users.values():
                if user["team_id"] != self._team():
                    continue  # another organisation's member: not in this workspace
                if str(user["profile"].get("email", "")).lower() == email and email:
                    return {"ok": True, "user": json.loads(json.dumps(user))}
        return {"ok": False, "error": "users_not_found"}

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") or {}
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = {}
        view = dict(view)
        user_id = str(params.get("user_id", ""))
        with self._lock:
            home_id = self._homes[user_id]["id"] if user_id in self._homes else None
        view_id = str(params.get("view_id") or home_id or self._new_view_id())
        view.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "hash": f"{time.time():.6f}.fakehash",
                "state": {"values": {}},
                "root_view_id": view_id,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
            }
        )
        view.setdefault("private_metadata", "")
        view.setdefault("callback_id", "")
        if user_id:  # views.publish: one Home view per user, updated in place
            with self._lock:
                self._homes[user_id] = json.loads(json.dumps(view))
        return {"ok": True, "view": view}


def _files_info(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """files.info: a file's object; an unknown one is `file_not_found`, as Slack answers."""
    with fake._lock:
        found = fake._files.get(str(params.get("file", "")))
    if found is None:
        return {"ok": False, "error": "file_not_found"}
    return {"ok": True, "file": dict(found[0])}


def _file_download(fake: FakeSlack, path: str, headers: dict[str, str]) -> _Answer:
    """A file's url_private: its bytes for a bearer token; Slack's sign-in page (HTML, via a
    redirect) without one, so a download that forgot the token cannot pass for the file."""
    file_id = path.split("/")[2].split("-", 1)[-1] if path.count("/") >= 3 else ""
    with fake._lock:
        found = fake._files.get(file_id)
    if not headers.get("authorization", "").startswith("Bearer xox"):
        return _Answer(
            status=302,
            headers={"Location": f"https://{TEAM_DOMAIN}.slack.com/?redir={path}"},
            content_type="text/html",
            outcome="not_authed",
        )
    if found is None:
        return _Answer(status=404, body=b"not found", content_type="text/plain", outcome="404")
    return _Answer(body=found[1], content_type="application/octet-stream")


def _get_upload_url(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """files.getUploadURLExternal: a file id and a one-off upload URL (on loopback) for a file
    of the declared `length`; a missing name or length is `invalid_arguments`."""
    name = str(params.get("filename") or "")
    length = str(params.get("length") or "")
    if not name or not length.isdigit() or int(length) <= 0:
        return {"ok": False, "error": "invalid_arguments"}
    with fake._lock:
        file_id = f"F0UP{fake._next_file:05d}"
        fake._next_file += 1
        fake._pending_uploads[file_id] = {"name": name, "length": int(length), "content": None}
    return {"ok": True, "upload_url": f"{fake.base_url}/upload/v1/{file_id}", "file_id": file_id}


def _upload_bytes(fake: FakeSlack, path: str, body: bytes) -> _Answer:
    """POST to an upload URL: the bytes kept when their length is the one declared; an unknown
    URL is 404 and a wrong length 400, as Slack's upload host answers."""
    file_id = path.rsplit("/", 1)[-1]
    with fake._lock:
        pending = fake._pending_uploads.get(file_id)
        if pending is None or pending["content"] is not None:
            return _Answer(status=404, body=b"not found", content_type="text/plain", outcome="404")
        if len(body) != pending["length"]:
            return _Answer(
                status=400, body=b"length mismatch", content_type="text/plain", outcome="400"
            )
        pending["content"] = body
    return _Answer(body=f"OK - {len(body)}".encode(), content_type="text/plain")


def _complete_upload(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """files.completeUploadExternal: shares the uploaded files in `channel_id` with the
    comment; an unknown or never uploaded file is refused (`file_not_found`), and so is a
    channel the bot is not in (`not_in_channel`)."""
    try:
        files = json.loads(str(params.get("files") or ""))
    except ValueError:
        return {"ok": False, "error": "invalid_arguments"}
    if not isinstance(files, list) or not files:
        return {"ok": False, "error": "invalid_arguments"}
    channel = str(params.get("channel_id") or "")
    with fake._lock:
        if channel and channel in fake._not_member:
            return {"ok": False, "error": "not_in_channel"}
        found = []
        for item in files:
            pending = fake._pending_uploads.get(str(item.get("id", "")))
            if pending is None or pending["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            found.append((str(item["id"]), pending, item.get("title")))
        shared = []
        for file_id, pending, title in found:
            del fake._pending_uploads[file_id]
            upload = {
                "id": file_id,
                "name": pending["name"],
                "title": title or pending["name"],
                "content": pending["content"],
                "channel": channel or None,
                "initial_comment": params.get("initial_comment"),
            }
            fake._shared_uploads.append(upload)
            shared.append({"id": file_id, "title": upload["title"]})
    return {"ok": True, "files": shared}


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "files.info": _files_info,
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
    "apps.connections.open": FakeSlack._connections_open,
    "auth.test": FakeSlack._auth_test,
    "bots.info": FakeSlack._bots_info,
    "oauth.v2.access": FakeSlack._oauth_v2_access,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "conversations.open": FakeSlack._conversations_open,
    "users.info": FakeSlack._users_info,
    "users.lookupByEmail": FakeSlack._lookup_by_email,
    "views.open": FakeSlack._view,
    "views.publish": FakeSlack._view,
    "views.update": FakeSlack._view,
    "views.push": FakeSlack._view,
}


def _valid_blocks(blocks: object) -> bool:
    """Whether slack_sdk's Block Kit models read `blocks` and write them back unchanged."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return False
    try:
        return [b.to_dict() for b in Block.parse_all(blocks)] == blocks
    except (SlackObjectFormationError, ValueError, TypeError, KeyError):
        return False


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query-string and body parameters (JSON or form-encoded)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = {"_raw": text}
        if isinstance(data, dict):
            params.update(data)
        else:
            params["_json"] = data
        return params
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in _JSON_FORM_FIELDS:
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    return params


class _Handler(BaseHTTPRequestHandler):
    """Request handler; ``owner`` is bound to a FakeSlack by a subclass in ``start()``."""

    owner: FakeSlack
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet in test output."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        if path.startswith("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/files-pri/"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = _file_download(self.owner, path, headers)
            self.owner._record(
                Call("files-pri", {}, headers, answer.outcome, path, None, time.monotonic())
            )
            self._send(answer)
            return
        elif path.startswith("/upload/v1/"):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = _upload_bytes(self.owner, path, raw)
            self.owner._record(
                Call(
                    "upload",
                    {"bytes": len(raw)},
                    headers,
                    answer.outcome,
                    path,
                    None,
                    time.monotonic(),
                )
            )
            self._send(answer)
            return
        elif path.startswith("/response/"):
            method = "response_url"
        else:
            self._send(_Answer(status=404, body=b"not found", content_type="text/plain"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = _parse_params(split.query, body, self.headers.get("Content-Type", ""))
        headers = {k.lower(): v for k, v in self.headers.items()}

        received = time.monotonic()
        auth = headers.get("authorization", "")
        token = (
            auth[len("Bearer ") :] if auth.startswith("Bearer ") else str(params.get("token", ""))
        )
        team = self.owner.token_team(token) if token else None
        self.owner._calling.team = team
        self.owner._calling.token = token
        self.owner._calling.basic = auth[len("Basic ") :] if auth.startswith("Basic ") else ""
        answer = self.owner._answer(method, params)
        # Recorded on receipt: a slow answer still means Slack acted on the request.
        self.owner._record(
            Call(method, params, headers, answer.outcome, path, answer.payload, received, team)
        )
        if answer.delay:
            time.sleep(answer.delay)
        if answer.reset:
            self._reset()
            return
        with contextlib.suppress(OSError):  # the client gave up (e.g. timed out in a delay)
            self._send(answer)

    def _send(self, answer: _Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Abort the connection with a TCP RST and no HTTP answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

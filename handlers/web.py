"""The HTTP app of `actionbot serve`: one Starlette app, its routes and their Slack check.

Routes: POST /slack/events (Slack's commands, interactivity and events), GET /healthz, the
board pack's link (GET /packs/<token>…, handlers/pack_web.py), GET /slack/install and
/slack/oauth_redirect when the Slack app can be installed in many workspaces (Bolt's OAuth
flow), and POST /api/messages when a Teams endpoint is given. Bolt's App is synchronous like
our core, so each Slack request is dispatched in a worker thread and the event loop never
blocks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.services.context import Core
from handlers.http_body import read_body
from handlers.pack_web import pack_routes
from storage.db import transaction

if TYPE_CHECKING:
    from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)

#: Slack's own rule: a request more than five minutes old may be a replay.
SIGNATURE_MAX_AGE = 5 * 60

Endpoint = Callable[[Request], Awaitable[Response]]


def create_web_app(
    core: Core,
    *,
    slack: SlackBot | None = None,
    teams: Endpoint | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The HTTP app: Slack when `slack` is given, Teams when `teams` is, /healthz always."""

    async def healthz(request: Request) -> Response:
        ok = await run_in_threadpool(_database_ok, core)
        if ok:
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": False, "error": "database unavailable"}, status_code=503)

    app_routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if slack is not None:
        app_routes.append(Route("/slack/events", _slack_endpoint(slack), methods=["POST"]))
        app_routes.extend(_install_routes(slack))
    if teams is not None:
        app_routes.append(Route("/api/messages", teams, methods=["POST"]))
        # Load balancers and Azure's probes knock on the bot's endpoint itself.
        app_routes.append(Route("/api/messages", healthz, methods=["GET"]))
    # A board pack's link (bot/pack/links.py): its HTML view and files, for whoever holds it.
    app_routes.extend(pack_routes(core))
    app_routes.extend(routes)
    return Starlette(routes=app_routes)


def _database_ok(core: Core) -> bool:
    try:
        with transaction(core.sessions) as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unavailable: %s", exc)
        return False
    return True


def _slack_endpoint(slack: SlackBot) -> Endpoint:
    from slack_bolt import BoltRequest
    from slack_bolt.adapter.starlette.handler import to_starlette_response

    if not slack.signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed to receive Slack over HTTP")
    secret = slack.signing_secret.encode("utf-8")

    async def slack_events(request: Request) -> Response:
        body = await read_body(request)
        if body is None:
            return JSONResponse({"error": "request too large"}, status_code=413)
        headers = {name: value for name, value in request.headers.items()}
        # Checked here, before Bolt or any listener sees the request (Bolt checks again):
        # HMAC-SHA256 of v0:timestamp:body with the signing secret, and a timestamp within
        # five minutes so a captured request cannot be replayed.
        # https://api.slack.com/authentication/verifying-requests-from-slack
        if not signed_by_slack(secret, body, headers, now=time.time()):
            log.warning("refused a Slack request with a bad signature or an old timestamp")
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        text = _well_formed(body, headers.get("content-type", ""))
        if text is None:
            # Signed, so from Slack or someone holding the secret: not worth a traceback.
            log.warning("refused a signed Slack request whose body is malformed")
            return JSONResponse({"error": "malformed request"}, status_code=400)
        bolt_request = BoltRequest(
            body=text,
            query=dict(request.query_params),
            headers=dict[str, str | Sequence[str]](headers),
        )
        bolt_response = await run_in_threadpool(slack.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    return slack_events


def _install_routes(slack: SlackBot) -> list[BaseRoute]:
    """GET /slack/install (the "Add to Slack" page) and the redirect Slack sends the installer
    back to, both Bolt's OAuth flow; none when the install flow is off."""
    flow = slack.app.oauth_flow
    if flow is None:
        return []
    from slack_bolt import BoltRequest
    from slack_bolt.adapter.starlette.handler import to_starlette_response

    def bolt_request(request: Request) -> BoltRequest:
        # GET requests: no body; the state cookie and query carry the flow.
        headers = {name: value for name, value in request.headers.items()}
        return BoltRequest(
            body="",
            query=dict(request.query_params),
            headers=dict[str, str | Sequence[str]](headers),
        )

    async def install(request: Request) -> Response:
        answer = await run_in_threadpool(flow.handle_installation, bolt_request(request))
        return to_starlette_response(answer)

    async def redirected(request: Request) -> Response:
        answer = await run_in_threadpool(flow.handle_callback, bolt_request(request))
        return to_starlette_response(answer)

    return [
        Route(flow.install_path, install, methods=["GET"]),
        Route(flow.redirect_uri_path, redirected, methods=["GET"]),
    ]


def signed_by_slack(secret: bytes, body: bytes, headers: dict[str, str], *, now: float) -> bool:
    """True when the body carries Slack's signature and a timestamp within five minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    # Over the bytes as sent: a body that is not UTF-8 is still signed (or not) as it came.
    basestring = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, basestring, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _well_formed(body: bytes, content_type: str) -> str | None:
    """The body as text when it is what Slack sends (a JSON object, or a form whose payload is
    one); None otherwise."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if content_type.startswith("application/json"):
        return decoded if _json_object(decoded) else None
    try:
        fields = parse_qs(decoded, keep_blank_values=True, strict_parsing=bool(decoded))
    except ValueError:
        return None
    payloads = fields.get("payload")
    if payloads is not None and (len(payloads) != 1 or not _json_object(payloads[0])):
        return None
    return decoded


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False

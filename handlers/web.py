"""The HTTP app of `actionbot serve`: one Starlette app, its routes and their Slack check.

Routes: POST /slack/events (Slack's commands, interactivity and events), GET /healthz, and
POST /api/messages when a Teams endpoint is given. Bolt's App is synchronous like our core, so
each Slack request is dispatched in a worker thread and the event loop never blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.services.context import Core
from handlers.http_body import read_body
from storage.db import transaction

if TYPE_CHECKING:
    from slack_sdk.signature import SignatureVerifier

    from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)

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
    if teams is not None:
        app_routes.append(Route("/api/messages", teams, methods=["POST"]))
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
    from slack_sdk.signature import SignatureVerifier

    if not slack.signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed to receive Slack over HTTP")
    verifier = SignatureVerifier(slack.signing_secret)

    async def slack_events(request: Request) -> Response:
        body = await read_body(request)
        if body is None:
            return JSONResponse({"error": "request too large"}, status_code=413)
        headers = {name: value for name, value in request.headers.items()}
        # Checked here, before Bolt or any listener sees the request (Bolt checks again):
        # HMAC-SHA256 of v0:timestamp:body with the signing secret, and a timestamp within
        # five minutes so a captured request cannot be replayed.
        # https://api.slack.com/authentication/verifying-requests-from-slack
        if not _signed_by_slack(verifier, body, headers):
            log.warning("refused a Slack request with a bad signature or an old timestamp")
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        bolt_request = BoltRequest(
            body=body.decode("utf-8"),
            query=dict(request.query_params),
            headers=dict[str, str | Sequence[str]](headers),
        )
        bolt_response = await run_in_threadpool(slack.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    return slack_events


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    try:
        return verifier.is_valid_request(body, headers)
    except ValueError:  # a timestamp that is not a number
        return False

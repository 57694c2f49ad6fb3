"""`actionbot serve`: one ASGI app (Starlette) under uvicorn.

Routes: POST /slack/events (Slack's commands, interactivity and events), GET /healthz, and
POST /api/messages when a Teams endpoint is given. Bolt's App is synchronous like our core, so
each Slack request is dispatched in a worker thread and the event loop never blocks.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.services.context import Core
from storage.db import transaction

if TYPE_CHECKING:
    from slack_sdk.signature import SignatureVerifier

    from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)

#: Slack's payloads are a few kilobytes; anything far larger is not Slack.
MAX_BODY = 1024 * 1024

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
        body = await _read_body(request)
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


async def _read_body(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(settings: Settings) -> Starlette | None:
    """The whole HTTP app from settings; None (with the reason logged) if Slack refuses to start."""
    from bot.compose import build_core

    core = build_core(settings)
    slack = None
    if settings.slack_enabled:
        from slack_bolt.error import BoltError

        from handlers.slack.app import build_slack

        try:
            slack = build_slack(core, settings)
        except BoltError as exc:  # auth.test refused the token, or Slack is unreachable
            log.error("Slack would not start: %s", exc)
            return None
    else:
        log.warning("Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on")
    from handlers.teams.app import build_teams

    # Always mounted: without TEAMS_APP_ID/TEAMS_APP_PASSWORD it answers 401 (issue #5).
    teams = build_teams(core, settings).handle
    return create_web_app(core, slack=slack, teams=teams)


def app_from_environment() -> Starlette:
    """The app factory each uvicorn worker process calls when WEB_CONCURRENCY > 1."""
    app = build_app(Settings())
    if app is None:
        raise SystemExit(1)
    return app


def serve(settings: Settings) -> int:
    """Run the HTTP server on HOST:PORT (default 0.0.0.0:3000) until SIGINT/SIGTERM."""
    import uvicorn

    # Built here even with several workers, so a refused token stops `serve` at once instead
    # of leaving the supervisor restarting workers that cannot start.
    app = build_app(settings)
    if app is None:
        return 1
    log.info(
        "Serving on %s:%s with %s process(es)",
        settings.host,
        settings.port,
        settings.web_concurrency,
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": True,
        "timeout_graceful_shutdown": 10,
    }
    if settings.web_concurrency > 1:
        # One process per core: the core is CPU-bound Python, and a process has one GIL.
        # The workers share a socket we bind, with TCP_NODELAY set on it: the connections
        # they accept inherit it, whereas uvicorn's own shared socket stalls every keep-alive
        # response ~40 ms on delayed ACKs (bench/RESULTS.md).
        options.pop("host")
        options.pop("port")
        listener = listening_socket(settings.host, settings.port)
        uvicorn.run(
            "handlers.web:app_from_environment",
            factory=True,
            workers=settings.web_concurrency,
            fd=listener.fileno(),
            **options,
        )
    else:
        uvicorn.run(app, **options)
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket with TCP_NODELAY, inheritable by worker processes."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock

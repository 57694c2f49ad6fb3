"""`actionbot serve`: compose the process, mount Slack and Teams, run uvicorn.

With WEB_CONCURRENCY > 1 each uvicorn worker process calls `app_from_environment`, so each
process is composed once, with its own engine, senders and pacers.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from bot.boards.registry import tie_untied_boards
from bot.config import Settings
from handlers.web import create_web_app
from wiring.root import Process, compose

if TYPE_CHECKING:
    from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)


def build_app(settings: Settings, process: Process | None = None) -> Starlette | None:
    """The whole HTTP app; None (with the reason logged) if Slack refuses to start."""
    from handlers.teams.app import build_teams, refuse

    if settings.slack_install_enabled:
        from handlers.slack.install import install_problem

        if (problem := install_problem(settings)) is not None:
            log.error("Slack would not start: %s", problem)
            return None
    process = process or compose(settings)
    core = process.core
    slack_bot = None
    if settings.slack_enabled and process.slack is not None:
        from slack_bolt.error import BoltError

        try:
            slack_bot = build_slack_bot(process)
        except BoltError as exc:  # auth.test refused the token, or Slack is unreachable
            log.error("Slack would not start: %s", exc)
            return None
    else:
        log.warning("Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on")
    if process.teams is not None:
        teams = build_teams(
            core, settings, connector=process.teams.connector, senders=process.senders
        ).handle
    else:
        # Mounted all the same, so a misconfigured Teams registration gets a clear 401.
        log.info("Teams is off (no TEAMS_APP_ID/TEAMS_APP_PASSWORD): /api/messages answers 401")
        teams = refuse
    return create_web_app(core, slack=slack_bot, teams=teams)


def build_slack_bot(process: Process) -> SlackBot:
    """The Bolt app on the process's core, Slack client, directory and senders."""
    from handlers.slack.app import build_slack

    if process.slack is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    settings = process.core.settings
    workspaces = process.slack.workspaces
    if workspaces is not None and settings.slack_bot_token is not None:
        from slack_bolt.error import BoltError
        from slack_sdk.errors import SlackApiError

        # The workspace SLACK_BOT_TOKEN served before the install flow was turned on is
        # installed already: nobody there needs to add the app again.
        try:
            team = workspaces.install_from_token(settings.slack_bot_token.get_secret_value())
        except SlackApiError as exc:
            raise BoltError(f"SLACK_BOT_TOKEN was refused: {exc.response.get('error')}") from exc
        # Its boards tied to none were that workspace's: they stay its own, unseen elsewhere.
        tie_untied_boards(process.core.sessions, process.core.boards, slack_team_id=team)
    return build_slack(
        process.core,
        settings,
        client=process.slack.client,
        directory=process.slack.directory,
        senders=process.senders,
        workspaces=workspaces,
    )


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
            "wiring.serve:app_from_environment",
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


def run_socket(settings: Settings) -> int:
    """`actionbot socket`: the same Slack app over Socket Mode; 2 when a token is missing."""
    from handlers.slack.socket import run_socket_mode
    from scheduler.worker import stop_on_signals

    if settings.slack_bot_token is None or settings.slack_app_token is None:
        log.error("Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…).")
        return 2
    # Before anything connects: a SIGTERM from a supervisor then always ends in a clean exit 0
    # once the requests in hand are answered, never in a kill halfway through one.
    stop = stop_on_signals()
    process = compose(settings)
    try:
        bot = build_slack_bot(process)
        return run_socket_mode(bot, settings.slack_app_token.get_secret_value(), stop=stop)
    finally:
        process.close()

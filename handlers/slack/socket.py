"""`actionbot socket`: the same Bolt app over Socket Mode, for running without a public URL.

https://api.slack.com/apis/socket-mode — Slack opens a WebSocket to us with the app-level
token (`xapp-…`, scope `connections:write`); requests arrive unsigned over that socket.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings

log = logging.getLogger(__name__)


def run_socket_mode(settings: Settings) -> int:
    """Connect to Slack over Socket Mode and serve until interrupted; 2 on missing settings."""
    from bot.compose import build_core
    from handlers.slack.app import build_slack

    if settings.slack_bot_token is None or settings.slack_app_token is None:
        log.error("Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…).")
        return 2
    core = build_core(settings)
    bot = build_slack(core, settings)
    handler = SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value())
    log.info("Connecting to Slack over Socket Mode")
    try:
        handler.start()  # type: ignore[no-untyped-call]  # blocks until the process is stopped
    except KeyboardInterrupt:
        log.info("Socket Mode stopped")
    finally:
        handler.close()  # type: ignore[no-untyped-call]
    return 0

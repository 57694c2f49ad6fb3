"""`actionbot socket`: the same Bolt app over Socket Mode, for running without a public URL.

https://api.slack.com/apis/socket-mode — Slack opens a WebSocket to us with the app-level
token (`xapp-…`, scope `connections:write`); requests arrive unsigned over that socket.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from handlers.slack.app import SlackBot

log = logging.getLogger(__name__)


def run_socket_mode(bot: SlackBot, app_token: str) -> int:
    """Connect to Slack over Socket Mode with the app-level token; serve until interrupted."""
    handler = SocketModeHandler(bot.app, app_token)
    log.info("Connecting to Slack over Socket Mode")
    try:
        handler.start()  # type: ignore[no-untyped-call]  # blocks until the process is stopped
    except KeyboardInterrupt:
        log.info("Socket Mode stopped")
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        bot.close()
    return 0

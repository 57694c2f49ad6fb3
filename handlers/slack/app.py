"""The Bolt app: built once from the core, listeners registered per group, one error handler."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.config import Settings
from bot.outbox.sender import Sender
from bot.render import replies
from bot.services.context import Core
from handlers.slack import rounds, signoff
from handlers.slack.deps import ContextExecutor, SlackDeps, kind_of, request_middleware
from handlers.slack.directory import SlackDirectory
from handlers.slack.interact import failed

if TYPE_CHECKING:
    from handlers.slack.install import Workspaces

log = logging.getLogger(__name__)


@dataclass
class SlackBot:
    """The Bolt app with what the HTTP route needs to check requests before Bolt sees them."""

    app: App
    deps: SlackDeps
    signing_secret: str | None
    listener_executor: ThreadPoolExecutor

    def close(self) -> None:
        """Wait for listeners still working after their ack, then release their threads."""
        self.listener_executor.shutdown(wait=True)
        self.deps.executor.shutdown(wait=True)


def build_slack(
    core: Core,
    settings: Settings,
    *,
    client: WebClient,
    directory: SlackDirectory,
    senders: Sequence[Sender],
    workspaces: Workspaces | None = None,
) -> SlackBot:
    """The Slack app on `core`, with every listener group and the one error handler; with
    `workspaces`, Bolt's OAuth flow installs it in many workspaces (handlers/slack/install.py)."""
    from handlers.slack import buttons, date_requests, events, slash_commands, submissions

    deps = SlackDeps(
        core=core, client=client, directory=directory, senders=senders, workspaces=workspaces
    )
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    # Copies the request's context into the listener's thread: its workspace's token.
    listeners = ContextExecutor(max_workers=16, thread_name_prefix="slack-listener")
    oauth: dict[str, Any] = {}
    if workspaces is not None:
        from handlers.slack.client import build_web_client

        # Bolt's own client for the OAuth flow, without SLACK_BOT_TOKEN: each request's
        # token comes from its workspace's installation.
        oauth = {
            "oauth_settings": workspaces.oauth_settings(),
            "client": build_web_client(None, base_url=client.base_url),
        }
    app = App(
        **({"client": client} | oauth),
        signing_secret=secret or "",
        # Without a signing secret only Socket Mode can run; it does not sign requests.
        request_verification_enabled=secret is not None,
        # auth.test at start: a wrong token fails `serve` at once, not at the first command.
        token_verification_enabled=workspaces is None,
        # Listeners run in the request's thread and their ack is the HTTP response at once;
        # Bolt's default polls for the ack every 10 ms from another thread, which set an
        # 11 ms floor under every command and cost CPU under load (bench/RESULTS.md). Work
        # after an ack goes to our executor (interact.after_ack), never holding the response.
        process_before_response=True,
        listener_executor=listeners,
        logger=logging.getLogger("slack_bolt"),
    )
    app.use(request_middleware)
    slash_commands.register(app, deps)
    buttons.register(app, deps)
    submissions.register(app, deps)
    date_requests.register(app, deps)
    signoff.register(app, deps)
    rounds.register(app, deps)
    events.register(app, deps)
    app.error(_error_handler(deps))
    return SlackBot(app=app, deps=deps, signing_secret=secret, listener_executor=listeners)


def _error_handler(deps: SlackDeps) -> Any:
    """app.error: an exception a listener raised is logged and the user told kindly."""
    sorry = replies.sorry()

    def handle_error(
        error: Exception, body: dict[str, Any], request: BoltRequest, response: BoltResponse | None
    ) -> BoltResponse | None:
        given = request.context.ack.response if request.context.ack else None
        if response is None or given is not None:  # already acknowledged
            failed(deps, error, body)
            # With process_before_response the runner would answer 500 in place of the ack.
            return given if response is not None else None
        log.error("Slack %s failed: %s", kind_of(body), error, exc_info=error)
        # Not acknowledged yet: the apology is the acknowledgement itself.
        if body.get("type") == "view_submission":
            from handlers.slack.blocks import notice_modal

            view = notice_modal(sorry, title="Something went wrong")
            return BoltResponse(status=200, body={"response_action": "update", "view": view})
        if "command" in body:
            return BoltResponse(status=200, body=deps.reply(sorry))
        if body.get("type") == "event_callback":
            # Acknowledged all the same, as Bolt acknowledges events before they run: Slack
            # would otherwise send the event again.
            return BoltResponse(status=200, body="")
        return None

    return handle_error

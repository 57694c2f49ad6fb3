"""Events: the App Home tab is drawn each time someone opens it; a message someone writes in
their DM with the bot is read as a reply to the reminder it answers; with many workspaces,
an uninstall or a revocation removes that workspace's tokens and stops its deliveries.

https://api.slack.com/events/app_home_opened · https://api.slack.com/events/message.im
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.domain import Platform
from bot.outbox.delivery import deliver_queued
from bot.render.model import Message, Paragraph
from bot.services.reminder_replies import RepliedTo, answer_reply
from handlers.slack.deps import SlackDeps
from handlers.slack.interact import after_ack, publish_home
from handlers.slack.slash_commands import command_text

if TYPE_CHECKING:
    from handlers.slack.install import Workspaces

log = logging.getLogger(__name__)

#: The answer to words in the DM that answer no reminder.
NOT_A_REPLY = (
    "I read replies to my reminders here: answer one (in its thread, or just after it) with "
    "`done`, `blocked <reason>`, `red`, `amber`, `green` or a few words of progress. "
    "Everything else is a command: `/action help`."
)


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for app_home_opened and message.im: acknowledged at once, their work done
    after the acknowledgement."""

    @app.event("app_home_opened")
    def home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        # The event also fires for the Messages tab, which has nothing to draw.
        if event.get("tab", "home") != "home":
            return
        user = str(event["user"])
        after_ack(deps, body, lambda: publish_home(deps, deps.caller(user)))

    @app.event("message")
    def message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Only what a person wrote in their DM: not the bot's own posts, not edits, deletions
        # or joins (they have a subtype), nothing from a channel.
        if (
            event.get("channel_type") != "im"
            or event.get("bot_id")
            or event.get("subtype")
            or not event.get("user")
            or not event.get("channel")
        ):
            return
        after_ack(deps, body, lambda: answer_dm(deps, event))

    if deps.workspaces is not None:
        register_uninstall(app, deps, deps.workspaces)


def register_uninstall(app: App, deps: SlackDeps, workspaces: Workspaces) -> None:
    """app_uninstalled and tokens_revoked: the workspace's tokens are removed (Bolt's own
    handling, on our installation store) and its boards' undelivered messages stopped, each
    kept with the reason.

    https://api.slack.com/events/app_uninstalled · https://api.slack.com/events/tokens_revoked
    """
    from slack_bolt.listener.builtins import TokenRevocationListeners

    revocation = TokenRevocationListeners(workspaces.store)

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        revocation.handle_app_uninstalled_events(context)
        _stopped(workspaces, context.team_id, "the Slack app was uninstalled from")

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        revocation.handle_tokens_revoked_events(event, context)
        if event.get("tokens", {}).get("bot"):
            _stopped(workspaces, context.team_id, "the Slack app's tokens were revoked in")


def _stopped(workspaces: Workspaces, team_id: str | None, why: str) -> None:
    from handlers.slack.install import stop_deliveries

    if team_id is None:
        return
    workspaces.forget(team_id)
    stopped = stop_deliveries(workspaces.engine, team_id, f"not sent: {why} workspace {team_id}")
    log.warning("%s %s: %d undelivered message(s) stopped", why, team_id, stopped)


def answer_dm(deps: SlackDeps, event: dict[str, Any]) -> None:
    """Record a reply to a reminder and answer it where it was written (its thread, if any)."""
    text = command_text(str(event.get("text") or ""))
    if not text:
        return
    channel = str(event["channel"])
    thread = str(event["thread_ts"]) if event.get("thread_ts") else None
    caller = deps.caller(str(event["user"]))
    outcome = answer_reply(deps.core, caller, text, RepliedTo(Platform.SLACK, channel, thread))
    if outcome is None:
        reply = Message(text=NOT_A_REPLY, blocks=[Paragraph(text=NOT_A_REPLY)], ephemeral=False)
        _post(deps, channel, thread, reply)
        return
    _post(deps, channel, thread, outcome.message)
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
    if outcome.message.tone != "error":
        publish_home(deps, caller)


def _post(deps: SlackDeps, channel: str, thread: str | None, message: Message) -> None:
    rendered = deps.render(message)
    try:
        deps.client.chat_postMessage(
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
            unfurl_media=False,
            thread_ts=thread,
        )
    except SlackApiError as exc:
        # The reply itself is recorded; only the answer is lost, and the history shows it.
        log.warning("could not answer a reply in %s: %s", channel, exc.response.get("error"))

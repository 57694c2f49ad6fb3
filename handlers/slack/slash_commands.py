"""Slash commands: /action, /status and /board, answered privately within Slack's 3 seconds.

The core is one short transaction, so the reply normally travels in the acknowledgement itself
(one HTTP round trip, no response_url needed). If it has not answered by ACK_DEADLINE we
acknowledge with "Working on it…" and send the reply through response_url when it comes.
Notifications the command queued are sent after the acknowledgement, on our executor: Bolt
runs the listener in the request's thread (process_before_response), so nothing after the ack
may hold the HTTP response.
https://api.slack.com/interactivity/slash-commands#responding_to_commands
"""

from __future__ import annotations

import re
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.outbox.delivery import deliver_queued
from bot.render.inline import link_text
from bot.render.model import Message, Paragraph
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from handlers.slack.blocks import unescape
from handlers.slack.deps import SlackDeps
from handlers.slack.forms import add_form
from handlers.slack.interact import after_ack, post_response

# With "Escape channels, users, and links" on (should_escape in the manifest), Slack sends
# `<@U123|name>` for mentions, `<#C123|board>` for channels, `<!here>` for special mentions,
# `<https://…|label>` for links and `<mailto:a@b.org|a@b.org>` for typed emails; a `<`, `>` or
# `&` the user typed arrives as `&lt;`, `&gt;`, `&amp;`.
# https://api.slack.com/interactivity/slash-commands#creating_commands
# https://api.slack.com/reference/surfaces/formatting#retrieving-messages
_MARKUP = re.compile(r"<([^<>]*)>")

WORKING = "Working on it…"


def register(app: App, deps: SlackDeps) -> None:
    """Listeners for /action, /status and /board."""

    @app.command("/action")
    def action_command(ack: Ack, command: dict[str, Any]) -> None:
        handle(deps, ack, command, "/action")

    @app.command("/status")
    def status_command(ack: Ack, command: dict[str, Any]) -> None:
        handle(deps, ack, command, "/status")

    @app.command("/board")
    def board_command(ack: Ack, command: dict[str, Any]) -> None:
        handle(deps, ack, command, "/board")


def command_text(text: str) -> str:
    """The command's words in the core's neutral form (bot/render/inline.py), escaping undone.

    A link is its URL (`label (URL)` when it had its own label), an email the address, a
    channel `#name`. Mentions stay as they are: the grammar reads owners from `<@U…|name>`
    (and never takes `<!here>` for one), and the core stores a reference to the person, and
    the words `@here`, in titles and notes.
    """
    parts: list[str] = []
    at = 0
    for match in _MARKUP.finditer(text):
        parts += [unescape(text[at : match.start()]), _neutral(match.group(1))]
        at = match.end()
    parts.append(unescape(text[at:]))
    return "".join(parts).strip()


def _neutral(markup: str) -> str:
    """One piece of Slack markup (what was inside `<…>`) in the neutral form."""
    target, _, label = (unescape(part) for part in markup.partition("|"))
    if target.startswith(("@", "!")):
        return f"<{target}|{label}>" if label else f"<{target}>"
    if target.startswith("#"):
        return "#" + (label.lstrip("#") or target[1:])
    return link_text(target, label)


def handle(deps: SlackDeps, ack: Ack, command: dict[str, Any], name: str) -> None:
    """Run one slash command and answer it; see the module docstring for the timing."""
    user_id = str(command["user_id"])
    text = command_text(str(command.get("text") or ""))

    def work() -> Outcome:
        caller = deps.caller(user_id, command.get("user_name"))
        return run_command(deps.core, caller, name, text)

    future = deps.executor.submit(work)
    try:
        outcome = future.result(timeout=deps.ack_deadline)
    except FutureTimeout:
        ack(text=WORKING, response_type="ephemeral")

        def finish() -> None:
            late = future.result()
            _answer_late(deps, command, late)
            deliver_queued(deps.core, deps.senders, late.outbox_ids)

        after_ack(deps, command, finish)
        return
    if outcome.open_form == "add":
        ack()
        after_ack(deps, command, lambda: _open_add_form(deps, command))
        return
    ack(**deps.reply(outcome.message))
    if outcome.outbox_ids:  # most commands queue nothing: no thread hop for them
        after_ack(
            deps, command, lambda: deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
        )


def _open_add_form(deps: SlackDeps, command: dict[str, Any]) -> bool:
    """Open the add form; False (and a note to the user) if Slack's trigger has expired."""
    try:
        deps.client.views_open(trigger_id=command["trigger_id"], view=add_form())
    except SlackApiError as exc:
        # trigger_id lives 3 seconds (https://api.slack.com/interactivity/handling#modal_responses)
        if exc.response.get("error") != "expired_trigger_id":
            raise
        url = command.get("response_url")
        if url:
            text = "The form took too long to open; please type /action add again."
            message = Message(text=text, blocks=[Paragraph(text=text)], tone="warning")
            post_response(str(url), {**deps.reply(message), "replace_original": True})
        return False
    return True


def _answer_late(deps: SlackDeps, command: dict[str, Any], outcome: Outcome) -> None:
    url = str(command.get("response_url") or "")
    if outcome.open_form == "add":
        if _open_add_form(deps, command) and url:
            post_response(url, {"delete_original": True})  # the "Working on it…" line
        return
    if url:  # Slack sends one with every command
        post_response(url, {**deps.reply(outcome.message), "replace_original": True})

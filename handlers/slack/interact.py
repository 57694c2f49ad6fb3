"""What happens after someone changes an action from a button or a form: show the new state
where they pressed (message updated in place, home tab republished), tell them the outcome,
and send the notifications the change queued."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.domain import Platform
from bot.errors import CommandError
from bot.grammar.commands import Paged
from bot.outbox.delivery import deliver_queued
from bot.outbox.retract import drawn
from bot.outbox.sent import find_sent, with_action
from bot.render import replies
from bot.render.model import ActionDetail, ActionView, Buttons, Message
from bot.services.context import Caller
from bot.services.dispatch import execute
from bot.services.home import home_message
from bot.services.request import Outcome
from handlers.slack.blocks import home_view, notice_modal
from handlers.slack.deps import SlackDeps, kind_of

log = logging.getLogger(__name__)

_T = TypeVar("_T")

OriginKind = Literal["message", "ephemeral", "home", "none"]


@dataclass(frozen=True)
class Origin:
    """Where a button was pressed: a message (channel + ts), an ephemeral reply, the home tab.

    Carried through a modal in its private_metadata, so the form's submission can update the
    message the button was on.
    """

    kind: OriginKind = "none"
    channel: str | None = None
    ts: str | None = None
    response_url: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Origin:
        """The origin of a block_actions payload."""
        container = body.get("container") or {}
        url = body.get("response_url") or None
        if container.get("type") == "message":
            channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
            ts = container.get("message_ts")
            # Ephemeral messages cannot be edited with chat.update, only via response_url.
            kind: OriginKind = "ephemeral" if container.get("is_ephemeral") else "message"
            return cls(kind, channel, ts, url)
        if container.get("type") == "view" and (body.get("view") or {}).get("type") == "home":
            return cls("home")
        return cls("none", response_url=url)

    def to_dict(self) -> dict[str, str]:
        """Compact form for a modal's private_metadata (3000 characters at most)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Origin:
        """The origin stored by `to_dict`."""
        kind = data.get("kind")
        if kind not in ("message", "ephemeral", "home"):
            return cls()
        return cls(kind, data.get("channel"), data.get("ts"), data.get("response_url"))


def action_of(message: Message) -> ActionView | None:
    """The action a reply is about (the one shown in full), if any."""
    for block in message.blocks:
        if isinstance(block, ActionDetail):
            return block.action
    return None


def after_change(
    deps: SlackDeps,
    caller: Caller,
    origin: Origin,
    outcome: Outcome,
    *,
    trigger_id: str | None = None,
    listed: Paged | None = None,
) -> None:
    """Show the outcome of a button or form where it came from, then send what it queued.

    A press inside a list (`listed`, the command that showed it) shows that list again, the
    pressed item as it now stands, under the outcome's first line.
    """
    message = outcome.message
    view = action_of(message)
    if message.tone == "error" or view is None:
        tell(deps, origin, message, trigger_id=trigger_id)
        return
    shown = _list_again(deps, caller, listed, message) if listed is not None else None
    if shown is not None and origin.kind in ("message", "ephemeral"):
        show_in_place(deps, origin, shown)
    elif origin.kind == "message" and origin.channel and origin.ts:
        update_message(deps, origin.channel, origin.ts, view, fallback=message)
        tell(deps, origin, _summary_only(message))
    elif origin.kind == "ephemeral" and origin.response_url:
        # The reply to a command: replace it with the outcome, buttons kept while still open.
        post_response(
            origin.response_url, {**deps.reply(_with_buttons(message)), "replace_original": True}
        )
    deliver_queued(deps.core, deps.senders, outcome.outbox_ids)
    publish_home(deps, caller)


def _list_again(
    deps: SlackDeps, caller: Caller, listed: Paged, outcome: Message
) -> Message | None:
    """The list `listed` shows, run again now, under the outcome's first line."""
    again = execute(deps.core, caller, listed).message
    if again.tone == "error":
        return None
    return again.model_copy(
        update={"text": outcome.text, "blocks": [*outcome.blocks[:1], *again.blocks]}
    )


def show_in_place(
    deps: SlackDeps, origin: Origin, message: Message, *, trigger_id: str | None = None
) -> None:
    """Replace the message a button was on with `message` (a list's other page, or the list
    redrawn); an error is told beside it instead, leaving the message as it was."""
    if message.tone == "error":
        tell(deps, origin, message, trigger_id=trigger_id)
    elif origin.kind == "ephemeral" and origin.response_url:
        post_response(origin.response_url, {**deps.reply(message), "replace_original": True})
    elif origin.kind == "message" and origin.channel and origin.ts:
        rendered = deps.render(message)
        try:
            deps.client.chat_update(
                channel=origin.channel, ts=origin.ts, text=rendered.text, blocks=rendered.blocks
            )
        except SlackApiError as exc:
            log.warning("chat.update of %s failed: %s", origin.channel, exc.response.get("error"))
    else:
        tell(deps, origin, message, trigger_id=trigger_id)


def tell(deps: SlackDeps, origin: Origin, message: Message, trigger_id: str | None = None) -> None:
    """A private answer to whoever pressed: beside the message, or in a small modal."""
    if origin.response_url:
        post_response(origin.response_url, {**deps.reply(message), "replace_original": False})
    elif trigger_id:
        try:
            deps.client.views_open(
                trigger_id=trigger_id,
                view=notice_modal(message, title="Action", today=deps.core.today()),
            )
        except SlackApiError as exc:
            log.warning("could not open a notice: %s", exc.response.get("error"))


def unless_refused(
    deps: SlackDeps, origin: Origin, trigger_id: str | None, look: Callable[[], _T]
) -> _T | None:
    """What `look` finds before a form opens; None when it is refused (no such action, or
    not the presser's to change), the reason told to the presser at once."""
    try:
        return look()
    except CommandError as exc:
        tell(deps, origin, replies.error(exc.reason, exc.usage), trigger_id=trigger_id)
        return None


def update_message(
    deps: SlackDeps, channel: str, ts: str, view: ActionView, *, fallback: Message
) -> None:
    """Redraw a message the bot sent with the action's new state (done: buttons gone).

    The message is rebuilt from the outbox row it was sent from, so a reminder listing several
    actions keeps the others; a message we cannot find is replaced by the outcome.
    """
    stored = find_sent(deps.core, platform=Platform.SLACK, channel=channel, ref=ts)
    message = with_action(stored, view) if stored else _with_buttons(fallback)
    rendered = deps.render(message)
    try:
        deps.client.chat_update(channel=channel, ts=ts, text=rendered.text, blocks=rendered.blocks)
    except SlackApiError as exc:
        # e.g. message_not_found, cant_update_message: the change itself stands.
        log.warning("chat.update of %s/%s failed: %s", channel, ts, exc.response.get("error"))
        return
    drawn(deps.core, platform=Platform.SLACK, channel=channel, ref=ts)


def publish_home(deps: SlackDeps, caller: Caller) -> None:
    """Redraw the caller's App Home tab with their actions (and the board for chairs)."""
    message = home_message(deps.core, caller)
    view = home_view(message, today=deps.core.today(), tz=deps.core.settings.tz)
    try:
        deps.client.views_publish(user_id=caller.external_id, view=view)
    except SlackApiError as exc:
        log.warning(
            "views.publish for %s failed: %s", caller.external_id, exc.response.get("error")
        )


def post_response(url: str, payload: dict[str, Any]) -> None:
    """POST to a response_url (valid 30 minutes, 5 uses); a failure is logged, not raised.

    https://api.slack.com/interactivity/handling#message_responses
    """
    try:
        response = WebhookClient(url, timeout=10).send_dict(payload)
    except (SlackClientError, OSError) as exc:
        log.warning("response_url failed: %s", exc)
        return
    if response.status_code != 200:
        log.warning("response_url answered %s: %s", response.status_code, response.body)


def _with_buttons(message: Message) -> Message:
    blocks = [
        block.model_copy(update={"buttons": True}) if isinstance(block, ActionDetail) else block
        for block in message.blocks
    ]
    return message.model_copy(update={"blocks": blocks})


def _summary_only(message: Message) -> Message:
    """The first line of a reply, for a note beside a message that already shows the rest,
    with the reply's own buttons (Add evidence, after a delivered Mark done)."""
    buttons = [block for block in message.blocks[1:] if isinstance(block, Buttons)]
    return message.model_copy(update={"blocks": [*message.blocks[:1], *buttons]})


#: What a button does once pressed: given the deps, the payload and the pressed element.
Press = Callable[[SlackDeps, dict[str, Any], dict[str, Any]], None]


def on_press(app: App, deps: SlackDeps, action_id: str | re.Pattern[str], press: Press) -> None:
    """Listen for a button: acknowledged at once (Slack shows an error after 3 s), `press`
    run after the acknowledgement."""

    def pressed(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        after_ack(deps, body, lambda: press(deps, body, action))

    app.action(action_id)(pressed)


def accepted(
    deps: SlackDeps, ack: Ack, outcome: Outcome, field: str, *, notice: str | None = None
) -> bool:
    """Acknowledge a submitted form with its outcome: a refusal is shown under `field` and the
    form stays open (False); otherwise it closes, or shows the outcome titled `notice`."""
    if outcome.message.tone == "error":
        ack(response_action="errors", errors={field: outcome.message.text})
        return False
    if notice is None:
        ack()
    else:
        ack(
            response_action="update",
            view=notice_modal(outcome.message, title=notice, today=deps.core.today()),
        )
    return True


def after_ack(deps: SlackDeps, body: dict[str, Any], work: Callable[[], object]) -> None:
    """Run `work` once the acknowledgement is on its way; a failure is reported by `failed`.

    Bolt's sync runner replaces an ack already given with no response at all when the
    listener raises afterwards (slack_bolt/listener/thread_runner.py), so Slack would show
    an error instead of the reply: work after an ack runs on our executor instead.
    """

    def run() -> None:
        try:
            work()
        except Exception as exc:  # the global error path for work after an ack
            failed(deps, exc, body)

    deps.executor.submit(run)


def failed(deps: SlackDeps, error: BaseException, body: dict[str, Any]) -> None:
    """Log an unexpected failure with its trace and tell the person kindly, where we can."""
    log.error("Slack %s failed: %s", kind_of(body), error, exc_info=error)
    trigger_id = body.get("trigger_id")
    # Beside the message (response_url), or in a small modal (home tab), else only logged.
    tell(
        deps,
        Origin.from_body(body),
        replies.sorry(),
        trigger_id=str(trigger_id) if trigger_id else None,
    )

"""What the Slack listeners share: the core, Slack's client and directory, the senders, and
how a reply is rendered for Slack."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain import Platform
from bot.outbox.sender import Sender
from bot.render.model import Message
from bot.services.context import Caller, Core
from handlers.slack.blocks import SlackMessage, render
from handlers.slack.directory import SlackDirectory

log = logging.getLogger(__name__)

#: Slack waits 3 s for the acknowledgement of a command, button or form
#: (https://api.slack.com/interactivity/handling#acknowledgment_response). We give the core
#: this long to answer in the acknowledgement itself; past it we ack and answer afterwards.
ACK_DEADLINE = 2.0


@dataclass
class SlackDeps:
    """What the listeners need: the core, Slack's client and directory, and the senders."""

    core: Core
    client: WebClient
    directory: SlackDirectory
    senders: Sequence[Sender]
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-core")
    )
    ack_deadline: float = ACK_DEADLINE

    def caller(self, user_id: str, fallback_name: str | None = None) -> Caller:
        """Who pressed or typed, with the real name and email Slack has for them when it can."""
        try:
            account = self.directory.lookup_id(user_id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            # A slow or refusing users.info must not stop the command: the id is what counts.
            log.warning("users.info for %s failed: %s", user_id, exc)
            account = None
        if account is None:
            return Caller(Platform.SLACK, user_id, display_name=fallback_name or user_id)
        return Caller(
            Platform.SLACK,
            user_id,
            display_name=account.name,
            email=account.email,
            aliases=account.aliases,
            external=account.external,
        )

    def render(self, message: Message) -> SlackMessage:
        """A message as Block Kit, dates relative to today in the bot's timezone."""
        return render(message, today=self.core.today(), tz=self.core.settings.tz)

    def reply(self, message: Message) -> dict[str, Any]:
        """Keyword arguments of ack()/respond() for a reply: private unless it says otherwise."""
        rendered = self.render(message)
        return {
            "text": rendered.text,
            "blocks": rendered.blocks,
            "response_type": "ephemeral" if message.ephemeral else "in_channel",
        }


def kind_of(body: dict[str, Any]) -> str:
    """What a request is, for the log: a command, a button, a form or an event."""
    if "command" in body:
        return f"command {body.get('command')}"
    kind = str(body.get("type") or "request")
    if kind == "event_callback":
        return f"event {body.get('event', {}).get('type')}"
    return kind

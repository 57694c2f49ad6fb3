"""What the Slack listeners share: the core, Slack's client and directory, the senders, and
how a reply is rendered for Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain import Platform
from bot.outbox.sender import Sender
from bot.render.model import Message
from bot.services.context import Caller, Core
from handlers.slack.blocks import SlackMessage, render
from handlers.slack.client import hold_workspace
from handlers.slack.directory import SlackDirectory

if TYPE_CHECKING:
    from handlers.slack.install import Workspaces

log = logging.getLogger(__name__)

#: Slack waits 3 s for the acknowledgement of a command, button or form
#: (https://api.slack.com/interactivity/handling#acknowledgment_response). We give the core
#: this long to answer in the acknowledgement itself; past it we ack and answer afterwards.
ACK_DEADLINE = 2.0

#: Where the request being answered came from: Slack's team id and the channel (None in a
#: direct message or where the request names none).
_place: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "slack_request_place", default=(None, None)
)

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context, so the request's
    workspace (its token and place) follows the work into the pool."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Run fn(*args, **kwargs) in the pool, in a copy of this thread's context."""
        context = copy_context()

        def run() -> _T:
            return context.run(fn, *args, **kwargs)

        return super().submit(run)


def request_middleware(context: BoltContext, next: Callable[[], None]) -> None:
    """Bolt global middleware: while a request is answered, its workspace's token (the one
    Bolt's authorize put on the per-request client) is in hand for every Web API call, and
    its team and channel are where callers come from.

    Not reset afterwards: Bolt runs listeners after the middleware returns, in this context
    or in copies of it (ContextExecutor), and each request's dispatch sets both again.
    """
    hold_workspace(context.client.token if context.client is not None else None)
    channel = context.channel_id
    # A direct message (D…) is nobody's board channel.
    _place.set((context.team_id, None if not channel or channel.startswith("D") else channel))
    next()


@dataclass
class SlackDeps:
    """What the listeners need: the core, Slack's client and directory, and the senders."""

    core: Core
    client: WebClient
    directory: SlackDirectory
    senders: Sequence[Sender]
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ContextExecutor(max_workers=16, thread_name_prefix="slack-core")
    )
    ack_deadline: float = ACK_DEADLINE
    #: The installations, when the app can be installed in many workspaces.
    workspaces: Workspaces | None = None

    def caller(self, user_id: str, fallback_name: str | None = None) -> Caller:
        """Who pressed or typed, with the real name and email Slack has for them when it can,
        and the workspace and channel the request came from."""
        workspace, channel = _place.get()
        try:
            account = self.directory.lookup_id(user_id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            # A slow or refusing users.info must not stop the command: the id is what counts.
            log.warning("users.info for %s failed: %s", user_id, exc)
            account = None
        if account is None:
            return Caller(
                Platform.SLACK,
                user_id,
                display_name=fallback_name or user_id,
                workspace=workspace,
                channel=channel,
            )
        return Caller(
            Platform.SLACK,
            user_id,
            display_name=account.name,
            email=account.email,
            aliases=account.aliases,
            external=account.external,
            workspace=workspace,
            channel=channel,
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

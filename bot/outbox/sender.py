"""The port every platform's sender implements, and how a send reports a failure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from bot.boards.view import BoardView
from bot.domain import Platform
from bot.render.model import Message

#: Refusals that mean the person's account is gone, as the platforms word them (Slack's error
#: codes), and what the chairs are told. The person is then marked as left, once.
ACCOUNT_GONE = {
    "account_inactive": "their account is deactivated",
    "user_disabled": "their account is disabled",
    "user_not_found": "their account is no longer known",
}
_GONE_CODE = re.compile(r"\b(" + "|".join(ACCOUNT_GONE) + r")\b")


class SendError(Exception):
    """A send that failed; `permanent` ones are not retried, others wait `retry_after` seconds."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after

    @property
    def account_gone(self) -> str | None:
        """Why the recipient's account is gone, when that is why the platform refused."""
        found = _GONE_CODE.search(self.reason) if self.permanent else None
        return ACCOUNT_GONE[found.group(1)] if found else None


@dataclass(frozen=True)
class Delivered:
    """Where a message landed: the platform's channel and message reference (Slack's ts)."""

    channel: str
    ref: str | None = None


def workspace_of(board: BoardView | None, platform: Platform) -> str | None:
    """The workspace a board's messages go through on `platform` (None: the single one)."""
    if board is None:
        return None
    if platform == Platform.SLACK:
        return board.slack_team_id
    if platform == Platform.TEAMS:
        return board.teams_tenant_id
    return None


class Sender(Protocol):
    """One platform's way of delivering a message."""

    platform: Platform

    def send_to_account(
        self, external_id: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """Send a direct message to a user of this platform, in `workspace` (Slack's team,
        Teams' tenant; None: the deployment's single one)."""
        ...

    def send_to_channel(
        self, channel: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        """Post to a channel or conversation of this platform, in `workspace`."""
        ...

    def owns_channel(self, channel: str) -> bool:
        """Whether `channel` is an address of this platform."""
        ...

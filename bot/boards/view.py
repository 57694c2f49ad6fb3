"""A board as the core sees it: its row, with the settings it runs on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from storage.models import DEFAULT_BOARD_ID


@dataclass(frozen=True)
class BoardView:
    """One board: its id, name, channels, workspaces and effective settings (read-only)."""

    id: int
    name: str
    #: The environment's settings with the board's own (its name, channel, and whatever a
    #: chair changed with `/board settings`) laid over them.
    settings: Settings
    slack_team_id: str | None = None
    slack_channel: str | None = None
    teams_tenant_id: str | None = None
    teams_channel: str | None = None

    @property
    def is_default(self) -> bool:
        """The board a single-board deployment had: the environment configures it."""
        return self.id == DEFAULT_BOARD_ID

    @property
    def called(self) -> str:
        """How a message names it: "the board" for the default board, else its name."""
        return "the board" if self.is_default else self.name

    @property
    def channel(self) -> str | None:
        """Where its digest and board pack are posted: its Slack channel, else its Teams one."""
        return self.slack_channel or self.teams_channel

    def in_workspace(self, workspace: str | None) -> bool:
        """Whether a request from `workspace` (a Slack team or Teams tenant) may see it.

        A board tied to no workspace belongs to the deployment's single workspace, which a
        request naming none (the console, the command line, a single-workspace deployment)
        is in; a board tied to one is seen from that one only.
        """
        tied = {w for w in (self.slack_team_id, self.teams_tenant_id) if w}
        if not tied:
            return True
        return workspace in tied


def default_board(settings: Settings) -> BoardView:
    """The default board exactly as the environment describes it (no database needed)."""
    return BoardView(
        id=DEFAULT_BOARD_ID,
        name=settings.board_name,
        settings=settings,
        slack_channel=settings.board_channel,
    )

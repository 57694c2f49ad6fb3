"""A board as the core sees it: its row, with the settings it runs on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.domain import Platform
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

    def in_workspace(self, workspace: str | None, platform: Platform | None = None) -> bool:
        """Whether a request from `workspace` (Slack's team, Teams' tenant) on `platform` may
        see this board; the console and the command line (no workspace) see every board.

        A board tied to a workspace is seen from that one only. One tied to none belongs to
        the deployment's own workspace: in a single-workspace deployment that is whichever
        the request comes from; once the Slack app is distributed (SLACK_CLIENT_ID) no
        workspace but its own, tied at start; on Teams, the home tenant (TEAMS_TENANT_ID)
        when other organisations are served.
        """
        if workspace is None:
            return True
        if platform == Platform.SLACK:
            if self.slack_team_id is not None:
                return workspace == self.slack_team_id
            return not self.settings.slack_install_enabled
        if platform == Platform.TEAMS:
            # Tenant ids are GUIDs, which Teams may spell in either case.
            tenant = workspace.lower()
            if self.teams_tenant_id is not None:
                return tenant == self.teams_tenant_id.lower()
            home = self.settings.teams_tenant_id
            if home is None:
                return not self.settings.teams_allowed_tenants
            return tenant == home.lower()
        return workspace in {w for w in (self.slack_team_id, self.teams_tenant_id) if w}

def default_board(settings: Settings) -> BoardView:
    """The default board exactly as the environment describes it (no database needed)."""
    return BoardView(
        id=DEFAULT_BOARD_ID,
        name=settings.board_name,
        settings=settings,
        slack_channel=settings.board_channel,
    )

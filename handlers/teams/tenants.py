"""Which Microsoft 365 organisations (tenants) the bot serves, and whose references a send uses.

A single-tenant deployment (TEAMS_TENANT_ID set) serves its own tenant, plus any named in
TEAMS_ALLOWED_TENANTS; a multi-tenant one (TEAMS_TENANT_ID unset, "multi" or "common")
serves every tenant the app is installed in. Bot Framework's token says nothing of the tenant:
the activity does (`conversation.tenantId`, `channelData.tenant.id`), and it is only read
after the token proved the activity came from the Bot Framework.
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings

#: TEAMS_ALLOWED_TENANTS' word for "any organisation".
ANY = "*"


def tenant_of(activity: dict[str, Any]) -> str | None:
    """The tenant an activity comes from, as Teams writes it in two places."""
    conversation = activity.get("conversation")
    channel_data = activity.get("channelData")
    tenant: object = None
    if isinstance(conversation, dict):
        tenant = conversation.get("tenantId")
    if not tenant and isinstance(channel_data, dict):
        named = channel_data.get("tenant")
        tenant = named.get("id") if isinstance(named, dict) else None
    return str(tenant) if tenant else None


def same_tenant(one: str | None, other: str | None) -> bool:
    """Tenant ids are GUIDs: compared without regard to case."""
    return (one or "").lower() == (other or "").lower()


@dataclass(frozen=True)
class Tenants:
    """The deployment's tenant policy, from TEAMS_TENANT_ID and TEAMS_ALLOWED_TENANTS."""

    #: The home tenant of a single-tenant registration; None when multi-tenant.
    home: str | None
    allowed: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> Tenants:
        """The policy the settings describe."""
        return cls(
            home=settings.teams_tenant_id,
            allowed=frozenset(t.lower() for t in settings.teams_allowed_tenants),
        )

    @property
    def any(self) -> bool:
        """Every organisation is served (multi-tenant, or "*" allowed)."""
        return ANY in self.allowed or (self.home is None and not self.allowed)

    def serves(self, tenant: str | None) -> bool:
        """Whether an activity of `tenant` is handled; one that names none only when any is."""
        if self.any:
            return True
        if tenant is None:
            return False
        return tenant.lower() in self.allowed or same_tenant(tenant, self.home)

    def for_board(self, board_tenant: str | None) -> str | None:
        """The tenant whose references a board's messages use: the board's own, else (the
        default board, NULL) the deployment's single tenant; None means any."""
        return board_tenant or self.home

    def matches(self, stored: str | None, wanted: str | None) -> bool:
        """Whether a reference kept with tenant `stored` may carry a message for `wanted`
        (from `for_board`). A reference without a tenant is the deployment's own tenant's."""
        if wanted is None:
            return True
        return same_tenant(stored or self.home, wanted)

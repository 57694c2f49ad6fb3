"""Who may do what: chairs run the plan, owners and supporting owners update their actions."""

from __future__ import annotations

from bot.errors import CommandError
from bot.services.request import Request
from storage.models import Action


def require_chair(request: Request, doing: str, usage: str | None = None) -> None:
    """Refuse unless the caller is a chair."""
    if not request.actor_is_chair:
        raise CommandError(f"Only a chair can {doing}.", usage)


def may_update(request: Request, action: Action) -> bool:
    """Whether the caller may change `action`: its owner, a supporting owner, or a chair."""
    if action.owner_id == request.actor.id or request.actor_is_chair:
        return True
    return any(supporter.person_id == request.actor.id for supporter in action.supporters)


def require_owner_or_chair(request: Request, action: Action, doing: str) -> None:
    """Refuse unless the caller owns `action`, supports it, or is a chair."""
    if may_update(request, action):
        return
    owner = action.owner.display_name if action.owner else "nobody yet"
    raise CommandError(
        f"Only the owner of #{action.id} ({owner}) or a chair can {doing}.",
        f"/action show {action.id}",
    )

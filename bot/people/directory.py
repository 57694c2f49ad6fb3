"""Directories: where a platform says who a user id or an email belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain import Platform


@dataclass(frozen=True)
class Account:
    """A user account as a platform's directory describes it."""

    platform: Platform
    external_id: str
    name: str
    email: str | None = None
    #: Other names people type for them (Slack's handle and display name), kept as aliases.
    aliases: tuple[str, ...] = ()
    #: Not a member of the workspace: a Slack Connect user of another organisation, a Slack
    #: or Teams guest. Such people use the bot only through a role or as owners.
    external: bool = False


class Directory(Protocol):
    """Looks people up on one platform (Slack's users.* API, Teams members, the console)."""

    platform: Platform

    def lookup_id(self, external_id: str) -> Account | None:
        """The account with this platform id, or None if the platform does not know it."""
        ...

    def lookup_email(self, email: str) -> Account | None:
        """The account with this email address, or None."""
        ...

    def departure(self, external_id: str) -> str | None:
        """Why this account can no longer be given work ("deactivated in Slack"), or None
        while it can, or when the platform cannot tell."""
        ...


class ConsoleDirectory:
    """The console's directory: a sandbox where any name or email is a user."""

    platform = Platform.CONSOLE

    def lookup_id(self, external_id: str) -> Account | None:
        name = external_id.strip()
        return Account(Platform.CONSOLE, name.lower(), name.capitalize()) if name else None

    def lookup_email(self, email: str) -> Account | None:
        local = email.strip().lower().split("@", 1)[0]
        name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        return Account(Platform.CONSOLE, local, name or local, email.strip().lower())

    def departure(self, external_id: str) -> str | None:
        # Nobody leaves the sandbox.
        return None

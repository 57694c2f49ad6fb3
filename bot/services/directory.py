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


class Directory(Protocol):
    """Looks people up on one platform (Slack's users.* API, Teams members, the console)."""

    platform: Platform

    def lookup_id(self, external_id: str) -> Account | None:
        """The account with this platform id, or None if the platform does not know it."""
        ...

    def lookup_email(self, email: str) -> Account | None:
        """The account with this email address, or None."""
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

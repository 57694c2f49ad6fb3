"""The weekly digest (filled in by the scheduler work)."""

from __future__ import annotations

from bot.errors import CommandError
from bot.grammar.commands import StatusDigest
from bot.services.request import Outcome, Request


def digest_command(request: Request, command: StatusDigest) -> Outcome:
    """`/status digest [post]`."""
    raise CommandError("The digest is being built.")

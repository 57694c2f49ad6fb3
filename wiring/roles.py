"""`actionbot people role EMAIL [ROLE]`: a person's role on the board, from the command line.

Whoever runs the bot's command line administers it, so it may also make chairs (chat cannot);
the change is recorded like one made in chat (source `cli`, no actor) and the person is told
through the outbox, delivered now when the platforms are configured, else by the worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from bot.boards.members import role_on
from bot.domain import Role
from bot.errors import CommandError
from bot.outbox.delivery import deliver_queued
from bot.outbox.sender import Sender
from bot.services.context import Core
from bot.services.roles import change_role
from storage.db import transaction
from storage.queries import find_by_email

#: `source` of a role changed on the command line.
CLI_SOURCE = "cli"


def person_role(
    core: Core,
    email: str,
    role: Role | None,
    *,
    senders: Sequence[Sender],
    out: TextIO,
    err: TextIO,
) -> int:
    """Show (`role` None) or change the role of the person with `email`; the exit code."""
    with transaction(core.sessions) as session:
        person = find_by_email(session, email=email.strip().lower())
        if person is None:
            err.write(
                f"Nobody has the email {email}. People are known once a plan or "
                "`actionbot people import` names them, or they have used the bot.\n"
            )
            return 1
        name = f"{person.display_name} <{person.email}>"
        if role is None:
            out.write(f"{name}: {role_on(session, core.board.id, person.id).value}\n")
            return 0
        try:
            changed = change_role(
                session,
                person=person,
                role=role,
                actor=None,
                source=CLI_SOURCE,
                now=core.now(),
                board=core.board,
            )
        except CommandError as exc:
            err.write(exc.reason + "\n")
            return 1
    if changed is None:
        out.write(f"{name} is already {role.value}; nothing changed.\n")
        return 0
    out.write(f"{name}: {changed.old.value} → {changed.new.value}; recorded, and they are told.\n")
    if senders:
        deliver_queued(core, senders, changed.outbox_ids)
    return 0

"""The `/board` commands: the boards themselves (`/board create|link|list|use`), a board's
roles (`/board role @user secretary`, `/board roles`), settings (`/board settings signoff off`,
`/board settings timezone Europe/London`) and meetings (`/board meeting add …`,
bot/grammar/meetings.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from bot.domain import Role
from bot.errors import CommandError
from bot.grammar.add_words import parse_user
from bot.grammar.commands import (
    BoardSettings,
    Command,
    CreateBoard,
    Help,
    LinkBoard,
    ListBoards,
    UseBoard,
    UserRef,
)
from bot.grammar.meetings import ListMeetings, parse_meeting
from bot.grammar.pack import parse_pack
from bot.grammar.usage import board_usage

#: The roles `/board role` gives; chairs are made by CHAIR_USER_IDS or the command line.
GIVEN_ROLES = (Role.SECRETARY, Role.MEMBER, Role.OBSERVER, Role.NONE)

#: Other words people use for a role.
_ROLE_WORDS = {
    "secretary": Role.SECRETARY,
    "support": Role.SECRETARY,
    "officer": Role.SECRETARY,
    "member": Role.MEMBER,
    "observer": Role.OBSERVER,
    "adviser": Role.OBSERVER,
    "advisor": Role.OBSERVER,
    "none": Role.NONE,
    "nothing": Role.NONE,
    "remove": Role.NONE,
    "chair": Role.CHAIR,
}


class SetRole(Command):
    """`/board role @user secretary`: a chair gives someone a role on the board."""

    verb: Literal["board_role"] = "board_role"
    user: UserRef
    role: Role


class ListRoles(Command):
    """`/board roles`: who holds which role."""

    verb: Literal["board_roles"] = "board_roles"


def parse_board(text: str, *, today: dt.date | None = None) -> Command:
    """Parse the text after `/board` (`today` reads a meeting's date; the clock's by default)."""
    verb, _, rest = text.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("", "help", "?"):
        return Help(topic="board")
    if verb == "roles" and not rest:
        return ListRoles()
    if verb == "use":
        if not rest:
            raise CommandError("Say which board: /board use <name>.", board_usage("use"))
        return UseBoard(board=rest)
    if verb == "create":
        if not rest:
            raise CommandError(
                "Give the new board a name: /board create <name>.", board_usage("create")
            )
        return CreateBoard(name=" ".join(rest.split()))
    if verb == "link":
        return LinkBoard(board=" ".join(rest.split()) or None)
    if verb in ("list", "boards") and not rest:
        return ListBoards()
    if verb == "role":
        return _parse_role(rest)
    if verb == "settings":
        return _parse_settings(rest)
    if verb == "meetings" and not rest:
        return ListMeetings()
    if verb == "pack":
        return parse_pack(rest)
    if verb == "meeting":
        if today is None:
            raise ValueError("a meeting's date is read relative to today: pass today")
        return parse_meeting(rest, today=today)
    if verb == "roles":
        raise CommandError("`/board roles` takes nothing more.", board_usage("roles"))
    raise CommandError(f"I don't know `/board {verb[:40]}`.", board_usage(None))


def _parse_settings(rest: str) -> BoardSettings:
    """`settings` shows them; `settings signoff on|off` changes whether done waits for one;
    `settings <key> <value>` changes another (the value as typed: a timezone has capitals),
    `settings <key> default` gives it back to the environment."""
    key, _, value = rest.strip().partition(" ")
    key, value = key.lower(), value.strip()
    if not key:
        return BoardSettings()
    if key in ("signoff", "sign-off"):
        switch = _SWITCH.get(value.lower())
        if switch is None:
            raise CommandError(
                "Say `/board settings signoff on` or `off`.", board_usage("settings")
            )
        return BoardSettings(signoff=switch)
    if not value:
        raise CommandError(
            f"Say the new value: /board settings {key} <value> (or `default`).",
            board_usage("settings"),
        )
    if value.lower() == "default":
        return BoardSettings(key=key)
    return BoardSettings(key=key, value=value)


# `default` is sign-off's default: on.
_SWITCH = {"on": True, "off": False, "yes": True, "no": False, "default": True}


def _parse_role(rest: str) -> SetRole:
    words = rest.split()
    if len(words) != 2:
        raise CommandError("Name one person and one role.", board_usage("role"))
    # `role @amira secretary` or `role secretary @amira`.
    first, second = words
    user = parse_user(first)
    word = second
    if user is None:
        user, word = parse_user(second), first
    if user is None:
        raise CommandError(
            f"'{first}' is not a person; mention them, e.g. @amira.", board_usage("role")
        )
    role = _ROLE_WORDS.get(word.lower().strip(".,"))
    if role is None:
        raise CommandError(
            f"'{word}' is not a role: say secretary, member, observer or none.",
            board_usage("role"),
        )
    return SetRole(user=user, role=role)

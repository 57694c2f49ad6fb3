"""The permission table: the README's copy is the bot's own, every command has a line, and
`/board` gives roles with their trail and a message to the person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.boards.members import role_on
from bot.domain import Platform, Role
from bot.grammar.board import ListRoles, SetRole, parse_board
from bot.grammar.commands import Help
from bot.people.resolve import OUTSIDER_REFUSAL
from bot.services.context import Caller, Core
from bot.services.dispatch import _HANDLERS, run_command
from bot.services.permissions import COMMANDS, RULES, Permission, readme_table
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, OutboxMessage, Person, RoleChange

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_table_is_the_bots_own() -> None:
    start = README.index("| command | chair | secretary |")
    end = README.index("\n\n", start)
    assert README[start:end] == readme_table()


def test_every_command_has_a_line_in_the_table() -> None:
    for kind in _HANDLERS:
        verb = kind.model_fields["verb"].default
        assert verb in COMMANDS, f"{kind.__name__} ({verb}) is in no line of the table"
    assert set(COMMANDS.values()) <= set(RULES)
    assert set(RULES) == set(Permission)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help(topic="board")),
        ("help", Help(topic="board")),
        ("roles", ListRoles()),
        ("role @amira secretary", "amira:secretary"),
        ("role secretary @amira", "amira:secretary"),
        ("role <@U123|dee> observer", "U123:observer"),
        ("role amira@council.example member", "amira@council.example:member"),
        ("role @amira none", "amira:none"),
        ("role @amira adviser", "amira:observer"),
    ],
)
def test_board_grammar(text: str, expected: object) -> None:
    parsed = parse_board(text)
    if isinstance(parsed, SetRole):
        who = parsed.user.platform_id or parsed.user.email or parsed.user.name
        assert f"{who}:{parsed.role.value}" == expected
    else:
        assert parsed == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("role @amira boss", "'boss' is not a role: say secretary, member, observer or none."),
        ("role @amira", "Name one person and one role."),
        ("role amira secretary", "'amira' is not a person; mention them, e.g. @amira."),
        ("promote @amira", "I don't know `/board promote`."),
    ],
)
def test_board_grammar_refusals(core: Core, chair: Caller, text: str, reason: str) -> None:
    out = run_command(core, chair, "/board", text)
    assert out.message.tone == "error"
    assert out.message.text == reason


def board(core: Core, caller: Caller, text: str) -> str:
    return run_command(core, caller, "/board", text).message.text


def test_a_chair_gives_a_role_recorded_and_told(core: Core, chair: Caller, amira: Caller) -> None:
    run_command(core, amira, "/status", "mine")  # Amira is known, without a role
    said = board(core, chair, "role @amira secretary")
    assert said == "Amira is now the secretary (was without a role); they are told."
    with transaction(core.sessions) as session:
        change = session.scalars(select(RoleChange)).one()
        assert (change.person.display_name, change.actor and change.actor.display_name) == (
            "Amira",
            "Chair",
        )
        assert (change.change, change.old_value, change.new_value, change.source) == (
            "role",
            "none",
            "secretary",
            "console",
        )
        assert change.at == core.now()
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "role")).one()
        assert told.recipient is not None and told.recipient.display_name == "Amira"
        assert told.payload["text"].startswith(
            "Chair changed your role on the board: you are now the board's secretary"
        )
    # The same again changes nothing and tells nobody.
    assert board(core, chair, "role @amira secretary") == (
        "Amira is already the secretary; nothing changed."
    )
    # Now she runs the plan: she adds an action.
    added = run_command(core, amira, "/action", "add Audit plans @ben due 2026-12-18")
    assert added.message.tone == "success", added.message.text
    listed = board(core, amira, "roles")
    assert listed == "The board's roles"
    shown = run_command(core, amira, "/board", "roles").message
    words = " ".join(getattr(block, "text", "") for block in shown.blocks)
    assert "Chairs: none yet" not in words and "Secretary: Amira" in words


def test_only_a_chair_gives_roles_and_never_their_own_or_a_chair(
    core: Core, chair: Caller, amira: Caller, ben: Caller
) -> None:
    board(core, chair, "role @amira secretary")
    assert board(core, amira, "role @ben member") == "Only a chair can change roles."
    assert board(core, ben, "role @ben member") == "Only a chair can change roles."
    assert board(core, chair, "role @chair member") == (
        "You cannot change your own role; ask another chair."
    )
    named = core.settings.model_copy(update={"chair_user_ids": ("chair", "dana")})
    two_chairs = Core(named, core.sessions, core.clock, core.directories)
    assert board(two_chairs, chair, "role @dana member") == (
        "Dana is a chair through CHAIR_USER_IDS, so no command can change their role; take "
        "them out of CHAIR_USER_IDS and restart the bot first."
    )
    assert board(core, chair, "role @amira chair").startswith("Chairs are named in CHAIR_USER_IDS")
    with transaction(core.sessions) as session:
        assert len(session.scalars(select(RoleChange)).all()) == 1


def test_an_observer_sees_and_changes_nothing(core: Core, chair: Caller, amira: Caller) -> None:
    run_command(core, chair, "/action", "add Audit plans @amira due 2026-12-18")
    board(core, chair, "role @amira observer")
    assert run_command(core, amira, "/status", "").message.tone != "error"
    refused = run_command(core, amira, "/action", "done 1").message.text
    assert refused == (
        "You are an observer: you see the plan but cannot mark it done. "
        "A chair can give you another role."
    )


def test_an_outsider_is_refused_and_not_registered(core: Core, chair: Caller) -> None:
    xena = Caller(Platform.CONSOLE, "xena", "Xena", email="xena@partner.example", external=True)
    for command, text in (("/status", ""), ("/action", "list mine"), ("/board", "roles")):
        out = run_command(core, xena, command, text)
        assert out.message.text == OUTSIDER_REFUSAL
    with transaction(core.sessions) as session:
        assert session.scalars(select(Person).where(Person.display_name == "Xena")).all() == []
    # Given a role, she may use the bot as that role allows.
    board(core, chair, "role xena@partner.example member")
    assert run_command(core, xena, "/status", "").message.tone != "error"


def test_an_outsider_who_owns_an_action_works_on_it_only(core: Core, chair: Caller) -> None:
    pat = Caller(Platform.CONSOLE, "pat", "Pat", external=True)
    run_command(core, chair, "/action", "add Share data @pat due 2026-12-18")
    assert run_command(core, pat, "/action", "update 1 sent the figures").message.tone != "error"
    assert run_command(core, pat, "/status", "mine").message.tone != "error"
    assert run_command(core, pat, "/action", "show 1").message.tone != "error"
    assert run_command(core, pat, "/status", "overdue").message.text == OUTSIDER_REFUSAL


def test_help_lists_the_board_commands(core: Core, ben: Caller) -> None:
    text = run_command(core, ben, "/board", "help").message
    lines = [line for block in text.blocks for line in getattr(block, "lines", [])]
    assert lines == [
        "/board role @user secretary|member|observer|none",
        "/board roles",
        "/board create <name>  (a new board; you become its chair)",
        "/board link [board]  (this channel becomes the board's channel)",
        "/board list  (the boards you can see, their channels and your role)",
        "/board use <name>  (the board your direct messages are about)",
        "/board settings [signoff on|off | <setting> <value>|default]",
        "/board meeting add <date> <time> [title]  (15 Jan 2027 14:00 Board)",
        "/board meetings  (the meetings to come, their update rounds and cut-offs)",
        "/board meeting cancel <id>",
        "/board pack [meeting]  (the board pack now: its link, to you only)",
        "/board pack post [meeting]  (build it and post it to the board channel)",
        "/board help",
    ]
    every = run_command(core, ben, "/action", "help").message
    assert any(
        re.search(r"/board roles", line)
        for block in every.blocks
        for line in getattr(block, "lines", [])
    )


def test_people_met_start_without_a_role(core: Core, ben: Caller) -> None:
    run_command(core, ben, "/status", "")
    with transaction(core.sessions) as session:
        person = session.scalars(select(Person).where(Person.display_name == "Ben")).one()
        assert role_on(session, DEFAULT_BOARD_ID, person.id) == Role.NONE

"""`actionbot people role EMAIL [ROLE]`, run as an operator runs it (the installed command on
the test's database): shows and changes a role, records it, queues the message, refuses what
it must."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.boards.members import role_on
from bot.domain import Role
from bot.services.context import Core
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, OutboxMessage, Person, RoleChange

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def actionbot(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CHAIR_USER_IDS": "dana@board.example"}
    for name in ("SLACK_BOT_TOKEN", "TEAMS_APP_ID"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_people_role_shows_changes_and_records(core: Core, tmp_path: Path) -> None:
    url = core.settings.database_url
    with transaction(core.sessions) as session:
        session.add(Person(display_name="Amira Khan", email="amira@council.example", created_at=AT))
        session.add(Person(display_name="Dana Chair", email="dana@board.example", created_at=AT))

    shown = actionbot(url, "people", "role", "amira@council.example", cwd=tmp_path)
    assert (shown.returncode, shown.stdout) == (0, "Amira Khan <amira@council.example>: none\n")

    given = actionbot(url, "people", "role", "Amira@Council.example", "secretary", cwd=tmp_path)
    assert given.returncode == 0, given.stderr
    assert given.stdout == (
        "Amira Khan <amira@council.example>: none → secretary; recorded, and they are told.\n"
    )
    with transaction(core.sessions) as session:
        amira = session.scalars(select(Person).where(Person.display_name == "Amira Khan")).one()
        assert role_on(session, DEFAULT_BOARD_ID, amira.id) == Role.SECRETARY
        change = session.scalars(select(RoleChange)).one()
        assert (change.actor_id, change.source, change.old_value, change.new_value) == (
            None,
            "cli",
            "none",
            "secretary",
        )
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "role")).one()
        assert told.recipient_id == amira.id
        assert told.payload["text"].startswith(
            "The board's administrator changed your role on the board"
        )

    again = actionbot(url, "people", "role", "amira@council.example", "secretary", cwd=tmp_path)
    assert again.stdout.endswith("is already secretary; nothing changed.\n")

    chair = actionbot(url, "people", "role", "amira@council.example", "chair", cwd=tmp_path)
    assert chair.returncode == 0 and "secretary → chair" in chair.stdout

    named = actionbot(url, "people", "role", "dana@board.example", "member", cwd=tmp_path)
    assert named.returncode == 1
    assert "is a chair through CHAIR_USER_IDS" in named.stderr

    nobody = actionbot(url, "people", "role", "nobody@council.example", "member", cwd=tmp_path)
    assert nobody.returncode == 1 and nobody.stderr.startswith("Nobody has the email")

    wrong = actionbot(url, "people", "role", "amira@council.example", "boss", cwd=tmp_path)
    assert wrong.returncode == 2 and "invalid choice: 'boss'" in wrong.stderr

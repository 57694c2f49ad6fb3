# ruff: noqa: F811 - pytest fixtures imported by name
"""The board commands: `/board create`, `/board link`, `/board list` and `/board settings`
in the console and over Slack's real HTTP path, and `actionbot board create|list|settings`,
`import --board` and `people role --board` run as an operator runs them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.boards.members import put_role, role_on
from bot.boards.registry import BOARD_SETTINGS
from bot.config import Settings
from bot.domain import Platform, Role
from bot.render.boards import SETTING_FORMS
from bot.render.text import render
from bot.services.boards import SETTING_KEYS
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from storage.db import transaction
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    Board,
    BoardSetting,
    Meeting,
    Person,
    RoleChange,
)
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_signing import signed_headers, slash_command_body
from tests.test_readme_examples import block_after, readme_plan, run
from tests.test_slack_blocks import validated
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    BOARD,
    CHAIR,
    SECRET,
    base,
    bot,
    slack,
    slack_core,
    slack_process,
)

SEND = "SEND Board"
AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def said(core: Core, caller: Caller, text: str) -> str:
    """What `/board <text>` answers `caller`, as the console shows it."""
    return render(run_command(core, caller, "/board", text).message)


def board_row(core: Core, name: str) -> Board:
    with core.sessions() as session:
        return session.scalars(select(Board).where(Board.name == name)).one()


def setting(core: Core, board_id: int, key: str) -> BoardSetting | None:
    with core.sessions() as session:
        return session.get(BoardSetting, (board_id, key))


def person_id(core: Core, name: str) -> int:
    with core.sessions() as session:
        return session.scalars(select(Person.id).where(Person.display_name == name)).one()


# --------------------------------------------------------------------------- console


def test_a_chair_creates_a_board_and_becomes_its_chair(
    core: Core, chair: Caller, amira: Caller
) -> None:
    refused = run_command(core, amira, "/board", f"create {SEND}")
    assert (
        refused.message.text == "Only a chair of one of this workspace's boards can create another."
    )
    created = said(core, chair, f"create {SEND}")
    assert created.startswith(
        f"✓ Board {SEND} created; you are its chair. Your direct messages stay about "
        f"Improvement Board: `/board use {SEND}` to work on the new one."
    )
    send = board_row(core, SEND)
    assert (send.slack_team_id, send.teams_tenant_id, send.slack_channel) == (None, None, None)
    with transaction(core.sessions) as session:
        chair_id = person_id(core, "Chair")
        assert role_on(session, send.id, chair_id) == Role.CHAIR
        change = session.scalars(select(RoleChange).where(RoleChange.board_id == send.id)).one()
        assert (change.new_value, change.source) == ("chair", "console")
    # The name is taken whatever its case and spacing; the board is seen at once.
    again = run_command(core, chair, "/board", "create send   BOARD")
    assert again.message.text == "There is already a board called 'send BOARD'."
    listed = said(core, chair, "list")
    assert "• Improvement Board — no channel yet — you: chair · your direct messages" in listed
    assert f"• {SEND} — no channel yet — you: chair" in listed
    assert "• Improvement Board — no channel yet — you: no role" in said(core, amira, "list")


def test_a_board_created_in_slack_is_tied_to_its_workspace(core: Core) -> None:
    chair = Caller(Platform.SLACK, "chair", display_name="Chair", workspace="T1", channel="C1")
    created = run_command(core, chair, "/board", f"create {SEND}")
    assert created.message.tone == "success", render(created.message)
    assert board_row(core, SEND).slack_team_id == "T1"
    # Another workspace never sees it: not in its list, not by name.
    other = Caller(Platform.SLACK, "U9", display_name="Someone", workspace="T2")
    assert SEND not in said(core, other, "list")
    assert said(core, other, f"settings in {SEND}").startswith(
        f"✗ There is no board called '{SEND}'."
    )


def test_a_board_of_another_workspace_is_never_reached_by_name(core: Core) -> None:
    with transaction(core.sessions) as session:
        session.add(Board(name=SEND, slack_team_id="T2", slack_channel="CSEND", created_at=AT))
    core.boards.invalidate()
    theirs = Caller(Platform.SLACK, "U2", display_name="Their chair", workspace="T2")
    run_command(core, theirs, "/board", "list")
    with transaction(core.sessions) as session:
        put_role(session, board_row(core, SEND).id, person_id(core, "Their chair"), Role.CHAIR)
    # The default board's chair, in workspace T1, names T2's board: as if it did not exist.
    ours = Caller(Platform.SLACK, "chair", display_name="Chair", workspace="T1", channel="C1")
    nowhere = f"There is no board called '{SEND}'."
    assert run_command(core, ours, "/board", f"link {SEND}").message.text == nowhere
    assert run_command(
        core, ours, "/board", f"settings digest fri 10:00 in {SEND}"
    ).message.text == (nowhere)
    assert run_command(core, ours, "/board", f"use {SEND}").message.text == nowhere
    assert SEND not in said(core, ours, "list")
    taken = run_command(core, ours, "/board", f"create {SEND.lower()}")
    assert taken.message.text == f"The name '{SEND.lower()}' is taken; choose another."
    # Typed in T2's board channel from T1: not that board either, and nothing of it changes.
    inside = Caller(Platform.SLACK, "chair", display_name="Chair", workspace="T1", channel="CSEND")
    out = run_command(core, inside, "/board", "settings digest fri 10:00")
    assert out.message.text == "Improvement Board's digest is now fri 10:00."
    assert setting(core, board_row(core, SEND).id, "digest") is None


@pytest.fixture
def distributed(database_url: str, core: Core) -> Core:
    """The console's core with the Slack app distributed: boards without a workspace are the
    deployment's own, seen from no other workspace."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_client_id="1.2",
        slack_client_secret="not-a-secret",
        actionbot_secret_key="k" * 32,
    )
    return Core(settings=settings, sessions=core.sessions, clock=core.clock)


def test_anyone_creates_the_first_board_of_a_new_workspace(distributed: Core) -> None:
    newcomer = Caller(Platform.SLACK, "U1", display_name="Newcomer", workspace="TNEW")
    assert said(distributed, newcomer, "list").startswith("There are no boards here yet.")
    created = run_command(distributed, newcomer, "/board", f"create {SEND}")
    assert created.message.text == f"Board {SEND} created; you are its chair."
    assert board_row(distributed, SEND).slack_team_id == "TNEW"
    assert "you: chair" in said(distributed, newcomer, "list")
    # Now the workspace has a board: someone else there needs to chair one to add another.
    other = Caller(Platform.SLACK, "U2", display_name="Other", workspace="TNEW")
    refused = run_command(distributed, other, "/board", "create Another")
    assert (
        refused.message.text == "Only a chair of one of this workspace's boards can create another."
    )


def test_someone_on_several_boards_lists_and_creates_without_choosing_first(
    core: Core, chair: Caller
) -> None:
    said(core, chair, f"create {SEND}")
    with transaction(core.sessions) as session:
        person = session.get(Person, person_id(core, "Chair"))
        assert person is not None
        person.current_board_id = None  # on two boards, no choice made
        put_role(session, DEFAULT_BOARD_ID, person.id, Role.CHAIR)
    listed = said(core, chair, "list")
    assert "• Improvement Board — no channel yet — you: chair" in listed
    assert "several boards" not in listed
    created = run_command(core, chair, "/board", "create Safeguarding")
    assert created.message.text == "Board Safeguarding created; you are its chair."


def test_link_makes_the_channel_the_boards_and_refuses_another_boards(
    core: Core, chair: Caller
) -> None:
    in_dm = Caller(Platform.SLACK, "chair", display_name="Chair")
    said(core, in_dm, f"create {SEND}")
    unplaced = run_command(core, in_dm, "/board", f"link {SEND}")
    assert unplaced.message.text == (
        "Type /board link in the channel that is to be the board's channel."
    )
    # The console's chair is another person, chair of the default board only.
    assert run_command(core, chair, "/board", f"link {SEND}").message.text == (
        f"Only a chair of {SEND} can link a channel to it."
    )
    slack_chair = Caller(Platform.SLACK, "chair", display_name="Chair", channel="CSEND")
    linked = run_command(core, slack_chair, "/board", f"link {SEND}")
    assert linked.message.text == (
        f"This channel is now {SEND}'s channel: its digest and board packs are posted here, and "
        "commands typed here are about it."
    )
    assert board_row(core, SEND).slack_channel == "CSEND"
    # Typed there, a command is now on that board; its own channel cannot be linked again.
    assert said(core, slack_chair, "settings").startswith(f"Settings of {SEND}")
    again = run_command(core, slack_chair, "/board", "link")
    assert again.message.text == f"This channel is already {SEND}'s channel."
    # Nor can another board take it.
    taken = run_command(core, slack_chair, "/board", "link Improvement Board")
    assert taken.message.text == (
        f"This channel is already {SEND}'s channel; a channel belongs to one board."
    )
    in_teams = Caller(Platform.TEAMS, "chair-t", display_name="Chair", channel="19:send")
    refused = run_command(core, in_teams, "/board", f"link {SEND}")
    assert refused.message.text == f"Only a chair of {SEND} can link a channel to it."
    assert board_row(core, SEND).teams_channel is None


def test_a_chair_changes_validates_and_resets_a_setting(core: Core, chair: Caller) -> None:
    # Every setting a board may have is shown, with its words.
    assert set(SETTING_FORMS) == set(SETTING_KEYS) == {"signoff", *BOARD_SETTINGS}
    shown = said(core, chair, "settings")
    assert "• digest: mon 09:00 (default) — when the weekly digest is posted" in shown
    assert "• working_days: mon-fri (default)" in shown
    changed = run_command(core, chair, "/board", "settings digest Fri 10:00")
    assert changed.message.text == "Improvement Board's digest is now fri 10:00."
    row = setting(core, DEFAULT_BOARD_ID, "digest")
    assert row is not None and row.value == "Fri 10:00" and row.changed_at == core.now()
    assert core.boards.default().settings.digest_schedule == "fri 10:00"
    assert "• digest: fri 10:00 (changed by Chair, " in said(core, chair, "settings")
    # Refused in one line with the form it accepts; nothing changed.
    for typed, reason in [
        ("timezone Mars/Base", "timezone 'Mars/Base' is not accepted (unknown timezone"),
        ("working_days fri-mon", "working_days 'fri-mon' is not accepted (working_days"),
        ("round_days 4", "round_days '4' is not accepted (cutoff_days (5) must be fewer"),
        ("holidays XX", "holidays 'XX' is not accepted (Country XX not available)"),
        ("escalation overdue soon: owner", "escalation 'overdue soon: owner' is not accepted"),
    ]:
        refused = run_command(core, chair, "/board", f"settings {typed}")
        assert refused.message.tone == "error"
        assert refused.message.text.startswith(reason), refused.message.text
        assert "\n" not in refused.message.text and "say it like `/board settings" in (
            refused.message.text
        )
    unknown = run_command(core, chair, "/board", "settings colour blue")
    assert unknown.message.text.startswith("There is no board setting 'colour': the settings are")
    # The environment's names work too; `default` gives the setting back to the environment.
    assert said(core, chair, "settings DIGEST_SCHEDULE tue 08:00").endswith("is now tue 08:00.")
    reset = run_command(core, chair, "/board", "settings digest default")
    assert reset.message.text == "Improvement Board's digest is the default again."
    assert setting(core, DEFAULT_BOARD_ID, "digest") is None
    assert core.boards.default().settings.digest_schedule == "mon 09:00"
    # Sign-off keeps its own words.
    off = run_command(core, chair, "/board", "settings signoff on")
    assert off.message.text.startswith("Sign-off is")


def test_a_chair_of_one_board_cannot_change_another(
    core: Core, chair: Caller, amira: Caller
) -> None:
    said(core, chair, "list")  # the bot meets them
    said(core, amira, "list")
    with transaction(core.sessions) as session:
        session.add(Board(name=SEND, created_at=AT))
    core.boards.invalidate()
    send = board_row(core, SEND).id
    with transaction(core.sessions) as session:
        put_role(session, send, person_id(core, "Amira"), Role.CHAIR)
    # The default board's chair, on SEND: refused, nothing stored.
    refused = run_command(core, chair, "/board", f"settings digest fri 10:00 in {SEND}")
    assert refused.message.text == "Only a chair can change the board's settings."
    assert setting(core, send, "digest") is None
    linking = Caller(Platform.SLACK, "chair", display_name="Chair", channel="CX")
    assert run_command(core, linking, "/board", f"link {SEND}").message.text == (
        f"Only a chair of {SEND} can link a channel to it."
    )
    # SEND's chair changes SEND, and cannot change the default board.
    mine = run_command(core, amira, "/board", f"settings digest fri 10:00 in {SEND}")
    assert mine.message.text == f"{SEND}'s digest is now fri 10:00."
    theirs = run_command(core, amira, "/board", "settings digest fri 10:00 in Improvement Board")
    assert theirs.message.text == "Only a chair can change the board's settings."
    assert setting(core, DEFAULT_BOARD_ID, "digest") is None
    assert core.boards.default().settings.digest_schedule == "mon 09:00"
    view = core.boards.get(send)
    assert view is not None and view.settings.digest_schedule == "fri 10:00"


# --------------------------------------------------------------------------- Slack, over HTTP


def typed(base: str, user: str, text: str, *, channel: str) -> dict[str, Any]:
    """A `/board` command typed by `user` in `channel` of the test workspace, signed; the
    ephemeral answer, its blocks checked by slack_sdk."""
    body = slash_command_body(
        command="/board", text=text, user_id=user, user_name="sarah", channel_id=channel
    )
    response = httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    validated(answer["blocks"])
    return answer


def test_board_commands_over_slack(base: str, slack: FakeSlack, slack_core: Core) -> None:
    created = typed(base, CHAIR, f"create {SEND}", channel="C1")
    assert created["text"].startswith(f"Board {SEND} created; you are its chair.")
    send = board_row(slack_core, SEND)
    assert send.slack_team_id == TEAM_ID
    linked = typed(base, CHAIR, f"link {SEND}", channel="CSEND")
    assert linked["text"].startswith(f"This channel is now {SEND}'s channel")
    assert board_row(slack_core, SEND).slack_channel == "CSEND"
    # The default board's channel (BOARD_CHANNEL) is the default board's.
    taken = typed(base, CHAIR, f"link {SEND}", channel=BOARD)
    assert taken["text"] == (
        "This channel is already Improvement Board's channel; a channel belongs to one board."
    )
    # Someone without a role on SEND cannot link it anywhere.
    refused = typed(base, AMIRA, f"link {SEND}", channel="CAMIRA")
    assert refused["text"] == f"Only a chair of {SEND} can link a channel to it."
    listed = typed(base, CHAIR, "list", channel="CSEND")
    shown = " ".join(str(b.get("text", {}).get("text", "")) for b in listed["blocks"])
    assert f"Improvement Board — channel {BOARD} — you: chair" in shown
    assert f"{SEND} — channel CSEND — you: chair" in shown
    # Typed in SEND's channel, settings are SEND's.
    changed = typed(base, CHAIR, "settings digest fri 10:00", channel="CSEND")
    assert changed["text"] == f"{SEND}'s digest is now fri 10:00."
    row = setting(slack_core, send.id, "digest")
    assert row is not None and row.value == "fri 10:00"
    assert setting(slack_core, DEFAULT_BOARD_ID, "digest") is None
    shown_settings = typed(base, CHAIR, "settings", channel="CSEND")
    blocks = " ".join(str(b.get("text", {}).get("text", "")) for b in shown_settings["blocks"])
    assert "digest: fri 10:00 (changed by Sarah Chair, " in blocks
    bad = typed(base, CHAIR, "settings working_hours 9-5", channel="CSEND")
    assert bad["text"].startswith("working_hours '9-5' is not accepted")


# --------------------------------------------------------------------------- command line


def actionbot(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line as an operator runs it, on the test's database, no platform set."""
    env = {**os.environ, "DATABASE_URL": database_url}
    for name in ("SLACK_BOT_TOKEN", "TEAMS_APP_ID", "CHAIR_USER_IDS", "BOARD_CHANNEL"):
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


def test_board_create_list_and_settings_on_the_command_line(core: Core, tmp_path: Path) -> None:
    url = core.settings.database_url
    with transaction(core.sessions) as session:
        session.add(Person(display_name="Dana Chair", email="dana@board.example", created_at=AT))
    created = actionbot(
        url,
        *("board", "create", SEND, "--slack-channel", "CSEND", "--slack-team", "T1"),
        *("--chair", "Dana@Board.example"),
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == (
        f"Board {SEND} created (board 2), posting to Slack channel CSEND; Dana@Board.example is "
        "its chair, and is told.\n"
    )
    send = board_row(core, SEND)
    assert (send.slack_team_id, send.slack_channel) == ("T1", "CSEND")
    with transaction(core.sessions) as session:
        assert role_on(session, send.id, person_id(core, "Dana Chair")) == Role.CHAIR
    taken = actionbot(url, "board", "create", "Other", "--slack-channel", "CSEND", cwd=tmp_path)
    assert (taken.returncode, taken.stderr) == (
        1,
        f"This channel is already {SEND}'s channel; a channel belongs to one board.\n",
    )
    unknown = actionbot(
        url, "board", "create", "Other", "--chair", "nobody@x.example", cwd=tmp_path
    )
    assert unknown.returncode == 1 and "nothing was created" in unknown.stderr
    listed = actionbot(url, "board", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "   1  Improvement Board (default: the environment's) — channel: none — workspace: "
        "the deployment's own — 0 with a role",
        f"   2  {SEND} — channel: Slack CSEND — workspace: Slack T1 — 1 with a role",
    ]
    changed = actionbot(url, "board", "settings", SEND, "digest", "fri", "10:00", cwd=tmp_path)
    assert (changed.returncode, changed.stdout) == (0, f"{SEND}: digest is now fri 10:00.\n")
    bad = actionbot(url, "board", "settings", SEND, "round_days", "99", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("round_days '99' is not accepted")
    assert bad.stderr.endswith(f"say it like `actionbot board settings '{SEND}' round_days 10`.\n")
    shown = actionbot(url, "board", "settings", SEND, cwd=tmp_path)
    assert "digest          fri 10:00  (changed by the command line on " in shown.stdout
    assert "round_days      10  (default)" in shown.stdout
    reset = actionbot(url, "board", "settings", SEND, "digest", "default", cwd=tmp_path)
    assert reset.stdout == f"{SEND}: digest is the default again.\n"
    missing = actionbot(url, "board", "settings", "Nowhere", cwd=tmp_path)
    assert missing.returncode == 1 and "There is no board called 'Nowhere'" in missing.stderr


def test_import_and_roles_on_a_named_board(core: Core, tmp_path: Path) -> None:
    url = core.settings.database_url
    with transaction(core.sessions) as session:
        session.add(Board(name=SEND, created_at=AT))
        session.add(
            Person(display_name="Helen Marsh", email="helen.marsh@council.example", created_at=AT)
        )
    readme_plan(tmp_path)
    imported = actionbot(url, "import", "plan.csv", "--board", SEND, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    with core.sessions() as session:
        boards = set(session.scalars(select(Action.board_id)))
    assert boards == {board_row(core, SEND).id}
    # The same plan on the default board is another plan: its own actions, same references.
    again = actionbot(url, "import", "plan.csv", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    with core.sessions() as session:
        refs = session.execute(select(Action.board_id, Action.ref).where(Action.ref == "1.1")).all()
    assert sorted(board for board, _ in refs) == [DEFAULT_BOARD_ID, board_row(core, SEND).id]
    nowhere = actionbot(url, "import", "plan.csv", "--board", "Nowhere", cwd=tmp_path)
    assert nowhere.returncode == 1 and "There is no board called 'Nowhere'" in nowhere.stderr
    given = actionbot(
        url,
        "people",
        "role",
        "--board",
        SEND,
        "helen.marsh@council.example",
        "secretary",
        cwd=tmp_path,
    )
    assert given.returncode == 0, given.stderr
    with transaction(core.sessions) as session:
        helen = person_id(core, "Helen Marsh")
        assert role_on(session, board_row(core, SEND).id, helen) == Role.SECRETARY
        assert role_on(session, DEFAULT_BOARD_ID, helen) == Role.NONE
    shown = actionbot(url, "people", "role", "helen.marsh@council.example", cwd=tmp_path)
    assert shown.stdout == "Helen Marsh <helen.marsh@council.example>: none\n"


def test_meetings_on_a_named_board(core: Core, tmp_path: Path) -> None:
    url = core.settings.database_url
    with transaction(core.sessions) as session:
        session.add(Board(name=SEND, created_at=AT))
    words = ("15", "Jan", "2027", "14:00", "SEND", "meeting")
    added = actionbot(url, "board", "meeting", "add", *words, "--board", SEND, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    with core.sessions() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert (meeting.board_id, meeting.title) == (board_row(core, SEND).id, "SEND meeting")
    listed = actionbot(url, "board", "meeting", "list", "--board", SEND, cwd=tmp_path)
    assert "SEND meeting on Fri 15 Jan 2027 at 14:00" in listed.stdout
    assert "No meetings to come." in actionbot(url, "board", "meeting", "list", cwd=tmp_path).stdout
    other = actionbot(url, "board", "meeting", "cancel", str(meeting.id), cwd=tmp_path)
    assert (other.returncode, other.stderr) == (1, f"There is no meeting {meeting.id}.\n")


# --------------------------------------------------------------------------- README


def test_the_readme_examples_of_many_boards_run_as_written(tmp_path: Path) -> None:
    chat = tmp_path / "chat"
    chat.mkdir()
    lines = block_after("the sample board's chair is `sarah`").splitlines()
    typed = [line.removeprefix("sarah> ") for line in lines if line.startswith("sarah> ")]
    assert typed and typed[0] == f"/board create {SEND}"
    done = run(".venv/bin/actionbot console --demo", chat, "\n".join(typed) + "\n")
    assert done.returncode == 0, done.stderr
    assert "✗" not in done.stdout, done.stdout
    assert f"• {SEND} — no channel yet — you: chair · your direct messages" in done.stdout
    commands = [c for c in block_after("`--board` puts an import").splitlines() if c.strip()]
    assert any(" board create " in c for c in commands)
    readme_plan(tmp_path)
    assert run(".venv/bin/actionbot console --demo", tmp_path, "").returncode == 0
    for command in commands:
        ran = run(command, tmp_path)
        assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
    # The register of SEND Board: the plan imported on it, not the sample board's actions.
    register = (tmp_path / "send-register.csv").read_text(encoding="utf-8-sig")
    refs = [row["ref"] for row in csv.DictReader(io.StringIO(register))]
    assert refs == ["1.1", "1.2", "1.3", "2.1"]

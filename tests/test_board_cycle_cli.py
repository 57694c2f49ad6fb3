"""`actionbot board meeting add|list|cancel` and `actionbot export --snapshot`, run as an
operator runs them (the installed command, on the test's database)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from bot.clock import FixedClock
from bot.services.context import Core
from scheduler.board_cycle import run_board_cycle
from storage.models import Meeting
from tests.scheduler_fakes import action

LATER = dt.date(2031, 6, 30)


def actionbot(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "CHAIR_USER_IDS": "chair"}
    for name in ("SLACK_BOT_TOKEN", "TEAMS_APP_ID"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_meetings_from_the_command_line(core: Core, tmp_path: Path) -> None:
    url = core.settings.database_url
    # The real clock: meetings years ahead are to come whenever the test runs.
    added = actionbot(
        url, "board", "meeting", "add", "16", "Jan", "2031", "14:00", "Board", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    out = added.stdout.decode()
    assert out.startswith("Meeting added: 1 · Board on Thu 16 Jan 2031 at 14:00 · round opens")
    assert "cut-off Thu 9 Jan 2031" in out

    holiday = actionbot(url, "board", "meeting", "add", "25", "Dec", "2030", "10:00", cwd=tmp_path)
    assert holiday.returncode == 0, holiday.stderr
    assert "Note: Wed 25 Dec 2030 is a bank holiday (Christmas Day)." in holiday.stdout.decode()

    past = actionbot(url, "board", "meeting", "add", "1", "Jan", "2020", "10:00", cwd=tmp_path)
    assert past.returncode == 1
    assert "is in the past" in past.stderr.decode()

    listed = actionbot(url, "board", "meeting", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.decode()
    assert "Meetings to come (2)" in text
    assert text.index("2 · Board meeting on Wed 25 Dec 2030") < text.index("1 · Board on Thu 16")

    cancelled = actionbot(url, "board", "meeting", "cancel", "2", cwd=tmp_path)
    assert (cancelled.returncode, cancelled.stdout.decode()) == (
        0,
        "Meeting 2 (Board meeting) cancelled: no update round for it.\n",
    )
    again = actionbot(url, "board", "meeting", "cancel", "2", cwd=tmp_path)
    assert (again.returncode, again.stderr.decode()) == (1, "Meeting 2 was already cancelled.\n")
    with core.sessions() as session:
        meeting = session.get(Meeting, 2)
        assert meeting is not None and meeting.cancelled_at is not None
        assert meeting.cancelled_by_id is None


def test_export_snapshot_as_csv_and_xlsx(core: Core, clock: FixedClock, tmp_path: Path) -> None:
    url = core.settings.database_url
    first = action(core, "Audit EHCP timeliness", owner="amira", due=LATER)
    action(core, "=cmd|' /C calc'!A0", owner="ben", due=None)
    added = actionbot(
        url, "board", "meeting", "add", "16", "Jan", "2031", "14:00", "Board", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    none_yet = actionbot(url, "export", "--snapshot", "1", cwd=tmp_path)
    assert none_yet.returncode == 1
    assert b"Meeting 1 has no snapshot yet" in none_yet.stderr
    assert actionbot(url, "export", "--snapshot", "7", cwd=tmp_path).stderr == (
        b"There is no meeting 7.\n"
    )

    clock.set(dt.datetime(2031, 1, 9, 10, 0, tzinfo=dt.UTC))  # its cut-off day
    assert run_board_cycle(core)["snapshot"] == 2

    shown = actionbot(url, "export", "--snapshot", "1", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.DictReader(io.StringIO(shown.stdout.decode("utf-8-sig"))))
    assert [r["action_id"] for r in rows] == [str(first), str(first + 1)]
    assert rows[0]["meeting"] == "Board 2031-01-16 14:00"
    assert (rows[0]["owner"], rows[0]["status"], rows[0]["due_date"]) == (
        "Amira",
        "open",
        "2031-06-30",
    )
    assert rows[0]["taken_at"] == "2031-01-09T10:00:00+00:00"
    assert rows[1]["title"].startswith("'=")  # never a formula in a spreadsheet

    out = tmp_path / "board.xlsx"
    written = actionbot(url, "export", "--snapshot", "1", "-o", str(out), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    sheet = load_workbook(out)["Snapshot"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["meeting_id", "meeting", "taken_at", "action_id"]
    assert sheet.cell(row=2, column=6).value == "Audit EHCP timeliness"
    with core.sessions() as session:
        assert session.scalars(select(Meeting)).one().cut_off_at is not None

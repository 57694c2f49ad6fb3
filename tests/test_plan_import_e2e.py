"""A plan as councils publish it, through the real `actionbot import` and `--dry-run`.

The files are built here with openpyxl (title rows, a two-row header, merged cells, banner
rows, several sheets, a people sheet, a key, fill-only RAG, a month-only date cell, owners by
name, job title, email and several in a cell, dates in words, BRAG) and as a Windows-1252 CSV
with preamble lines; the actions are then checked field by field in the database.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from storage.models import Action, HistoryEntry, Person, PersonName, Supporter
from tests.test_console import actionbot

AMBER = PatternFill("solid", fgColor="FFC000")
RED = PatternFill("solid", fgColor="FF0000")


def messy_workbook(path: Path) -> Path:
    """An Ofsted-style improvement plan: cover, plan, people sheet and key."""
    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    cover["A1"] = "Children's Services Improvement Plan"
    cover["A3"] = "Approved by Cabinet, 12 March 2026"

    plan = book.create_sheet("Improvement Plan")
    plan["A1"] = "Ofsted focused visit: improvement plan 2026/27"
    plan["A1"].font = Font(bold=True, size=14)
    plan.merge_cells("A1:H1")
    # A two-row header: "Lead" over Accountable / Supporting, "Target" over "date".
    top = ["Ref", "Actions to be taken", "Lead", None, "Target", "BRAG", "Progress update"]
    top.append("Success measure")
    plan.append([])
    plan.append(top)
    plan.append([None, None, "Accountable", "Supporting", "date", None, None, None, "Budget"])
    plan.merge_cells("C3:D3")
    for cell in plan[3]:
        cell.font = Font(bold=True)
    plan.append(["PRIORITY 1: Strengthen the front door"])
    plan.merge_cells("A5:H5")
    plan.append(
        [
            "1.1",
            "Audit 50 contacts to the front door",
            "Helen Marsh (HoS Front Door)",
            "g.lowe@council.example",
            "March 2027",
            "G",
            "Audit tool agreed",
            "90% of contacts decided within 24 hours",
            "£5,000",
        ]
    )
    plan.append(
        [
            "1.2",
            "Refresh the threshold document",
            "Head of Service – Quality",
            None,
            "Q4 2026/27",
            None,
            None,
            None,
        ]
    )
    plan["F7"].fill = AMBER  # RAG given only by the cell's colour
    plan.append(
        [
            "1.3",
            "Weekly performance clinic",
            "Dee Patel <Dee.Patel@Partner.example>",
            None,
            "Monthly",
            "A/G",
            None,
            None,
        ]
    )
    plan.append(["PRIORITY 2: Quality of practice"])
    plan.merge_cells("A9:H9")
    plan.append(
        [
            "2.1",
            "Train team managers in supervision",
            "Helen Marsh / Gareth Lowe",
            None,
            "By 31/12/2026\nBy 31/03/2027",
            "B",
            "Completed 12/10/2026",
            None,
        ]
    )
    plan.append(["2.2", "Case file audit programme", "DCS", None, None, "R", None, None])
    plan["E11"] = dt.datetime(2027, 2, 1)
    plan["E11"].number_format = "mmm-yy"
    plan["F11"].fill = RED
    plan.append([])
    plan.append(["B = Blue – complete"])

    people = book.create_sheet("Key individuals")
    people.append(["Name", "Role", "Organisation", "Email"])
    people.append(
        ["Helen Marsh", "Head of Service Front Door", "Council", "helen.marsh@council.example"]
    )
    people.append(["Gareth Lowe", "Head of Service – Quality", "Council", "g.lowe@council.example"])
    book.save(path)
    return path


def cp1252_csv(path: Path) -> Path:
    """A board action log saved by Excel on Windows: preamble lines, then the table."""
    text = (
        "Multi-agency action log\r\n"
        "Updated 3 March 2026\r\n"
        "\r\n"
        "Action,Lead officer,By when,Status,RAG,Comments\r\n"
        "Agree £20k for advocacy,zoe.hart@council.example,Autumn term 2026,On track,G,"
        "Zoë to lead\r\n"
        "Publish the partnership protocol,zoe.hart@council.example,Ongoing,On hold,A,\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    return path


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Action, HistoryEntry, Person, PersonName, Supporter)
            }
    finally:
        engine.dispose()


def actions(url: str) -> dict[str, Action]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            found = {a.ref or a.title: a for a in session.scalars(select(Action))}
            for action in found.values():
                _ = action.owner, [s.person for s in action.supporters]
            session.expunge_all()
            return found
    finally:
        engine.dispose()


def test_dry_run_previews_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    path = messy_workbook(tmp_path / "plan.xlsx")
    before = counts(database_url)
    run = actionbot(database_url, "import", str(path), "--dry-run")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert counts(database_url) == before
    assert out.startswith("Would import plan.xlsx")
    assert "Sheet 'Improvement Plan': a plan, header on rows 3-4, 5 actions" in out
    assert re.search(r"Actions to be taken\s+title", out)
    assert "Sheet 'Cover'" in out and "Sheet 'Key individuals': people" in out
    assert "Other columns, kept in notes: Budget" in out
    assert "row 13: " in out  # the key row, skipped with its reason
    assert "'Improvement Plan'!E6: \"March 2027\" →" in out
    assert "Q4 2026/27" in out
    assert "Unresolved owners (1)" in out and "\"DCS\" in 'Improvement Plan'!C11" in out
    assert "Dee Patel <dee.patel@partner.example>" in out  # not reachable in chat
    assert "RAG read from the cell's fill colour (amber)" in out
    assert "Dry run, nothing was changed: would create 5, update 0, leave 0 unchanged." in out


def test_import_loads_every_field_and_reimport_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "plan.xlsx")
    run = actionbot(database_url, "import", str(path))
    assert run.returncode == 0, run.stderr
    assert "Imported plan.xlsx: 5 created, 0 updated, 0 unchanged." in run.stdout
    got = actions(database_url)
    assert sorted(got) == ["1.1", "1.2", "1.3", "2.1", "2.2"]

    audit = got["1.1"]
    assert audit.title == "Audit 50 contacts to the front door"
    assert audit.owner is not None and audit.owner.email == "helen.marsh@council.example"
    assert [s.person.email for s in audit.supporters] == ["g.lowe@council.example"]
    assert audit.due_date == dt.date(2027, 3, 31)
    assert audit.workstream == "PRIORITY 1: Strengthen the front door"
    assert audit.success_measure == "90% of contacts decided within 24 hours"
    assert audit.notes == "Audit tool agreed\nBudget: £5,000"
    assert audit.rag is not None and audit.rag.value == "green"

    threshold = got["1.2"]
    assert threshold.owner is not None and threshold.owner.display_name == "Gareth Lowe"
    assert threshold.due_date == dt.date(2027, 3, 31)
    assert threshold.rag is not None and threshold.rag.value == "amber"  # from the fill

    clinic = got["1.3"]
    assert clinic.owner is not None and clinic.owner.email == "dee.patel@partner.example"
    assert (clinic.due_date, clinic.cadence) == (None, "monthly")
    assert clinic.rag is not None and clinic.rag.value == "amber"  # A/G: the worse

    training = got["2.1"]
    assert training.owner is not None and training.owner.display_name == "Helen Marsh"
    assert [s.person.display_name for s in training.supporters] == ["Gareth Lowe"]
    assert training.due_date == dt.date(2027, 3, 31)
    assert training.notes is not None and "Milestones: 31 Dec 2026" in training.notes
    assert training.status.value == "done"
    assert training.workstream == "PRIORITY 2: Quality of practice"

    audit2 = got["2.2"]
    assert (audit2.owner, audit2.owner_text) == (None, "DCS")
    assert audit2.due_date == dt.date(2027, 2, 28)  # month-only cell: the month's end
    assert audit2.rag is not None and audit2.rag.value == "red"

    shown = actionbot(
        database_url, "console", "--as", "sarah", stdin="/action show 1\n/action show 3\n"
    )
    assert shown.returncode == 0, shown.stderr
    assert "  Success measure: 90% of contacts decided within 24 hours" in shown.stdout
    assert "Supporting: Gareth Lowe" in shown.stdout
    assert "no deadline (monthly)" in shown.stdout

    before = counts(database_url)
    again = actionbot(database_url, "import", str(path))
    assert again.returncode == 0, again.stderr
    assert "Imported plan.xlsx: 0 created, 0 updated, 5 unchanged." in again.stdout
    assert counts(database_url) == before


def test_windows_csv_with_preamble(database_url: str, tmp_path: Path) -> None:
    path = cp1252_csv(tmp_path / "log.csv")
    run = actionbot(database_url, "import", str(path))
    assert run.returncode == 0, run.stderr
    got = actions(database_url)
    advocacy = got["Agree £20k for advocacy"]
    assert advocacy.due_date == dt.date(2026, 12, 20)  # autumn term's stated end
    assert advocacy.notes == "Zoë to lead"
    assert advocacy.status.value == "in_progress" or advocacy.status.value == "open"
    protocol = got["Publish the partnership protocol"]
    assert (protocol.due_date, protocol.status.value) == (None, "blocked")
    assert protocol.blocked_reason == "On hold"


def test_nothing_readable_exits_non_zero(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Minutes of the board\nApologies: none\n", encoding="utf-8")
    for args in (("--dry-run",), ()):
        run = actionbot(database_url, "import", str(path), *args)
        assert run.returncode == 1
        assert "notes.csv" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("sheet", ["Improvement Plan"])
def test_sheet_option_limits_the_import(database_url: str, tmp_path: Path, sheet: str) -> None:
    path = messy_workbook(tmp_path / "plan.xlsx")
    run = actionbot(database_url, "import", str(path), "--sheet", "Cover", "--dry-run")
    assert run.returncode == 1, run.stdout
    run = actionbot(database_url, "import", str(path), "--sheet", sheet, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "Sheet 'Cover'" not in run.stdout


def test_the_readme_example_works_as_written(database_url: str, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Plans in, evidence out") :]
    plan = section.split("```csv\n", 1)[1].split("```", 1)[0]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    (tmp_path / "plan.csv").write_text(plan, encoding="utf-8")
    command = section.split("`.venv/bin/actionbot ", 1)[1].split("`", 1)[0].split()
    assert command == ["import", "plan.csv", "--dry-run"]
    run = actionbot(database_url, *command, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    printed = [line.rstrip() for line in run.stdout.splitlines()]
    # The README's output is abridged: every line it shows is printed, in that order.
    at = 0
    for line in (line.rstrip() for line in shown.splitlines()):
        at = printed.index(line, at) + 1

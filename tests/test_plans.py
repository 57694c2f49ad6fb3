"""Plans in and evidence out: reading files, whole-file validation, idempotent re-import,
register and history exports, the CSV round trip, and the demo plan."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, func, select, text

from bot.boards.members import role_on
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import OPEN_STATUSES, Change, Platform, Rag, Role, Status, rules
from bot.grammar.dates import PLAN_DATE_FORMS
from bot.grammar.words import PLAN_RAG_CHOICES, PLAN_STATUS_CHOICES
from bot.people.directory import Account, ConsoleDirectory, Directory
from bot.plans.demo import PEOPLE, demo_plan, load_demo
from bot.plans.exporter import HISTORY_COLUMNS, REGISTER_COLUMNS, export_register
from bot.plans.importer import (
    ImportReport,
    PlanFileError,
    PlanImportError,
    RowError,
    import_plan,
)
from bot.plans.rows import read_due, validate_rows
from bot.plans.table import RawRow
from bot.services import history
from bot.services.context import Core
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import DEFAULT_BOARD_ID, Action, HistoryEntry, Identity, Person

#: A Monday in British Summer Time, so exported times must show the +01:00 offset.
NOW = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.UTC)
LOCAL_NOW = "2026-06-15T10:30:00+01:00"


@pytest.fixture
def plans_core(tmp_path: Path) -> Iterator[Core]:
    """A core on a freshly migrated database: TEST_DATABASE_URL (PostgreSQL) or SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'plans.db'}"
    upgrade(url)
    settings = Settings(
        _env_file=None,
        database_url=url,
        bot_timezone="Europe/London",
    )
    engine = make_engine(url)
    yield Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=FixedClock(NOW),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    engine.dispose()


class FakeDirectory:
    """A Slack-like directory that knows a few accounts and remembers every look-up."""

    platform = Platform.SLACK

    def __init__(self, *accounts: Account) -> None:
        self.by_id = {a.external_id: a for a in accounts}
        self.by_email = {a.email: a for a in accounts if a.email}
        self.calls: list[str] = []

    def lookup_id(self, external_id: str) -> Account | None:
        self.calls.append(f"id:{external_id}")
        return self.by_id.get(external_id)

    def lookup_email(self, email: str) -> Account | None:
        self.calls.append(f"email:{email}")
        return self.by_email.get(email)


def slack() -> FakeDirectory:
    return FakeDirectory(
        Account(Platform.SLACK, "U01AMIRA", "Amira Khan", "amira.khan@council.example"),
        Account(Platform.SLACK, "U01TOM", "Tom Price", "tom.price@council.example"),
        # Slack can hide emails (no users:read.email scope): the register then names the id.
        Account(Platform.SLACK, "U01HELEN", "Helen Morris", None),
    )


# Headers in any case and with spaces; an unknown column ("Comments") is ignored. Owners by
# email, Slack id and mention; dates in four forms; status and RAG words in several spellings.
GOOD = (
    " Ref , TITLE ,Owner,DUE,Workstream,Priority,Status,RAG,Notes,Comments\n"
    "CIN-01,Audit case files,amira.khan@council.example,2026-06-01,Children in need,high,"
    "In Progress,R,Priority action 1,\n"
    "CP-01,Strategy meetings in 3 days,U01TOM,1/12/2026,Child protection,,open,amber,,\n"
    ",Publish threshold document,U01HELEN,15 Dec 2026,,low,Completed,g,,\n"
    "PART-01,Police at conferences,<@U01AMIRA>,01/06/26,Partnership (police & health),,"
    "blocked,red,Awaiting rota,\n"
    "WF-01,Recruit social workers,raj.patel@police.example,2026-07-01,Workforce,,,,,\n"
)


def write(tmp_path: Path, content: str | bytes, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def add_raj(core: Core) -> None:
    """Someone the bot already knows by email (from the console), not on Slack yet."""
    with transaction(core.sessions) as s:
        raj = Person(display_name="Raj Patel", email="raj.patel@police.example", created_at=NOW)
        raj.identities.append(Identity(platform=Platform.CONSOLE, external_id="raj"))
        s.add(raj)


def load_good(core: Core, tmp_path: Path, directory: Directory | None = None) -> ImportReport:
    add_raj(core)
    return import_plan(core, write(tmp_path, GOOD), directory=directory or slack())


def snapshot(core: Core) -> tuple[int, int, int, list[tuple[int, int, dt.datetime]]]:
    """Actions, history entries, people, and each action's (id, version, updated_at)."""
    with core.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Action)) or 0,
            s.scalar(select(func.count()).select_from(HistoryEntry)) or 0,
            s.scalar(select(func.count()).select_from(Person)) or 0,
            [
                (a.id, a.version, a.updated_at)
                for a in s.scalars(select(Action).order_by(Action.id))
            ],
        )


def entries(core: Core, action_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
    with core.sessions() as s:
        query = (
            select(HistoryEntry)
            .where(HistoryEntry.action_id == action_id)
            .order_by(HistoryEntry.id)
        )
        return [(h.change, h.field, h.old_value, h.new_value) for h in s.scalars(query)]


def export(core: Core, fmt: Literal["csv", "xlsx"] = "csv", history: bool = False) -> bytes:
    out = io.BytesIO()
    export_register(core, fmt=fmt, history=history, out=out)
    return out.getvalue()


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def clock(core: Core) -> FixedClock:
    assert isinstance(core.clock, FixedClock)
    return core.clock


# --- reading and validating ---------------------------------------------------------------


def test_csv_import_creates_actions_owners_and_history(plans_core: Core, tmp_path: Path) -> None:
    directory = slack()
    report = load_good(plans_core, tmp_path, directory)
    assert report.summary() == "5 created, 0 updated, 0 unchanged"
    # Raj was known by email: no look-up. Each other owner is looked up once, before the
    # transaction; the mention of U01AMIRA is a second key for a person found by email.
    assert sorted(directory.calls) == [
        "email:amira.khan@council.example",
        "id:U01AMIRA",
        "id:U01HELEN",
        "id:U01TOM",
    ]
    with plans_core.sessions() as s:
        actions = s.scalars(select(Action).order_by(Action.id)).all()
        got = [
            (
                a.ref,
                a.title,
                a.owner.display_name if a.owner else None,
                a.due_date,
                a.status,
                a.rag,
                a.workstream,
                a.priority,
                a.notes,
                a.blocked_reason,
                a.done_at,
            )
            for a in actions
        ]
        people = {p.display_name: p for p in s.scalars(select(Person))}
        assert len(people) == 4
        assert people["Amira Khan"].identity(Platform.SLACK) is not None
        assert people["Raj Patel"].identity(Platform.SLACK) is None
    june1, dec1, dec15 = dt.date(2026, 6, 1), dt.date(2026, 12, 1), dt.date(2026, 12, 15)
    assert got == [
        ("CIN-01", "Audit case files", "Amira Khan", june1, Status.IN_PROGRESS, Rag.RED,
         "Children in need", "high", "Priority action 1", None, None),
        ("CP-01", "Strategy meetings in 3 days", "Tom Price", dec1, Status.OPEN, Rag.AMBER,
         "Child protection", None, None, None, None),
        (None, "Publish threshold document", "Helen Morris", dec15, Status.DONE, Rag.GREEN,
         None, "low", None, None, None),  # done on a day the plan does not say
        ("PART-01", "Police at conferences", "Amira Khan", june1, Status.BLOCKED, Rag.RED,
         "Partnership (police & health)", None, "Awaiting rota", "Awaiting rota", None),
        ("WF-01", "Recruit social workers", "Raj Patel", dt.date(2026, 7, 1), Status.OPEN, None,
         "Workforce", None, None, None, None),
    ]  # fmt: skip
    assert entries(plans_core, 4) == [
        ("created", None, None, "Police at conferences"),
        ("assigned", "owner", None, "Amira Khan"),
        ("due", "due", None, "2026-06-01"),
        ("status", "status", "open", "blocked"),
        ("blocked_reason", "blocked_reason", None, "Awaiting rota"),
        ("rag", "rag", None, "red"),
    ]
    with plans_core.sessions() as s:
        first = s.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).first()
        assert first is not None
        assert (first.source, first.actor_id, first.at, first.note) == (
            "import",
            None,
            NOW,
            "import of plan.csv row 2",
        )


def test_xlsx_import_with_header_below_a_blank_row(plans_core: Core, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([])  # row 1 blank: the header is the first non-empty row
    sheet.append(["  Title ", "OWNER", "Due", "Extra", "Ref"])
    sheet.append(["Excel datetime", "amira", dt.datetime(2026, 12, 1, 0, 0), "x", "X-1"])
    sheet.append(["Excel date", "amira", dt.date(2026, 12, 2), None, "X-2"])
    sheet.append([None, None, None, None, None])  # blank row: skipped
    sheet.append(["Serial number", "tom@council.example", 46357, None, "X-3"])
    sheet.append(["Month name", "tom", "1 Dec 2026", None, 7])  # a numeric ref reads as "7"
    sheet.append(["Two-digit year", "tom", "4/12/26", None, "X-5"])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    assert import_plan(plans_core, path, directory=ConsoleDirectory()).created == 5
    with plans_core.sessions() as s:
        got = [(a.ref, a.title, a.due_date) for a in s.scalars(select(Action).order_by(Action.id))]
    assert got == [
        ("X-1", "Excel datetime", dt.date(2026, 12, 1)),
        ("X-2", "Excel date", dt.date(2026, 12, 2)),
        ("X-3", "Serial number", dt.date(2026, 12, 1)),
        ("7", "Month name", dt.date(2026, 12, 1)),
        ("X-5", "Two-digit year", dt.date(2026, 12, 4)),
    ]

    # Errors name the rows Excel shows, blank rows and all.
    sheet.append([])
    sheet.append(["Bad", "tom", "someday", None, "X-6"])
    book.save(path)
    with pytest.raises(PlanImportError) as caught:
        import_plan(plans_core, path, directory=ConsoleDirectory())
    assert caught.value.errors == [RowError(10, f"due 'someday' is not a date ({PLAN_DATE_FORMS})")]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("title;owner;due\nCafé review £5k;amira;2026-12-01\n", "cp1252"),
        ("title,owner,due\nCafé review £5k,amira,2026-12-01\n", "cp1252"),
        ("title,owner,due\nCafé review £5k,amira,2026-12-01\n", "utf-8-sig"),
        ("title\towner\tdue\r\nCafé review £5k\tamira\t2026-12-01\r\n", "utf-16"),
    ],
)
def test_csv_encodings_and_separators(
    plans_core: Core, tmp_path: Path, raw: str, encoding: str
) -> None:
    import_plan(plans_core, write(tmp_path, raw.encode(encoding)), directory=ConsoleDirectory())
    with plans_core.sessions() as s:
        assert s.scalar(select(Action.title)) == "Café review £5k"


def test_a_cell_with_a_line_break_is_one_row(plans_core: Core, tmp_path: Path) -> None:
    plan = 'title,owner,due\n"Two\nlines",amira,2026-12-01\nBad,amira,soon\n'
    with pytest.raises(PlanImportError) as caught:
        import_plan(plans_core, write(tmp_path, plan), directory=ConsoleDirectory())
    assert str(caught.value).startswith("row 3: due 'soon'")


def test_every_bad_row_is_reported_and_nothing_loads(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    before = snapshot(plans_core)
    plan = "title,owner,due,ref,status,rag\n" + "".join(
        [
            "Good row,amira,2026-12-01,A-1,,\n",  # 2
            ",amira,2026-12-01,A-2,,\n",  # 3
            "No owner,,2026-12-01,A-3,,\n",  # 4: unassigned, not an error
            "Bad date,amira,31/2/2026,A-4,,\n",  # 5
            "Relative date,amira,next friday,A-5,,\n",  # 6
            "No date,amira,,A-6,,\n",  # 7
            "Bad status,amira,2026-12-01,A-7,nearly,\n",  # 8
            "Bad rag,amira,2026-12-01,A-8,,purple\n",  # 9
            "Name as owner,Amira Khan,2026-12-01,A-9,,\n",  # 10: a name, for the directory
            ",,,,,\n",  # 11: blank, skipped
            "Same ref,amira,2026-12-01,a-1,,\n",  # 12
            "Twice,amira,2026-12-01,,,\n",  # 13
            "twice,tom,2026-12-02,,,\n",  # 14
            "Two problems,,tomorrow,A-10,,\n",  # 15
            f"Long ref,amira,2026-12-01,{'R' * 65},,\n",  # 16
            "Good too,tom,2026-12-01,A-11,done,g\n",  # 17
        ]
    )
    with pytest.raises(PlanImportError) as caught:
        import_plan(plans_core, write(tmp_path, plan), directory=slack())
    hint = f"({PLAN_DATE_FORMS})"
    assert str(caught.value).splitlines() == [
        "row 3: title is empty",
        "row 5: due '31/2/2026' is not a real date: February 2026 has 28 days",
        f"row 6: due 'next friday' is not a date {hint}",
        f"row 8: status 'nearly' is not one of {PLAN_STATUS_CHOICES}",
        f"row 9: rag 'purple' is not one of {PLAN_RAG_CHOICES}",
        "row 12: ref 'a-1' is also on row 2",
        "row 14: title 'twice' is also on row 13; give rows with the same title a ref each",
        f"row 15: due 'tomorrow' is not a date {hint}",
        "row 16: ref is longer than 64 characters",
    ]
    assert caught.value.errors[0] == RowError(3, "title is empty")
    assert snapshot(plans_core) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "plan.csv",
            "Improvement plan\n\nOwner,Due,Notes\namira,2026-12-01,\n",
            "no plan table found: looked in the first 30 rows for a header row with a column "
            "of actions (Action, Title, Task, What we will do …) and at least one more known "
            "column (Lead officer, Target date, Status, RAG …). row 3 has 'Owner', "
            "'Due', 'Notes' but no column of actions (head it 'Action')",
        ),
        (
            "plan.csv",
            "\n\nTitle\nAudit\n",
            "no plan table found: looked in the first 30 rows",
        ),
        ("plan.csv", "title,owner,due,Title\n", "the column 'title' appears twice"),
        ("plan.csv", " \n,,\n", "the file is empty"),
        ("plan.txt", "title,owner,due\n", "a plan must be a .csv or .xlsx file"),
        ("plan.xls", "", "save the plan as an Excel workbook (.xlsx) or as CSV"),
        ("plan.xlsx", "not a zip", "not a readable .xlsx workbook"),
        ("plan.csv", b"title,owner,due\n\x81\x8d,amira,2026-12-01\n", "the file is neither UTF-8"),
    ],
)
def test_unreadable_files(
    plans_core: Core, tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    with pytest.raises(PlanFileError) as caught:
        import_plan(plans_core, write(tmp_path, content, name), directory=ConsoleDirectory())
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, PlanImportError)  # the CLI reports both the same way
    assert snapshot(plans_core)[0] == 0


def test_a_missing_file_is_an_os_error(plans_core: Core, tmp_path: Path) -> None:
    for name in ("missing.csv", "missing.xlsx"):
        with pytest.raises(FileNotFoundError):
            import_plan(plans_core, tmp_path / name, directory=ConsoleDirectory())


def test_header_only_file_imports_nothing(plans_core: Core, tmp_path: Path) -> None:
    path = write(tmp_path, "title,owner,due\n")
    assert import_plan(plans_core, path, directory=ConsoleDirectory()) == ImportReport()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("2026-12-01 00:00:00", dt.date(2026, 12, 1)),
        ("2026/12/01", dt.date(2026, 12, 1)),  # a datetime cell saved as CSV
        ("1/12/2026", dt.date(2026, 12, 1)),
        ("01/12/26", dt.date(2026, 12, 1)),
        ("1.12.2026", dt.date(2026, 12, 1)),
        ("1-12-2026", dt.date(2026, 12, 1)),
        ("1 Dec 2026", dt.date(2026, 12, 1)),
        ("1st December 2026", dt.date(2026, 12, 1)),
        ("01-Dec-26", dt.date(2026, 12, 1)),  # Excel's d-mmm-yy
        (" 1  DEC 2026 ", dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 1, 17, 0), dt.date(2026, 12, 1)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
        (46357, dt.date(2026, 12, 1)),
        (46357.0, dt.date(2026, 12, 1)),
    ],
)
def test_plan_dates(cell: object, expected: dt.date) -> None:
    assert read_due(cell).due == expected


@pytest.mark.parametrize(
    "cell", ["12/31/2026", "2026-02-30", "1 Dec", "friday", "1 Smarch 2026", 12, 46357.5, True]
)
def test_not_plan_dates(cell: object) -> None:
    # Year-less and relative dates would move on every re-import, so a plan may not use them.
    with pytest.raises(ValueError, match=r"is not a (real )?date"):
        read_due(cell)


def test_rows_are_read_without_a_database() -> None:
    raw = RawRow(
        5,
        {
            "title": " Audit ",
            "owner": "<@U01AMIRA>",
            "due": dt.datetime(2026, 12, 1, 9, 0),
            "ref": 7.0,
            "status": "Not  Started",
            "rag": "A",
            "notes": "'=1+1",
        },
    )
    (row,) = validate_rows([raw])
    assert [owner.key for owner in row.owners] == [("id", "U01AMIRA")]
    owners = {"owner", "owners", "supporting", "owner_cell", "owner_at", "supporting_at"}
    assert row.model_dump(exclude=owners) == {
        "row": 5,
        "title": "Audit",
        "due": dt.date(2026, 12, 1),
        "cadence": None,
        "milestones": (),
        "due_words": None,
        "ref": "7",
        "workstream": None,
        "priority": None,
        "status": Status.OPEN,
        "rag": Rag.AMBER,
        "done_on": None,
        "blocked_reason": None,
        "notes": "=1+1",
        "success_measure": None,
        "warnings": (),
        "readings": (),
    }


# --- owners --------------------------------------------------------------------------------


def test_unknown_owners_load_unassigned(plans_core: Core, tmp_path: Path) -> None:
    plan = (
        "title,owner,due\n"
        "Audit,amira.khan@council.example,2026-12-01\n"
        "Train,U0NOBODY,2026-12-01\n"
        "Review,nobody@council.example,2026-12-01\n"
        "Again,U0NOBODY,2026-12-02\n"
    )
    report = import_plan(plans_core, write(tmp_path, plan), directory=slack())
    assert report.summary() == "4 created, 0 updated, 0 unchanged"
    with plans_core.sessions() as s:
        got = [
            (
                a.title,
                a.owner.display_name if a.owner else None,
                a.owner.email if a.owner else None,
                [i.external_id for i in a.owner.identities] if a.owner else None,
                a.owner_text,
            )
            for a in s.scalars(select(Action).order_by(Action.id))
        ]
    # Slack has nobody by that email: still the owner, kept by email, not reachable in chat.
    # Slack has no user U0NOBODY: the action is unassigned and keeps the plan's words.
    assert got == [
        ("Audit", "Amira Khan", "amira.khan@council.example", ["U01AMIRA"], None),
        ("Train", None, None, None, "U0NOBODY"),
        ("Review", "Nobody", "nobody@council.example", [], None),
        ("Again", None, None, None, "U0NOBODY"),
    ]


# --- re-import ---------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    before = snapshot(plans_core)
    clock(plans_core).advance(dt.timedelta(days=1))
    directory = slack()
    report = import_plan(plans_core, tmp_path / "plan.csv", directory=directory)
    assert report.summary() == "0 created, 0 updated, 5 unchanged"
    assert snapshot(plans_core) == before  # no history, no version bump, no updated_at
    assert directory.calls == []  # every owner is known now


def test_a_changed_row_updates_only_what_changed(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    before = dict((i, (v, u)) for i, v, u in snapshot(plans_core)[3])
    clock(plans_core).advance(dt.timedelta(days=1))
    later = NOW + dt.timedelta(days=1)
    changed = (
        "ref,title,owner,due,status,rag,notes,priority\n"
        # moved, re-rated, blocked with a reason; Tom named by email instead of id
        "CP-01,Strategy meetings in 3 days,tom.price@council.example,8/12/2026,Blocked,R,"
        "Waiting for police data,\n"
        # ref-less: matched by title ignoring case; reopened
        ",PUBLISH threshold document,U01HELEN,2026-12-15,open,,,\n"
        # unblocked: the reason goes, the notes stay
        "PART-01,Police at conferences,U01AMIRA,2026-06-01,in-progress,,,\n"
        # blank cells keep what the register holds (RAG, notes, priority of CIN-01)
        "CIN-01,Audit case files,amira.khan@council.example,2026-06-01,,,,\n"
    )
    report = import_plan(plans_core, write(tmp_path, changed, "v2.csv"), directory=slack())
    assert report.summary() == "0 created, 3 updated, 1 unchanged"
    with plans_core.sessions() as s:
        new = s.scalars(
            select(HistoryEntry).where(HistoryEntry.at == later).order_by(HistoryEntry.id)
        ).all()
        got = [(h.action_id, h.change, h.field, h.old_value, h.new_value, h.note) for h in new]
        actions = {a.id: a for a in s.scalars(select(Action))}
    note = "import of v2.csv row"
    # Tom by email is Tom by Slack id: no reassignment.
    assert got == [
        (2, "due", "due", "2026-12-01", "2026-12-08", f"{note} 2"),
        (2, "status", "status", "open", "blocked", f"{note} 2"),
        (2, "rag", "rag", "amber", "red", f"{note} 2"),
        (2, "notes", "notes", None, "Waiting for police data", f"{note} 2"),
        (2, "blocked_reason", "blocked_reason", None, "Waiting for police data", f"{note} 2"),
        (3, "title", "title", "Publish threshold document", "PUBLISH threshold document",
         f"{note} 3"),
        (3, "status", "status", "done", "open", f"{note} 3"),
        (4, "status", "status", "blocked", "in_progress", f"{note} 4"),
    ]  # fmt: skip
    assert actions[2].blocked_reason == "Waiting for police data"
    assert (actions[3].status, actions[3].done_at) == (Status.OPEN, None)
    assert (actions[4].blocked_reason, actions[4].notes) == (None, "Awaiting rota")
    assert (actions[1].rag, actions[1].priority) == (Rag.RED, "high")
    after = {a.id: (a.version, a.updated_at) for a in actions.values()}
    for action_id in (2, 3, 4):
        assert after[action_id] == (before[action_id][0] + 1, later)
    assert after[1] == before[1] and after[5] == before[5]


def test_reassignment_by_import(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    moved = "ref,title,owner,due\nWF-01,Recruit social workers,U01TOM,2026-07-01\n"
    report = import_plan(plans_core, write(tmp_path, moved, "v2.csv"), directory=slack())
    assert report.summary() == "0 created, 1 updated, 0 unchanged"
    assert entries(plans_core, 5)[-1] == ("assigned", "owner", "Raj Patel", "Tom Price")


# --- export ---------------------------------------------------------------------------------


REGISTER = [
    list(REGISTER_COLUMNS),
    ["1", "CIN-01", "Audit case files", "amira.khan@council.example",
     "amira.khan@council.example", "Children in need", "high", "in progress", "red",
     "2026-06-01", "14", "", "Priority action 1", LOCAL_NOW, LOCAL_NOW, "", "", "", "", ""],
    ["2", "CP-01", "Strategy meetings in 3 days", "tom.price@council.example",
     "tom.price@council.example", "Child protection", "", "open", "amber", "2026-12-01", "0",
     "", "", LOCAL_NOW, LOCAL_NOW, "", "", "", "", ""],
    ["3", "", "Publish threshold document", "U01HELEN", "", "", "low", "done", "green",
     "2026-12-15", "0", "", "", LOCAL_NOW, LOCAL_NOW, "", "", "", "", ""],
    ["4", "PART-01", "Police at conferences", "amira.khan@council.example",
     "amira.khan@council.example", "Partnership (police & health)", "", "blocked", "red",
     "2026-06-01", "14", "Awaiting rota", "Awaiting rota", LOCAL_NOW, LOCAL_NOW, "", "", "",
     "", ""],
    ["5", "WF-01", "Recruit social workers", "raj.patel@police.example",
     "raj.patel@police.example", "Workforce", "", "open", "", "2026-07-01", "0", "", "",
     LOCAL_NOW, LOCAL_NOW, "", "", "", "", ""],
]  # fmt: skip
# The plan's deadline is each action's baseline; nothing has moved, so no slippage.
REGISTER = [REGISTER[0], *([*row, row[9], "0", "0"] for row in REGISTER[1:])]


def mark_done_in_chat(core: Core) -> None:
    """Amira marks #1 done from Slack a day later, as bot/services/actions.py would."""
    clock(core).set(dt.datetime(2026, 6, 16, 8, 0, tzinfo=dt.UTC))
    with transaction(core.sessions) as s:
        action = s.get(Action, 1)
        amira = s.scalars(select(Person).where(Person.display_name == "Amira Khan")).one()
        assert action is not None
        rules.move(action, Status.DONE, now=core.now())
        action.updated_at = core.now()
        history.record(
            s,
            action=action,
            actor=amira,
            source="slack",
            at=core.now(),
            change=Change.STATUS,
            old="in_progress",
            new="done",
            note="all 50 audited",
        )


def test_export_register_csv(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    assert read_csv(export(plans_core)) == REGISTER


def test_export_history_csv(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    mark_done_in_chat(plans_core)
    rows = read_csv(export(plans_core, history=True))
    assert rows[0] == list(HISTORY_COLUMNS)
    assert len(rows) == 1 + 24  # 5 + 4 + 5 + 6 + 3 import entries, one change in chat
    # Each row ends with its seal and its link (storage.history_chain), both hex SHA-256.
    assert rows[0][-2:] == ["hash", "prev_hash"]
    seals = [cell for row in rows[1:] for cell in row[-2:]]
    assert all(len(cell) == 64 and set(cell) <= set("0123456789abcdef") for cell in seals)
    rows = [row[:-2] for row in rows]
    note = "import of plan.csv row 2"
    head = [LOCAL_NOW, "1", "CIN-01", "Audit case files", "import", "", "import"]
    assert rows[1:6] == [
        [*head, "created", "", "", "Audit case files", note],
        [*head, "assigned", "owner", "", "Amira Khan", note],
        [*head, "due", "due", "", "2026-06-01", note],
        [*head, "status", "status", "open", "in_progress", note],
        [*head, "rag", "rag", "", "red", note],
    ]
    # Oldest first; a person's change names them; times in BST with their offset.
    assert rows[-1] == [
        "2026-06-16T09:00:00+01:00", "1", "CIN-01", "Audit case files", "Amira Khan",
        "amira.khan@council.example", "slack", "status", "status", "in_progress", "done",
        "all 50 audited",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


def test_export_xlsx_register_and_history(plans_core: Core, tmp_path: Path) -> None:
    plan = GOOD + ',"=HYPERLINK(""http://evil.example"",""x"")",U01TOM,2026-12-01\n'
    add_raj(plans_core)
    import_plan(plans_core, write(tmp_path, plan), directory=slack())
    path = tmp_path / "out.xlsx"
    path.write_bytes(export(plans_core, "xlsx", history=True))
    book = load_workbook(path)
    assert book.sheetnames == ["Register", "History"]
    register, changes = book["Register"], book["History"]
    for sheet, columns in ((register, REGISTER_COLUMNS), (changes, HISTORY_COLUMNS)):
        assert [c.value for c in sheet[1]] == list(columns)
        assert all(c.font.bold for c in sheet[1])
        assert sheet.freeze_panes == "A2"
    values = [[c.value for c in row] for row in register.iter_rows(min_row=2)]
    assert values[0] == [
        1, "CIN-01", "Audit case files", "amira.khan@council.example",
        "amira.khan@council.example", "Children in need", "high", "in progress", "red",
        dt.datetime(2026, 6, 1), 14, None, "Priority action 1", LOCAL_NOW, LOCAL_NOW, None,
        None, None, None, None, dt.datetime(2026, 6, 1), 0, 0,
    ]  # fmt: skip
    assert register["J2"].number_format == "yyyy-mm-dd"
    # The formula is kept as text, never as a formula Excel would run.
    evil = register["C7"]
    assert (evil.value, evil.data_type, evil.quotePrefix) == (
        '=HYPERLINK("http://evil.example","x")',
        "s",
        True,
    )
    widths = {c: register.column_dimensions[c].width for c in "ACM"}
    assert widths["A"] < widths["C"] <= 62 and widths["M"] >= len("Priority action 1")
    assert changes.max_row == 1 + 23 + 3
    assert [c.value for c in changes[2]][:8] == [
        LOCAL_NOW, 1, "CIN-01", "Audit case files", "import", None, "import", "created",
    ]  # fmt: skip

    register_only = tmp_path / "register.xlsx"
    register_only.write_bytes(export(plans_core, "xlsx"))
    assert load_workbook(register_only).sheetnames == ["Register"]


def test_csv_injection_is_escaped_and_round_trips(plans_core: Core, tmp_path: Path) -> None:
    plan = (
        "title,owner,due,notes,workstream\n"
        '"=HYPERLINK(""http://evil.example"",""x"")",tom,2026-12-01,+1,\n'
        "+SUM(A1:A9),tom,2026-12-01,-1,@cmd\n"
        "@SUM(1),tom,2026-12-01,,\n"
        "- hyphen bullet,tom,2026-12-01,,\n"
        "Plain = fine,tom,2026-12-01,a-b,\n"
    )
    import_plan(plans_core, write(tmp_path, plan), directory=ConsoleDirectory())
    rows = read_csv(export(plans_core))
    got = [(r[2], r[12], r[5]) for r in rows[1:]]
    assert got == [
        ('\'=HYPERLINK("http://evil.example","x")', "'+1", ""),
        ("'+SUM(A1:A9)", "'-1", "'@cmd"),
        ("'@SUM(1)", "", ""),
        ("'- hyphen bullet", "", ""),
        ("Plain = fine", "a-b", ""),
    ]
    with plans_core.sessions() as s:
        titles = list(s.scalars(select(Action.title).order_by(Action.id)))
    assert titles[:2] == ['=HYPERLINK("http://evil.example","x")', "+SUM(A1:A9)"]
    # The importer takes the guard off again: nothing changes.
    before = snapshot(plans_core)
    path = write(tmp_path, export(plans_core), "register.csv")
    report = import_plan(plans_core, path, directory=ConsoleDirectory())
    assert report.summary() == "0 created, 0 updated, 5 unchanged"
    assert snapshot(plans_core) == before


def test_exported_register_reimports_unchanged(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    mark_done_in_chat(plans_core)
    before = snapshot(plans_core)
    path = write(tmp_path, export(plans_core), "register.csv")
    directory = slack()
    report = import_plan(plans_core, path, directory=directory)
    assert report.summary() == "0 created, 0 updated, 5 unchanged"
    assert snapshot(plans_core) == before
    assert directory.calls == []

    # Edited in a spreadsheet and loaded back: only the edit lands.
    rows = read_csv(path.read_bytes())
    rows[2][REGISTER_COLUMNS.index("due")] = "2026-12-24"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    report = import_plan(plans_core, path, directory=directory)
    assert report.summary() == "0 created, 1 updated, 4 unchanged"
    assert entries(plans_core, 2)[-1] == ("due", "due", "2026-12-01", "2026-12-24")


def test_console_owner_without_email_round_trips(plans_core: Core, tmp_path: Path) -> None:
    plan = "title,owner,due\nAudit,Amira,2026-12-01\n"
    import_plan(plans_core, write(tmp_path, plan), directory=ConsoleDirectory())
    rows = read_csv(export(plans_core))
    assert (rows[1][3], rows[1][4]) == ("amira", "")
    path = write(tmp_path, export(plans_core), "register.csv")
    report = import_plan(plans_core, path, directory=ConsoleDirectory())
    assert report.summary() == "0 created, 0 updated, 1 unchanged"


# --- the demo plan -------------------------------------------------------------------------


def test_demo_plan_loads_once_with_overdue_done_and_blocked(plans_core: Core) -> None:
    today = plans_core.today()
    rows = demo_plan(today)
    assert 12 <= len(rows) <= 14
    assert {r["workstream"] for r in rows} == {
        "Children in need",
        "Child protection",
        "Partnership (police & health)",
        "Workforce",
        "IT & case recording",
        "Quality assurance",
    }
    assert all(r["owner"].endswith(".example") for r in rows)

    assert load_demo(plans_core) == len(rows)
    with plans_core.sessions() as s:
        actions = s.scalars(select(Action)).all()
        people = {p.display_name: p for p in s.scalars(select(Person))}
        roles = {p.id: role_on(s, DEFAULT_BOARD_ID, p.id) for p in people.values()}
        history_count = s.scalar(select(func.count()).select_from(HistoryEntry))
    late = sorted(
        (today - a.due_date).days
        for a in actions
        if a.due_date and a.due_date < today and a.status in OPEN_STATUSES
    )
    assert len(late) >= 3 and all(2 <= days <= 20 for days in late)
    this_week = [a for a in actions if a.due_date and 0 <= (a.due_date - today).days < 7]
    assert len(this_week) >= 3
    statuses = [a.status for a in actions]
    assert 2 <= statuses.count(Status.DONE) <= 3 and statuses.count(Status.BLOCKED) == 1
    blocked = next(a for a in actions if a.status == Status.BLOCKED)
    assert blocked.blocked_reason
    assert sum(a.rag is not None for a in actions) > len(actions) // 2
    owners = {a.owner.display_name for a in actions if a.owner}
    assert len(owners) == 6
    sarah = people["Sarah Mitchell"]
    assert roles[sarah.id] == Role.CHAIR and sarah.email == "sarah.mitchell@board.example"
    identity = sarah.identity(Platform.CONSOLE)
    assert identity is not None and identity.external_id == "sarah"
    assert {p.display_name for p in people.values() if roles[p.id] == Role.CHAIR} == {
        p.display_name for p in PEOPLE if p.role == Role.CHAIR
    }
    assert history_count

    before = snapshot(plans_core)
    assert load_demo(plans_core) == 0
    assert snapshot(plans_core) == before


def test_demo_plan_is_not_mixed_with_a_real_plan(plans_core: Core, tmp_path: Path) -> None:
    load_good(plans_core, tmp_path)
    before = snapshot(plans_core)
    assert load_demo(plans_core) == 0
    assert snapshot(plans_core) == before

"""Plans in and evidence out: import validation, idempotent re-import, exports, the demo."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.plans.demo import load_demo
from bot.plans.exporter import HISTORY_COLUMNS, REGISTER_COLUMNS, export_register
from bot.plans.importer import PlanImportError, import_plan
from bot.services.context import Caller, Core
from bot.services.directory import ConsoleDirectory
from bot.services.dispatch import run_command
from storage.models import Action, HistoryEntry, Status

HEADER = "Ref,Title,OWNER,Due,Workstream,Status,RAG,Notes,Extra column\n"
GOOD = HEADER + (
    "CIN-01,Audit case files,amira.khan@council.example,2026-12-01,Children in need,open,red,,x\n"
    "CP-01,Strategy meetings in 3 days,tom,1/12/2026,Child protection,in progress,amber,,\n"
    ",Publish threshold document,helen,15 Dec 2026,,done,green,,\n"
)


def write(tmp_path: Path, text: str, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(core: Core, path: Path):  # type: ignore[no-untyped-def]
    return import_plan(core, path, directory=ConsoleDirectory())


def counts(core: Core) -> tuple[int, int, list[int]]:
    with core.sessions() as s:
        actions = s.scalar(select(func.count()).select_from(Action)) or 0
        history = s.scalar(select(func.count()).select_from(HistoryEntry)) or 0
        versions = list(s.scalars(select(Action.version).order_by(Action.id)))
    return actions, history, versions


def test_csv_import_creates_actions_with_history(core: Core, tmp_path: Path) -> None:
    report = load(core, write(tmp_path, GOOD))
    assert report.summary() == "3 created, 0 updated, 0 unchanged"
    with core.sessions() as s:
        rows = s.scalars(select(Action).order_by(Action.id)).all()
        got = [
            (
                a.ref,
                a.title,
                a.owner.display_name if a.owner else None,
                a.due_date.isoformat() if a.due_date else None,
                a.status,
                a.rag.value if a.rag else None,
            )
            for a in rows
        ]
        history = s.scalars(select(HistoryEntry).where(HistoryEntry.action_id == 3)).all()
        assert [(h.change, h.source, h.note) for h in history][-1] == (
            "status",
            "import",
            "import of plan.csv row 4",
        )
    assert got == [
        ("CIN-01", "Audit case files", "Amira Khan", "2026-12-01", Status.OPEN, "red"),
        ("CP-01", "Strategy meetings in 3 days", "Tom", "2026-12-01", Status.IN_PROGRESS, "amber"),
        (None, "Publish threshold document", "Helen", "2026-12-15", Status.DONE, "green"),
    ]


def test_reimport_changes_nothing_and_updates_by_ref(core: Core, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    load(core, path)
    before = counts(core)
    assert load(core, path).summary() == "0 created, 0 updated, 3 unchanged"
    assert counts(core) == before
    changed = GOOD.replace("1/12/2026", "8/12/2026")
    assert load(core, write(tmp_path, changed)).summary() == "0 created, 1 updated, 2 unchanged"
    with core.sessions() as s:
        entry = s.scalars(select(HistoryEntry).order_by(HistoryEntry.id.desc())).first()
        assert entry is not None
        assert (entry.action_id, entry.field, entry.old_value, entry.new_value) == (
            2,
            "due",
            "2026-12-01",
            "2026-12-08",
        )


def test_bad_rows_are_all_reported_and_nothing_loads(core: Core, tmp_path: Path) -> None:
    text = HEADER + (
        "A-1,Good row,amira,2026-12-01,,,,,\n"
        "A-2,,amira,2026-12-01,,,,,\n"
        "A-3,No owner,,2026-12-01,,,,,\n"
        "A-4,Bad date,amira,31/2/2026,,,,,\n"
        "A-5,Bad status,amira,2026-12-01,,nearly,,,\n"
        "A-6,Bad rag,amira,2026-12-01,,,purple,,\n"
        "A-1,Duplicate ref,amira,2026-12-01,,,,,\n"
    )
    with pytest.raises(PlanImportError) as caught:
        load(core, write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert lines[0] == "row 3: title is empty"
    assert lines[1] == "row 4: owner is empty"
    assert lines[2].startswith("row 5: due '31/2/2026' is not a date")
    assert lines[3].startswith("row 6: status 'nearly' is not one of")
    assert lines[4].startswith("row 7: rag 'purple' is not one of")
    assert lines[5] == "row 8: ref 'A-1' is also on row 2"
    assert counts(core) == (0, 0, [])


def test_missing_column_and_wrong_type(core: Core, tmp_path: Path) -> None:
    with pytest.raises(PlanImportError, match="missing column"):
        load(core, write(tmp_path, "title,owner\nX,amira\n"))
    with pytest.raises(PlanImportError, match=r"\.csv or \.xlsx"):
        load(core, write(tmp_path, "x", name="plan.txt"))


def test_xlsx_import(core: Core, tmp_path: Path) -> None:
    import datetime as dt

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Owner", "Due", "Ref"])
    sheet.append(["Audit", "amira", dt.datetime(2026, 12, 1), "X-1"])
    sheet.append([None, None, None, None])
    sheet.append(["Train", "tom@council.example", "2/12/2026", "X-2"])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    assert load(core, path).created == 2
    with core.sessions() as s:
        dues = list(s.scalars(select(Action.due_date).order_by(Action.id)))
    assert [d.isoformat() for d in dues if d] == ["2026-12-01", "2026-12-02"]


def export(core: Core, fmt: str = "csv", history: bool = False) -> bytes:
    out = io.BytesIO()
    export_register(core, fmt=fmt, history=history, out=out)  # type: ignore[arg-type]
    return out.getvalue()


def test_export_register_history_and_round_trip(
    core: Core, tmp_path: Path, chair: Caller, amira: Caller
) -> None:
    load(core, write(tmp_path, GOOD))
    run_command(core, Caller(amira.platform, "amira.khan"), "/action", "done 1 all audited")
    rows = list(csv.reader(io.StringIO(export(core).decode("utf-8-sig"))))
    assert tuple(rows[0]) == REGISTER_COLUMNS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["id"], first["ref"], first["owner"], first["status"], first["due"]) == (
        "1",
        "CIN-01",
        "amira.khan@council.example",
        "done",
        "2026-12-01",
    )
    history = list(csv.reader(io.StringIO(export(core, history=True).decode("utf-8-sig"))))
    assert tuple(history[0]) == HISTORY_COLUMNS
    last = dict(zip(history[0], history[-1], strict=True))
    assert (last["who"], last["change"], last["old_value"], last["new_value"], last["note"]) == (
        "Amira Khan",
        "status",
        "open",
        "done",
        "all audited",
    )
    assert last["at"] == "2026-11-23T09:30:00+00:00"
    # The register re-imports cleanly and changes nothing.
    before = counts(core)
    path = tmp_path / "register.csv"
    path.write_bytes(export(core))
    assert load(core, path).summary() == "0 created, 0 updated, 3 unchanged"
    assert counts(core) == before


def test_csv_injection_is_neutralised(core: Core, tmp_path: Path) -> None:
    load(core, write(tmp_path, 'title,owner,due\n"=HYPERLINK(""http://x"")",amira,2026-12-01\n'))
    rows = list(csv.reader(io.StringIO(export(core).decode("utf-8-sig"))))
    assert rows[1][2] == '\'=HYPERLINK("http://x")'
    with core.sessions() as s:
        assert s.scalar(select(Action.title)) == '=HYPERLINK("http://x")'


def test_xlsx_export_has_both_sheets(core: Core, tmp_path: Path) -> None:
    load(core, write(tmp_path, GOOD))
    path = tmp_path / "out.xlsx"
    path.write_bytes(export(core, "xlsx", history=True))
    book = load_workbook(path)
    assert book.sheetnames == ["Register", "History"]
    assert [c.value for c in book["Register"][1]] == list(REGISTER_COLUMNS)
    assert book["Register"]["C2"].value == "Audit case files"
    assert book["History"].max_row == 1 + 3 * 3 + 2  # created/owner/due each, two statuses


def test_demo_loads_once(core: Core) -> None:
    assert load_demo(core) == 14
    assert load_demo(core) == 0
    with core.sessions() as s:
        statuses = list(s.scalars(select(Action.status)))
        overdue = s.scalar(
            select(func.count())
            .select_from(Action)
            .where(
                Action.due_date < core.today(),
                Action.status.in_([Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED]),
            )
        )
    assert statuses.count(Status.DONE) == 2 and statuses.count(Status.BLOCKED) == 1
    assert overdue == 4

"""8. Fuzzed plan files: random .csv and .xlsx files, junk, zip bombs, through the importer.

Every file gets a clear answer: a correct import, or PlanImportError/PlanFileError with a
message. A refused import leaves every table as it was, a dry run never writes, and a dry run
predicts exactly what the import then does. Most files go through the importer in-process
(fast); a few through `actionbot import --dry-run` to check exit codes and messages.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from sqlalchemy import func, select

from bot.people.directory import ConsoleDirectory
from bot.plans.importer import PlanImportError, import_file
from bot.plans.layout import _PEOPLE_SYNONYMS, _PLAN_SYNONYMS
from bot.plans.preview import Preview, render_preview
from bot.plans.reader import MAX_CELL_CHARS, MAX_UNZIPPED_BYTES, read_plan
from bot.plans.table import PlanFileError
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action, Base
from tests.reliability.conftest import SOAK, Tally

ROOT = Path(__file__).resolve().parents[2]
AREA = "8 fuzzed plan files"

CSV_EXAMPLES = 400 if SOAK else 60
XLSX_EXAMPLES = 300 if SOAK else 40
JUNK_EXAMPLES = 400 if SOAK else 60

FUZZ = settings(
    deadline=None,
    # Every example touches the database: shrinking a failure takes minutes, and the failing
    # file as generated names its cells well enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=not SOAK,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

HEADERS = sorted(
    {word for words in _PLAN_SYNONYMS.values() for word in words}
    | {word for words in _PEOPLE_SYNONYMS.values() for word in words}
)
WORD_DATES = [
    "March 2027",
    "end of March 2027",
    "Q4 2026/27",
    "Spring term 2027",
    "Winter 9999",
    "0000",
    "ongoing",
    "Ongoing",
    "31/2/2026",
    "tbc",
    "1/12/2026",
    "2026-12-31",
    "Sept 26",
    "w/c 7 Dec",
    "end of year",
    "Summer 2027",
    "13/13/13",
    "46357",
    "-1",
    "December",
    "next week",
]
OWNERS = [
    "Amira Khan",
    "amira@example.gov.uk",
    "Head of Service",
    "A / B",
    "Marsh, Helen",
    "Helen Marsh <h.marsh@example.gov.uk>, Ben <ben@example.gov.uk>",
    "<@U0123ABCD>",
    "n/a",
    "All",
    "TBC",
    "x" * 400,
    "@",
    "<>",
]
ODD = [
    "=A1+7",
    '=HYPERLINK("http://evil")',
    "+1",
    "-",
    "@SUM(A1)",
    "'=quoted",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "👩🏽‍💻",
    "Zoë £5",
    "line\nbreak",
    "\r",
    "\t",
    ";",
    ",",
    '"',
    "'; DROP TABLE x;--",
    "Red",
    "Amber",
    "A/G",
    "Green",
    "Blue",
    "Done",
    "On track",
    "Blocked",
]


def cells() -> st.SearchStrategy[Any]:
    # Huge cells are rare: one in a file refuses it, and most files should get further.
    return st.one_of(*[odd_cells()] * 12, st.just("y" * (MAX_CELL_CHARS + 1)), st.just("z" * 3000))


def odd_cells() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.text(max_size=30),
        st.sampled_from(WORD_DATES),
        st.sampled_from(OWNERS),
        st.sampled_from(ODD),
        st.sampled_from(HEADERS),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    )


PLAN_HEADER = ["Ref", "Action", "Lead officer", "Target date", "RAG", "Status", "Supporting"]
PEOPLE_HEADER = ["Name", "Role", "Organisation", "Email", "Aliases"]


#: Cells that fit their column, so that many fuzzed plans load (one odd cell refuses a file).
FITTING: dict[str, st.SearchStrategy[Any]] = {
    "Ref": st.one_of(st.integers(1, 60).map(lambda n: f"{n // 10}.{n % 10}"), st.none()),
    "Action": st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(ODD)),
    "Lead officer": st.one_of(st.sampled_from(OWNERS[:9]), st.none()),
    "Target date": st.one_of(st.sampled_from(WORD_DATES[:4] + WORD_DATES[9:13]), st.none()),
    "RAG": st.sampled_from(["Red", "Amber", "Green", "A/G", "Blue", None]),
    "Status": st.sampled_from(["Done", "On track", "Blocked", "Not started", None]),
    "Supporting": st.one_of(st.sampled_from(OWNERS[:4]), st.none()),
    "Name": st.one_of(st.text(min_size=1, max_size=30), st.just("N" * 300)),
    "Role": st.one_of(st.text(max_size=30), st.just("R" * 300)),
    "Organisation": st.text(max_size=30),
    "Email": st.sampled_from(["amira@example.gov.uk", "", "not an email", "b@x.gov.uk"]),
    "Aliases": st.sampled_from(["AK", "", "A" * 300, "Amira; AK"]),
}


def fitting(header: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.tuples(*(FITTING.get(str(name), cells()) for name in header)).map(list)


def tables() -> st.SearchStrategy[list[list[Any]]]:
    """A header (a plan's, a people sheet's, or known synonyms and junk) over a few rows of
    odd cells, with a title line above it sometimes."""
    width = st.integers(1, 8)
    random_header = width.flatmap(
        lambda w: st.lists(
            st.one_of(st.sampled_from(HEADERS), st.text(max_size=12), st.none()),
            min_size=w,
            max_size=w,
        )
    )
    plan_header = st.permutations(PLAN_HEADER).flatmap(
        lambda h: st.integers(1, 7).map(
            lambda n: h[:n] if "Action" in h[:n] else [*h[:n], "Action"]
        )
    )
    header = st.one_of(random_header, plan_header, plan_header, st.just(PEOPLE_HEADER))
    return header.flatmap(
        lambda h: st.tuples(
            st.just(h),
            st.lists(
                st.one_of(st.lists(cells(), min_size=0, max_size=len(h) + 1), *[fitting(h)] * 4),
                max_size=12,
            ),
            st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=3),
        ).map(
            lambda t: (
                [list(t[2]), list(t[0]), *t[1]]
                if t[2]
                else [list(t[0]), *t[1]]
            )
        )
    )


# --- the invariants ---------------------------------------------------------------------------


def dump(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with transaction(core.sessions) as session:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in session.execute(select(table).order_by(*order))]
    return out


def attempt(core: Core, path: Path, *, dry_run: bool) -> Preview | PlanImportError:
    """The importer's answer; anything but PlanImportError escaping is a crash."""
    try:
        return import_file(core, path, directory=ConsoleDirectory(), dry_run=dry_run)
    except PlanImportError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        assert "Traceback" not in message
        if isinstance(exc, PlanFileError):
            assert len(message) <= 2000, message[:300]
        return exc


#: How the fuzzed files fared, for the figures: a fuzzer that only ever meets refusals proves
#: little about correct imports.
OUTCOMES: Counter[str] = Counter()


def check(core: Core, path: Path) -> str:
    """Dry run, then the import: every invariant of this suite on one file. Returns the outcome
    ("imported", "refused") for the figures."""
    before = dump(core)
    dry = attempt(core, path, dry_run=True)
    assert dump(core) == before, "a dry run wrote to the database"
    if isinstance(dry, Preview):
        render_preview(dry)  # the preview renders whatever was read
    real = attempt(core, path, dry_run=False)
    if isinstance(real, PlanImportError):
        assert dump(core) == before, f"a refused import changed the database: {real}"
        assert isinstance(dry, PlanImportError), f"dry run passed, import refused: {real}"
        assert str(dry) == str(real)
        OUTCOMES["refused"] += 1
        return "refused"
    assert isinstance(dry, Preview), f"dry run refused, import passed: {dry}"
    assert real.report == dry.report, "the dry run did not predict the import"
    render_preview(real)
    with transaction(core.sessions) as session:
        titles = set(session.scalars(select(Action.title)))
        count = session.scalar(select(func.count()).select_from(Action))
    assert count == len(before["actions"]) + real.report.created
    assert all(planned.row.title in titles for planned in real.rows)
    OUTCOMES["imported"] += 1
    OUTCOMES["actions"] += len(real.rows)
    return "imported"


def write_csv(path: Path, table: list[list[Any]], encoding: str, junk: bytes) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in table:
        writer.writerow(["" if c is None else c for c in row])
    raw = out.getvalue().encode(encoding, errors="replace")
    path.write_bytes(raw + junk)
    return path


def write_xlsx(path: Path, sheets: list[tuple[str, list[list[Any]], list[str], bool]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    red = PatternFill("solid", fgColor="FFFF0000")
    for index, (name, table, merges, colour) in enumerate(sheets):
        sheet = book.create_sheet(title=f"{name[:20]}{index}")
        for r, row in enumerate(table, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                if isinstance(value, str):
                    # openpyxl refuses control characters a workbook cannot hold.
                    value = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
                cell = sheet.cell(row=r, column=c, value=value)
                if colour and r > 1 and c == 1:
                    cell.fill = red
        for merged in merges:
            # An overlapping range: openpyxl refuses it, Excel would too.
            with contextlib.suppress(ValueError):
                sheet.merge_cells(merged)
    book.save(path)
    return path


# --- CSV -------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "latin-1"]


@settings(FUZZ, max_examples=CSV_EXAMPLES)
@given(
    table=tables(),
    encoding=st.sampled_from(ENCODINGS),
    junk=st.one_of(st.just(b""), st.binary(max_size=40)),
)
def test_fuzzed_csv_files_import_whole_or_not_at_all(
    core: Core, tmp_path: Path, table: list[list[Any]], encoding: str, junk: bytes
) -> None:
    check(core, write_csv(tmp_path / "plan.csv", table, encoding, junk))


# --- workbooks --------------------------------------------------------------------------------

RANGES = st.tuples(st.integers(1, 6), st.integers(1, 10), st.integers(0, 2), st.integers(0, 3)).map(
    lambda t: f"{chr(64 + t[0])}{t[1]}:{chr(64 + t[0] + t[2])}{t[1] + t[3]}"
)


@settings(FUZZ, max_examples=XLSX_EXAMPLES)
@given(
    sheets=st.lists(
        st.tuples(
            st.sampled_from(["Plan", "Key", "People", "Cover", "Sheet", "Actions 26-27"]),
            st.one_of(tables(), st.just([])),
            st.lists(RANGES, max_size=3),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_fuzzed_workbooks_import_whole_or_not_at_all(
    core: Core, tmp_path: Path, sheets: list[tuple[str, list[list[Any]], list[str], bool]]
) -> None:
    check(core, write_xlsx(tmp_path / "plan.xlsx", sheets))


def _good_workbook(path: Path) -> Path:
    return write_xlsx(
        path,
        [
            (
                "Plan",
                [
                    ["Ref", "Action", "Lead officer", "Target date", "RAG"],
                    ["1.1", "Audit the front door", "amira@example.gov.uk", "March 2027", "Red"],
                    ["1.2", "Refresh thresholds", "Head of Service", "Q4 2026/27", "Green"],
                ],
                ["A10:C11"],
                True,
            )
        ],
    )


@settings(FUZZ, max_examples=JUNK_EXAMPLES)
@given(
    kind=st.sampled_from(["bytes", "truncated", "flipped", "zip of junk", "no sheets"]),
    data=st.binary(min_size=0, max_size=200),
    cut=st.integers(0, 10_000),
)
def test_junk_with_an_xlsx_name_is_refused_with_a_reason(
    core: Core, tmp_path: Path, kind: str, data: bytes, cut: int
) -> None:
    path = tmp_path / "plan.xlsx"
    if kind == "bytes":
        path.write_bytes(data)
    elif kind in ("truncated", "flipped"):
        good = _good_workbook(tmp_path / "good.xlsx").read_bytes()
        at = cut % max(len(good), 1)
        if kind == "truncated":
            path.write_bytes(good[:at])
        else:
            patch = data or b"\xff"
            path.write_bytes(good[:at] + patch + good[at + len(patch) :])
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(
                "[Content_Types].xml",
                data
                if kind == "zip of junk"
                else b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                b'.org/package/2006/content-types"/>',
            )
            archive.writestr("xl/workbook.xml", data)
    outcome = check(core, path)
    # A flipped byte may land where it changes nothing (a date in docProps, padding).
    assert outcome == "refused" or kind == "flipped", kind


def test_a_zip_error_quoting_the_file_is_cut_short(core: Core, tmp_path: Path) -> None:
    # Found by the test above: one byte flipped in a zip entry's name made the zip reader quote
    # the entry's compressed bytes (13,000 characters) in its reason.
    good = _good_workbook(tmp_path / "good.xlsx").read_bytes()
    at = good.index(b"xl/theme/theme1.xml", 100)
    path = tmp_path / "plan.xlsx"
    path.write_bytes(good[:at] + b"\xff" + good[at + 1 :])
    refused = attempt(core, path, dry_run=False)
    assert isinstance(refused, PlanFileError)
    assert str(refused).startswith("not a readable .xlsx workbook (")
    assert "\\x" not in str(refused) and len(str(refused)) <= 260


# --- caps -------------------------------------------------------------------------------------


def zip_bomb(path: Path, unzipped: int) -> Path:
    """A workbook whose sheet XML unzips to `unzipped` bytes of the same few characters."""
    good = _good_workbook(path.with_name("base.xlsx"))
    with (
        zipfile.ZipFile(good) as source,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info, source.read(info))
                continue
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                head = source.read(info)
                sheet.write(head[: head.index(b"<sheetData>")] + b"<sheetData>")
                chunk = b"<!-- padding -->" * 65_536
                written = 0
                while written < unzipped:
                    sheet.write(chunk)
                    written += len(chunk)
                sheet.write(b"</sheetData></worksheet>")
    return path


def test_a_zip_bomb_is_refused_before_it_is_unzipped(
    core: Core, tmp_path: Path, tally: Tally
) -> None:
    path = zip_bomb(tmp_path / "bomb.xlsx", MAX_UNZIPPED_BYTES + 50 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024  # small on disk: the reader must look inside
    before = dump(core)
    with pytest.raises(PlanFileError, match="unzips to"):
        import_file(core, path, directory=ConsoleDirectory(), dry_run=False)
    assert dump(core) == before
    tally.add(AREA, faults=1, inputs=1, note="zip bomb (sheet XML past the unzipped cap) refused")


def test_an_absurdly_compressed_part_is_refused(core: Core, tmp_path: Path) -> None:
    """Under the total cap, but compressed a thousandfold: no workbook Excel writes looks so."""
    path = zip_bomb(tmp_path / "dense.xlsx", 40 * 1024 * 1024)
    with pytest.raises(PlanFileError, match="compressed"):
        read_plan(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_cell_longer_than_excel_allows_is_refused_naming_it(
    tmp_path: Path, suffix: str, tally: Tally
) -> None:
    long = "A" * (MAX_CELL_CHARS + 1)
    if suffix == ".csv":
        table = [["Ref", "Action", "Owner"], ["1", "Short", "Amira"], ["2", long, "Ben"]]
        path = write_csv(tmp_path / "plan.csv", table, "utf-8", b"")
    else:
        # openpyxl cuts what it writes to Excel's limit: lengthen the cell in the XML itself.
        table = [["Ref", "Action", "Owner"], ["1", "Short", "Amira"], ["2", "LONGCELL", "Ben"]]
        written = write_xlsx(tmp_path / "short.xlsx", [("Plan", table, [], False)])
        path = tmp_path / "plan.xlsx"
        with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as archive:
            for info in source.infolist():
                archive.writestr(info, source.read(info).replace(b"LONGCELL", long.encode()))
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    where = "row 3, column B" if suffix == ".csv" else "Plan0!B3"
    assert where in str(caught.value) and f"{MAX_CELL_CHARS:,}" in str(caught.value)
    tally.add(AREA, inputs=1)


def test_a_file_over_the_size_cap_is_refused_unopened(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    with path.open("wb") as out:
        out.truncate(21 * 1024 * 1024)  # sparse: the reader must refuse on the size alone
    with pytest.raises(PlanFileError, match="at most 20 MB"):
        read_plan(path)


def test_a_sheet_past_the_row_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("Action,Owner\n" + "x,y\n" * 20_001, encoding="utf-8")
    with pytest.raises(PlanFileError, match="at most 20,000"):
        read_plan(path)


def test_a_person_twice_in_a_people_sheet(core: Core) -> None:
    """A plan's people sheet that names one person twice, the second row giving back the job
    title the first row took away: the unique index on person_names refuses the flush."""
    from bot.people.names import load_people
    from bot.plans.table import PersonRow

    now = core.now()
    with transaction(core.sessions) as session:
        load_people(session, [PersonRow(1, "Zed Adams", role="Head of Service")], now=now)
    with transaction(core.sessions) as session:
        load_people(
            session,
            [
                PersonRow(1, "Zed Adams", role="Director"),
                PersonRow(2, "Zed Adams", role="Head of Service"),
            ],
            now=now,
        )


def test_fuzz_tally(tally: Tally) -> None:
    tally.add(
        AREA,
        inputs=CSV_EXAMPLES + XLSX_EXAMPLES + JUNK_EXAMPLES,
        note=f"{CSV_EXAMPLES} csv, {XLSX_EXAMPLES} xlsx, {JUNK_EXAMPLES} junk files, each "
        f"dry-run then imported, whole or not at all: {OUTCOMES['imported']} "
        f"imported ({OUTCOMES['actions']} actions), {OUTCOMES['refused']} refused "
        "with a reason",
    )


# --- the command line -------------------------------------------------------------------------


def _cli(core: Core, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(
        DATABASE_URL=core.settings.database_url, PYTHONPATH=str(ROOT), BOT_TIMEZONE="Europe/London"
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line_answers_every_kind_of_file(
    core: Core, tmp_path: Path, tally: Tally
) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    utf16 = write_csv(
        tmp_path / "utf16.csv",
        [["Action", "Owner", "Due"], ["Zoë's audit", "Amira", "March 2027"]],
        "utf-16",
        b"",
    )
    cases = [
        (_good_workbook(tmp_path / "good.xlsx"), 0, "Would import"),
        (utf16, 0, "Would import"),
        (junk, 1, "not a readable .xlsx workbook"),
        (empty, 1, "cannot be imported"),
        (zip_bomb(tmp_path / "bomb.xlsx", MAX_UNZIPPED_BYTES + 1024 * 1024), 1, "unzips to"),
        (tmp_path / "missing.xlsx", 1, "Cannot read"),
    ]
    before = dump(core)
    for path, code, words in cases:
        result = _cli(core, "import", str(path), "--dry-run")
        assert result.returncode == code, (path.name, result.stdout, result.stderr)
        assert words in (result.stdout if code == 0 else result.stderr), (path.name, result)
        assert "Traceback" not in result.stderr, result.stderr
    assert dump(core) == before, "import --dry-run wrote to the database"
    tally.add(
        AREA,
        inputs=len(cases),
        note=f"actionbot import --dry-run: {len(cases)} files, exit codes and messages checked",
    )


# --- regressions the fuzz found ------------------------------------------------------------


def test_a_zip_without_a_workbook_part_is_a_plan_file_error(tmp_path: Path) -> None:
    """openpyxl's "no valid workbook part" is an OSError without errno: not an unopenable file."""
    path = tmp_path / "plan.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            b'<?xml version="1.0"?><Types xmlns="http://'
            b'schemas.openxmlformats.org/package/2006/content-types"/>',
        )
    with pytest.raises(PlanFileError, match=r"not a readable \.xlsx workbook"):
        read_plan(path)


def test_a_nul_character_in_a_csv_cell_is_refused_naming_it(core: Core, tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL: the import failed inside the transaction instead."""
    path = tmp_path / "plan.csv"
    path.write_bytes(b"Action,Owner\nAudit,Amira\nFront\x00door,Ben\n")
    before = dump(core)
    with pytest.raises(PlanFileError, match=r"row 3, column A holds a NUL character"):
        import_file(core, path, directory=ConsoleDirectory())
    assert dump(core) == before


def test_a_long_banner_row_gives_its_rows_a_cut_workstream(core: Core, tmp_path: Path) -> None:
    """A heading longer than the register's workstream column failed on PostgreSQL."""
    heading = "Recommendation 1: " + "leaders should ensure that " * 12
    path = write_csv(
        tmp_path / "plan.csv",
        [["Ref", "Action", "Owner"], [heading], ["1.1", "Audit the front door", "Amira"]],
        "utf-8",
        b"",
    )
    preview = import_file(core, path, directory=ConsoleDirectory())
    assert preview.report.created == 1
    with transaction(core.sessions) as session:
        stored = session.scalars(select(Action.workstream)).one()
    assert stored is not None and len(stored) == 200 and stored.endswith("…")
    assert heading.startswith(stored[:-1])

"""Reading plans laid out as councils publish them: title rows, two-row headers, banners,
merged cells, key and footer rows, several sheets, people and cover sheets, fill-only RAG,
month-only dates, Windows-1252 CSV with preamble lines, and the guard rails."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Color, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot.plans.layout import colour_word, month_only_format, quote_sheet
from bot.plans.reader import read_people, read_plan, rows_from_table
from bot.plans.table import PersonRow, PlanFileError, RawRow, SheetLayout, Skipped


def solid(rgb: str | None = None, theme: int | None = None, tint: float = 0.0) -> PatternFill:
    color = Color(theme=theme, tint=tint) if theme is not None else Color(rgb=rgb)
    return PatternFill(fill_type="solid", fgColor=color)


def put(sheet: Worksheet, row: int, values: list[object]) -> None:
    for column, value in enumerate(values, start=1):
        if value is not None:
            sheet.cell(row=row, column=column, value=value)


def save(book: Workbook, tmp_path: Path, name: str = "plan.xlsx") -> Path:
    path = tmp_path / name
    book.save(path)
    return path


def improvement_plan(book: Workbook) -> None:
    """An Ofsted improvement plan: title, two-row header, banners, merges, key and footer."""
    sheet = book.create_sheet("Improvement Plan")
    sheet["A1"] = "Children's Services Improvement Plan 2026-27"
    sheet.merge_cells("A1:I1")
    put(sheet, 3, ["Ref", "Action", "Lead", None, "Target", "RAG", "Progress update"])
    put(sheet, 3, [None] * 7 + ["Success measure", "Directorate"])
    for cells in ("A3:A4", "B3:B4", "C3:D3", "F3:F4", "G3:G4", "H3:H4", "I3:I4"):
        sheet.merge_cells(cells)
    put(sheet, 4, [None, None, "Accountable", "Supporting", "date"])
    put(sheet, 5, [None, "(what we will do)", "(name or role)", None, "(month)"])
    for cell in sheet[5]:
        cell.font = Font(italic=True)
    sheet["A6"] = "PRIORITY 1: Leadership and management"
    sheet["A6"].font = Font(bold=True)
    sheet.merge_cells("A6:I6")
    put(
        sheet,
        7,
        [
            "1.1",
            "Audit children-in-need plans",
            "Helen Marsh (HoS Front Door)",
            "Tom Price",
            dt.datetime(2027, 3, 1),
            None,
            "Audit started",
            "90% of plans SMART",
            "Children's social care",
        ],
    )
    sheet["E7"].number_format = "mmm-yy"
    sheet["F7"].fill = solid("FFFF0000")  # red by colour alone
    put(sheet, 8, ["1.2", "Monthly management oversight", "Gareth Lowe", None, "Ongoing", "A"])
    sheet["F8"].fill = solid("FFFFC000")
    sheet.merge_cells("C8:C9")  # one lead for two actions
    put(sheet, 9, ["1.3", "Supervision audit", None, None, dt.datetime(2026, 12, 31), None])
    sheet["E9"].number_format = "dd/mm/yyyy"
    # openpyxl saves the Office 2007 theme, whose accent 3 (theme colour 6) is green.
    sheet["F9"].fill = solid(theme=6)
    sheet["A11"] = "PRIORITY 2: Partnerships"
    sheet.merge_cells("A11:I11")
    put(sheet, 12, ["2.1", "Police attend every conference", "DI Raj Patel", None, "Q4 2026/27"])
    sheet["F12"] = "B"
    sheet["F12"].fill = solid("FF0070C0")
    put(sheet, 13, ["2.2", "Share health information", "grace.lee@health.example", None, "TBC"])
    sheet["G13"] = "#REF!"
    put(sheet, 15, ["B = Blue – complete", None, "R = Red – off track"])
    put(sheet, 16, ["Last updated 1 June 2026 by the board officer"])


def cover(book: Workbook) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = "Cover"
    put(sheet, 1, ["Children's Services Improvement Plan"])
    put(sheet, 3, ["Version 3"])
    put(sheet, 4, ["Approved by Cabinet", "12 March 2026"])


def key_individuals(book: Workbook) -> None:
    sheet = book.create_sheet("Key individuals")
    put(sheet, 1, ["Key individuals"])
    put(sheet, 2, ["Name", "Role", "Organisation", "Email", "Also known as"])
    put(
        sheet,
        3,
        [
            "Helen Marsh",
            "Head of Service Front Door",
            "Council",
            "helen.marsh@council.example",
            "HM; Helen M",
        ],
    )
    put(sheet, 5, ["Police"])
    put(sheet, 6, ["Raj Patel", "Detective Inspector", None, "raj.patel@police.example"])


def colour_key(book: Workbook) -> None:
    sheet = book.create_sheet("Key")
    put(sheet, 1, ["RAG key"])
    for row, (colour, meaning) in enumerate(
        [("Blue", "Complete"), ("Green", "On track"), ("Amber", "At risk"), ("Red", "Off track")],
        start=2,
    ):
        put(sheet, row, [colour, meaning])


def ofsted_workbook(tmp_path: Path) -> Path:
    book = Workbook()
    cover(book)
    improvement_plan(book)
    key_individuals(book)
    colour_key(book)
    return save(book, tmp_path)


PLAN = "'Improvement Plan'"
COLUMNS = ("ref", "title", "owner", "supporting", "due", "rag", "notes", "success_measure")
LETTERS = dict(zip(COLUMNS, "ABCDEFGH", strict=True))


def where(row: int) -> dict[str, str]:
    return {column: f"{PLAN}!{letter}{row}" for column, letter in LETTERS.items()}


def cells(*values: object, **named: object) -> dict[str, object]:
    """The row's cells in column order, None for those not given."""
    padded = [*values, *[None] * (len(COLUMNS) - len(values))]
    return dict(zip(COLUMNS, padded, strict=True)) | named


def test_an_ofsted_plan_as_published(tmp_path: Path) -> None:
    plan = read_plan(ofsted_workbook(tmp_path))
    sheet = "Improvement Plan"
    leadership = {"workstream": "PRIORITY 1: Leadership and management"}
    partnerships = {"workstream": "PRIORITY 2: Partnerships"}
    assert plan.rows == [
        RawRow(
            7,
            cells(
                "1.1",
                "Audit children-in-need plans",
                "Helen Marsh (HoS Front Door)",
                "Tom Price",
                dt.datetime(2027, 3, 1),
                None,
                "Audit started",
                "90% of plans SMART",
            ),
            sheet=sheet,
            where=where(7),
            fills={"rag": "red"},
            month_only=frozenset({"due"}),
            inherited=leadership,
            extra={"Directorate": "Children's social care"},
        ),
        RawRow(
            8,
            cells("1.2", "Monthly management oversight", "Gareth Lowe", None, "Ongoing", "A"),
            sheet=sheet,
            where=where(8),
            fills={"rag": "amber"},
            inherited=leadership,
        ),
        RawRow(
            9,
            cells("1.3", "Supervision audit", "Gareth Lowe", None, dt.datetime(2026, 12, 31)),
            sheet=sheet,
            where=where(9),
            fills={"rag": "green"},
            inherited=leadership,
        ),
        RawRow(
            12,
            cells("2.1", "Police attend every conference", "DI Raj Patel", None, "Q4 2026/27", "B"),
            sheet=sheet,
            where=where(12),
            fills={"rag": "blue"},
            inherited=partnerships,
        ),
        RawRow(
            13,
            cells(
                "2.2",
                "Share health information",
                "grace.lee@health.example",
                None,
                "TBC",
                notes="#REF!",
            ),
            sheet=sheet,
            where=where(13),
            inherited=partnerships,
        ),
    ]
    assert plan.sheets == [
        SheetLayout("Cover", "cover"),
        SheetLayout(
            sheet,
            "plan",
            header_rows=(3, 4),
            mapping={
                "Ref": "ref",
                "Action": "title",
                "Lead Accountable": "owner",
                "Lead Supporting": "supporting",
                "Target date": "due",
                "RAG": "rag",
                "Progress update": "notes",
                "Success measure": "success_measure",
            },
            unknown=("Directorate",),
            skipped=(
                Skipped(sheet, 5, "explains the columns"),
                Skipped(sheet, 6, "a heading: 'PRIORITY 1: Leadership and management'"),
                Skipped(sheet, 10, "blank row"),
                Skipped(sheet, 11, "a heading: 'PRIORITY 2: Partnerships'"),
                Skipped(sheet, 14, "blank row"),
                Skipped(sheet, 15, "a key to the colours ('B = Blue – complete')"),
                Skipped(
                    sheet,
                    16,
                    "a note below the plan ('Last updated 1 June 2026 by the board o…')",
                ),
            ),
        ),
        SheetLayout(
            "Key individuals",
            "people",
            header_rows=(2,),
            mapping={
                "Name": "name",
                "Role": "role",
                "Organisation": "organisation",
                "Email": "email",
                "Also known as": "aliases",
            },
            skipped=(
                Skipped("Key individuals", 4, "blank row"),
                Skipped("Key individuals", 5, "a heading: 'Police'"),
            ),
        ),
        SheetLayout("Key", "key"),
    ]
    assert plan.people == [
        PersonRow(
            3,
            "Helen Marsh",
            role="Head of Service Front Door",
            organisation="Council",
            email="helen.marsh@council.example",
            aliases=("HM", "Helen M"),
            sheet="Key individuals",
        ),
        PersonRow(
            6,
            "Raj Patel",
            role="Detective Inspector",
            organisation="Police",
            email="raj.patel@police.example",
            sheet="Key individuals",
        ),
    ]
    assert plan.rows[0].address("due") == "'Improvement Plan'!E7"


def workstream_sheet(book: Workbook, name: str, priority: str, *rows: list[object]) -> None:
    sheet = book.create_sheet(name)
    put(sheet, 1, [name.upper()])
    put(
        sheet,
        2,
        ["Actions to be taken", "Lead agency", "Lead officer", "By when", "BRAG", "Priority"],
    )
    for number, row in enumerate(rows, start=3):
        put(sheet, number, [*row, priority])


def several_sheets(tmp_path: Path) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    workstream_sheet(
        book,
        "Leadership",
        "High",
        ["Appoint a permanent DCS", "Council", "Chief Executive", None, None],
    )
    workstream_sheet(
        book,
        "Partner's plan",
        "Priority 2: multi-agency working",
        ["Joint neglect training", "Health", "Designated Nurse", "Summer 2027", None],
    )
    return save(book, tmp_path)


def test_every_plan_sheet_is_read_and_named_as_its_workstream(tmp_path: Path) -> None:
    path = several_sheets(tmp_path)
    plan = read_plan(path)
    columns = ("title", "owner", "due", "rag")
    assert [(row.sheet, row.number, row.cells, row.inherited, row.extra) for row in plan.rows] == [
        (
            "Leadership",
            3,
            dict(
                zip(
                    columns, ["Appoint a permanent DCS", "Chief Executive", None, None], strict=True
                )
            )
            | {"priority": "High"},
            {"workstream": "Leadership"},
            {"Lead agency": "Council"},
        ),
        (
            "Partner's plan",
            3,
            dict(
                zip(
                    columns,
                    ["Joint neglect training", "Designated Nurse", "Summer 2027", None],
                    strict=True,
                )
            )
            | {"workstream": "Priority 2: multi-agency working"},
            {},
            {"Lead agency": "Health"},
        ),
    ]
    assert plan.rows[1].where["due"] == "'Partner''s plan'!D3"
    assert [(s.name, s.kind, s.header_rows, s.mapping, s.unknown) for s in plan.sheets] == [
        (
            "Leadership",
            "plan",
            (2,),
            {
                "Actions to be taken": "title",
                "Lead officer": "owner",
                "By when": "due",
                "BRAG": "rag",
                "Priority": "priority",
            },
            ("Lead agency",),
        ),
        (
            "Partner's plan",
            "plan",
            (2,),
            {
                "Actions to be taken": "title",
                "Lead officer": "owner",
                "By when": "due",
                "BRAG": "rag",
                "Priority": "workstream",
            },
            ("Lead agency",),
        ),
    ]

    # --sheet: one sheet, named in any case; its rows keep the workstream they had.
    only = read_plan(path, sheets=["LEADERSHIP"])
    assert [(row.sheet, row.inherited) for row in only.rows] == [
        ("Leadership", {"workstream": "Leadership"})
    ]
    assert [sheet.name for sheet in only.sheets] == ["Leadership"]
    with pytest.raises(PlanFileError) as caught:
        read_plan(path, sheets=["Leadership", "Workforce"])
    assert str(caught.value) == (
        "the workbook has no sheet 'workforce'; its sheets are 'Leadership', 'Partner's plan'"
    )


def test_windows_1252_csv_with_preamble_banners_and_footer(tmp_path: Path) -> None:
    text = (
        "Children’s Services Improvement Plan\r\n"
        "Updated: 1 June 2026\r\n"
        "\r\n"
        "No.,What we will do,Responsible officer,Deadline,Current status,RAG rating,"
        "Commentary,Cost\r\n"
        "1,Café review,Zoë Smith,31/12/2026,On track,G,Costs £5k,£5k\r\n"
        "PRIORITY 2: Workforce,,,,,,,\r\n"
        '2,"Recruit six\r\nsocial workers",Head of HR,March 2027,Not started,,,\r\n'
        ",,,,,,,\r\n"
        "Last updated June 2026,,,,,,,\r\n"
    )
    path = tmp_path / "plan.csv"
    path.write_bytes(text.encode("cp1252"))
    plan = read_plan(path)
    columns = ("ref", "title", "owner", "due", "status", "rag", "notes")

    def rows(number: int) -> dict[str, str]:
        return {column: f"row {number}" for column in columns}

    assert plan.rows == [
        RawRow(
            5,
            dict(
                zip(
                    columns,
                    ["1", "Café review", "Zoë Smith", "31/12/2026", "On track", "G", "Costs £5k"],
                    strict=True,
                )
            ),
            where=rows(5),
            extra={"Cost": "£5k"},
        ),
        RawRow(
            7,
            dict(
                zip(
                    columns,
                    ["2", "Recruit six\r\nsocial workers", "Head of HR", "March 2027"],
                    strict=False,
                )
            )
            | {"status": "Not started", "rag": None, "notes": None},
            where=rows(7),
            inherited={"workstream": "PRIORITY 2: Workforce"},
        ),
    ]
    assert plan.sheets == [
        SheetLayout(
            None,
            "plan",
            header_rows=(4,),
            mapping={
                "No.": "ref",
                "What we will do": "title",
                "Responsible officer": "owner",
                "Deadline": "due",
                "Current status": "status",
                "RAG rating": "rag",
                "Commentary": "notes",
            },
            unknown=("Cost",),
            skipped=(
                Skipped(None, 6, "a heading: 'PRIORITY 2: Workforce'"),
                Skipped(None, 8, "blank row"),
                Skipped(None, 9, "a note below the plan ('Last updated June 2026')"),
            ),
        )
    ]
    assert plan.rows[0].address("title") == "row 5"


def test_header_words_as_people_write_them(tmp_path: Path) -> None:
    # "Target" over "date" in two plain rows; punctuation, case and line breaks in headers.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Plan"
    put(sheet, 1, ["#", "SPECIFIC  ACTIONS", "Who", "Target", "Progress indicator (RAG)"])
    put(sheet, 1, [None] * 5 + ["Supported\nby", "Impact measure", "Area for improvement"])
    put(sheet, 2, [None, None, None, "date"])
    put(sheet, 3, ["A1", "Audit", "DCS", dt.date(2027, 1, 31), None, "HoS", "All audited", "CIN"])
    sheet["D3"].number_format = "[$-809]mmmm yyyy;@"
    # A light tint of the Office 2007 theme's accent 6 (theme colour 9), orange.
    sheet["E3"].fill = solid(theme=9, tint=0.6)
    path = save(book, tmp_path)
    (row,) = read_plan(path).rows
    assert row.cells == {
        "ref": "A1",
        "title": "Audit",
        "owner": "DCS",
        "due": dt.datetime(2027, 1, 31),
        "rag": None,
        "supporting": "HoS",
        "success_measure": "All audited",
        "workstream": "CIN",
    }
    assert row.number == 3
    assert row.fills == {"rag": "amber"}
    assert row.month_only == frozenset({"due"})
    assert row.where["workstream"] == "Plan!H3"
    assert read_plan(path).sheets[0].header_rows == (1, 2)


def test_rows_of_plain_values_and_an_unknown_priority_column() -> None:
    rows = rows_from_table(
        [
            ["Action", "Owner", "Priority"],
            ["Audit", "amira", "Children in need"],
            ["Oversight", "tom", None],
        ]
    )
    assert [(row.number, row.cells) for row in rows] == [
        (2, {"title": "Audit", "owner": "amira", "workstream": "Children in need"}),
        (3, {"title": "Oversight", "owner": "tom", "workstream": None}),
    ]


def test_people_file(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "Full name,Job title,Agency,E-mail address,Aliases\n"
        'Helen Marsh,Head of Service,Council,Helen.Marsh@council.example,"HM, Helen M"\n'
        ",,,,\n"
        ",Designated Nurse,Health,grace.lee@health.example,\n",
        encoding="utf-8",
    )
    assert read_people(path) == [
        PersonRow(
            2,
            "Helen Marsh",
            role="Head of Service",
            organisation="Council",
            email="Helen.Marsh@council.example",
            aliases=("HM", "Helen M"),
        ),
        PersonRow(
            4,
            None,
            role="Designated Nurse",
            organisation="Health",
            email="grace.lee@health.example",
        ),
    ]
    plan_path = tmp_path / "plan.csv"
    plan_path.write_text("Action,Due\nAudit,2026-12-01\n", encoding="utf-8")
    with pytest.raises(PlanFileError, match="no people table found"):
        read_people(plan_path)


def test_no_plan_table_says_what_was_looked_for_and_found(tmp_path: Path) -> None:
    book = Workbook()
    cover(book)
    data = book.create_sheet("Data")
    put(data, 1, ["Owner", "Due", "Total"])
    put(data, 2, ["amira", "2026-12-01", 3])
    path = save(book, tmp_path)
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    assert str(caught.value) == (
        "no plan table found: looked in the first 30 rows for a header row with a column of "
        "actions (Action, Title, Task, What we will do …) and at least one more known column "
        "(Lead officer, Target date, Status, RAG …). 'Cover' (cover) holds row 1: "
        "'Children's Services Improvement Plan'; row 3: 'Version 3'; row 4: "
        "'Approved by Cabinet', '12 March 2026'. 'Data' row 1 has 'Owner', 'Due' but no "
        "column of actions (head it 'Action'); its first rows hold row 1: 'Owner', 'Due', "
        "'Total'; row 2: 'amira', '2026-12-01', '3'"
    )
    # A sheet named with --sheet that holds no plan is reported the same way.
    book2 = Workbook()
    cover(book2)
    improvement_plan(book2)
    with pytest.raises(PlanFileError, match=r"^no plan table found: .* 'Cover' \(cover\)"):
        read_plan(save(book2, tmp_path, "two.xlsx"), sheets=["cover"])


def test_a_column_headed_twice_is_named_by_its_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Improvement Plan"
    put(sheet, 2, ["Action", "Lead officer", "Action", "Comments", "Update", "Comments"])
    put(sheet, 3, ["Audit", "amira", "x", "one", "two", "three"])
    path = save(book, tmp_path)
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    assert str(caught.value) == (
        "the column 'title' appears twice in the header ('Improvement Plan'!A2 and "
        "'Improvement Plan'!C2, both 'Action'); rename one of them"
    )
    sheet["C2"] = "Detail"
    book.save(path)
    (row,) = read_plan(path).rows
    # A second notes column is kept beside the first, for the notes.
    # The plainest name wins the column; the others are kept for the notes.
    assert row.cells == {"title": "Audit", "owner": "amira", "notes": "two"}
    assert row.extra == {"Detail": "x", "Comments": "one", "Comments (F)": "three"}


def test_the_bots_own_register_reads_back_without_its_worked_out_columns() -> None:
    header = ["id", "ref", "title", "owner", "owner_email", "due", "days_late", "notes"]
    (row,) = rows_from_table([header, ["7", "A-1", "Audit", "amira", "a@x.example", "", "3", ""]])
    assert row.cells == {
        "ref": "A-1",
        "title": "Audit",
        "owner": "amira",
        "due": None,
        "notes": None,
    }
    assert row.extra == {}
    # A plan whose only reference column is "ID" has its refs there.
    (row,) = rows_from_table([["ID", "Action"], ["A-1", "Audit"]])
    assert row.cells == {"ref": "A-1", "title": "Audit"}


def test_guard_rails(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.truncate(21 * 1024 * 1024)
    with pytest.raises(PlanFileError, match=r"^the file is 21 MB; a plan file may be at most 20"):
        read_plan(big)

    long = tmp_path / "long.csv"
    long.write_text("Action,Owner\n" + "a,b\n" * 20_000, encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"^the file has 20,001 rows; a plan may have at most"):
        read_plan(long)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Wide"
    put(sheet, 1, ["Action", "Owner"])
    sheet.cell(row=2, column=201, value="stray")
    with pytest.raises(PlanFileError, match=r"^the sheet 'Wide' has 201 columns"):
        read_plan(save(book, tmp_path))

    # A stray formatted cell far below, a formula never calculated and an error value.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    put(sheet, 1, ["Action", "Owner", "Due", "Notes"])
    put(sheet, 2, ["Audit", "=B3", "#DIV/0!"])
    sheet.merge_cells("D1:D2")  # a header cell merged down into the data fills nothing
    sheet.cell(row=1_000_000, column=3).fill = solid("FFFF0000")
    (row,) = read_plan(save(book, tmp_path, "odd.xlsx")).rows
    assert row.cells == {"title": "Audit", "owner": None, "due": "#DIV/0!", "notes": None}


def test_a_5000_row_plan_reads_quickly(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Ref", "Action", "Lead officer", "Target date", "Status", "RAG", "Update"])
    for number in range(5000):
        sheet.append(
            [f"A-{number}", f"Action {number}", "Helen Marsh", dt.date(2027, 1, 1), "", "", "x"]
        )
        sheet.cell(row=number + 2, column=6).fill = solid("FF00B050")
    for first in range(2, 5000, 50):
        sheet.merge_cells(start_row=first, start_column=3, end_row=first + 9, end_column=3)
    path = save(book, tmp_path)
    started = time.perf_counter()
    plan = read_plan(path)
    elapsed = time.perf_counter() - started
    assert len(plan.rows) == 5000
    assert plan.rows[-1].fills == {"rag": "green"}
    assert elapsed < 5, f"read in {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("rgb", "word"),
    [
        ("FF0000", "red"),
        ("C00000", "red"),
        ("FFC7CE", "red"),  # Excel's "Bad" style
        ("FFC000", "amber"),
        ("FFFF00", "amber"),
        ("ED7D31", "amber"),
        ("FFEB9C", "amber"),  # "Neutral"
        ("00B050", "green"),
        ("92D050", "green"),
        ("C6EFCE", "green"),  # "Good"
        ("0070C0", "blue"),
        ("00B0F0", "blue"),
        ("FFFFFF", None),
        ("D9D9D9", None),
        ("000000", None),
        ("7030A0", None),
    ],
)
def test_fill_colours(rgb: str, word: str | None) -> None:
    assert colour_word(*(int(rgb[i : i + 2], 16) for i in (0, 2, 4))) == word


@pytest.mark.parametrize(
    ("number_format", "month_only"),
    [
        ("mmm-yy", True),
        ("mmmm yyyy", True),
        ("mmm yyyy", True),
        ("yyyy-mm", True),
        ("[$-809]mmm-yy;@", True),
        ("dd/mm/yyyy", False),
        ("d-mmm-yy", False),
        ("yyyy-mm-dd h:mm", False),
        ('"Due" mmm yyyy', True),
        ('mmm yyyy "(day 1)"', True),
        ("General", False),
        ("mm:ss", False),
    ],
)
def test_month_only_formats(number_format: str, month_only: bool) -> None:
    assert month_only_format(number_format) is month_only


def test_sheet_names_quoted_as_excel_does() -> None:
    assert [quote_sheet(name) for name in ("Plan", "Plan_2", "Improvement Plan", "A1", "2026")] == [
        "Plan",
        "Plan_2",
        "'Improvement Plan'",
        "'A1'",
        "'2026'",
    ]
    assert quote_sheet("Partner's plan") == "'Partner''s plan'"

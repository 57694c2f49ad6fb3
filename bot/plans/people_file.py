"""Reading a people file (.csv or .xlsx) for `actionbot people import`.

One row a person: name, role (job title), organisation, email and aliases, under a header
found in the first rows whatever its case or spacing ("Job title", "E-mail address"). Aliases
are separated by ";" or ",".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from bot.plans.table import PersonRow, PlanFileError, not_a_workbook

#: Header text (folded: lower case, letters and digits only) → the PersonRow field it fills.
HEADERS = {
    "name": "name",
    "fullname": "name",
    "person": "name",
    "role": "role",
    "jobtitle": "role",
    "position": "role",
    "post": "role",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "agency": "organisation",
    "service": "organisation",
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "aliases": "aliases",
    "alias": "aliases",
    "alsoknownas": "aliases",
    "knownas": "aliases",
}
#: How far down a sheet the header may be (title rows above it are common).
HEADER_SEARCH = 30


def read_people(path: Path) -> list[PersonRow]:
    """The people of the file at `path`; PlanFileError when it has no name or email column."""
    suffix = path.suffix.lower()
    sheets: list[tuple[str | None, Sequence[Sequence[object]]]]
    if suffix == ".csv":
        sheets = [(None, _csv_rows(path))]
    elif suffix == ".xlsx":
        sheets = list(_xlsx_rows(path))
    else:
        raise PlanFileError("a people file must be a .csv or .xlsx file")
    for sheet, rows in sheets:
        found = _people(sheet, rows)
        if found is not None:
            return found
    raise PlanFileError(
        "no header row with a 'name' or 'email' column was found "
        "(a people file has name, role, organisation, email and aliases columns)"
    )


def _people(sheet: str | None, rows: Sequence[Sequence[object]]) -> list[PersonRow] | None:
    for index, row in enumerate(rows[:HEADER_SEARCH]):
        columns = {
            HEADERS[key]: position
            for position, cell in enumerate(row)
            if (key := re.sub(r"[^a-z0-9]", "", str(cell or "").lower())) in HEADERS
        }
        if "name" not in columns and "email" not in columns:
            continue
        people: list[PersonRow] = []
        for number, cells in enumerate(rows[index + 1 :], start=index + 2):

            def cell(
                field: str, cells: Sequence[object] = cells, columns: dict[str, int] = columns
            ) -> str | None:
                position = columns.get(field)
                if position is None or position >= len(cells) or cells[position] is None:
                    return None
                return str(cells[position]).strip() or None

            if not any(cell(field) for field in columns):
                continue
            aliases = tuple(
                a.strip() for a in re.split(r"[;,\n]", cell("aliases") or "") if a.strip()
            )
            people.append(
                PersonRow(
                    number=number,
                    name=cell("name"),
                    role=cell("role"),
                    organisation=cell("organisation"),
                    email=cell("email"),
                    aliases=aliases,
                    sheet=sheet,
                )
            )
        return people
    return None


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves plain "CSV" in Windows-1252.
        text = raw.decode("cp1252", errors="replace")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PlanFileError(f"not a readable CSV file ({exc})") from None


def _xlsx_rows(path: Path) -> list[tuple[str, list[list[object]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as exc:  # openpyxl raises zip, XML and key errors for a non-workbook
        raise not_a_workbook(exc) from None
    try:
        sheets = []
        for sheet in book.worksheets:
            sheet.reset_dimensions()
            sheets.append((sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]))
        return sheets
    finally:
        book.close()

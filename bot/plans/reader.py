"""Reading plan spreadsheets (.csv, .xlsx) into numbered rows of raw cell values.

The reader knows files, not actions: it turns a CSV file or each sheet of a workbook into a
grid of cells (values, fill colours, date formats, merged ranges) for bot.plans.layout, which
finds the header, the columns, banners and people, and reports each row with the number and
cell address a spreadsheet program shows, so an error message such as "'Plan'!F14: …" points
at the cell the officer sees. Turning cells into values is bot.plans.rows's job.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.plans.layout import (
    EMPTY,
    Grid,
    GridCell,
    Merge,
    cell_address,
    colour_word,
    column_letter,
    grid_from_values,
    month_only_format,
    read_grids,
    read_people_grids,
)
from bot.plans.table import (
    Cell,
    PersonRow,
    PlanFile,
    PlanFileError,
    RawRow,
    not_a_workbook,
)

#: Larger files are refused before they are opened: no plan is this big, and a workbook is
#: unzipped whole into memory.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
#: A workbook is a zip: 20 MB on disk can unzip to gigabytes of XML. The parts' sizes as the
#: zip's directory states them are added up before anything is unzipped; zipfile never
#: inflates a part past its stated size, so a directory that lies cannot get round the cap.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: Sheet XML Excel writes shrinks ten- to fiftyfold; a large part shrunk more than this is
#: padding built to exhaust memory, not a plan.
MAX_COMPRESSION_RATIO = 200
_RATIO_FROM_BYTES = 10 * 1024 * 1024
#: Excel's own limit on the characters of one cell; anything longer was not typed into a plan.
MAX_CELL_CHARS = 32_767


def read_plan(path: Path, *, sheets: Sequence[str] = ()) -> PlanFile:
    """The plan at `path` (.csv or .xlsx): its action rows, each sheet's layout, its people.

    `sheets` limits the action rows to the named sheets (case-insensitive). Raises
    PlanFileError when the file has the wrong type or size, cannot be decoded or parsed, or no
    sheet holds a plan table; OSError when it cannot be opened.
    """

    return read_grids(_grids(path), sheets=sheets)


def read_people(path: Path) -> list[PersonRow]:
    """The people of a people file (.csv or .xlsx: Name, Role, Organisation, Email, Aliases)."""

    return read_people_grids(_grids(path))


def rows_from_table(table: Iterable[Sequence[Cell]], *, name: str | None = None) -> list[RawRow]:
    """The action rows of a table of plain values whose first row is row 1 (as in a CSV file)."""

    return read_grids([grid_from_values(name, table)]).rows


def _grids(path: Path) -> list[Grid]:
    suffix = path.suffix.lower()
    if suffix in (".xls", ".xlsm", ".ods", ".numbers"):
        raise PlanFileError("save the plan as an Excel workbook (.xlsx) or as CSV (.csv) first")
    if suffix not in (".csv", ".xlsx"):
        raise PlanFileError("a plan must be a .csv or .xlsx file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PlanFileError(
            f"the file is {size / 1024 / 1024:.0f} MB; a plan file may be at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB (remove pictures, or save the plan's sheets "
            "alone as .xlsx or .csv)"
        )
    return [_read_csv(path)] if suffix == ".csv" else _read_xlsx(path)


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_size(name: str | None, rows: int, columns: int) -> None:
    where = "the file" if name is None else f"the sheet '{name}'"
    if rows > MAX_ROWS:
        raise PlanFileError(
            f"{where} has {rows:,} rows; a plan may have at most {MAX_ROWS:,} "
            "(delete the empty rows below the plan, or split it into sheets)"
        )
    if columns > MAX_COLUMNS:
        raise PlanFileError(
            f"{where} has {columns:,} columns; a plan may have at most {MAX_COLUMNS} "
            "(delete the columns right of the plan)"
        )


def _read_csv(path: Path) -> Grid:

    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        # Records, not lines: a cell with a line break is still one spreadsheet row, and csv
        # yields [] for a blank line, so blank rows keep their place in the count.
        rows = []
        for row in reader:
            rows.append(row)
            _check_size(None, len(rows), len(row))
    except csv.Error as exc:
        raise PlanFileError(f"not a readable CSV file ({exc})") from None
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            _check_cell(value, f"row {number}, column {column_letter(column)}")
    return grid_from_values(None, rows)


def _check_cell(value: object, where: str) -> None:
    if not isinstance(value, str):
        return
    if len(value) > MAX_CELL_CHARS:
        raise PlanFileError(
            f"{where} holds {len(value):,} characters; a cell may hold at most "
            f"{MAX_CELL_CHARS:,} (Excel's own limit)"
        )
    if "\x00" in value:
        # No spreadsheet cell holds NUL (and PostgreSQL cannot store it); in a CSV file it is
        # the mark of UTF-16 text saved without its byte-order mark.
        raise PlanFileError(
            f"{where} holds a NUL character, which no spreadsheet cell can; save the file as "
            "'CSV UTF-8'"
        )


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" export.
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise PlanFileError("the file is not readable UTF-16 text") from None
    try:
        # utf-8-sig also reads plain UTF-8: the BOM Excel's "CSV UTF-8" writes is optional.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Windows saves plain "CSV" in the ANSI code page (Windows-1252 in the UK),
        # so "Zoë" or "£" arrive as single bytes that are not UTF-8.
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise PlanFileError(
            "the file is neither UTF-8 nor Windows-1252 text; save it as 'CSV UTF-8'"
        ) from None


def _delimiter(text: str) -> str:
    # Excel in locales with a decimal comma (and its "Unicode Text" export) separates cells
    # with ';' or a tab. Title lines above the header may have no separator at all, so take
    # the separator that splits the first lines into the most cells; comma when in doubt.
    sample = "\n".join(text.splitlines()[:40])
    widths = {}
    for sep in (",", ";", "\t"):
        try:
            widths[sep] = max(
                (len(row) for row in csv.reader(io.StringIO(sample), delimiter=sep)), default=0
            )
        except csv.Error:
            widths[sep] = 0
    best = max(widths, key=lambda sep: widths[sep])
    return best if widths[best] > widths[","] else ","


# Excel's default ("Office") theme, for workbooks that do not carry their own: lt1, dk1, lt2,
# dk2, accent1-6, hlink, folHlink, in the order fills number theme colours.
_OFFICE_THEME = (
    "FFFFFF", "000000", "E7E6E6", "44546A", "4472C4", "ED7D31",
    "A5A5A5", "FFC000", "5B9BD5", "70AD47", "0563C1", "954F72",
)  # fmt: skip
_THEME_SLOTS = (
    "lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5",
    "accent6", "hlink", "folHlink",
)  # fmt: skip


def _theme(book: Any) -> tuple[str, ...]:
    """The workbook's theme colours (RRGGBB), in the order fills number them."""
    xml = getattr(book, "loaded_theme", None)
    if not isinstance(xml, bytes | str):
        return _OFFICE_THEME
    text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
    # A pattern, not an XML parser: the theme is untrusted input and only these values matter.
    found = dict(
        re.findall(
            r"<a:(\w+)>\s*<a:(?:srgbClr\s+val|sysClr\s[^>]*?lastClr)=\"([0-9A-Fa-f]{6})\"",
            text,
        )
    )
    return tuple(
        found.get(slot, default) for slot, default in zip(_THEME_SLOTS, _OFFICE_THEME, strict=True)
    )


def _fill_word(fill: Any, theme: tuple[str, ...], palette: Sequence[str]) -> str | None:
    """The RAG colour word of a cell's fill, or None."""

    if getattr(fill, "fill_type", None) in (None, "none"):
        return None
    color: Any = getattr(fill, "fgColor", None)
    kind = getattr(color, "type", None)
    rgb: str | None = None
    if kind == "rgb" and isinstance(color.rgb, str):
        rgb = color.rgb[-6:]
    elif kind == "indexed" and isinstance(color.indexed, int) and color.indexed < len(palette):
        rgb = palette[color.indexed][-6:]
    elif kind == "theme" and isinstance(color.theme, int) and color.theme < len(theme):
        rgb = theme[color.theme]
    if rgb is None or not re.fullmatch(r"[0-9A-Fa-f]{6}", rgb):
        return None
    red, green, blue = (int(rgb[i : i + 2], 16) for i in (0, 2, 4))
    tint = getattr(color, "tint", 0.0)
    if isinstance(tint, int | float) and tint:
        red, green, blue = _tinted(red, green, blue, float(tint))
    return colour_word(red, green, blue)


def _tinted(red: int, green: int, blue: int, tint: float) -> tuple[int, int, int]:
    """Excel's tint: towards white (positive) or black (negative), in lightness."""
    import colorsys

    hue, lightness, saturation = colorsys.rgb_to_hls(red / 255, green / 255, blue / 255)
    tint = max(-1.0, min(1.0, tint))
    lightness = lightness * (1 + tint) if tint < 0 else lightness * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _read_xlsx(path: Path) -> list[Grid]:
    from openpyxl import load_workbook
    from openpyxl.styles.colors import COLOR_INDEX

    _check_unzipped(path)
    try:
        # Not read-only: merged ranges are only known to a fully loaded sheet. data_only: a
        # formula cell gives the value Excel last calculated, not "=A1+7".
        book = load_workbook(path, data_only=True)
    except OSError as exc:
        if exc.errno is not None:
            raise  # missing or unreadable: the caller reports it like any file it cannot open
        # openpyxl's own IOError ("File contains no valid workbook part") has no errno: the
        # file was read, and it is not a workbook.
        raise not_a_workbook(exc) from None
    except Exception as exc:  # openpyxl raises zip, XML and key errors for a non-workbook
        raise not_a_workbook(exc) from None
    try:
        if not book.worksheets:
            raise PlanFileError("the workbook has no sheet")
        theme = _theme(book)
        palette = list(getattr(book, "_colors", None) or COLOR_INDEX)
        return [_sheet_grid(sheet, theme, palette) for sheet in book.worksheets]
    finally:
        book.close()


def _check_unzipped(path: Path) -> None:
    """Refuse a workbook whose parts would unzip to more than a plan can be."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return  # not a zip at all: openpyxl's own refusal says so
    total = sum(part.file_size for part in parts)
    if total > MAX_UNZIPPED_BYTES:
        raise PlanFileError(
            f"the workbook unzips to {total / 1024 / 1024:,.0f} MB; a plan workbook may unzip "
            f"to at most {MAX_UNZIPPED_BYTES // 1024 // 1024} MB (save the plan's sheets alone "
            "as .xlsx or .csv)"
        )
    for part in parts:
        if (
            part.file_size > _RATIO_FROM_BYTES
            and part.file_size > max(part.compress_size, 1) * MAX_COMPRESSION_RATIO
        ):
            raise PlanFileError(
                f"the workbook's part {part.filename!r} is compressed "
                f"{part.file_size // max(part.compress_size, 1):,} to 1, far beyond any "
                "spreadsheet; it is not a plan workbook"
            )


def _sheet_grid(sheet: Any, theme: tuple[str, ...], palette: Sequence[str]) -> Grid:

    # The stored cells only: iter_rows would create every missing cell of the sheet's
    # rectangle, which a stray formatted cell at row 1,000,000 makes enormous.
    stored: dict[tuple[int, int], Any] = sheet._cells
    valued = [key for key, cell in stored.items() if not _blank(cell.value)]
    height = max((row for row, _ in valued), default=0)
    width = max((column for _, column in valued), default=0)
    _check_size(sheet.title, height, width)
    grid: list[list[GridCell]] = [[EMPTY] * width for _ in range(height)]
    # Cells share a handful of styles: work out each style's meaning once.
    styles: dict[int, tuple[str | None, bool, bool, bool]] = {}
    for (row, column), cell in stored.items():
        if row > height or column > width or (not cell.has_style and _blank(cell.value)):
            continue
        style = cell.style_id if cell.has_style else 0
        meaning = styles.get(style)
        if meaning is None:
            font = cell.font
            meaning = (
                _fill_word(cell.fill, theme, palette),
                month_only_format(str(cell.number_format or "")),
                bool(getattr(font, "b", False)),
                bool(getattr(font, "i", False)),
            )
            styles[style] = meaning
        fill, month_only, bold, italic = meaning
        value = cell.value
        _check_cell(value, cell_address(sheet.title, row, column))
        if isinstance(value, dt.time | dt.timedelta):
            value = str(value)  # a time of day or a duration is no date; keep it as text
        if _blank(value) and fill is None:
            continue
        grid[row - 1][column - 1] = GridCell(
            value=None if _blank(value) else value,
            fill=fill,
            month_only=month_only and isinstance(value, dt.date),
            bold=bold,
            italic=italic,
        )
    merges = [
        Merge(merged.min_row, merged.min_col, merged.max_row, merged.max_col)
        for merged in sheet.merged_cells.ranges
    ]
    return Grid(sheet.title, grid, merges)

"""What an import read, shown before (`import --dry-run`) or after loading: a pure function.

The preview is built from the file as read (bot.plans.reader), the checked rows with their
owners (bot.plans.apply.PlannedRow), what the owner resolution found and what was (or would
be) written. It renders with rich: tables and colour on a terminal, plain text in a pipe.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot.plans.apply import ImportReport, PlannedRow, day_text
from bot.plans.table import PlanFile, SheetLayout

#: Actions listed in the preview's table; the rest are counted.
FIRST_ACTIONS = 10
#: Lines of a long list (dates read from words, warnings) shown before "… and N more".
LIST_LIMIT = 30


@dataclass(frozen=True)
class PersonLine:
    """A person the plan names, with how many actions name them that way."""

    name: str
    email: str | None = None
    actions: int = 0


@dataclass(frozen=True)
class UnresolvedName:
    """Owner text nobody the bot knows answers to, and the cells that hold it."""

    text: str
    cells: tuple[str, ...]
    #: The people it could be, when it names more than one.
    could_be: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeopleFound:
    """What resolving the plan's owners found."""

    owners: tuple[PersonLine, ...] = ()
    supporting: tuple[PersonLine, ...] = ()
    unresolved: tuple[UnresolvedName, ...] = ()
    #: Owners known by email whom no chat platform knows yet.
    unreachable: tuple[PersonLine, ...] = ()
    #: What loading the plan's people sheet into the directory did (`2 added, 1 updated, …`).
    directory: str = ""


@dataclass(frozen=True)
class Preview:
    """Everything the preview shows; `dry_run` says whether anything was written."""

    source: str
    plan: PlanFile
    rows: Sequence[PlannedRow]
    people: PeopleFound
    report: ImportReport
    dry_run: bool
    notes: tuple[str, ...] = field(default=())


def render_preview(preview: Preview, *, width: int = 100) -> str:
    """The preview as plain text, as a pipe or a test reads it."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=False,
        color_system=None,
        emoji=False,
        highlight=False,
    )
    console.print(preview_renderable(preview))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def preview_renderable(preview: Preview) -> RenderableType:
    """The preview for a rich console (a terminal prints it in colour)."""
    return Group(*_sections(preview))


def _sections(p: Preview) -> Iterator[RenderableType]:
    verb = "Would import" if p.dry_run else "Imported"
    yield _line(f"{verb} {p.source}", style="bold")
    for sheet in p.plan.sheets:
        yield from _sheet(sheet, p)
    yield from _actions(p.rows)
    yield from _dates(p.rows)
    yield from _people(p.people, dry_run=p.dry_run)
    yield from _warnings(p)
    yield from (_line(note) for note in p.notes)
    yield _line("")
    report = p.report
    if p.dry_run:
        yield _line(
            f"Dry run, nothing was changed: would create {report.created}, "
            f"update {report.updated}, leave {report.unchanged} unchanged.",
            style="bold",
        )
    else:
        yield _line(f"Imported {p.source}: {report.summary()}.", style="bold")


def _line(text: str, *, style: str = "") -> Text:
    return Text(text, style=style)


def _list(lines: Sequence[str], *, indent: str = "  ") -> Iterator[Text]:
    for text in lines[:LIST_LIMIT]:
        yield _line(indent + text)
    if len(lines) > LIST_LIMIT:
        yield _line(f"{indent}… and {len(lines) - LIST_LIMIT} more")


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _sheet(sheet: SheetLayout, p: Preview) -> Iterator[RenderableType]:
    name = f"Sheet '{sheet.name}'" if sheet.name else "The file"
    yield _line("")
    if sheet.kind == "plan":
        rows = sum(1 for planned in p.rows if planned.raw and planned.raw.sheet == sheet.name)
        header = _rows_text(sheet.header_rows)
        actions = f"{rows} action" + ("" if rows == 1 else "s")
        yield _line(f"{name}: a plan, header on {header}, {actions}", style="bold")
        table = _table("header as written", "read as")
        for written, column in sheet.mapping.items():
            table.add_row(Text(written), Text(column))
        yield table
        if sheet.unknown:
            yield _line("  Other columns, kept in notes: " + ", ".join(sheet.unknown))
    elif sheet.kind == "people":
        count = sum(1 for person in p.plan.people if person.sheet == sheet.name)
        people = f"{count} " + ("person" if count == 1 else "people")
        yield _line(f"{name}: people directory ({people})", style="bold")
    else:
        yield _line(f"{name}: {sheet.kind}, not read")
    if sheet.skipped:
        yield _line(f"  Rows skipped ({len(sheet.skipped)}):")
        yield from _list([f"row {s.row}: {s.reason}" for s in sheet.skipped], indent="    ")


def _rows_text(numbers: Sequence[int]) -> str:
    if not numbers:
        return "no row"
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    return f"rows {numbers[0]}-{numbers[-1]}"


def _owner_text(planned: PlannedRow) -> str:
    who = planned.assignment
    if who.owner is not None:
        text = who.owner.display_name
    elif who.owner_text:
        text = f"unassigned ({who.owner_text})"
    else:
        text = "unassigned"
    if who.supporters:
        text += " + " + ", ".join(person.display_name for person in who.supporters)
    return text


def due_text(planned: PlannedRow) -> str:
    """The deadline as the preview shows it: a date, or the cadence of an action without one."""
    row = planned.row
    if row.due is not None:
        return day_text(row.due)
    if row.cadence:
        return f"{row.cadence}, needs a date"
    return "needs a date"


def _actions(rows: Sequence[PlannedRow]) -> Iterator[RenderableType]:
    yield _line("")
    yield _line(f"Actions found: {len(rows)}", style="bold")
    if not rows:
        return
    table = _table("ref", "title", "owner", "due")
    for planned in rows[:FIRST_ACTIONS]:
        row = planned.row
        table.add_row(
            Text(row.ref or ""),
            Text(_short(row.title, 50)),
            Text(_owner_text(planned)),
            Text(due_text(planned)),
        )
    yield table
    if len(rows) > FIRST_ACTIONS:
        yield _line(f"  … and {len(rows) - FIRST_ACTIONS} more")
    undated = [planned for planned in rows if planned.row.due is None]
    if undated:
        yield _line(
            f'  Without a deadline ({len(undated)}): they load under "needs a date"; '
            "a chair sets one with /action due"
        )


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dates(rows: Sequence[PlannedRow]) -> Iterator[RenderableType]:
    lines = []
    for planned in rows:
        for reading in planned.row.readings:
            where = planned.raw.address(reading.column) if planned.raw else planned.label
            lines.append(f"{where}: {_quote(reading.text)} → {reading.read_as}")
    if lines:
        yield _line("")
        yield _line(f"Read from words ({len(lines)}):", style="bold")
        yield from _list(lines)


def _quote(text: str) -> str:
    return '"' + _short(text.replace("\n", " / "), 60) + '"'


def _person(line: PersonLine) -> str:
    who = f"{line.name} <{line.email}>" if line.email and line.email != line.name else line.name
    if line.actions:
        who += f": {line.actions} action" + ("s" if line.actions != 1 else "")
    return who


def _people(people: PeopleFound, *, dry_run: bool) -> Iterator[RenderableType]:
    yield _line("")
    if people.directory:
        stored = " (dry run: not stored)" if dry_run else ""
        yield _line(f"People directory from the plan: {people.directory}{stored}")
    yield _line(f"Owners resolved ({len(people.owners)}):", style="bold")
    yield from _list([_person(line) for line in people.owners])
    if people.supporting:
        yield _line(f"Supporting owners ({len(people.supporting)}):", style="bold")
        yield from _list([_person(line) for line in people.supporting])
    if people.unresolved:
        yield _line(
            f"Unresolved owners ({len(people.unresolved)}): their actions load unassigned, "
            "with the text kept",
            style="bold",
        )
        yield from _list([_unresolved(name) for name in people.unresolved])
    if people.unreachable:
        yield _line(
            f"Not reachable in chat yet ({len(people.unreachable)}): owners by email whom "
            "Slack and Teams do not know; linked when they appear",
            style="bold",
        )
        yield from _list([_person(line) for line in people.unreachable])


def _unresolved(name: UnresolvedName) -> str:
    text = f"{_quote(name.text)} in {', '.join(name.cells)}"
    if name.could_be:
        text += " (could be " + " or ".join(name.could_be) + ")"
    return text


def _warnings(p: Preview) -> Iterator[RenderableType]:
    lines = [
        f"{planned.label}: {warning}" for planned in p.rows for warning in planned.row.warnings
    ]
    if lines:
        yield _line("")
        yield _line(f"Warnings ({len(lines)}):", style="bold")
        yield from _list(lines)

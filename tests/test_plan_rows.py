"""Plan rows' deadline, status and RAG as the plan wrote them: month-only cells, fill colours,
several dates, no-deadline words, BRAG, and the warnings and readings the preview prints."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import Rag, Status
from bot.grammar.dates import PLAN_DATE_FORMS
from bot.grammar.words import PLAN_RAG_CHOICES, PLAN_STATUS_CHOICES
from bot.plans.rows import PlanRow, Reading, validate_rows
from bot.plans.table import PlanImportError, RawRow

D = dt.date


def row(
    number: int = 5,
    *,
    due: object = None,
    status: object = None,
    rag: object = None,
    fills: dict[str, str] | None = None,
    month_only: frozenset[str] = frozenset(),
    where: dict[str, str] | None = None,
) -> PlanRow:
    cells = {"title": f"Action {number}", "owner": "amira@council.example", "due": due}
    cells |= {"status": status, "rag": rag}
    raw = RawRow(
        number,
        cells,
        sheet="Improvement Plan",
        where=where or {},
        fills=fills or {},
        month_only=month_only,
    )
    (read,) = validate_rows([raw])
    return read


def schedule(read: PlanRow) -> dict[str, object]:
    """The fields this part of the importer fills, as the preview and apply see them."""
    return read.model_dump(
        include={
            "due",
            "cadence",
            "milestones",
            "due_words",
            "status",
            "rag",
            "done_on",
            "blocked_reason",
            "warnings",
            "readings",
        }
    )


def test_a_plain_date_reads_quietly() -> None:
    assert schedule(row(due="31/12/2026")) == {
        "due": D(2026, 12, 31),
        "cadence": None,
        "milestones": (),
        "due_words": None,
        "status": None,
        "rag": None,
        "done_on": None,
        "blocked_reason": None,
        "warnings": (),
        "readings": (),
    }


def test_a_date_from_words_is_shown_with_its_text() -> None:
    read = row(due="Q4 2026/27")
    assert (read.due, read.due_words) == (D(2027, 3, 31), "Q4 2026/27")
    assert read.readings == (Reading("due", "Q4 2026/27", "Wed 31 Mar 2027 (financial quarter)"),)
    assert read.warnings == ()


def test_a_month_only_cell_is_the_months_end_with_a_warning() -> None:
    read = row(
        due=dt.datetime(2027, 3, 1),
        month_only=frozenset({"due"}),
        where={"due": "'Improvement Plan'!F14"},
    )
    assert (read.due, read.due_words) == (D(2027, 3, 31), "Mar 2027")
    assert read.warnings == (
        "due 'Improvement Plan'!F14 is shown as a month: read as its last day",
    )
    assert read.readings == (Reading("due", "Mar 2027", "Wed 31 Mar 2027 (month-only cell)"),)


def test_several_dates_keep_the_earlier_ones_as_milestones() -> None:
    read = row(due="By 31/12/2026\nBy 31/03/2027")
    assert read.due == D(2027, 3, 31)
    assert read.milestones == (D(2026, 12, 31),)
    assert read.readings == (
        Reading(
            "due",
            "By 31/12/2026 / By 31/03/2027",
            "Wed 31 Mar 2027 (last of several dates); milestones Thu 31 Dec 2026",
        ),
    )


@pytest.mark.parametrize(
    ("cell", "cadence", "read_as"),
    [
        ("Ongoing", None, "no deadline"),
        ("TBC", None, "no deadline"),
        ("Monthly", "monthly", "no deadline, monthly"),
        ("Every Board", "every board", "no deadline, every board"),
        ("Six-monthly", "six-monthly", "no deadline, six-monthly"),
        ("Termly", "termly", "no deadline, termly"),
    ],
)
def test_no_deadline_words_load_without_a_date(
    cell: str, cadence: str | None, read_as: str
) -> None:
    read = row(due=cell)
    assert (read.due, read.cadence, read.due_words) == (None, cadence, cell)
    assert read.readings == (Reading("due", cell, read_as),)


def test_an_empty_due_cell_is_an_action_that_needs_a_date() -> None:
    read = row(due=None)
    assert (read.due, read.cadence, read.due_words) == (None, None, None)
    assert read.warnings == ("no deadline given: the action needs a date",)


@pytest.mark.parametrize(
    ("cells", "status", "rag", "done_on", "reason"),
    [
        ({"rag": "Blue"}, Status.DONE, Rag.BLUE, None, None),
        ({"rag": "B"}, Status.DONE, Rag.BLUE, None, None),
        ({"status": "Complete"}, Status.DONE, None, None, None),
        ({"status": "Completed 12/10/2026"}, Status.DONE, None, D(2026, 10, 12), None),
        ({"status": "Closed", "rag": "Blue"}, Status.DONE, Rag.BLUE, None, None),
        ({"status": "On hold", "rag": "R"}, Status.BLOCKED, Rag.RED, None, "On hold"),
        ({"status": "On track", "rag": "G"}, Status.IN_PROGRESS, Rag.GREEN, None, None),
        ({"status": "Not started"}, Status.OPEN, None, None, None),
        # A status column that holds the RAG: read as the RAG.
        ({"status": "Amber"}, None, Rag.AMBER, None, None),
        ({"status": "Blue"}, Status.DONE, Rag.BLUE, None, None),
    ],
)
def test_status_and_rag_words(
    cells: dict[str, str],
    status: Status | None,
    rag: Rag | None,
    done_on: dt.date | None,
    reason: str | None,
) -> None:
    read = row(due="31/03/2027", **cells)  # type: ignore[arg-type]
    assert (read.status, read.rag, read.done_on, read.blocked_reason) == (
        status,
        rag,
        done_on,
        reason,
    )


def test_a_done_row_without_a_date_is_never_stamped_with_one() -> None:
    read = row(due="31/03/2027", status="Completed Oct 2026")
    assert (read.status, read.done_on) == (Status.DONE, None)
    assert read.warnings == ("'Completed Oct 2026' read as done, on a day not known",)


def test_a_rating_between_two_is_the_worse_and_says_so() -> None:
    read = row(due="31/03/2027", rag="A/G")
    assert read.rag == Rag.AMBER
    assert read.warnings == ("'A/G' read as amber, the worse of the two",)
    assert read.readings == (Reading("rag", "A/G", "RAG amber"),)


def test_overdue_is_noted_not_a_status() -> None:
    read = row(due="31/03/2027", status="Overdue")
    assert read.status is None
    assert read.warnings == ("'Overdue' is worked out from the deadline; status left as it is",)


@pytest.mark.parametrize(("colour", "rag"), [("red", Rag.RED), ("amber", Rag.AMBER)])
def test_a_rag_given_only_by_fill_colour(colour: str, rag: Rag) -> None:
    read = row(due="31/03/2027", fills={"rag": colour})
    assert (read.status, read.rag) == (None, rag)
    assert read.warnings == (f"RAG read from the cell's fill colour ({colour})",)
    assert read.readings == (Reading("rag", f"({colour} fill)", f"RAG {colour}"),)


def test_a_blue_fill_means_done() -> None:
    read = row(due="31/03/2027", fills={"rag": "blue"})
    assert (read.status, read.rag, read.done_on) == (Status.DONE, Rag.BLUE, None)
    assert read.readings == (Reading("rag", "(blue fill)", "RAG blue (complete)"),)


def test_text_wins_over_fill() -> None:
    read = row(due="31/03/2027", rag="Green", fills={"rag": "red"})
    assert (read.rag, read.warnings) == (Rag.GREEN, ())


def test_a_status_cell_coloured_and_empty_gives_the_rag() -> None:
    read = row(due="31/03/2027", fills={"status": "green"})
    assert (read.status, read.rag) == (None, Rag.GREEN)
    assert read.warnings == ("status read from the cell's fill colour (green)",)


def test_an_explicit_status_wins_over_a_blue_rating() -> None:
    read = row(due="31/03/2027", status="In progress", rag="Blue")
    assert (read.status, read.rag) == (Status.IN_PROGRESS, Rag.BLUE)
    assert read.warnings == ("RAG blue means complete, but the status says in progress: kept",)


def test_every_problem_of_every_row_is_reported() -> None:
    rows = [
        RawRow(5, {"title": "Fine", "owner": "amira@council.example", "due": "Q4 2026/27"}),
        RawRow(
            6,
            {
                "title": "Bad",
                "owner": "amira@council.example",
                "due": "31/2/2026",
                "status": "nearly",
                "rag": "purple",
            },
        ),
        RawRow(7, {"title": "Soon", "owner": "amira@council.example", "due": "soon"}),
        RawRow(8, {"title": "", "owner": "amira@council.example", "due": "Mar 27"}),
    ]
    with pytest.raises(PlanImportError) as caught:
        validate_rows(rows)
    assert str(caught.value).splitlines() == [
        "row 6: due '31/2/2026' is not a real date: February 2026 has 28 days",
        f"row 6: status 'nearly' is not one of {PLAN_STATUS_CHOICES}; "
        f"rag 'purple' is not one of {PLAN_RAG_CHOICES}",
        f"row 7: due 'soon' is not a date ({PLAN_DATE_FORMS})",
        "row 8: due 'Mar 27' could be a day or a month: write 27/03/2027 or March 2027",
        "row 8: title is empty",
    ]

"""The plan's figures in one grouped query agree with counting the actions one by one."""

from __future__ import annotations

import datetime as dt
import itertools

from bot.domain import OPEN_STATUSES, Rag, Status
from bot.services.context import Core
from storage import queries
from storage.db import transaction
from storage.models import DEFAULT_BOARD_ID, Action
from tests.conftest import MONDAY

TODAY = MONDAY.date()


def test_plan_figures_match_a_count_of_every_action(core: Core) -> None:
    dues = [None, TODAY - dt.timedelta(days=3), TODAY, TODAY + dt.timedelta(days=7),
            TODAY + dt.timedelta(days=8)]
    combos = list(itertools.product(Status, [None, *Rag], dues))
    with transaction(core.sessions) as session:
        for n, (status, rag, due) in enumerate(combos):
            session.add(Action(title=f"a{n}", status=status, rag=rag, due_date=due,
                               created_at=MONDAY, updated_at=MONDAY, version=1))
    soon = TODAY + dt.timedelta(days=7)
    with transaction(core.sessions) as session:
        figures = queries.plan_figures(session, board_id=DEFAULT_BOARD_ID, today=TODAY, soon=soon)

    def count(pred: object) -> int:
        return sum(1 for c in combos if pred(*c))  # type: ignore[operator]

    assert figures.by_status == {s: count(lambda st, r, d, s=s: st == s) for s in Status}
    assert figures.open == count(lambda st, r, d: st in OPEN_STATUSES)
    assert figures.open_by_rag == {
        rag: count(lambda st, r, d, rag=rag: st in OPEN_STATUSES and r == rag)
        for rag in [*Rag, None]
    }
    assert figures.due_soon == count(
        lambda st, r, d: st in OPEN_STATUSES and d is not None and TODAY <= d <= soon
    )
    assert figures.overdue == count(
        lambda st, r, d: st in OPEN_STATUSES and d is not None and d < TODAY
    )
    assert figures.due_soon > 0 and figures.overdue > 0  # the data exercises both

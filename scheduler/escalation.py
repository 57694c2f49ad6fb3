"""The escalation ladder: who hears about a late or blocked action after how many working days.

The ladder (ESCALATION_LADDER, bot/domain/ladder.py) says, for example, overdue 1 working day →
the owner; 5 → the owner and supporting owners; 10 → the secretary; 15 → the chairs; blocked 3
→ the secretary; 5 → the chairs. Each step is sent once per action per deadline (per blocking,
for blocked): `escalation_progress` keeps the highest step sent, so a day missed by downtime is
caught up, an action imported long overdue sends each person only the highest step that names
them, and a moved deadline or a new blocking starts again at the bottom. Keys:
`escalation:{action}:{anchor}:{step}:{person}`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain import OPEN_STATUSES, Change, Platform, Role, Status
from bot.domain.ladder import Audience, Step, Trigger
from bot.domain.workdays import WorkingCalendar
from bot.outbox import deferred
from bot.people.directory import Account
from bot.people.resolve import chairs, upsert_account
from bot.services.context import Core
from scheduler.bulk_queue import Planned
from scheduler.groups import on_boards
from storage.db import transaction
from storage.models import (
    Action,
    BoardMember,
    EscalationProgress,
    HistoryEntry,
    Person,
    Supporter,
)

log = logging.getLogger(__name__)

ESCALATION = "escalation"

#: Who a person is to an escalated action, most specific first: an owner who is also a chair
#: is told as the owner (with the owner's buttons).
_ROLE_ORDER: tuple[deferred.EscalatedTo, ...] = ("owner", "supporter", "secretary", "chair")


def blocked_since(session: Session, board_ids: Sequence[int] | None) -> dict[int, dt.datetime]:
    """When each blocked action of `board_ids` (None: every board's) last became blocked,
    from its history (one grouped query)."""
    query = (
        select(HistoryEntry.action_id, func.max(HistoryEntry.at))
        .join(Action, Action.id == HistoryEntry.action_id)
        .where(
            on_boards(board_ids),
            Action.status == Status.BLOCKED,
            HistoryEntry.change == Change.STATUS,
            HistoryEntry.new_value == Status.BLOCKED.value,
        )
        .group_by(HistoryEntry.action_id)
    )
    return {action_id: at for action_id, at in session.execute(query).all()}


@dataclass(frozen=True)
class _Climb:
    """An action that has reached steps of the ladder not yet sent."""

    action_id: int
    board_id: int
    owner_id: int | None
    trigger: Trigger
    anchor: dt.date
    due: dt.date | None
    days: int
    steps: tuple[Step, ...]


def plan_escalations(
    session: Session,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    today: dt.date,
    now: dt.datetime,
    board_views: Sequence[BoardView],
    every_board: bool = False,
) -> list[Planned]:
    """The ladder's steps reached by `today` and not yet sent, one per person and action
    (the highest step that names them), and the progress recorded so none is sent twice.

    For the boards `board_views`, which plan alike (`settings`, `calendar`); `every_board`:
    they are all the deployment's.
    """
    ladder = settings.ladder
    if not ladder:
        return []
    boards = None if every_board else sorted(b.id for b in board_views)
    sent = select(
        EscalationProgress.action_id,
        EscalationProgress.trigger,
        EscalationProgress.anchor,
        EscalationProgress.days,
    ).join(Action, Action.id == EscalationProgress.action_id)
    progress = {
        (action_id, trigger): (anchor, days)
        for action_id, trigger, anchor, days in session.execute(sent.where(on_boards(boards)))
    }
    climbs = list(_overdue(session, boards, ladder, calendar, today, progress))
    climbs += _blocked(session, boards, ladder, calendar, today, settings, progress)
    if not climbs:
        return []
    audiences = _Audiences(session, climbs, boards=board_views)
    planned: list[Planned] = []
    for climb in climbs:
        for person_id, (step, to) in audiences.highest(climb).items():
            payload = deferred.escalation_payload(
                today, climb.due, climb.trigger.value, climb.days, to
            )
            planned.append(
                Planned(
                    key=f"{ESCALATION}:{climb.action_id}:{climb.anchor}:{step.key}:{person_id}",
                    kind=ESCALATION,
                    recipient_id=person_id,
                    action_id=climb.action_id,
                    board_id=climb.board_id,
                    payload=payload,
                )
            )
    if audiences.nobody_for_chairs:
        log.warning(
            "escalations to the chairs due but no chair is known on board(s) %s "
            "(CHAIR_USER_IDS, or a chair's role on the board)",
            ", ".join(map(str, sorted(audiences.nobody_for_chairs))),
        )
    _record(session, climbs, now=now)
    return planned


def _overdue(
    session: Session,
    boards: Sequence[int] | None,
    ladder: Sequence[Step],
    calendar: WorkingCalendar,
    today: dt.date,
    progress: dict[tuple[int, str], tuple[dt.date, int]],
) -> Iterable[_Climb]:
    steps = [s for s in ladder if s.trigger is Trigger.OVERDUE]
    if not steps:
        return
    late = session.execute(
        select(Action.id, Action.board_id, Action.owner_id, Action.due_date).where(
            on_boards(boards), Action.status.in_(OPEN_STATUSES), Action.due_date < today
        )
    )
    for action_id, board_id, owner_id, due in late:
        assert due is not None  # filtered by the query
        days = calendar.working_days_between(due, today)
        climb = _climb(steps, progress, action_id, Trigger.OVERDUE, due, days)
        if climb:
            yield _Climb(action_id, board_id, owner_id, Trigger.OVERDUE, due, due, days, climb)


def _blocked(
    session: Session,
    boards: Sequence[int] | None,
    ladder: Sequence[Step],
    calendar: WorkingCalendar,
    today: dt.date,
    settings: Settings,
    progress: dict[tuple[int, str], tuple[dt.date, int]],
) -> list[_Climb]:
    steps = [s for s in ladder if s.trigger is Trigger.BLOCKED]
    if not steps:
        return []
    since = blocked_since(session, boards)
    blocked = session.execute(
        select(
            Action.id, Action.board_id, Action.owner_id, Action.due_date, Action.updated_at
        ).where(on_boards(boards), Action.status == Status.BLOCKED)
    )
    found: list[_Climb] = []
    for action_id, board_id, owner_id, due, updated_at in blocked:
        # Imported as blocked, with no history of it: count from the action's last change.
        start = since.get(action_id, updated_at).astimezone(settings.tz).date()
        days = calendar.working_days_between(start, today)
        climb = _climb(steps, progress, action_id, Trigger.BLOCKED, start, days)
        if climb:
            found.append(
                _Climb(action_id, board_id, owner_id, Trigger.BLOCKED, start, due, days, climb)
            )
    return found


def _climb(
    steps: Sequence[Step],
    progress: dict[tuple[int, str], tuple[dt.date, int]],
    action_id: int,
    trigger: Trigger,
    anchor: dt.date,
    days: int,
) -> tuple[Step, ...]:
    """The steps reached and not yet sent for this deadline (or blocking)."""
    anchor_sent, sent = progress.get((action_id, trigger.value), (None, 0))
    if anchor_sent != anchor:
        sent = 0  # a new deadline or a new blocking: the ladder starts again
    return tuple(s for s in steps if sent < s.days <= days)


class _Audiences:
    """The people each rung names, found in a few queries for all the climbs of a run."""

    def __init__(self, session: Session, climbs: Sequence[_Climb], *, boards: Sequence[BoardView]):
        wanted = {a for c in climbs for s in c.steps for a in s.audience}
        climbing = {c.board_id for c in climbs}
        self.chairs: Mapping[int, Sequence[int]] = {}
        if Audience.CHAIRS in wanted:
            self.chairs = chairs_by_board(session, [b for b in boards if b.id in climbing])
        self.secretaries: dict[int, list[int]] = defaultdict(list)
        if Audience.SECRETARY in wanted:
            rows = session.execute(
                select(BoardMember.board_id, Person.id)
                .join(Person, Person.id == BoardMember.person_id)
                .where(
                    BoardMember.board_id.in_(sorted(climbing)),
                    BoardMember.role == Role.SECRETARY,
                    Person.left_at.is_(None),
                )
                .order_by(Person.id)
            )
            for board_id, person_id in rows:
                self.secretaries[board_id].append(person_id)
        self.supporters: dict[int, list[int]] = defaultdict(list)
        if Audience.SUPPORTERS in wanted:
            ids = [
                c.action_id
                for c in climbs
                if any(Audience.SUPPORTERS in s.audience for s in c.steps)
            ]
            rows = session.execute(
                select(Supporter.action_id, Supporter.person_id).where(Supporter.action_id.in_(ids))
            )
            for action_id, person_id in rows:
                self.supporters[action_id].append(person_id)
        #: Boards with an escalation to their chairs due and no chair to send it to.
        self.nobody_for_chairs = {
            c.board_id
            for c in climbs
            if any(Audience.CHAIRS in s.audience for s in c.steps)
            and not self.chairs.get(c.board_id)
        }

    def highest(self, climb: _Climb) -> dict[int, tuple[Step, deferred.EscalatedTo]]:
        """Each person the climb's new steps name, with the highest step naming them."""
        found: dict[int, tuple[Step, deferred.EscalatedTo]] = {}
        for step in climb.steps:  # lowest first: a later step replaces an earlier one
            named: dict[int, deferred.EscalatedTo] = {}
            for audience in sorted(step.audience, key=_rank, reverse=True):
                for person_id in self._people(audience, climb):
                    named[person_id] = _as(audience)
            for person_id, to in named.items():
                found[person_id] = (step, to)
        return found

    def _people(self, audience: Audience, climb: _Climb) -> list[int]:
        if audience is Audience.OWNER:
            return [climb.owner_id] if climb.owner_id is not None else []
        if audience is Audience.SUPPORTERS:
            return self.supporters.get(climb.action_id, [])
        if audience is Audience.SECRETARY:
            return self.secretaries.get(climb.board_id, [])
        return list(self.chairs.get(climb.board_id, ()))


_AS: dict[Audience, deferred.EscalatedTo] = {
    Audience.OWNER: "owner",
    Audience.SUPPORTERS: "supporter",
    Audience.SECRETARY: "secretary",
    Audience.CHAIRS: "chair",
}


def _as(audience: Audience) -> deferred.EscalatedTo:
    return _AS[audience]


def _rank(audience: Audience) -> int:
    return _ROLE_ORDER.index(_as(audience))


def _record(session: Session, climbs: Sequence[_Climb], *, now: dt.datetime) -> None:
    """Keep the highest step sent per action and trigger, in the planning transaction."""
    rows: list[dict[str, Any]] = [
        {
            "action_id": c.action_id,
            "trigger": c.trigger.value,
            "anchor": c.anchor,
            "days": max(s.days for s in c.steps),
            "at": now,
        }
        for c in climbs
    ]
    table = EscalationProgress.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)  # type: ignore[arg-type]
    # Two workers planning at once record the same step: the later write is the same row.
    statement = statement.on_conflict_do_update(
        index_elements=["action_id", "trigger"],
        set_={"anchor": statement.excluded.anchor, "days": statement.excluded.days, "at": now},
    )
    session.connection().execute(statement, rows)


def chairs_by_board(session: Session, boards: Sequence[BoardView]) -> dict[int, list[int]]:
    """Each board's chairs (person ids) in one query, as `chairs` finds them one board at a
    time; the default board's CHAIR_USER_IDS take one more."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(BoardMember.board_id, BoardMember.person_id).where(
            BoardMember.board_id.in_(sorted(b.id for b in boards)),
            BoardMember.role == Role.CHAIR,
        )
    )
    for board_id, person_id in rows:
        found[board_id].add(person_id)
    for board in boards:
        if board.is_default and board.settings.chair_user_ids:
            found[board.id].update(p.id for p in chairs(session, board=board))
    return {board_id: sorted(ids) for board_id, ids in found.items()}


def ensure_chairs(
    session: Session, *, core: Core, platforms: Sequence[Platform], now: dt.datetime
) -> list[Person]:
    """Every chair of CHAIR_USER_IDS as a person the bot can message, then all chairs.

    A chair who never used the bot is otherwise unknown, and escalations would have nobody to
    go to. Each is looked up in the directory of a platform we send on; without a directory
    a plain id is taken to be an account on the first such platform.
    """
    known = chairs(session, board=core.board)
    names = {i.external_id.lower() for p in known for i in p.identities}
    names |= {p.email.lower() for p in known if p.email}
    added = False
    for value in core.settings.chair_user_ids:
        if value.lower() in names:
            continue
        account = _lookup(core, value, platforms)
        if account is None:
            log.warning("chair %s is not known on %s", value, ", ".join(platforms) or "-")
            continue
        upsert_account(session, account=account, now=now)
        added = True
    return list(chairs(session, board=core.board)) if added else list(known)


def _lookup(core: Core, value: str, platforms: Sequence[Platform]) -> Account | None:
    for platform in platforms:
        directory = core.directories.get(platform)
        account = None
        if directory is not None:
            lookup = directory.lookup_email if "@" in value else directory.lookup_id
            try:
                account = lookup(value)
            except Exception as exc:  # a directory is a network call: it must not stop the job
                log.warning("looking up chair %s on %s failed: %s", value, platform, exc)
        if account is not None:
            return account
        if "@" not in value:
            # An id the directory cannot describe is still worth a try: if it is wrong, the
            # send fails and says so, rather than escalations going nowhere without a word.
            return Account(platform=platform, external_id=value, name=value)
    return None


def register_chairs(core: Core, *, platforms: Sequence[Platform]) -> None:
    """ensure_chairs in its own transaction; a second worker doing it at the same moment wins
    the race harmlessly (the unique account constraint refuses the copy, we read theirs)."""
    for attempt in (1, 2):
        try:
            with transaction(core.sessions) as session:
                ensure_chairs(session, core=core, platforms=platforms, now=core.now())
            return
        except IntegrityError:
            if attempt == 2:
                raise

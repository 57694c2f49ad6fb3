"""The board cycle on the worker's tick: each meeting's update round opens, nudges and closes
at the cut-off, each step once per meeting (its column stamped in the transaction that queues
its messages, the messages under unique outbox keys), in working time, catching up after the
worker was down.

Catching up does what still makes sense: past the cut-off, only the cut-off runs (a request
for updates already collated would mislead); past the nudge day with the round never opened,
the round opens and the nudge is not sent on top of it.

After the cut-off (its snapshot committed, which the pack's trend reads), the board pack is
built and its post queued to the board's channel, once per meeting, while the meeting is
still to come; a pack that fails to build is tried again at the next tick.

Every board's meetings are read in one query and their steps worked out in Python, each
with its board's settings and calendar; only a meeting with a step due takes a transaction
of its own. A tick with no step due costs two queries, however many boards there are.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.boards.view import BoardView
from bot.outbox.queue import enqueue
from bot.pack.build import build_pack
from bot.pack.post import queue_pack_post
from bot.services.context import Core
from bot.services.rounds import (
    ROUND,
    asked_actions,
    missing_message,
    queue_requests,
    round_dates,
    round_start,
    runners,
    without_update,
)
from bot.services.snapshots import take_snapshot
from storage.db import transaction
from storage.models import Meeting, Person

log = logging.getLogger(__name__)

#: Planned counts by step, as the tick's report shows them.
OPENED, NUDGED, CUT_OFF, SNAPSHOT = "round", "round nudge", "cut-off", "snapshot"
PACK = "board pack"

#: Meetings whose pack could not be posted for want of settings, told once per process.
_told_unset: set[int] = set()


def run_board_cycle(
    core: Core, *, now: dt.datetime | None = None, boards: Sequence[BoardView] | None = None
) -> Counter[str]:
    """Run every step due now for every meeting whose cut-off has not run, on every board
    (or on `boards`), each on its board's settings; counts by step.

    The caller decides it is working time (the worker's tick passes the boards in theirs).
    """
    now = now or core.now()
    serving = {b.id: core.on(b) for b in (core.boards.all() if boards is None else boards)}
    done: Counter[str] = Counter()
    with transaction(core.sessions) as session:
        pending = session.scalars(
            select(Meeting)
            .where(Meeting.cancelled_at.is_(None), Meeting.cut_off_at.is_(None))
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
        due = [
            (m.id, on)
            for m in pending
            if (on := serving.get(m.board_id)) is not None and _step_due(on, m, now=now)
        ]
    for meeting_id, on in due:
        # One transaction a meeting: a failure in one leaves the others' steps standing.
        try:
            with transaction(core.sessions) as session:
                meeting = _locked(session, meeting_id)
                if meeting is None or meeting.cancelled_at or meeting.cut_off_at:
                    continue
                today = now.astimezone(on.settings.tz).date()
                done += _step(session, on, meeting, today=today, now=now)
        except Exception:
            log.exception(
                "board cycle: meeting %s failed; tried again at the next tick", meeting_id
            )
    done += post_packs(core, now=now, serving=serving)
    return done


def _step_due(core: Core, meeting: Meeting, *, now: dt.datetime) -> bool:
    """Whether `_step` has anything to do for `meeting` at `now` (as read, unlocked)."""
    settings = core.settings
    today = now.astimezone(settings.tz).date()
    dates = round_dates(meeting, settings=settings, calendar=core.calendar)
    if today >= dates.cutoff:
        return True
    if meeting.round_opened_at is None:
        return today >= dates.opens
    return (
        meeting.round_nudged_at is None
        and today >= dates.nudge
        and meeting.round_opened_at.astimezone(settings.tz).date() < dates.nudge
    )


def _locked(session: Session, meeting_id: int) -> Meeting | None:
    """The meeting, its row locked until the transaction ends (two workers at once take turns,
    and the second finds the step stamped). `of` the meetings table alone: PostgreSQL locks no
    row of an outer join's nullable side (the people who made or cancelled it)."""
    return session.scalars(
        select(Meeting).where(Meeting.id == meeting_id).with_for_update(of=Meeting)
    ).first()


def post_packs(
    core: Core, *, now: dt.datetime, serving: dict[int, Core] | None = None
) -> Counter[str]:
    """Build and queue the pack of each meeting cut off whose pack is not posted yet, on the
    boards of `serving` (board id: the core on that board; default: every board)."""
    if serving is None:
        serving = {b.id: core.on(b) for b in core.boards.all()}
    with transaction(core.sessions) as session:
        rows = session.execute(
            select(Meeting.id, Meeting.board_id)
            .where(
                Meeting.cancelled_at.is_(None),
                Meeting.cut_off_at.is_not(None),
                Meeting.pack_posted_at.is_(None),
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
    done: Counter[str] = Counter()
    for meeting_id, board_id in rows:
        on = serving.get(board_id)
        if on is None:
            continue
        settings = on.settings
        if not settings.public_url or not settings.board_channel:
            if meeting_id not in _told_unset:
                log.warning(
                    "board cycle: meeting %s's pack is not posted: %s is not set",
                    meeting_id,
                    "PUBLIC_URL" if not settings.public_url else "the board's channel",
                )
                _told_unset.add(meeting_id)
            continue
        try:
            with transaction(core.sessions) as session:
                meeting = _locked(session, meeting_id)
                if meeting is None or meeting.pack_posted_at is not None:
                    continue
                built = build_pack(session, on, meeting, now)
                queue_pack_post(session, built, now)
                meeting.pack_posted_at = now
                done[PACK] += 1
        except Exception:
            log.exception(
                "board cycle: meeting %s's pack failed; tried again at the next tick", meeting_id
            )
    return done


def _step(
    session: Session, core: Core, meeting: Meeting, *, today: dt.date, now: dt.datetime
) -> Counter[str]:
    settings, calendar = core.settings, core.calendar
    dates = round_dates(meeting, settings=settings, calendar=calendar)
    done: Counter[str] = Counter()
    if today >= dates.cutoff:
        done += _cut_off(session, core, meeting, now=now)
        return done
    if meeting.round_opened_at is None and today >= dates.opens:
        owners = asked_actions(session, board_id=meeting.board_id)
        done[OPENED] += queue_requests(
            session, meeting, owners, settings=settings, calendar=calendar, now=now, step="open"
        )
        meeting.round_opened_at = now
        return done
    opened = meeting.round_opened_at
    if (
        opened is not None
        and meeting.round_nudged_at is None
        and today >= dates.nudge
        and opened.astimezone(settings.tz).date() < dates.nudge
    ):
        owners = without_update(session, asked_actions(session, board_id=meeting.board_id), opened)
        done[NUDGED] += queue_requests(
            session, meeting, owners, settings=settings, calendar=calendar, now=now, step="nudge"
        )
        meeting.round_nudged_at = now
    return done


def _cut_off(session: Session, core: Core, meeting: Meeting, *, now: dt.datetime) -> Counter[str]:
    """Tell the chairs and the secretary who has not updated which action; snapshot the plan."""
    settings = core.settings
    since = round_start(meeting, settings=settings, calendar=core.calendar)
    missing = without_update(session, asked_actions(session, board_id=meeting.board_id), since)
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(missing))))}
    message = missing_message(
        meeting, missing, people, settings=settings, today=now.astimezone(settings.tz).date()
    )
    done: Counter[str] = Counter()
    for person in runners(session, board=core.board):
        queued = enqueue(
            session,
            board_id=meeting.board_id,
            key=f"{ROUND}:{meeting.id}:cutoff:{person.id}",
            kind=ROUND,
            message=message,
            now=now,
            recipient=person,
        )
        done[CUT_OFF] += queued is not None
    done[SNAPSHOT] += take_snapshot(session, core, meeting, now)
    meeting.cut_off_at = now
    return done

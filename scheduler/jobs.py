"""The scheduled jobs, as plain functions of the core, the senders and the clock's "now".

`actionbot run reminders|digest` calls them once; the worker calls them from APScheduler.
Each returns a JobReport whose one-line summary is what gets logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain import Platform
from bot.domain.workdays import MAX_BREAK, WorkingCalendar
from bot.outbox.delivery import DeliveryReport, deliver
from bot.outbox.sender import Sender
from bot.people.privacy import apply_retention, retried
from bot.services.context import Core
from bot.services.digest import DIGEST, local_day, posted_words
from scheduler.board_cycle import run_board_cycle
from scheduler.bulk_queue import Planned, local_midnight, queue_planned
from scheduler.escalation import ESCALATION, plan_escalations, register_chairs
from scheduler.groups import BoardGroup, group_boards, in_working_time
from scheduler.reminders import OVERDUE, REMINDER, plan_reminders
from scheduler.weekly_digest import queue_weekly_digests
from storage.db import transaction
from storage.models import Action, OutboxMessage

log = logging.getLogger(__name__)

#: What `actionbot run reminders` delivers (notices about failures among them come along).
REMINDER_KINDS = (REMINDER, OVERDUE, ESCALATION)
#: How long one tick may spend delivering before it lets the next tick (and a SIGTERM) in.
TICK_BUDGET = dt.timedelta(seconds=50)


@dataclass
class JobReport:
    """What a job did: messages planned by kind, the delivery, and anything worth saying."""

    job: str
    planned: Counter[str] = field(default_factory=Counter)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """`reminders: queued 3 (reminder 3); sent 3, retried 0, failed 0`."""
        total = sum(self.planned.values())
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.planned.items()))
        text = f"{self.job}: queued {total}" + (f" ({kinds})" if kinds else "")
        text += f"; {self.delivery.summary()}"
        return text + "".join(f"; {note}" for note in self.notes)

    @property
    def ok(self) -> bool:
        """False when a message was given up on and nobody could be told."""
        return not self.delivery.unreported


def key_horizon(settings: Settings) -> dt.timedelta:
    """How far back a planned key can have been queued (bounds the existence query)."""
    days = max(settings.reminder_days, default=0) + MAX_BREAK
    days = max(days, settings.overdue_daily_days + settings.overdue_repeat_days)
    return dt.timedelta(days=days + 8)  # + a week of slack


def board_groups(core: Core, calendar: WorkingCalendar | None = None) -> list[BoardGroup]:
    """Every board of the deployment, grouped by the settings they plan with (`calendar`:
    the working calendar of the core's own settings)."""
    return group_boards(core.boards.all(), env=core.settings, calendar=calendar, complete=True)


def plan_messages(
    core: Core,
    calendar: WorkingCalendar | None = None,
    *,
    platforms: Sequence[Platform] = (),
    groups: Sequence[BoardGroup] | None = None,
) -> Counter[str]:
    """Queue every reminder, overdue nudge and escalation due today on every board (or on
    the boards of `groups`), each board on its own day and settings; counts by kind.

    A group of boards that plan alike is planned with the same statements as one board, and
    every group's messages are queued together: one existence query, one insert.
    """
    now = core.now()
    if groups is None:
        groups = board_groups(core, calendar)
    if not groups:
        return Counter()
    register_chairs(core, platforms=platforms)
    planned: list[Planned] = []
    since = now
    with transaction(core.sessions) as session:
        for group in groups:
            today = group.today(now)
            since = min(
                since, local_midnight(today, group.settings.tz) - key_horizon(group.settings)
            )
            planned += plan_reminders(
                session,
                settings=group.settings,
                calendar=group.calendar,
                today=today,
                board_ids=group.scope,
            )
            if group.settings.ladder:
                planned += plan_escalations(
                    session,
                    settings=group.settings,
                    calendar=group.calendar,
                    today=today,
                    now=now,
                    board_views=group.boards,
                    every_board=group.whole,
                )
        return queue_planned(session, planned, now=now, since=since)


def run_reminders(
    core: Core,
    senders: Sequence[Sender],
    calendar: WorkingCalendar,
    *,
    stop: threading.Event | None = None,
) -> JobReport:
    """Plan what is due today and deliver it: `actionbot run reminders`.

    Run by hand this ignores working hours (an operator asked for it now); the worker's tick
    only plans in working time.
    """
    report = JobReport("reminders")
    report.planned = plan_messages(core, calendar, platforms=[s.platform for s in senders])
    report.delivery = deliver(core, senders, kinds=REMINDER_KINDS, stop=stop)
    return report


def run_digest(
    core: Core,
    senders: Sequence[Sender],
    *,
    force: bool = True,
    stop: threading.Event | None = None,
) -> JobReport:
    """Queue this week's digest of every board with a channel unless it was, and deliver
    them: `actionbot run digest` (`force`: now, whatever the boards' schedules say)."""
    report = JobReport("digest")
    boards = core.boards.all()
    if not any(board.channel for board in boards):
        report.notes.append("BOARD_CHANNEL is not set: no digest")
        return report
    # So that a digest the channel refuses can be reported to someone.
    register_chairs(core, platforms=[s.platform for s in senders])
    results = queue_weekly_digests(core, force=force, boards=boards)
    if queued := sum(1 for r in results if r.outbox_id is not None):
        report.planned[DIGEST] += queued
    already = {r.key: r.board for r in results if r.already}
    if already:
        with transaction(core.sessions) as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.key.in_(already)))
            for row in sorted(rows, key=lambda r: already[r.key].id):
                report.notes.append(_already_words(already[row.key], row, now=core.now()))
    failed = [r.board for r in results if r.failed]
    if failed:
        report.notes.append(f"digest failed: {', '.join(_named(b) for b in failed)}")
    report.delivery = deliver(core, senders, kinds=(DIGEST,), stop=stop)
    return report


def _named(board: BoardView) -> str:
    return board.name if not board.is_default else f"{board.name} (the default board)"


def _already_words(board: BoardView, row: OutboxMessage, *, now: dt.datetime) -> str:
    """`this week's digest was already posted on Mon 23 Nov at 09:30` (the board named first
    when there are several)."""
    settings = board.settings
    if row.sent_at is not None:
        posted = posted_words(settings, row, today=local_day(settings, now))
        words = f"this week's digest was already posted {posted}"
    else:
        words = f"this week's digest is already queued ({row.status.value})"
    return words if board.is_default else f"{board.name}: {words}"


@dataclass
class Ticker:
    """The worker's minute tick: plan in working time, catch up the digest, deliver."""

    core: Core
    senders: Sequence[Sender]
    calendar: WorkingCalendar
    stop: threading.Event = field(default_factory=threading.Event)
    _fingerprint: tuple[object, ...] | None = None
    _paused_until: dt.datetime | None = None
    _retained_on: dt.date | None = None

    def tick(self) -> JobReport:
        """One tick for every board; cheap when nothing changed since the last one.

        Boards are planned in groups that share their settings, each group in its own working
        time, so the tick's statements do not grow with the number of boards.
        """
        report = JobReport("tick")
        now = self.core.now()
        groups = board_groups(self.core, self.calendar)
        working = in_working_time(groups, now)
        if working:
            fingerprint = self._current_fingerprint(now, working)
            if fingerprint != self._fingerprint:
                report.planned = plan_messages(
                    self.core, platforms=[s.platform for s in self.senders], groups=working
                )
                self._fingerprint = fingerprint
            # Each tick: two small queries when no meeting's step is due.
            report.planned += run_board_cycle(
                self.core, now=now, boards=[b for g in working for b in g.boards]
            )
        # The safety net behind the cron trigger, and every board on a schedule of its own.
        digests = queue_weekly_digests(self.core, now=now)
        if queued := sum(1 for d in digests if d.outbox_id is not None):
            report.planned[DIGEST] += queued
        self._retain(now, report)  # before delivering: nothing goes out to someone forgotten
        if self._paused_until is not None and now < self._paused_until:
            return report  # the platform asked us to slow down; its Retry-After has not passed
        report.delivery = deliver(self.core, self.senders, stop=self.stop, budget=TICK_BUDGET)
        self._paused_until = report.delivery.paused_until
        return report

    def _retain(self, now: dt.datetime, report: JobReport) -> None:
        """Apply RETENTION_MONTHS at the first tick of each local day (and of each start)."""
        months = self.core.settings.retention_months
        day = self.calendar.local(now).date()
        if months is None or day == self._retained_on:
            return
        # Once a day even when it fails: tomorrow tries again, and delivery is not held up.
        self._retained_on = day
        try:
            result = retried(
                self.core.sessions,
                lambda session: apply_retention(
                    session, settings=self.core.settings, months=months, now=now, dry_run=False
                ),
            )
        except Exception:
            log.exception("retention failed; it runs again tomorrow")
            report.notes.append("retention failed")
            return
        if result.erasure.anything:
            count = len(result.people)
            report.notes.append(
                f"retention: forgot {count} {'person' if count == 1 else 'people'} "
                f"(actions closed more than {months} months ago)"
            )

    def _current_fingerprint(
        self, now: dt.datetime, groups: Sequence[BoardGroup]
    ) -> tuple[object, ...]:
        # Planning again only matters when a board's day or hour turns, a board comes into
        # working time or an action changes (a change to an action always moves its
        # updated_at, and a new one adds to the count): one query for every board.
        local = tuple((g.ids[0], g.calendar.local(now).strftime("%Y-%m-%d %H")) for g in groups)
        with transaction(self.core.sessions) as session:
            latest, count = session.execute(
                select(func.max(Action.updated_at), func.count(Action.id))
            ).one()
        return (local, latest, count)

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

from bot.domain import Platform
from bot.domain.workdays import MAX_BREAK, WorkingCalendar
from bot.outbox.delivery import DeliveryReport, deliver
from bot.outbox.sender import Sender
from bot.people.privacy import apply_retention, retried
from bot.people.resolve import chairs
from bot.services.context import Core
from bot.services.digest import DIGEST, local_day, posted_words
from scheduler.board_cycle import run_board_cycle
from scheduler.bulk_queue import local_midnight, queue_planned
from scheduler.escalation import ESCALATION, plan_escalations, register_chairs
from scheduler.reminders import OVERDUE, REMINDER, plan_reminders
from scheduler.weekly_digest import queue_weekly_digest
from storage.db import transaction
from storage.models import Action

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


def key_horizon(core: Core) -> dt.timedelta:
    """How far back a planned key can have been queued (bounds the existence query)."""
    settings = core.settings
    days = max(settings.reminder_days, default=0) + MAX_BREAK
    days = max(days, settings.overdue_daily_days + settings.overdue_repeat_days)
    return dt.timedelta(days=days + 8)  # + a week of slack


def plan_messages(
    core: Core, calendar: WorkingCalendar, *, platforms: Sequence[Platform] = ()
) -> Counter[str]:
    """Queue every reminder, overdue nudge and escalation due today; returns counts by kind."""
    now = core.now()
    today = local_day(core.settings, now)
    since = local_midnight(today, core.settings.tz) - key_horizon(core)
    register_chairs(core, platforms=platforms)
    with transaction(core.sessions) as session:
        people = chairs(session, board=core.board)
        planned = plan_reminders(session, settings=core.settings, calendar=calendar, today=today)
        planned += plan_escalations(
            session,
            settings=core.settings,
            calendar=calendar,
            today=today,
            now=now,
            people=people,
            board_id=core.board.id,
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
    """Queue this week's digest unless it was, and deliver it: `actionbot run digest`."""
    report = JobReport("digest")
    settings = core.settings
    if settings.board_channel is None:
        report.notes.append("BOARD_CHANNEL is not set: no digest")
        return report
    # So that a digest the channel refuses can be reported to someone.
    register_chairs(core, platforms=[s.platform for s in senders])
    queued = queue_weekly_digest(core, force=force)
    if queued is not None and queued.outbox_id is not None:
        report.planned[DIGEST] += 1
    elif queued is not None and queued.existing is not None:
        row = queued.existing
        today = local_day(settings, core.now())
        if row.sent_at is not None:
            report.notes.append(
                f"this week's digest was already posted {posted_words(settings, row, today=today)}"
            )
        else:
            report.notes.append(f"this week's digest is already queued ({row.status.value})")
    report.delivery = deliver(core, senders, kinds=(DIGEST,), stop=stop)
    return report


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
        """One tick; cheap when nothing changed since the last one."""
        report = JobReport("tick")
        now = self.core.now()
        if self.calendar.in_working_time(now):
            fingerprint = self._current_fingerprint(now)
            if fingerprint != self._fingerprint:
                report.planned = plan_messages(
                    self.core, self.calendar, platforms=[s.platform for s in self.senders]
                )
                self._fingerprint = fingerprint
            # Each tick: one small query when no meeting's step is due.
            report.planned += run_board_cycle(self.core, now=now)
        queued = queue_weekly_digest(self.core)  # the safety net behind the cron trigger
        if queued is not None and queued.outbox_id is not None:
            report.planned[DIGEST] += 1
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

    def _current_fingerprint(self, now: dt.datetime) -> tuple[object, ...]:
        # Planning again only matters when the day or hour turns or an action changes
        # (a change to an action always moves its updated_at, and a new one adds to the count).
        local = self.calendar.local(now)
        with transaction(self.core.sessions) as session:
            latest, count = session.execute(
                select(func.max(Action.updated_at), func.count(Action.id))
            ).one()
        return (local.date(), local.hour, latest, count)

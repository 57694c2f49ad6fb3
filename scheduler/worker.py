"""`actionbot worker` (APScheduler) and `actionbot run reminders|digest` (one job, once).

The database is the source of truth: a minute tick plans what is due and delivers due outbox
rows, so nothing lives in APScheduler but two jobs in memory (never one pickled job per
action, never Slack's chat.scheduleMessage with its 120-day cap). The scheduler runs only in
this process, never inside web workers. Jobs coalesce, run one instance at a time and have a
misfire grace; a digest missed while the worker was down is caught up when it starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from bot.config import Settings, parse_weekly_schedule
from bot.domain.workdays import WorkingCalendar
from bot.outbox.sender import Sender
from bot.services.context import Core
from scheduler.jobs import JobReport, Ticker, run_digest, run_reminders
from scheduler.weekly_digest import queue_weekly_digests

log = logging.getLogger("actionbot.worker")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
#: A digest whose minute passed while the process was busy still goes out within this.
DIGEST_MISFIRE_GRACE = int(dt.timedelta(hours=6).total_seconds())


def run_job_once(core: Core, senders: Sequence[Sender], calendar: WorkingCalendar, job: str) -> int:
    """`actionbot run reminders|digest`: one job, now (the core's clock), then exit."""
    if job == "reminders":
        report = run_reminders(core, senders, calendar)
    elif job == "digest":
        if not any(board.channel for board in core.boards.all()):
            print(
                "actionbot run digest: BOARD_CHANNEL is not set: nowhere to post", file=sys.stderr
            )
            return 2
        report = run_digest(core, senders, force=True)
    else:
        print(f"actionbot run: unknown job {job!r} (reminders or digest)", file=sys.stderr)
        return 2
    print(report.summary())  # stdout: the one line a script or an operator reads
    return 0 if report.ok else 1


def build_scheduler(ticker: Ticker, settings: Settings) -> Any:
    """An APScheduler with the tick (WORKER_TICK_SECONDS) and the weekly digest, not started.

    The digest job runs at DIGEST_SCHEDULE and queues every board's digest that is due; a
    board with a schedule of its own is queued by the tick within a tick of its time.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    # In-memory job store: the jobs are rebuilt at every start; the database holds the state.
    scheduler = BackgroundScheduler(timezone=dt.UTC, job_defaults=dict(JOB_DEFAULTS))
    scheduler.add_job(
        _logged(ticker.tick),
        IntervalTrigger(seconds=settings.worker_tick_seconds, timezone=dt.UTC),
        id="tick",
        name="plan and deliver",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    weekday, at = parse_weekly_schedule(settings.digest_schedule)
    scheduler.add_job(
        _logged(lambda: run_digest(ticker.core, ticker.senders, force=False, stop=ticker.stop)),
        CronTrigger(day_of_week=weekday, hour=at.hour, minute=at.minute, timezone=settings.tz),
        id="digest",
        name="weekly digest",
        misfire_grace_time=DIGEST_MISFIRE_GRACE,
    )
    return scheduler


def _logged(job: Any) -> Any:
    def run() -> None:
        try:
            report: JobReport = job()
        except Exception:
            # The database or the network is down: say so once; the next tick tries again.
            log.exception("job failed; it runs again on schedule")
            return
        if report.planned or report.delivery.anything or report.notes:
            log.info("%s", report.summary())

    return run


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C; installed first, so a stop during start-up is clean."""
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: finishing the message in hand, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return stop


def run_worker(
    core: Core, senders: Sequence[Sender], calendar: WorkingCalendar, *, stop: threading.Event
) -> int:
    """`actionbot worker`: run the scheduler until `stop` is set, then stop cleanly."""
    settings = core.settings
    ticker = Ticker(core, senders, calendar, stop=stop)
    boards = core.boards.all()
    log.info(
        "worker started: %s; %s, working hours %s, holidays %s%s; digest %s to %s; %d board(s)",
        ", ".join(s.platform.value for s in senders),
        settings.bot_timezone,
        settings.working_hours,
        settings.holiday_country or "none",
        f"-{settings.holiday_subdivision}" if settings.holiday_subdivision else "",
        settings.digest_schedule,
        settings.board_channel or "(no BOARD_CHANNEL)",
        len(boards),
    )
    caught_up = queue_weekly_digests(core, boards=boards)
    if any(d.outbox_id is not None for d in caught_up):
        count = sum(1 for d in caught_up if d.outbox_id is not None)
        log.info("catching up %d weekly digest(s), missed while the worker was down", count)
    scheduler = build_scheduler(ticker, settings)
    scheduler.start()
    try:
        # The main thread only waits, so signals are handled here promptly.
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)  # lets a running tick finish its current message
    log.info("worker stopped")
    return 0

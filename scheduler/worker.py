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
from types import FrameType
from typing import Any

from bot.clock import Clock, FixedClock, SystemClock
from bot.config import Settings, parse_weekly_schedule
from bot.outbox.delivery import Sender
from bot.services.context import Core
from scheduler.jobs import JobReport, Ticker, run_digest, run_reminders
from scheduler.weekly_digest import queue_weekly_digest
from scheduler.workdays import CalendarError, WorkingCalendar
from storage.models import Platform

log = logging.getLogger("actionbot.worker")

NO_PLATFORM = (
    "no messaging platform is configured, so there is nothing to send with: "
    "set SLACK_BOT_TOKEN (and SLACK_API_URL to use a fake Slack)"
)
TICK_SECONDS = 60
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
#: A digest whose minute passed while the process was busy still goes out within this.
DIGEST_MISFIRE_GRACE = int(dt.timedelta(hours=6).total_seconds())


def build_senders(core: Core) -> list[Sender]:
    """The senders of the configured platforms (the Slack engineer's `build_senders`)."""
    from bot import compose

    factory = getattr(compose, "build_senders", None)
    if factory is None:
        return []
    return list(factory(core))


def schema_problem(url: str) -> str | None:
    """Why the database cannot be used yet (not migrated to the newest revision), or None."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, current_revision

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    current = current_revision(url)
    if current != head:
        return (
            f"the database schema is at {current or 'nothing'}, not {head}: run actionbot migrate"
        )
    return None


def _prepare(settings: Settings, clock: Clock) -> tuple[Core, list[Sender], WorkingCalendar] | str:
    from bot.compose import build_core

    try:
        calendar = WorkingCalendar.from_settings(settings)
    except CalendarError as exc:
        return str(exc)
    problem = schema_problem(settings.database_url)
    if problem:
        return problem
    core = build_core(settings, clock=clock)
    senders = build_senders(core)
    if not senders:
        return NO_PLATFORM
    if settings.slack_bot_token is not None and Platform.SLACK not in core.directories:
        from bot.compose import import_directory

        # Chairs named in CHAIR_USER_IDS are looked up (name, email) before escalating.
        core.directories[Platform.SLACK] = import_directory(core)
    return core, senders, calendar


def run_job_once(settings: Settings, job: str, now: dt.datetime | None = None) -> int:
    """`actionbot run reminders|digest [--now ISO]`: one job, now (or at `now`), then exit."""
    clock: Clock = FixedClock(now) if now is not None else SystemClock()
    prepared = _prepare(settings, clock)
    if isinstance(prepared, str):
        print(f"actionbot run {job}: {prepared}", file=sys.stderr)
        return 2
    core, senders, calendar = prepared
    if job == "reminders":
        report = run_reminders(core, senders, calendar)
    elif job == "digest":
        if settings.board_channel is None:
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
    """An APScheduler with the minute tick and the weekly digest, not started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    # In-memory job store: the jobs are rebuilt at every start; the database holds the state.
    scheduler = BackgroundScheduler(timezone=dt.UTC, job_defaults=dict(JOB_DEFAULTS))
    scheduler.add_job(
        _logged(ticker.tick),
        IntervalTrigger(seconds=TICK_SECONDS, timezone=dt.UTC),
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


def run_worker(settings: Settings) -> int:
    """`actionbot worker`: run the scheduler until SIGTERM or Ctrl-C, then stop cleanly."""
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: finishing the message in hand, then stopping", signal.Signals(signum).name)
        stop.set()

    # First thing, so a deploy's SIGTERM during start-up is a clean stop too.
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    prepared = _prepare(settings, SystemClock())
    if isinstance(prepared, str):
        print(f"actionbot worker: {prepared}", file=sys.stderr)
        return 2
    core, senders, calendar = prepared
    ticker = Ticker(core, senders, calendar, stop=stop)
    log.info(
        "worker started: %s; %s, working hours %s, holidays %s%s; digest %s to %s",
        ", ".join(s.platform.value for s in senders),
        settings.bot_timezone,
        settings.working_hours,
        settings.holiday_country or "none",
        f"-{settings.holiday_subdivision}" if settings.holiday_subdivision else "",
        settings.digest_schedule,
        settings.board_channel or "(no BOARD_CHANNEL)",
    )
    caught_up = queue_weekly_digest(core)
    if caught_up is not None and caught_up.outbox_id is not None:
        log.info("catching up this week's digest, missed while the worker was down")
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

"""The worker's and `actionbot run`'s processes: checked, composed, then handed to the jobs."""

from __future__ import annotations

import datetime as dt
import sys

from bot.clock import Clock, FixedClock, SystemClock
from bot.config import Settings
from bot.domain.workdays import CalendarError, WorkingCalendar
from storage.migrate import schema_problem
from wiring.root import Process, compose

NO_PLATFORM = (
    "no messaging platform is configured, so there is nothing to send with: "
    "set SLACK_BOT_TOKEN (and SLACK_API_URL to use a fake Slack)"
)


def prepare(settings: Settings, clock: Clock) -> tuple[Process, WorkingCalendar] | str:
    """The composed process and its working calendar, or why the jobs cannot run."""
    try:
        calendar = WorkingCalendar.from_settings(settings)
    except CalendarError as exc:
        return str(exc)
    problem = schema_problem(settings.database_url)
    if problem:
        return problem
    process = compose(settings, clock=clock)
    if not process.senders:
        process.close()
        return NO_PLATFORM
    return process, calendar


def run_once(settings: Settings, job: str, now: dt.datetime | None = None) -> int:
    """`actionbot run reminders|digest [--now ISO]`: one job, now (or at `now`), then exit."""
    from scheduler.worker import run_job_once

    clock: Clock = FixedClock(now) if now is not None else SystemClock()
    prepared = prepare(settings, clock)
    if isinstance(prepared, str):
        print(f"actionbot run {job}: {prepared}", file=sys.stderr)
        return 2
    process, calendar = prepared
    try:
        return run_job_once(process.core, process.senders, calendar, job)
    finally:
        process.close()


def work(settings: Settings) -> int:
    """`actionbot worker`: the scheduler until SIGTERM or Ctrl-C."""
    from scheduler.worker import run_worker, stop_on_signals

    stop = stop_on_signals()
    prepared = prepare(settings, SystemClock())
    if isinstance(prepared, str):
        print(f"actionbot worker: {prepared}", file=sys.stderr)
        return 2
    process, calendar = prepared
    try:
        return run_worker(process.core, process.senders, calendar, stop=stop)
    finally:
        process.close()

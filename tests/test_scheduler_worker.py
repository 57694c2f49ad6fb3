"""The worker's APScheduler set-up, its tick, and `actionbot run` refusing what it cannot do."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.workdays import WorkingCalendar
from bot.services.context import Core
from scheduler import worker
from scheduler.jobs import Ticker
from tests.scheduler_fakes import FakeSender, action, outbox, transient
from wiring import scheduling


def test_scheduler_has_a_minute_tick_and_a_weekly_digest(core: Core) -> None:
    settings = Settings(_env_file=None, digest_schedule="tue 08:15")
    ticker = Ticker(core, [FakeSender()], WorkingCalendar.from_settings(settings))
    scheduler = worker.build_scheduler(ticker, settings)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"tick", "digest"}
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
        assert jobs["tick"].trigger.interval == dt.timedelta(minutes=1)
        assert jobs["tick"].misfire_grace_time == 30
        digest = jobs["digest"]
        assert digest.misfire_grace_time == 6 * 3600
        assert str(digest.trigger.timezone) == "Europe/London"
        fields = {f.name: str(f) for f in digest.trigger.fields}
        assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("1", "8", "15")
        # The job store is in memory: nothing of ours is pickled, the database holds the state.
        assert type(scheduler._jobstores["default"]).__name__ == "MemoryJobStore"
    finally:
        scheduler.shutdown(wait=False)


def test_tick_waits_out_a_rate_limit(core: Core, clock: FixedClock) -> None:
    action(core, "A", owner="amira", due=clock.now().date())
    action(core, "B", owner="ben", due=clock.now().date())
    sender = FakeSender(errors={"amira": [transient("rate limited", retry_after=120)]})
    ticker = Ticker(core, [sender], WorkingCalendar.from_settings(core.settings))
    first = ticker.tick()
    # Each owner's reminders go out as one message (rows 3 and 4, after the reminders 1, 2).
    assert first.planned == {"reminder": 2} and first.delivery.retried == [3]
    clock.advance(dt.timedelta(minutes=1))
    assert ticker.tick().delivery.sent == []  # still inside Retry-After: nothing is tried
    clock.advance(dt.timedelta(minutes=1))
    assert ticker.tick().delivery.sent == [3, 4]
    assert sorted(sender.dms()) == ["amira", "ben"]


def test_tick_does_not_replan_when_nothing_changed(core: Core, clock: FixedClock) -> None:
    action(core, "A", owner="amira", due=clock.now().date())
    ticker = Ticker(core, [FakeSender()], WorkingCalendar.from_settings(core.settings))
    assert ticker.tick().planned == {"reminder": 1}
    fingerprint = ticker._fingerprint
    clock.advance(dt.timedelta(minutes=1))
    ticker.tick()
    assert ticker._fingerprint == fingerprint
    action(core, "B", owner="ben", due=clock.now().date())
    clock.advance(dt.timedelta(minutes=1))
    assert ticker.tick().planned == {"reminder": 1}


def test_run_refuses_without_a_platform(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scheduling.run_once(settings, "reminders") == 2
    err = capsys.readouterr().err
    assert err.startswith("actionbot run reminders: no messaging platform is configured")
    assert scheduling.work(settings) == 2
    assert "actionbot worker: no messaging platform" in capsys.readouterr().err


def test_run_refuses_an_unmigrated_database(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/empty.db")
    assert scheduling.run_once(settings, "digest") == 2
    assert "run actionbot migrate" in capsys.readouterr().err


def test_run_refuses_an_unknown_holiday_country(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = settings.model_copy(update={"holiday_country": "ZZ"})
    assert scheduling.run_once(bad, "reminders") == 2
    assert "Country ZZ not available" in capsys.readouterr().err


def test_run_job_once_with_a_sender(
    core: Core, calendar: WorkingCalendar, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = FakeSender()
    now = core.now()
    action(core, "Due today", owner="amira", due=now.date())
    action(core, "Due later", owner="ben", due=now.date() + dt.timedelta(days=20))
    assert worker.run_job_once(core, [sender], calendar, "reminders") == 0
    assert capsys.readouterr().out.strip() == (
        "reminders: queued 1 (reminder 1); sent 1, retried 0, failed 0"
    )
    assert sender.dms() == ["amira"]
    assert worker.run_job_once(core, [sender], calendar, "reminders") == 0
    assert capsys.readouterr().out.strip() == "reminders: queued 0; sent 0, retried 0, failed 0"
    assert [r.key for r in outbox(core, kind="reminder")] == ["reminder:1:2026-11-23:0"]

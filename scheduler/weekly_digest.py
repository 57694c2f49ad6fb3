"""The weekly digest job: queue this week's digest once its time has come, then deliver it.

The same check runs at the scheduled time (a cron trigger), at start-up (a digest missed
while the worker was down goes out when it comes back that week, once) and on every tick as
a safety net; the week's key makes all of them idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.config import Settings, parse_weekly_schedule
from bot.services.context import Core
from bot.services.digest import DigestQueued, local_day, queue_digest
from storage.db import transaction

log = logging.getLogger(__name__)


def scheduled_at(settings: Settings, now: dt.datetime) -> dt.datetime:
    """When this week's digest is due: DIGEST_SCHEDULE in the ISO week of `now`, local time."""
    weekday, at = parse_weekly_schedule(settings.digest_schedule)
    today = local_day(settings, now)
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=weekday)
    return dt.datetime.combine(day, at, tzinfo=settings.tz)


def queue_weekly_digest(core: Core, *, force: bool = False) -> DigestQueued | None:
    """Queue this week's digest if its time has passed (or `force`); None if not yet due."""
    settings, now = core.settings, core.now()
    channel = settings.board_channel
    if channel is None:
        return None
    if not force and now < scheduled_at(settings, now):
        return None
    with transaction(core.sessions) as session:
        queued = queue_digest(session, settings=settings, now=now, channel=channel)
    if queued.outbox_id is not None:
        log.info("queued the weekly digest %s", queued.key)
    return queued

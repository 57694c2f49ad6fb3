"""The weekly digest job: queue each board's digest for the week once its time has come.

Each board has its own schedule (DIGEST_SCHEDULE, or the board's `digest` setting) in its own
timezone, and goes to its own channel; a board without a channel gets no digest (said once
per process). The same check runs at the scheduled time (a cron trigger), at start-up (a
digest missed while the worker was down goes out when it comes back that week, once) and on
every tick as a safety net; each week's key makes all of them idempotent. A tick with every
digest queued costs one query, however many boards there are.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from bot.boards.view import BoardView
from bot.config import Settings, parse_weekly_schedule
from bot.services.context import Core
from bot.services.digest import DigestQueued, digest_key, local_day, queue_digest
from storage.db import transaction
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

#: Digests built at once on PostgreSQL when many boards' digests are due together.
DIGEST_THREADS = 4
#: Boards whose missing channel was logged, so a tick each minute does not say it again.
_told_no_channel: set[int] = set()


def scheduled_at(settings: Settings, now: dt.datetime) -> dt.datetime:
    """When this week's digest is due: DIGEST_SCHEDULE in the ISO week of `now`, local time."""
    weekday, at = parse_weekly_schedule(settings.digest_schedule)
    today = local_day(settings, now)
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=weekday)
    return dt.datetime.combine(day, at, tzinfo=settings.tz)


def queue_weekly_digest(core: Core, *, force: bool = False) -> DigestQueued | None:
    """Queue this week's digest of the core's board if its time has passed (or `force`);
    None if not yet due or the board has no channel."""
    settings, now, board = core.settings, core.now(), core.board
    channel = settings.board_channel
    if channel is None:
        return None
    if not force and now < scheduled_at(settings, now):
        return None
    with transaction(core.sessions) as session:
        queued = queue_digest(
            session, settings=settings, now=now, channel=channel, board_id=board.id
        )
    if queued.outbox_id is not None:
        log.info("queued the weekly digest %s", queued.key)
    return queued


@dataclass(frozen=True)
class BoardDigest:
    """One board's digest of the week: queued by this run (`outbox_id`), queued before
    (`already`), or failed to build (`failed`)."""

    board: BoardView
    key: str
    outbox_id: int | None = None
    already: bool = False
    failed: bool = False


def due_digests(
    boards: Sequence[BoardView], now: dt.datetime, *, force: bool = False
) -> list[tuple[BoardView, str]]:
    """(board, key) of each board with a channel whose digest time this week has come."""
    due: list[tuple[BoardView, str]] = []
    scheduled: dict[tuple[str, str], dt.datetime] = {}
    for board in boards:
        settings = board.settings
        channel = settings.board_channel
        if channel is None:
            if board.id not in _told_no_channel:
                _told_no_channel.add(board.id)
                log.info("board %s (%s) has no channel: no weekly digest", board.id, board.name)
            continue
        if not force:
            # Boards share few schedules: each is worked out once per run.
            schedule = (settings.digest_schedule, settings.bot_timezone)
            at = scheduled.get(schedule)
            if at is None:
                at = scheduled[schedule] = scheduled_at(settings, now)
            if now < at:
                continue
        due.append((board, digest_key(channel, local_day(settings, now))))
    return due


def queue_weekly_digests(
    core: Core,
    *,
    now: dt.datetime | None = None,
    force: bool = False,
    boards: Sequence[BoardView] | None = None,
) -> list[BoardDigest]:
    """Queue this week's digest of every board (or of `boards`) whose time has come and
    whose digest is not queued yet: one query finds those already queued, then each missing
    digest is built and queued in its own transaction (one board's failure leaves the
    others'; the next tick tries it again)."""
    now = now or core.now()
    due = due_digests(core.boards.all() if boards is None else boards, now, force=force)
    if not due:
        return []
    with transaction(core.sessions) as session:
        queued = set(
            session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.in_([key for _, key in due]))
            )
        )
    done = [BoardDigest(board, key, already=True) for board, key in due if key in queued]
    todo = [(board, key) for board, key in due if key not in queued]
    if len(todo) > 1:
        # Two workers catching up many boards at once start at different boards, so they
        # mostly build different digests (the key still stops a second copy being queued).
        start = os.getpid() % len(todo)
        todo = todo[start:] + todo[:start]
    build = functools.partial(_queue_one, core, now)
    threads = DIGEST_THREADS if core.sessions.kw["bind"].dialect.name == "postgresql" else 1
    if threads > 1 and len(todo) > 1:
        # Each digest waits on the database for most of its time: a few at once keep both
        # the database and this process busy. (SQLite takes one writer at a time.)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="digest") as pool:
            done += pool.map(build, todo)
    else:
        done += map(build, todo)
    return done


def _queue_one(core: Core, now: dt.datetime, due: tuple[BoardView, str]) -> BoardDigest:
    """Build and queue one board's digest in its own transaction; a failure is logged."""
    board, key = due
    settings = board.settings
    channel = settings.board_channel
    assert channel is not None  # due_digests keeps only boards with a channel
    try:
        with transaction(core.sessions) as session:
            result = queue_digest(
                session, settings=settings, now=now, channel=channel, board_id=board.id
            )
    except Exception:
        log.exception("weekly digest of board %s failed; tried again at the next tick", board.id)
        return BoardDigest(board, key, failed=True)
    if result.outbox_id is not None:
        log.info("queued the weekly digest %s", result.key)
    return BoardDigest(board, key, outbox_id=result.outbox_id, already=result.outbox_id is None)

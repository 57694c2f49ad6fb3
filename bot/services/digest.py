"""The weekly digest to the board channel, and `/status digest [post]` for chairs.

The digest is built as the neutral reply model, each list cut at DIGEST_LIST_LIMIT with
"and N more" and how to see them, so any renderer stays within Slack's 50 blocks whatever the
plan's size. When a digest is queued its figures are kept (DigestSnapshot) so the next one can
say what changed ("overdue 6, up 2"). It is queued under `digest:{channel}:{ISO week}`: once a
week, whoever asks (the schedule, a catch-up after downtime, a chair, `actionbot run digest`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.config import Settings, parse_weekly_schedule
from bot.domain import OPEN_STATUSES, Rag, Status
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar.commands import StatusDigest
from bot.grammar.dates import format_date
from bot.grammar.usage import status_usage
from bot.outbox.queue import enqueue
from bot.render import notices
from bot.render.from_storage import action_view
from bot.render.inline import channel_token
from bot.render.model import Count, Message, Paragraph
from bot.services.permissions import require_chair
from bot.services.request import Outcome, Request
from bot.services.status import count_undated, undated_actions
from storage import queries
from storage.models import Action, DigestSnapshot, Identity, OutboxMessage, OutboxStatus, Person

DIGEST = "digest"
#: Actions each list of the digest shows. 4 lists x (title + 8 + "more") + heading, note and
#: two rows of figures stays under 50 blocks even for a renderer that spends a block an item.
DIGEST_LIST_LIMIT = 8
#: How far ahead "due next" looks.
DUE_SOON_DAYS = 7

_FIGURES = (
    ("done", "done"),
    ("due_7", f"due in {DUE_SOON_DAYS} days"),
    ("overdue", "overdue"),
    ("blocked", "blocked"),
    ("open", "open"),
)
_RAG = (
    ("red", "red"),
    ("amber", "amber"),
    ("green", "green"),
    ("blue", "blue"),
    ("unrated", "not rated"),
)


def iso_week(day: dt.date) -> str:
    """`2026-W48`: the ISO week of `day`, sortable as text."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(channel: str, day: dt.date) -> str:
    """The outbox key of the digest of `day`'s week to `channel`."""
    return f"{DIGEST}:{channel}:{iso_week(day)}"


def local_day(settings: Settings, now: dt.datetime) -> dt.date:
    """The calendar day `now` falls on in the bot's timezone."""
    return now.astimezone(settings.tz).date()


def previous_snapshot(
    session: Session, *, channel: str | None, before_week: str
) -> DigestSnapshot | None:
    """The latest digest kept before `before_week` (to `channel` when given)."""
    query = select(DigestSnapshot).where(DigestSnapshot.week < before_week)
    if channel is not None:
        query = query.where(DigestSnapshot.channel == channel)
    query = query.order_by(DigestSnapshot.week.desc(), DigestSnapshot.taken_at.desc()).limit(1)
    return session.scalars(query).first()


@dataclass(frozen=True)
class Digest:
    """A built digest: the message and the figures to keep for next week's trend."""

    message: Message
    counts: dict[str, int]


def build_digest(
    session: Session,
    *,
    settings: Settings,
    now: dt.datetime,
    channel: str | None,
    preview_note: str | None = None,
) -> Digest:
    """The digest as it stands at `now`, compared with the previous week's digest."""
    today = local_day(settings, now)
    previous = previous_snapshot(session, channel=channel, before_week=iso_week(today))
    since = previous.taken_at if previous is not None else now - dt.timedelta(days=7)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    plan = queries.plan_figures(session, today=today, soon=soon)
    counts = {
        "done": _count_done(session, start=since, end=now),
        "due_7": plan.due_soon,
        "overdue": plan.overdue,
        "blocked": plan.by_status[Status.BLOCKED],
        "open": plan.open,
        "red": plan.open_by_rag[Rag.RED],
        "amber": plan.open_by_rag[Rag.AMBER],
        "green": plan.open_by_rag[Rag.GREEN],
        "blue": plan.open_by_rag[Rag.BLUE],
        "unrated": plan.open_by_rag[None],
    }
    before = previous.counts if previous is not None else {}

    def figure(name: str, label: str) -> Count:
        old = before.get(name)
        return Count(
            label=label, value=counts[name], delta=None if old is None else counts[name] - old
        )

    limit = DIGEST_LIST_LIMIT

    def views(actions: Any) -> list[Any]:
        # With the calendar: an item whose deadline moved says so ("moved twice, +12 working
        # days"), so a board sees the dates it is shown are not the first ones.
        calendar = WorkingCalendar.from_settings(settings)
        return [action_view(a, today=today, calendar=calendar) for a in actions]

    since_words = (
        f"since {format_date(local_day(settings, since), today=today)}"
        if previous is not None
        else "in the last 7 days"
    )
    sections = [
        notices.DigestSection(
            title=f"Done {since_words}",
            items=views(queries.done_between(session, start=since, end=now, limit=limit)),
            total=counts["done"],
            empty="Nothing was marked done.",
            more_hint="/action list done lists them all",
        ),
        notices.DigestSection(
            title=f"Due in the next {DUE_SOON_DAYS} days",
            items=views(queries.due_between(session, start=today, end=soon, limit=limit)),
            total=counts["due_7"],
            empty=f"Nothing falls due in the next {DUE_SOON_DAYS} days.",
            more_hint=f"/status due {DUE_SOON_DAYS} lists them all",
        ),
        notices.DigestSection(
            title="Overdue, most late first",
            items=views(queries.overdue_actions(session, today=today, limit=limit)),
            total=counts["overdue"],
            empty="Nothing is overdue.",
            more_hint="/status overdue lists them all",
        ),
        notices.DigestSection(
            title="Blocked",
            items=views(queries.blocked_actions(session, limit=limit)),
            total=counts["blocked"],
            empty="Nothing is blocked.",
            more_hint="/action list blocked lists them all",
        ),
    ]
    figures = [figure(name, label) for name, label in _FIGURES]
    # Blue means complete, so an open blue action is rare: shown only when there is one.
    rag = [figure(name, label) for name, label in _RAG if name != "blue" or counts["blue"]]
    monday = today - dt.timedelta(days=today.weekday())
    if previous is not None:
        last = format_date(local_day(settings, previous.taken_at), today=today)
        trend = f"Changes are against the digest of {last}."
    else:
        trend = "This is the first digest, so there is no change to show yet."
    note = f"{preview_note} {trend}" if preview_note else trend
    note += _people_note(session)
    summary = "Weekly digest: " + ", ".join(_phrase(c) for c in figures[:4])
    undated = views(undated_actions(session, limit=limit))
    text = notices.needs_date(undated, total=count_undated(session))
    message = notices.digest(
        title=f"Weekly digest, week of {format_date(monday, today=today)}",
        counts=figures,
        rag=rag,
        sections=sections,
        summary=summary,
        note=note,
        ephemeral=preview_note is not None,
        footnotes=[text] if text is not None else [],
    )
    return Digest(message=message, counts=counts)


def _people_note(session: Session) -> str:
    """Open actions nobody owns yet, and owners the bot cannot reach in chat, if any."""
    open_action = Action.status.in_(OPEN_STATUSES)
    unassigned = session.scalar(select(func.count()).where(open_action, Action.owner_id.is_(None)))
    owners = select(Action.owner_id).where(open_action, Action.owner_id.is_not(None))
    unreachable = session.scalar(
        select(func.count(Person.id)).where(
            Person.id.in_(owners),
            ~select(Identity.id).where(Identity.person_id == Person.id).exists(),
        )
    )
    note = ""
    if unassigned:
        one = unassigned == 1
        note += (
            f" {unassigned} open action{'' if one else 's'} {'has' if one else 'have'} no owner"
            " yet: /status unassigned lists them."
        )
    if unreachable:
        one = unreachable == 1
        note += (
            f" {unreachable} owner{'' if one else 's'} {'is' if one else 'are'} not reachable"
            " in chat (known only by email until they first use the bot)."
        )
    return note


def _phrase(count: Count) -> str:
    if not count.delta:
        return f"{count.label} {count.value}"
    return f"{count.label} {count.value} ({'up' if count.delta > 0 else 'down'} {abs(count.delta)})"


def _count_done(session: Session, *, start: dt.datetime, end: dt.datetime) -> int:
    query = select(func.count()).where(
        Action.status == Status.DONE, Action.done_at >= start, Action.done_at < end
    )
    return session.scalar(query) or 0


@dataclass(frozen=True)
class DigestQueued:
    """What asking for this week's digest did: queued it (`outbox_id`), or found `existing`."""

    key: str
    outbox_id: int | None
    existing: OutboxMessage | None


def find_digest(session: Session, *, key: str) -> OutboxMessage | None:
    """The outbox row of a digest key, if it was queued."""
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def queue_digest(
    session: Session, *, settings: Settings, now: dt.datetime, channel: str
) -> DigestQueued:
    """Queue this week's digest to `channel` unless it was queued before; keep its figures."""
    key = digest_key(channel, local_day(settings, now))
    existing = find_digest(session, key=key)
    if existing is not None:
        return DigestQueued(key=key, outbox_id=None, existing=existing)
    digest = build_digest(session, settings=settings, now=now, channel=channel)
    outbox_id = enqueue(
        session, key=key, kind=DIGEST, message=digest.message, now=now, channel=channel
    )
    if outbox_id is None:  # another worker queued it a moment ago
        return DigestQueued(key=key, outbox_id=None, existing=find_digest(session, key=key))
    _keep_snapshot(
        session,
        key=key,
        channel=channel,
        week=iso_week(local_day(settings, now)),
        now=now,
        counts=digest.counts,
    )
    return DigestQueued(key=key, outbox_id=outbox_id, existing=None)


def _keep_snapshot(
    session: Session,
    *,
    key: str,
    channel: str,
    week: str,
    now: dt.datetime,
    counts: dict[str, int],
) -> None:
    values = {"key": key, "channel": channel, "week": week, "taken_at": now, "counts": counts}
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(DigestSnapshot).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(DigestSnapshot).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(DigestSnapshot)
    session.execute(stmt.values(values))


def retry_failed_digest(session: Session, *, row: OutboxMessage, now: dt.datetime) -> int:
    """Put a digest that failed back in the queue (a chair asked again after fixing the cause)."""
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.not_before = now
    row.claimed_at = None
    row.claimed_by = None
    session.flush()
    return row.id


def posted_words(settings: Settings, row: OutboxMessage, *, today: dt.date) -> str:
    """`on Mon 23 Nov at 09:00`: when a digest went out, in the bot's timezone."""
    at = (row.sent_at or row.created_at).astimezone(settings.tz)
    return f"on {format_date(at.date(), today=today)} at {at:%H:%M}"


def next_words(settings: Settings, now: dt.datetime, *, sent: bool, today: dt.date) -> str:
    """`on Mon 30 Nov at 09:00`: when the worker posts the next digest (DIGEST_SCHEDULE); this
    week's time while it is ahead and nothing went out, else next week's."""
    weekday, at = parse_weekly_schedule(settings.digest_schedule)
    day = local_day(settings, now)
    due = dt.datetime.combine(
        day - dt.timedelta(days=day.weekday() - weekday), at, tzinfo=settings.tz
    )
    if not sent and now >= due:
        return "at the worker's next run (its time this week has passed)"
    if sent or now >= due:
        due += dt.timedelta(days=7)
    return f"on {format_date(due.date(), today=today)} at {due:%H:%M}"


def digest_command(request: Request, command: StatusDigest) -> Outcome:
    """`/status digest` previews this week's digest privately; `post` posts it now (chairs)."""
    require_chair(
        request, "post the digest" if command.post else "preview the digest", status_usage("digest")
    )
    settings, session = request.core.settings, request.session
    channel = settings.board_channel
    key = digest_key(channel, request.today) if channel else None
    existing = find_digest(session, key=key) if key else None
    if not command.post:
        if channel is None:
            note = "Preview: BOARD_CHANNEL is not set, so it cannot be posted yet."
        elif existing is not None and existing.status == OutboxStatus.SENT:
            note = (
                f"Preview: this week's digest was posted to {channel_token(channel)} "
                f"{posted_words(settings, existing, today=request.today)}; the next goes out "
                f"{next_words(settings, request.now, sent=True, today=request.today)}."
            )
        else:
            when = next_words(settings, request.now, sent=existing is not None, today=request.today)
            note = (
                f"Preview, only you can see it: the digest goes to {channel_token(channel)} "
                f"{when}; /status digest post posts it now."
            )
        digest = build_digest(
            session, settings=settings, now=request.now, channel=channel, preview_note=note
        )
        return Outcome(digest.message)
    if channel is None:
        raise CommandError(
            "BOARD_CHANNEL is not set, so there is no channel to post the digest to.",
            status_usage("digest"),
        )
    if existing is not None:
        return _already(request, channel, existing)
    queued = queue_digest(session, settings=settings, now=request.now, channel=channel)
    if queued.outbox_id is None:
        assert queued.existing is not None
        return _already(request, channel, queued.existing)
    text = f"Posting this week's digest to {channel} now."
    return Outcome(
        Message(text=text, blocks=[Paragraph(text=text)], tone="success"),
        outbox_ids=[queued.outbox_id],
    )


def _already(request: Request, channel: str, row: OutboxMessage) -> Outcome:
    settings = request.core.settings
    if row.status == OutboxStatus.SENT:
        text = (
            f"This week's digest was already posted to {channel} "
            f"{posted_words(settings, row, today=request.today)}; it is posted once a week."
        )
        return Outcome(Message(text=text, blocks=[Paragraph(text=text)]))
    if row.status == OutboxStatus.FAILED:
        outbox_id = retry_failed_digest(request.session, row=row, now=request.now)
        text = (
            f"This week's digest could not be posted to {channel} ({row.last_error}); "
            "trying again now."
        )
        return Outcome(
            Message(text=text, blocks=[Paragraph(text=text)], tone="warning"),
            outbox_ids=[outbox_id],
        )
    text = f"This week's digest is already on its way to {channel}."
    return Outcome(Message(text=text, blocks=[Paragraph(text=text)]))

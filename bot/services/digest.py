"""The weekly digest to the board channel, and `/status digest [post]` for chairs.

The digest is built as the neutral reply model, each list cut at DIGEST_LIST_LIMIT with
"and N more" and how to see them, so any renderer stays within Slack's 50 blocks whatever the
plan's size. When a digest is queued its figures are kept (DigestSnapshot) so the next one can
say what changed ("6 overdue ▲2"). It is queued under `digest:{channel}:{ISO week}`: once a
week, whoever asks (the schedule, a catch-up after downtime, a chair, `actionbot run digest`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
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
from bot.pack.trend_link import trend_image
from bot.render import notices
from bot.render.from_storage import action_view
from bot.render.inline import channel_token
from bot.render.model import ActionView, Count, CountTone, Message, Paragraph
from bot.services import signoff
from bot.services.permissions import require_chair
from bot.services.ratings import flagged
from bot.services.request import Outcome, Request
from bot.services.status import count_undated, undated_actions
from storage import queries
from storage.models import (
    Action,
    DigestSnapshot,
    Identity,
    OutboxMessage,
    OutboxStatus,
    Person,
)

DIGEST = "digest"
#: Actions each list of the digest shows. 3 lists x (title + 8 + "more") + heading, note, the
#: headline, the done and RAG lines and the footnotes stays under 50 blocks even for a
#: renderer that spends a block an item.
DIGEST_LIST_LIMIT = 8
#: How far ahead "due next" looks.
DUE_SOON_DAYS = 7

#: The RAG line: each count's key in the kept figures, its words and its colour.
_RAG: tuple[tuple[str, str, CountTone | None], ...] = (
    ("red", "red", "attention"),
    ("amber", "amber", "warning"),
    ("green", "green", "good"),
    ("blue", "blue", "accent"),
    ("unrated", "not rated", None),
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
    session: Session, *, board_id: int, channel: str | None, before_week: str
) -> DigestSnapshot | None:
    """The board's latest digest kept before `before_week` (to `channel` when given)."""
    query = select(DigestSnapshot).where(
        DigestSnapshot.board_id == board_id, DigestSnapshot.week < before_week
    )
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
    board_id: int,
    preview_note: str | None = None,
) -> Digest:
    """The board's digest as it stands at `now`, compared with its digest of an earlier week.

    What needs attention leads: the headline figures, then overdue, blocked and due; an
    action both overdue and blocked is listed once, under blocked, with its days late. Only
    the board's actions, snapshots and packs are read.
    """
    today = local_day(settings, now)
    previous = previous_snapshot(
        session, board_id=board_id, channel=channel, before_week=iso_week(today)
    )
    since = previous.taken_at if previous is not None else now - dt.timedelta(days=7)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    plan = queries.plan_figures(session, board_id=board_id, today=today, soon=soon)
    attention = _attention_figures(session, board_id=board_id, today=today, soon=soon)
    counts = {
        "done": _count_done(session, board_id=board_id, start=since, end=now),
        # Kept with their first meaning (blocked ones included) for older snapshots' sake.
        "due_7": plan.due_soon,
        "overdue": plan.overdue,
        "blocked": plan.by_status[Status.BLOCKED],
        "open": plan.open,
        "red": plan.open_by_rag[Rag.RED],
        "amber": plan.open_by_rag[Rag.AMBER],
        "green": plan.open_by_rag[Rag.GREEN],
        "blue": plan.open_by_rag[Rag.BLUE],
        "unrated": plan.open_by_rag[None],
        **attention,
    }
    before = previous.counts if previous is not None else {}

    def figure(
        name: str, label: str, tone: CountTone | None = None, note: str | None = None
    ) -> Count:
        old = before.get(name)
        value = counts[name]
        return Count(
            label=label,
            value=value,
            delta=None if old is None else value - old,
            tone=tone if value else None,
            note=note,
        )

    limit = DIGEST_LIST_LIMIT

    listed: dict[str, list[Action]] = {
        "late": _unblocked(session, board_id, _late(today), limit=limit),
        "blocked": list(queries.blocked_actions(session, board_id=board_id, limit=limit)),
        "due": _unblocked(session, board_id, _due(today, soon), limit=limit),
        "undated": list(undated_actions(session, board_id=board_id, limit=limit)),
    }
    views = _views(session, listed, settings=settings, today=today)

    # Delivered actions wait for a chair or the secretary: how many, and for how long.
    awaiting = signoff.digest_part(
        session, settings=settings, today=today, limit=limit, board_id=board_id
    )
    counts["awaiting_signoff"] = awaiting.total
    late_red = counts["late_red"]
    headline = [
        figure("late", "overdue", "attention", f"{late_red} red" if late_red else None),
        figure("blocked", "blocked", "warning"),
        figure("due_week", "due this week"),
        figure("done", "done", "good"),
    ]
    sections = [
        notices.DigestSection(
            title="Overdue, most late first",
            items=views["late"],
            total=counts["late"],
            empty="Nothing is overdue.",
            more_hint="/status overdue lists them all",
        ),
        notices.DigestSection(
            title="Blocked",
            items=views["blocked"],
            total=counts["blocked"],
            empty="Nothing is blocked.",
            more_hint="/action list blocked lists them all",
        ),
        *(
            [
                notices.DigestSection(
                    title="Awaiting sign-off, longest waiting first",
                    items=awaiting.items,
                    total=awaiting.total,
                    empty="Nothing is waiting for sign-off.",
                    more_hint="/status signoff lists them all",
                )
            ]
            if awaiting.shown
            else []
        ),
        notices.DigestSection(
            title=f"Due in the next {DUE_SOON_DAYS} days",
            items=views["due"],
            total=counts["due_week"],
            empty=f"Nothing falls due in the next {DUE_SOON_DAYS} days.",
            more_hint=f"/status due {DUE_SOON_DAYS} lists them all",
        ),
    ]
    done = [
        (action_view(a, today=today), local_day(settings, a.done_at or now))
        for a in queries.done_between(session, board_id=board_id, start=since, end=now, limit=limit)
    ]
    done_line = notices.done_line(
        done,
        total=counts["done"],
        since=_since_words(settings, previous, today=today),
        today=today,
        more_hint="/action list done lists them all",
    )
    # Blue means complete, so an open blue action is rare: shown only when there is one.
    rag = [
        figure(name, label, tone) for name, label, tone in _RAG if name != "blue" or counts["blue"]
    ]
    monday = today - dt.timedelta(days=today.weekday())
    week = f"week of {format_date(monday, today=today)}"
    if previous is not None:
        last = format_date(local_day(settings, previous.taken_at), today=today)
        trend = f"▲ and ▼ are the change since the digest of {last}."
    else:
        trend = "This is the first digest, so there is no change to show yet."
    trend += _people_note(session, board_id)
    undated = views["undated"]
    text = notices.needs_date(undated, total=count_undated(session, board_id=board_id))
    message = notices.digest(
        title=f"Weekly digest, {week}",
        headline=headline,
        rag=rag,
        rag_title=f"RAG of the {counts['open']} open action{'s' if counts['open'] != 1 else ''}",
        sections=sections,
        done=done_line,
        summary=f"{_attention_words(counts)} · weekly digest, {week}",
        note=preview_note,
        ephemeral=preview_note is not None,
        footnotes=[
            trend,
            *([awaiting.waits] if awaiting.waits else []),
            *([text] if text is not None else []),
        ],
    )
    # The BRAG trend across meetings, when a board pack was posted and its link is valid.
    chart = trend_image(session, now, board_id=board_id)
    if chart is not None:
        message = message.model_copy(update={"blocks": [*message.blocks, chart]})
    return Digest(message=message, counts=counts)


def _views(
    session: Session, listed: dict[str, list[Action]], *, settings: Settings, today: dt.date
) -> dict[str, list[ActionView]]:
    """Each list's actions as shown, their ratings flagged, looked up for all lists at once
    (one look-up where each list took its own: a Monday builds every board's digest)."""
    # With the calendar: an item whose deadline moved says so ("moved twice, +12 working
    # days"), so a board sees the dates it is shown are not the first ones.
    calendar = WorkingCalendar.from_settings(settings)
    every = [action for actions in listed.values() for action in actions]
    shown = [action_view(a, today=today, calendar=calendar) for a in every]
    flags = flagged(session, every, shown, settings=settings, calendar=calendar, today=today)
    views: dict[str, list[ActionView]] = {}
    start = 0
    for name, actions in listed.items():
        views[name] = flags[start : start + len(actions)]
        start += len(actions)
    return views


def _attention_words(counts: dict[str, int]) -> str:
    """`5 overdue (3 red), 2 blocked, 4 due this week, 2 done`: the notification's words."""
    red = f" ({counts['late_red']} red)" if counts["late_red"] else ""
    return (
        f"{counts['late']} overdue{red}, {counts['blocked']} blocked, "
        f"{counts['due_week']} due this week, {counts['done']} done"
    )


def _since_words(settings: Settings, previous: DigestSnapshot | None, *, today: dt.date) -> str:
    """Since when `done` counts: `this week` after last week's digest, else its day."""
    if previous is None:
        return "in the last 7 days"
    if previous.week == iso_week(today - dt.timedelta(days=7)):
        return "this week"
    return f"since {format_date(local_day(settings, previous.taken_at), today=today)}"


def _still_open(board_id: int) -> ColumnElement[bool]:
    """The board's open actions not blocked: a blocked action is listed under Blocked only."""
    return (Action.board_id == board_id) & Action.status.in_(
        [s for s in OPEN_STATUSES if s != Status.BLOCKED]
    )


def _late(today: dt.date) -> ColumnElement[bool]:
    return Action.due_date < today


def _due(today: dt.date, soon: dt.date) -> ColumnElement[bool]:
    return Action.due_date.between(today, soon)


def _unblocked(
    session: Session, board_id: int, when: ColumnElement[bool], *, limit: int
) -> list[Action]:
    """Open, unblocked actions matching `when`, soonest deadline (most late) first."""
    query = (
        select(Action)
        .where(_still_open(board_id), when)
        .order_by(Action.due_date, Action.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _attention_figures(
    session: Session, *, board_id: int, today: dt.date, soon: dt.date
) -> dict[str, int]:
    """Overdue (and how many of those red) and due soon, blocked actions left out: they are
    counted once, as blocked."""
    row = session.execute(
        select(
            func.count().filter(_late(today)),
            func.count().filter(_late(today) & (Action.rag == Rag.RED)),
            func.count().filter(_due(today, soon)),
        ).where(_still_open(board_id))
    ).one()
    return {"late": row[0], "late_red": row[1], "due_week": row[2]}


def _people_note(session: Session, board_id: int) -> str:
    """The board's open actions nobody owns yet, and their owners the bot cannot reach in
    chat, if any."""
    open_action = (Action.board_id == board_id) & Action.status.in_(OPEN_STATUSES)
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


def _count_done(session: Session, *, board_id: int, start: dt.datetime, end: dt.datetime) -> int:
    query = select(func.count()).where(
        Action.board_id == board_id,
        Action.status == Status.DONE,
        Action.done_at >= start,
        Action.done_at < end,
    )
    return session.scalar(query) or 0


@dataclass(frozen=True)
class DigestQueued:
    """What asking for this week's digest did: queued it (`outbox_id`), or found `existing`."""

    key: str
    outbox_id: int | None
    existing: OutboxMessage | None


def find_digest(session: Session, *, key: str, board_id: int) -> OutboxMessage | None:
    """The board's outbox row of a digest key, if it was queued."""
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.board_id == board_id)
    ).first()


def queue_digest(
    session: Session, *, settings: Settings, now: dt.datetime, channel: str, board_id: int
) -> DigestQueued:
    """Queue this week's digest of the board to `channel` unless it was queued before; keep
    its figures."""
    key = digest_key(channel, local_day(settings, now))
    existing = find_digest(session, key=key, board_id=board_id)
    if existing is not None:
        return DigestQueued(key=key, outbox_id=None, existing=existing)
    digest = build_digest(session, settings=settings, now=now, channel=channel, board_id=board_id)
    outbox_id = enqueue(
        session,
        board_id=board_id,
        key=key,
        kind=DIGEST,
        message=digest.message,
        now=now,
        channel=channel,
    )
    if outbox_id is None:  # another worker queued it a moment ago
        again = find_digest(session, key=key, board_id=board_id)
        return DigestQueued(key=key, outbox_id=None, existing=again)
    _keep_snapshot(
        session,
        board_id=board_id,
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
    board_id: int,
    key: str,
    channel: str,
    week: str,
    now: dt.datetime,
    counts: dict[str, int],
) -> None:
    values = {
        "board_id": board_id,
        "key": key,
        "channel": channel,
        "week": week,
        "taken_at": now,
        "counts": counts,
    }
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


def next_run(settings: Settings, now: dt.datetime, *, sent: bool) -> dt.datetime | None:
    """When the worker posts the next digest (DIGEST_SCHEDULE): this week's time while it is
    ahead and nothing went out, else next week's; None when this week's time has passed and
    nothing went out (the worker's next run posts it)."""
    weekday, at = parse_weekly_schedule(settings.digest_schedule)
    day = local_day(settings, now)
    due = dt.datetime.combine(
        day - dt.timedelta(days=day.weekday() - weekday), at, tzinfo=settings.tz
    )
    if not sent and now >= due:
        return None
    if sent or now >= due:
        due += dt.timedelta(days=7)
    return due


def next_words(settings: Settings, now: dt.datetime, *, sent: bool, today: dt.date) -> str:
    """`on Mon 30 Nov at 09:00`: when the worker posts the next digest (see `next_run`)."""
    due = next_run(settings, now, sent=sent)
    if due is None:
        return "at the worker's next run (its time this week has passed)"
    return f"on {format_date(due.date(), today=today)} at {due:%H:%M}"


def digest_command(request: Request, command: StatusDigest) -> Outcome:
    """`/status digest` previews this week's digest privately; `post` posts it now (chairs)."""
    require_chair(
        request, "post the digest" if command.post else "preview the digest", status_usage("digest")
    )
    settings, session, board_id = request.core.settings, request.session, request.board_id
    channel = settings.board_channel
    key = digest_key(channel, request.today) if channel else None
    existing = find_digest(session, key=key, board_id=board_id) if key else None
    if not command.post:
        sent = existing is not None and existing.status == OutboxStatus.SENT
        # The preview is the digest of the next run: that week's, against the digest before
        # it (on Saturday, Monday's digest against this week's), with the plan as it is now.
        run = next_run(settings, request.now, sent=sent or existing is not None)
        if channel is None:
            note = "Preview: BOARD_CHANNEL is not set, so it cannot be posted yet."
        elif sent:
            assert existing is not None
            note = (
                f"Preview: this week's digest was posted to {channel_token(channel)} "
                f"{posted_words(settings, existing, today=request.today)}; the next goes out "
                f"{next_words(settings, request.now, sent=True, today=request.today)}. "
                "This is that one, with the plan as it stands now; only you can see it."
            )
        else:
            when = next_words(settings, request.now, sent=existing is not None, today=request.today)
            note = (
                f"Preview, only you can see it: the digest goes to {channel_token(channel)} "
                f"{when}; /status digest post posts it now."
            )
        digest = build_digest(
            session,
            settings=settings,
            now=max(request.now, run) if run is not None else request.now,
            channel=channel,
            board_id=board_id,
            preview_note=note,
        )
        return Outcome(digest.message)
    if channel is None:
        raise CommandError(
            "BOARD_CHANNEL is not set, so there is no channel to post the digest to.",
            status_usage("digest"),
        )
    if existing is not None:
        return _already(request, channel, existing)
    queued = queue_digest(
        session, settings=settings, now=request.now, channel=channel, board_id=board_id
    )
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

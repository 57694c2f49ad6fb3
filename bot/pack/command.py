"""`/board pack [post] [meeting]` and `actionbot board pack`: which meeting a pack is for,
and the replies."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import CommandError
from bot.grammar.pack import BuildPack, PostPack
from bot.grammar.usage import board_usage
from bot.pack.style import day, meeting_words
from bot.render.model import Count, Counts, Heading, Message, Paragraph
from bot.services.meetings import board_meeting
from bot.services.permissions import Permission, require
from bot.services.request import Outcome, Request
from storage.models import Meeting

if TYPE_CHECKING:
    from bot.pack.build import BuiltPack


def pack_meeting(
    session: Session,
    meeting_id: int | None,
    now: dt.datetime,
    *,
    board_id: int,
) -> Meeting:
    """The board's meeting asked for; else its next one not cancelled; else its latest one.
    Another board's meeting is refused as one that does not exist."""
    if meeting_id is not None:
        meeting = board_meeting(session, meeting_id, board_id=board_id)
        if meeting is None:
            raise CommandError(f"There is no meeting {meeting_id}.", board_usage("meetings"))
        return meeting
    upcoming = session.scalars(
        select(Meeting)
        .where(
            Meeting.board_id == board_id,
            Meeting.starts_at >= now,
            Meeting.cancelled_at.is_(None),
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    ).first()
    if upcoming is not None:
        return upcoming
    latest = session.scalars(
        select(Meeting)
        .where(Meeting.board_id == board_id, Meeting.cancelled_at.is_(None))
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        raise CommandError(
            "The board has no meeting yet: add one first.", board_usage("meeting add")
        )
    return latest


def build_pack_command(request: Request, command: BuildPack) -> Outcome:
    """`/board pack`: build it now and answer privately with its link."""
    require(request, Permission.BOARD_PACK, usage=board_usage("pack"))
    built = _build(request, command.meeting_id)
    return Outcome(_reply(built, posted=False))


def post_pack_command(request: Request, command: PostPack) -> Outcome:
    """`/board pack post`: build it and post it to the board channel at once."""
    require(request, Permission.POST_PACK, usage=board_usage("pack post"))
    if not request.core.settings.board_channel:
        raise CommandError("The board pack is posted to BOARD_CHANNEL, which is not set.")
    from bot.pack.post import queue_pack_post

    built = _build(request, command.meeting_id)
    queued = queue_pack_post(request.session, built, request.now)
    return Outcome(_reply(built, posted=True), [queued] if queued is not None else [])


def _build(request: Request, meeting_id: int | None) -> BuiltPack:
    # Charts and the PDF library load with the first pack, not with every process.
    from bot.pack.build import build_pack

    meeting = pack_meeting(request.session, meeting_id, request.now, board_id=request.board_id)
    return build_pack(request.session, request.core, meeting, request.now, created_by=request.actor)


def _reply(built: BuiltPack, *, posted: bool) -> Message:
    data = built.data
    expires = day(built.pack.expires_at.astimezone(data.generated_at.tzinfo).date())
    head = f"Board pack for {data.meeting_title}, {meeting_words(data)}"
    where = "Posted to the board channel. " if posted else ""
    link = f"{where}Open it: {built.url} (the link expires {expires}; share it with care)."
    return Message(
        text=f"{head}: {built.url}",
        blocks=[
            Heading(text=head),
            Counts(items=[Count(label=label, value=value) for label, value in data.figures]),
            Paragraph(text=f"{len(data.exceptions)} exceptions to read first."),
            Paragraph(text=link),
        ],
        tone="success",
    )

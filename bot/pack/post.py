"""Posting a board pack to the board channel, through the outbox like every message.

On Slack the PDF and the workbook are uploaded into the channel with the message as their
comment (the sender reads them from the stored pack); on Teams the card carries the link.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.errors import CommandError
from bot.outbox.queue import enqueue
from bot.pack import PACK_POST
from bot.pack.build import PDF_NAME, XLSX_NAME, BuiltPack
from bot.pack.style import day, meeting_words
from bot.render.model import Count, Counts, Heading, Message, PackFiles, Paragraph


def pack_message(built: BuiltPack, *, files: bool) -> Message:
    """The post: headline, figures, exceptions in a line, the link and when it expires."""
    data = built.data
    when = meeting_words(data)
    expires = day(built.pack.expires_at.astimezone(data.generated_at.tzinfo).date())
    counts = len(data.exceptions)
    return Message(
        text=f"Board pack for {data.meeting_title}, {when}: {built.url}",
        blocks=[
            Heading(text=f"Board pack: {data.meeting_title}, {when}"),
            Counts(items=[Count(label=label, value=value) for label, value in data.figures]),
            Paragraph(
                text=f"{counts} exception{'s' if counts != 1 else ''} to read first"
                " (red, overdue, blocked, re-baselined, declared greener than computed,"
                " awaiting sign-off, no update this round)."
            ),
            Paragraph(text=f"Open the pack: {built.url} (link expires {expires})"),
        ],
        ephemeral=False,
        files=PackFiles(pack_id=built.pack.id, names=[PDF_NAME, XLSX_NAME], url=built.url)
        if files
        else None,
    )


def queue_pack_post(session: Session, built: BuiltPack, now: dt.datetime) -> int | None:
    """Queue the pack's post to BOARD_CHANNEL, once per pack: the outbox id, or None when it
    was queued before. A clear error when BOARD_CHANNEL is not set."""
    return _queue(session, built, now, channel=built.channel)


def _queue(
    session: Session, built: BuiltPack, now: dt.datetime, *, channel: str | None
) -> int | None:
    if not channel:
        raise CommandError("The board pack is posted to BOARD_CHANNEL, which is not set.")
    return enqueue(
        session,
        board_id=built.pack.board_id,
        key=f"{PACK_POST}:{built.pack.id}",
        kind=PACK_POST,
        message=pack_message(built, files=True),
        now=now,
        channel=channel,
    )

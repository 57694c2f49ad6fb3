"""Board meetings: `/board meeting add|cancel`, `/board meetings`, and the same on the
command line (`actionbot board meeting …`). Each meeting's update round runs from the worker
(scheduler/board_cycle.py); its dates are bot/services/rounds.py's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar.dates import format_date
from bot.grammar.meetings import AddMeeting, CancelMeeting, ListMeetings
from bot.grammar.usage import board_usage
from bot.render.model import Heading, Message, Paragraph, Usage
from bot.services.permissions import Permission, require
from bot.services.request import Outcome, Request
from bot.services.rounds import meeting_words, round_dates
from storage.models import Meeting, Person

DEFAULT_TITLE = "Board meeting"


@dataclass(frozen=True)
class Added:
    """A meeting just added, and what its reply should warn about."""

    meeting: Meeting
    warnings: list[str]


def add_meeting(
    session: Session,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    day: dt.date,
    time: dt.time,
    title: str | None,
    actor: Person | None,
    now: dt.datetime,
    board_id: int,
) -> Added:
    """Add a meeting of the board at `day` `time` in its timezone; CommandError for one in
    the past or one the board already has at that moment."""
    starts = dt.datetime.combine(day, time, tzinfo=settings.tz)
    today = now.astimezone(settings.tz).date()
    when = f"{format_date(day, today=today)} at {time:%H:%M}"
    if starts <= now:
        raise CommandError(
            f"{when} is in the past: give a date and time to come.", board_usage("meeting add")
        )
    clash = session.scalar(
        select(Meeting).where(
            Meeting.board_id == board_id,
            Meeting.starts_at == starts,
            Meeting.cancelled_at.is_(None),
        )
    )
    if clash is not None:
        raise CommandError(
            f"Meeting {clash.id} ({clash.title}) is already at {when}.", board_usage("meetings")
        )
    meeting = Meeting(
        board_id=board_id,
        title=(title or DEFAULT_TITLE).strip(),
        starts_at=starts,
        created_by=actor,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    warnings: list[str] = []
    holiday = calendar.holiday_name(day)
    if holiday is not None:
        warnings.append(f"{format_date(day, today=today)} is a bank holiday ({holiday}).")
    elif not calendar.is_working_day(day):
        warnings.append(f"{format_date(day, today=today)} is not a working day.")
    dates = round_dates(meeting, settings=settings, calendar=calendar)
    if dates.cutoff <= today:
        warnings.append(
            "Its cut-off has passed already: the plan is snapshotted and the secretary and "
            "chairs told at the worker's next run in working time."
        )
    elif dates.opens <= today:
        warnings.append(
            f"Fewer than {settings.update_round_days} working days to go: its update round "
            "opens at the worker's next run in working time."
        )
    return Added(meeting, warnings)


def upcoming(session: Session, now: dt.datetime, *, board_id: int) -> Sequence[Meeting]:
    """The board's meetings not cancelled that have not started yet, soonest first."""
    return session.scalars(
        select(Meeting)
        .where(
            Meeting.board_id == board_id, Meeting.cancelled_at.is_(None), Meeting.starts_at > now
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()


def cancel_meeting(
    session: Session,
    *,
    meeting_id: int,
    actor: Person | None,
    now: dt.datetime,
    board_id: int,
) -> Meeting:
    """Cancel a meeting of the board to come; CommandError when the board has none of that
    number (another board's is refused in the same words), or it is past or cancelled."""
    meeting = board_meeting(session, meeting_id, board_id=board_id)
    if meeting is None:
        raise CommandError(f"There is no meeting {meeting_id}.", board_usage("meetings"))
    if meeting.cancelled_at is not None:
        raise CommandError(f"Meeting {meeting_id} was already cancelled.", None)
    if meeting.starts_at <= now:
        raise CommandError(f"Meeting {meeting_id} has taken place; it cannot be cancelled.", None)
    meeting.cancelled_at = now
    meeting.cancelled_by = actor
    return meeting


def board_meeting(session: Session, meeting_id: int, *, board_id: int) -> Meeting | None:
    """The board's meeting of this number, or None (one of another board too)."""
    meeting = session.get(Meeting, meeting_id)
    return meeting if meeting is not None and meeting.board_id == board_id else None


def schedule_lines(
    meeting: Meeting, *, settings: Settings, calendar: WorkingCalendar, today: dt.date
) -> str:
    """`3 · Improvement Board on Fri 15 Jan 2027 at 14:00 · round opens … · cut-off …`."""
    dates = round_dates(meeting, settings=settings, calendar=calendar)
    parts = [f"{meeting.id} · {meeting_words(meeting, settings.tz, today)}"]
    if meeting.cut_off_at is not None:
        parts.append("cut-off done, plan snapshotted")
    else:
        opened = "round open since" if meeting.round_opened_at else "round opens"
        parts.append(f"{opened} {format_date(dates.opens, today=today)}")
        parts.append(f"nudge {format_date(dates.nudge, today=today)}")
        parts.append(f"cut-off {format_date(dates.cutoff, today=today)}")
    return " · ".join(parts)


def meetings_message(
    session: Session,
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    now: dt.datetime,
    board_id: int,
) -> Message:
    """The board's meetings to come, each with its round's dates."""
    today = now.astimezone(settings.tz).date()
    found = upcoming(session, now, board_id=board_id)
    if not found:
        text = "No meetings to come."
        return Message(
            text=text,
            blocks=[Paragraph(text=text), Usage(lines=[board_usage("meeting add")])],
        )
    head = f"Meetings to come ({len(found)})"
    lines = [schedule_lines(m, settings=settings, calendar=calendar, today=today) for m in found]
    note = (
        f"The update round opens {settings.update_round_days} working days before each "
        f"meeting; the cut-off is {settings.update_cutoff_days} working days before it."
    )
    return Message(
        text=head,
        blocks=[
            Heading(text=head),
            Paragraph(text="\n".join(lines)),
            Paragraph(text=note),
            Usage(lines=[board_usage("meeting add"), board_usage("meeting cancel")]),
        ],
    )


def add_meeting_command(request: Request, command: AddMeeting) -> Outcome:
    """`/board meeting add <date> <time> [title]`."""
    require(request, Permission.MANAGE_MEETINGS, usage=board_usage("meeting add"))
    settings, calendar = request.core.settings, request.core.calendar
    added = add_meeting(
        request.session,
        settings=settings,
        calendar=calendar,
        day=command.day,
        time=command.time,
        title=command.title,
        actor=request.actor,
        now=request.now,
        board_id=request.board_id,
    )
    line = schedule_lines(added.meeting, settings=settings, calendar=calendar, today=request.today)
    text = f"Meeting added: {line}"
    blocks: list[Paragraph | Usage] = [Paragraph(text=text)]
    blocks += [Paragraph(text=warning) for warning in added.warnings]
    blocks.append(Usage(lines=["/board meetings", f"/board meeting cancel {added.meeting.id}"]))
    tone = "warning" if added.warnings else "success"
    return Outcome(Message(text=text, blocks=list(blocks), tone=tone))


def list_meetings_command(request: Request, command: ListMeetings) -> Outcome:
    """`/board meetings`."""
    require(request, Permission.MEETINGS, usage=board_usage("meetings"))
    core = request.core
    return Outcome(
        meetings_message(
            request.session,
            settings=core.settings,
            calendar=core.calendar,
            now=request.now,
            board_id=request.board_id,
        )
    )


def cancel_meeting_command(request: Request, command: CancelMeeting) -> Outcome:
    """`/board meeting cancel <id>`."""
    require(request, Permission.MANAGE_MEETINGS, usage=board_usage("meeting cancel"))
    meeting = cancel_meeting(
        request.session,
        meeting_id=command.meeting_id,
        actor=request.actor,
        now=request.now,
        board_id=request.board_id,
    )
    when = meeting_words(meeting, request.core.settings.tz, request.today)
    text = f"Meeting {meeting.id} cancelled ({when}): no update round for it."
    return Outcome(Message(text=text, blocks=[Paragraph(text=text)], tone="success"))

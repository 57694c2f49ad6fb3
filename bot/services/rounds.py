"""Update rounds before a board meeting: when each step falls, who is asked, who answered.

A round opens UPDATE_ROUND_DAYS working days before the meeting (every owner of an open
action gets one message asking for an update on each of theirs), nudges at the cut-off minus
two working days (only the actions still without an update), and closes at the cut-off,
UPDATE_CUTOFF_DAYS working days before it (the secretary and the chairs get who has not
updated which action). An update is any note, status, RAG or evidence entry in an action's
history after the round opened, however it was given (a command, a button, a reply).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.boards.members import holders
from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain import Change, Role, Status
from bot.domain.workdays import WorkingCalendar
from bot.errors import CommandError
from bot.grammar.commands import AddEvidence, AddUpdate, SetRag, UpdateRound
from bot.grammar.dates import format_date
from bot.grammar.usage import action_usage
from bot.outbox.queue import enqueue
from bot.people.resolve import chairs
from bot.render import replies
from bot.render.from_storage import action_view
from bot.render.inline import plain
from bot.render.latest import latest_notes
from bot.render.model import (
    ActionList,
    Button,
    Buttons,
    Heading,
    LatestNote,
    Message,
    Paragraph,
    Usage,
)
from bot.services.actions import add_update, set_rag
from bot.services.request import Outcome, Request
from bot.services.signoff import add_evidence
from storage.models import Action, HistoryEntry, Meeting, Person

#: Outbox kind of the round's messages (the request, the nudge, the list at the cut-off).
ROUND = "round"
#: Working days between the nudge and the cut-off.
NUDGE_BEFORE_CUTOFF = 2
#: Statuses whose owners are asked for an update: still being worked on.
ASKED = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)
#: Actions per row of Update and Evidence buttons (Slack's actions block holds 25 buttons).
BUTTON_ROW = 10
#: The last update a button carries to prefill the form (a button's value is 2,000 bytes).
PREFILL_CHARS = 1200
#: History changes that count as an update in a round.
UPDATES = (Change.NOTE.value, Change.STATUS.value, Change.RAG.value, Change.EVIDENCE.value)


@dataclass(frozen=True)
class RoundDates:
    """The local days a meeting's round opens, nudges and closes (cut-off)."""

    opens: dt.date
    nudge: dt.date
    cutoff: dt.date


def working_days_before(calendar: WorkingCalendar, day: dt.date, n: int) -> dt.date:
    """The working day `n` working days before `day` (bank holidays and weekends skipped)."""
    found = day
    for _ in range(n):
        found = calendar.previous_working_day(found - dt.timedelta(days=1))
    return found


def round_dates(meeting: Meeting, *, settings: Settings, calendar: WorkingCalendar) -> RoundDates:
    """When the round of `meeting` opens, nudges and closes, in the bot's timezone."""
    day = meeting.starts_at.astimezone(settings.tz).date()
    opens = working_days_before(calendar, day, settings.update_round_days)
    cutoff = working_days_before(calendar, day, settings.update_cutoff_days)
    nudge = max(opens, working_days_before(calendar, cutoff, NUDGE_BEFORE_CUTOFF))
    return RoundDates(opens=opens, nudge=nudge, cutoff=cutoff)


def round_start(meeting: Meeting, *, settings: Settings, calendar: WorkingCalendar) -> dt.datetime:
    """Since when an update counts: the round's opening, or the start of its day if the
    round never opened (the worker was down until the cut-off)."""
    if meeting.round_opened_at is not None:
        return meeting.round_opened_at
    opens = round_dates(meeting, settings=settings, calendar=calendar).opens
    return dt.datetime.combine(opens, dt.time(0), tzinfo=settings.tz)


def asked_actions(session: Session, *, board_id: int) -> dict[int, list[Action]]:
    """The board's open actions with a present owner, by owner id, in number order."""
    rows = session.scalars(
        select(Action)
        .join(Person, Action.owner_id == Person.id)
        .where(Action.board_id == board_id, Action.status.in_(ASKED), Person.left_at.is_(None))
        .order_by(Action.id)
    ).all()
    found: dict[int, list[Action]] = defaultdict(list)
    for action in rows:
        assert action.owner_id is not None
        found[action.owner_id].append(action)
    return found


def updated_since(session: Session, ids: Sequence[int], since: dt.datetime) -> set[int]:
    """Which of the actions `ids` had an update (note, status, RAG, evidence) since `since`."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(HistoryEntry.action_id)
            .where(
                HistoryEntry.action_id.in_(ids),
                HistoryEntry.at >= since,
                HistoryEntry.change.in_(UPDATES),
            )
            .distinct()
        )
    )


def without_update(
    session: Session, owners: dict[int, list[Action]], since: dt.datetime
) -> dict[int, list[Action]]:
    """`owners` with only the actions that had no update since `since` (owners left empty
    dropped)."""
    ids = [a.id for actions in owners.values() for a in actions]
    done = updated_since(session, ids, since)
    left = {owner: [a for a in actions if a.id not in done] for owner, actions in owners.items()}
    return {owner: actions for owner, actions in left.items() if actions}


def meeting_words(meeting: Meeting, tz: dt.tzinfo, today: dt.date | None = None) -> str:
    """`Improvement Board on Fri 15 Jan 2027 at 14:00`."""
    local = meeting.starts_at.astimezone(tz)
    return f"{meeting.title} on {format_date(local.date(), today=today)} at {local:%H:%M}"


def request_message(
    meeting: Meeting,
    actions: Sequence[Action],
    latest: Mapping[int, LatestNote],
    *,
    dates: RoundDates,
    settings: Settings,
    today: dt.date,
    calendar: WorkingCalendar,
    nudge: bool,
) -> Message:
    """The round's message to one owner: each of their actions with its last update and RAG,
    a button per action, and the commands that do the same."""
    when = meeting_words(meeting, settings.tz, today)
    by = format_date(dates.cutoff, today=today)
    count = len(actions)
    some = "your action" if count == 1 else f"your {count} actions"
    if nudge:
        head = f"Reminder: the board still needs an update on {some} by {by}"
        none = "it has" if count == 1 else "these have"
        intro = f"The updates for {when} are collated on {by}, and {none} none yet this round."
    else:
        head = f"Update round for {when}"
        intro = (
            f"Please update {some} by {by}, when the updates are collated for the board: "
            "a RAG (red, amber or green), a note of progress, and evidence where you have it."
        )
    lines = []
    for action in actions:
        note = latest.get(action.id)
        last = (
            f"last update {format_date(note.on, today=today)}: {plain(note.text)[:200]}"
            if note is not None
            else "no update yet"
        )
        rag = action.rag.value if action.rag is not None else "no RAG set"
        lines.append(f"#{action.id} {plain(action.title)[:120]} · RAG {rag} · {last}")
    return Message(
        text=head,
        blocks=[
            Heading(text=head),
            Paragraph(text=intro),
            Paragraph(text="\n".join(lines)),
            ActionList(
                items=[action_view(a, today=today, calendar=calendar) for a in actions],
                buttons=True,
            ),
            *_update_buttons(actions, latest),
            # Where buttons cannot be pressed (a card that failed to load), the same by typing.
            Usage(
                lines=[
                    "/action rag <id> red|amber|green  ·  /action update <id> <what has happened>"
                    "  ·  /action evidence <id> <note or link>"
                ]
            ),
        ],
        tone="warning" if nudge else "info",
    )


def _update_buttons(
    actions: Sequence[Action], latest: Mapping[int, LatestNote]
) -> list[Buttons]:
    """Per action, Update (a form with its RAG, its last update to edit, a link: Slack opens
    it prefilled, Teams' card shows the boxes) and Evidence for #N (a file, a link, a note)."""
    rows: list[Buttons] = []
    for start in range(0, len(actions), BUTTON_ROW):
        items: list[Button] = []
        for action in actions[start : start + BUTTON_ROW]:
            note = latest.get(action.id)
            last = plain(note.text)[:PREFILL_CHARS] if note is not None else ""
            update = UpdateRound(action_id=action.id, rag=action.rag, note=last or None)
            items.append(Button(label=f"Update #{action.id}", command=update, style="primary"))
            evidence = AddEvidence(action_id=action.id)
            items.append(
                Button(label=f"Evidence for #{action.id}", command=evidence, form="evidence")
            )
        rows.append(Buttons(items=items))
    return rows


def queue_requests(
    session: Session,
    meeting: Meeting,
    owners: dict[int, list[Action]],
    *,
    settings: Settings,
    calendar: WorkingCalendar,
    now: dt.datetime,
    step: str,
) -> int:
    """One message per owner (`step` `open` or `nudge`), each key queued once, of the
    meeting's board; how many."""
    today = now.astimezone(settings.tz).date()
    dates = round_dates(meeting, settings=settings, calendar=calendar)
    ids = [a.id for actions in owners.values() for a in actions]
    latest = latest_notes(session, ids, tz=settings.tz)
    queued = 0
    for owner_id, actions in owners.items():
        owner = session.get(Person, owner_id)
        assert owner is not None
        message = request_message(
            meeting,
            actions,
            latest,
            dates=dates,
            settings=settings,
            today=today,
            calendar=calendar,
            nudge=step == "nudge",
        )
        outbox_id = enqueue(
            session,
            board_id=meeting.board_id,
            key=f"{ROUND}:{meeting.id}:{step}:{owner_id}",
            kind=ROUND,
            message=message,
            now=now,
            recipient=owner,
            action=actions[0] if len(actions) == 1 else None,
        )
        queued += outbox_id is not None
    return queued


def runners(session: Session, *, board: BoardView) -> list[Person]:
    """The chairs and the secretary: who hears who has not updated at the cut-off."""
    found = {p.id: p for p in chairs(session, board=board) if p.left_at is None}
    for person in session.scalars(holders(board.id, Role.SECRETARY)):
        found.setdefault(person.id, person)
    return [found[k] for k in sorted(found)]


def missing_message(
    meeting: Meeting,
    missing: dict[int, list[Action]],
    people: dict[int, Person],
    *,
    settings: Settings,
    today: dt.date,
) -> Message:
    """The cut-off's list for the chairs and the secretary: who has not updated which action."""
    when = meeting_words(meeting, settings.tz, today)
    count = sum(len(v) for v in missing.values())
    if not missing:
        head = f"Cut-off for {when}: every action has an update"
        return Message(text=head, blocks=[Heading(text=head)], tone="success")
    head = (
        f"Cut-off for {when}: {count} action{'s' if count != 1 else ''} without an update "
        f"from {len(missing)} owner{'s' if len(missing) != 1 else ''}"
    )
    lines = []
    for owner_id in sorted(missing, key=lambda k: people[k].display_name.lower()):
        numbers = ", ".join(f"#{a.id} {plain(a.title)[:80]}" for a in missing[owner_id])
        lines.append(f"{people[owner_id].display_name}: {numbers}")
    return Message(
        text=head,
        blocks=[
            Heading(text=head),
            Paragraph(text="\n".join(lines)),
            Usage(lines=["/action nudge <id>", "/action show <id>"]),
        ],
        tone="warning",
    )


def update_round(request: Request, command: UpdateRound) -> Outcome:
    """The round's Update form sent: its RAG (when it changed), its note and its link, each
    recorded as `/action rag`, `update` and `evidence` record them, in one transaction."""
    note = (command.note or "").strip()
    link = (command.link or "").strip()
    if command.rag is None and not note and not link:
        raise CommandError(
            "Give a RAG, a note of progress or a link to evidence.", action_usage("update")
        )
    action = request.action(command.action_id)
    done: list[str] = []
    ids: list[int] = []
    if command.rag is not None and action.rag != command.rag:
        ids += set_rag(request, SetRag(action_id=action.id, rag=command.rag)).outbox_ids
        done.append(f"RAG {command.rag.value}")
    if note:
        ids += add_update(request, AddUpdate(action_id=action.id, note=note)).outbox_ids
        done.append("your update")
    if link:
        ids += add_evidence(request, AddEvidence(action_id=action.id, link=link)).outbox_ids
        done.append("the evidence")
    if not done:  # only the RAG it already had
        assert command.rag is not None
        done.append(f"RAG {command.rag.value}, as it was")
    view = action_view(action, today=request.today)
    text = f"Recorded for the board on {replies.label(view)}: {', '.join(done)}."
    return Outcome(replies.changed(text, view), ids)

"""Buttons taken back: when an action is reassigned or closed, the messages that showed its
buttons to someone who may no longer use them are redrawn without them.

The redraw is queued in the outbox in the change's own transaction (kind `edit`, one row per
message, keyed by the action's version), so it is retried like any message and a platform
that fails never undoes or loses the change. Delivery edits the message in place
(Slack's chat.update, Teams' update-activity) through a sender that can edit (`Editor`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import update

from bot.domain import Platform
from bot.outbox.queue import enqueue
from bot.outbox.sender import Delivered, Sender, SendError, workspace_of
from bot.render.from_storage import action_view
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionNotice,
    ActionView,
    Block,
    Message,
    NoticeList,
)
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action, OutboxMessage, OutboxStatus

#: Kind of the outbox rows that edit a message already sent.
EDIT = "edit"
#: Messages older than this keep their buttons (a press is refused with the reason anyway).
LOOK_BACK = dt.timedelta(days=120)


@runtime_checkable
class Editor(Protocol):
    """A sender that can change a message it sent (Slack: chat.update; Teams: update-activity)."""

    platform: Platform

    def edit_message(
        self, channel: str, ref: str, message: Message, *, workspace: str | None = None
    ) -> None:
        """Replace the message `ref` in `channel` (of `workspace`) with `message`."""
        ...


def queue_edits(session: Session, action: Action, *, now: dt.datetime) -> list[int]:
    """Queue the redraw of every sent message that shows `action`'s buttons to someone who
    may no longer use them: anyone once the action is closed, else a former owner."""
    keep = set() if action.status.is_closed else _may_update(action)
    view = action_view(action, today=now.date())
    latest: dict[tuple[str, str, str], OutboxMessage] = {}
    sent = (
        # Only the action's board's messages can show it.
        OutboxMessage.board_id == action.board_id,
        OutboxMessage.status == OutboxStatus.SENT,
        OutboxMessage.platform_ref.is_not(None),
        OutboxMessage.recipient_id.is_not(None),
        OutboxMessage.created_at >= now - LOOK_BACK,
    )
    about = select(OutboxMessage.platform_ref).where(*sent, OutboxMessage.action_id == action.id)
    linked = select(OutboxMessage.recipient_id).where(*sent, OutboxMessage.action_id == action.id)
    # A message of several actions (a bundle, an update round) names none: it can show this
    # one only if it carried one of its notices (a bundle's notices keep its reference) or
    # went to someone who owns, supports or was told about it. Every other message of the
    # board's last months is never read.
    shared = OutboxMessage.action_id.is_(None) & or_(
        OutboxMessage.platform_ref.in_(about),
        OutboxMessage.recipient_id.in_(linked),
        OutboxMessage.recipient_id.in_(_may_update(action)),
    )
    rows = session.scalars(
        select(OutboxMessage)
        .where(*sent, or_(OutboxMessage.action_id == action.id, shared))
        .order_by(OutboxMessage.id)
    )
    for row in rows:
        assert row.platform and row.platform_channel and row.platform_ref
        latest[(row.platform, row.platform_channel, row.platform_ref)] = row
    ids: list[int] = []
    for row in latest.values():
        if row.recipient_id in keep or row.recipient is None:
            continue
        try:
            message = Message.model_validate(row.payload)
        except ValidationError:  # a row written by another version: left alone
            continue
        redrawn = without_buttons(message, view)
        if redrawn is None:
            continue
        key = f"{EDIT}:{row.id}:{action.id}:{action.version}"
        outbox_id = queue_edit(session, row, redrawn, key=key, now=now, action=action)
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


def queue_edit(
    session: Session,
    row: OutboxMessage,
    message: Message,
    *,
    key: str,
    now: dt.datetime,
    action: Action | None,
) -> int | None:
    """Queue the edit of the sent message `row` into `message` (of `row`'s board); None when
    `key` was queued already."""
    outbox_id = enqueue(
        session,
        board_id=row.board_id,
        key=key,
        kind=EDIT,
        message=message,
        now=now,
        recipient=row.recipient,
        action=action,
    )
    if outbox_id is None:
        return None
    # Where the edit goes: the message it redraws. A press on that message later finds
    # this row (the newest with its reference), so it is redrawn as it now looks.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            platform=row.platform,
            platform_channel=row.platform_channel,
            platform_ref=row.platform_ref,
        )
        .execution_options(synchronize_session=False)
    )
    return outbox_id


def without_buttons(message: Message, view: ActionView) -> Message | None:
    """`message` with `view`'s action shown as it now stands and without its buttons; None
    when the message shows no buttons for it (nothing to take back)."""
    changed = False
    blocks: list[Block] = []
    for block in message.blocks:
        if (
            isinstance(block, ActionDetail)
            and block.action.id == view.id
            and block.buttons
            and not block.action.status.is_closed
        ):
            # A closed action keeps `buttons` so renderers say "done — nothing more to do".
            block = block.model_copy(update={"action": view, "buttons": view.status.is_closed})
            changed = True
        elif (
            isinstance(block, ActionList)
            and block.buttons
            and any(item.id == view.id and not item.status.is_closed for item in block.items)
        ):
            if view.status.is_closed:
                items = [view if item.id == view.id else item for item in block.items]
            else:  # no longer theirs: it leaves their list
                items = [item for item in block.items if item.id != view.id]
            block = block.model_copy(update={"items": items})
            changed = True
        elif isinstance(block, ActionNotice | NoticeList):
            notes = block.items if isinstance(block, NoticeList) else [block]
            if any(_retractable(n, view) for n in notes):
                redrawn = [_no_buttons(n, view) if _retractable(n, view) else n for n in notes]
                block = (
                    block.model_copy(update={"items": redrawn})
                    if isinstance(block, NoticeList)
                    else redrawn[0]
                )
                changed = True
        blocks.append(block)
    return message.model_copy(update={"blocks": blocks}) if changed else None


def _retractable(notice: ActionNotice, view: ActionView) -> bool:
    return (
        notice.action.id == view.id and bool(notice.buttons) and not notice.action.status.is_closed
    )


def _no_buttons(notice: ActionNotice, view: ActionView) -> ActionNotice:
    """The notice without its buttons: a closed action's says "done — nothing more to do"
    where they were, one given to someone else says who has it now."""
    prompt = notice.prompt
    if not view.status.is_closed:
        owner = view.owner.name if view.owner is not None else "nobody yet"
        prompt = f"Now owned by {owner}: nothing more for you to do here."
    return notice.model_copy(update={"action": view, "buttons": [], "prompt": prompt})


def _may_update(action: Action) -> set[int]:
    people = {s.person_id for s in action.supporters}
    if action.owner_id is not None:
        people.add(action.owner_id)
    return people


def edit_sent(
    core: Core, senders: Sequence[Sender], outbox_id: int, message: Message
) -> tuple[Sender, Delivered]:
    """Deliver an `edit` row: change the message it names in place. SendError (permanent)
    when no configured sender can edit messages of that platform."""
    with transaction(core.sessions) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        platform, channel, ref = row.platform, row.platform_channel, row.platform_ref
        board = core.boards.get(row.board_id)
    for sender in senders:
        if isinstance(sender, Editor) and sender.platform.value == platform and channel and ref:
            workspace = workspace_of(board, sender.platform)
            sender.edit_message(channel, ref, message, workspace=workspace)
            return sender, Delivered(channel=channel, ref=ref)
    raise SendError(f"messages on {platform} cannot be edited here", permanent=True)


def drawn(core: Core, *, platform: Platform, channel: str, ref: str) -> None:
    """A message was just redrawn where it was pressed, as the action now stands: edits still
    queued for it have nothing left to do (and would only draw the same thing again)."""
    with transaction(core.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == EDIT,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.platform == platform.value,
                OutboxMessage.platform_channel == channel,
                OutboxMessage.platform_ref == ref,
            )
            .values(status=OutboxStatus.CANCELLED, last_error="redrawn where it was pressed")
            .execution_options(synchronize_session=False)
        )

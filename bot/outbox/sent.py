"""Messages already delivered: found again by where they landed, redrawn with fresh state.

When someone presses a button on a reminder, the platform redraws that message in place; the
outbox row it was sent from holds the message as it was built, so the other actions in it
are kept and only the one that changed is refreshed.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.domain import Platform
from bot.render import notices
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
from storage.models import OutboxMessage


def find_sent(core: Core, *, platform: Platform, channel: str, ref: str) -> Message | None:
    """The message delivered on `platform` to `channel` as `ref` (Slack's ts), if we sent it."""
    with transaction(core.sessions) as session:
        row = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform.value,
                OutboxMessage.platform_channel == channel,
                OutboxMessage.platform_ref == ref,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        return Message.model_validate(row.payload) if row is not None else None


def with_action(message: Message, view: ActionView) -> Message:
    """`message` with every appearance of the action `view.id` replaced by `view`."""
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, ActionDetail) and block.action.id == view.id:
            block = block.model_copy(update={"action": view})
        elif isinstance(block, ActionList) and any(item.id == view.id for item in block.items):
            items = [view if item.id == view.id else item for item in block.items]
            block = block.model_copy(update={"items": items})
        elif isinstance(block, ActionNotice) and block.action.id == view.id:
            block = notices.redrawn(block, view)
        elif isinstance(block, NoticeList) and any(i.action.id == view.id for i in block.items):
            notes = [notices.redrawn(i, view) if i.action.id == view.id else i for i in block.items]
            block = block.model_copy(update={"items": notes})
        blocks.append(block)
    return message.model_copy(update={"blocks": blocks})

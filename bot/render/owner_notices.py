"""Messages to owners about changes others made to their actions, and to chairs when an owner
has left. Platform-neutral like replies.py: what people typed stays data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.grammar.dates import format_date
from bot.render.model import ActionDetail, ActionList, ActionView, Block, Message, Paragraph


def _label(action: ActionView) -> str:
    return f"#{action.id} {action.title}"


def _told(text: str, action: ActionView, *, why: str | None = None) -> Message:
    blocks: list[Block] = [Paragraph(text=text)]
    if why:
        blocks.append(Paragraph(text=f"Why: {why}"))
    blocks.append(ActionDetail(action=action, buttons=True))
    return Message(text=text, blocks=blocks, ephemeral=False)


def deadline_moved(
    action: ActionView,
    *,
    by: str,
    old: dt.date | None,
    new: dt.date,
    reason: str | None,
    today: dt.date,
) -> Message:
    """DM to the owner and supporting owners: someone else moved the deadline."""
    when = format_date(new, today=today)
    was = f" (was {format_date(old, today=today)})" if old is not None else ""
    text = f"{by} moved the deadline of action {_label(action)} to {when}{was}."
    return _told(text, action, why=reason or "no reason was given")


def rag_set(action: ActionView, *, by: str, old: str | None, new: str) -> Message:
    """DM to the owner and supporting owners: someone else set the RAG rating."""
    was = f" (was {old})" if old else ""
    text = f"{by} set the RAG of action {_label(action)} to {new}{was}."
    return _told(text, action)


def owner_changed(action: ActionView, *, by: str, old: str | None, new: str) -> Message:
    """DM to supporting owners: the accountable owner of an action they support changed."""
    was = f" (was {old})" if old else ""
    text = (
        f"{by} made {new} the owner of action {_label(action)}{was}; "
        "you are still a supporting owner."
    )
    return _told(text, action)


def owner_left(
    *, failure: str, person: str, reason: str, actions: Sequence[ActionView], total: int
) -> Message:
    """DM to the chairs, once per person: a message to an owner was refused because they
    left (`failure` says which), so these actions have no owner now."""
    if total == 1:
        left = f"{person} has left ({reason}): their open action now shows as unowned."
    else:
        left = f"{person} has left ({reason}): their {total} open actions now show as unowned."
    hint = "Give each to someone else: /action assign <id> @someone"
    blocks: list[Block] = [Paragraph(text=failure), Paragraph(text=left), Paragraph(text=hint)]
    if actions:
        blocks.append(
            ActionList(
                title=f"Owned by {person}",
                items=list(actions),
                more=max(0, total - len(actions)),
                more_hint="/action list all" if total > len(actions) else None,
            )
        )
    return Message(text=failure, blocks=blocks, tone="error", ephemeral=False)

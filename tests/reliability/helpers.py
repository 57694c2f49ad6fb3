"""Helpers of the reliability suite: database snapshots and checks of rendered replies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select

from bot.render import text as plain_text
from bot.render.model import Message
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.request import Outcome
from handlers.slack import blocks as slack_blocks
from storage.db import transaction
from storage.models import Action, HistoryEntry, OutboxMessage

#: Slack's limits we check every rendered reply against (Block Kit reference).
SECTION_TEXT, FIELD_TEXT, HEADER_TEXT, BUTTON_TEXT, MAX_BLOCKS = 3000, 2000, 150, 75, 50
FALLBACK_LIMIT = 4000

#: What our own markup may put in mrkdwn: a mention of a known Slack user, `<@U123>`.
_OUR_MENTION = re.compile(r"<@([A-Z0-9]+)>")
#: A link the bot draws shows its whole URL (never a label hiding where it goes).
_OUR_LINK = re.compile(r"<https?://[^\s|<>]+>")


def snapshot(core: Core) -> tuple[Any, ...]:
    """Everything a command could change about the plan: actions, history, outbox."""
    with transaction(core.sessions) as session:
        actions = [
            (
                a.id, a.title, a.owner_id, a.due_date, a.status, a.rag, a.blocked_reason,
                a.done_at, a.version, a.updated_at,
            )
            for a in session.scalars(select(Action).order_by(Action.id))
        ]
        history = session.scalar(select(func.count()).select_from(HistoryEntry))
        outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
    return (tuple(actions), history, outbox)


def history_rows(core: Core, action_id: int | None = None) -> list[HistoryEntry]:
    with transaction(core.sessions) as session:
        query = select(HistoryEntry).order_by(HistoryEntry.id)
        if action_id is not None:
            query = query.where(HistoryEntry.action_id == action_id)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows


def command(core: Core, caller: Caller, line: str) -> Outcome:
    """`/action …` or `/status …` as typed."""
    name, _, rest = line.partition(" ")
    return run_command(core, caller, name, rest)


def ok(core: Core, caller: Caller, line: str) -> Outcome:
    outcome = command(core, caller, line)
    assert outcome.message.tone != "error", (line, outcome.message.text)
    return outcome


def added_id(outcome: Outcome) -> int:
    match = re.search(r"#(\d+)", outcome.message.text)
    assert match, outcome.message.text
    return int(match.group(1))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def check_slack_rendering(
    core: Core, message: Message, *, slack_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Render for Slack; assert escaped mrkdwn, no forged mention, and Slack's limits."""
    allowed = set(slack_ids)
    rendered = slack_blocks.render(message, today=core.today(), tz=core.settings.tz)
    assert 0 < len(rendered.text) <= FALLBACK_LIMIT
    assert len(rendered.blocks) <= MAX_BLOCKS
    mrkdwn = [rendered.text]
    for node in _walk(rendered.blocks):
        if node.get("type") == "mrkdwn":
            mrkdwn.append(node["text"])
            assert len(node["text"]) <= SECTION_TEXT
        if node.get("type") == "header":
            assert len(node["text"]["text"]) <= HEADER_TEXT
        if node.get("type") == "button":
            assert len(node["text"]["text"]) <= BUTTON_TEXT
        if node.get("type") == "section" and "fields" in node:
            assert all(len(f["text"]) <= FIELD_TEXT for f in node["fields"])
        if node.get("type") == "plain_text":
            assert len(node["text"]) <= SECTION_TEXT
    for text in mrkdwn:
        without_ours = _OUR_LINK.sub("", text)
        without_ours = _OUR_MENTION.sub(
            lambda m: "" if m.group(1) in allowed else m.group(0), without_ours
        )
        assert "<" not in without_ours and ">" not in without_ours, text[:300]
        # Every & starts an entity we wrote: user text's & is always &amp;.
        assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", without_ours, flags=re.S), text[:300]
    return rendered.blocks


def check_plain_rendering(core: Core, message: Message) -> str:
    """The console's rendering works on anything."""
    return plain_text.render(message, today=core.today(), tz=core.settings.tz)

"""Block Kit rendering: user text is escaped, limits hold, and slack_sdk's models accept it all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain import Rag, Status
from bot.render import replies
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionView,
    Count,
    Counts,
    Heading,
    HistoryView,
    Message,
    Paragraph,
    PersonView,
    Usage,
)
from handlers.slack import blocks as kit
from handlers.slack.slash_commands import command_text

TODAY = dt.date(2026, 11, 23)


def action(
    number: int = 12, title: str = "Audit the front door", status: Status = Status.OPEN, **kw: Any
) -> ActionView:
    return ActionView(
        id=number,
        title=title,
        owner=PersonView(id=1, name=kw.pop("owner", "Amira Khan")),
        due=kw.pop("due", dt.date(2026, 11, 20)),
        status=status,
        **kw,
    )


def validated(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round-trip through slack_sdk's Block Kit models: parse, validate, serialise unchanged."""
    parsed = Block.parse_all(blocks)
    assert [b.to_dict() for b in parsed] == blocks
    return blocks


def all_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


def test_escape_only_the_three_control_characters() -> None:
    assert kit.escape("a & b < c > d 'e' \"f\"") == "a &amp; b &lt; c &gt; d 'e' \"f\""
    assert kit.unescape(kit.escape("<!channel> & <@U1>")) == "<!channel> & <@U1>"


def test_special_mentions_and_links_in_titles_are_shown_as_text() -> None:
    evil = "Hi <!channel> <!here> <@U999> <http://evil.example|click> & more"
    message = replies.assigned_to_you(action(title=evil), by="Chair <!everyone>")
    rendered = kit.render(message, today=TODAY)
    text = all_text(validated(rendered.blocks)) + rendered.text
    # Slack's markup in stored text (rows from before it was stored neutral) reads as words.
    assert "<!" not in text and "<@" not in text
    assert "Hi @channel @here @U999" in text and "&amp; more" in text
    # A link shows its whole address, so its words cannot disguise where it goes.
    assert "click (<http://evil.example>)" in text
    # verbatim: Slack does not auto-link or parse mentions in any mrkdwn we send
    for block in rendered.blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                assert obj["verbatim"] is True


def test_assignment_carries_the_three_buttons_with_the_action_number() -> None:
    rendered = kit.render(replies.assigned_to_you(action(number=7), by="Chair"), today=TODAY)
    buttons = [b for b in validated(rendered.blocks) if b["type"] == "actions"]
    assert len(buttons) == 1
    elements = buttons[0]["elements"]
    assert [e["action_id"] for e in elements] == ["action_done", "action_update", "action_blocked"]
    assert [e["text"]["text"] for e in elements] == ["Mark done", "Add update", "Blocked"]
    assert {e["value"] for e in elements} == {"7"}


def test_a_done_action_shows_its_state_instead_of_buttons() -> None:
    done = ActionDetail(action=action(status=Status.DONE), buttons=True)
    blocks = kit.to_blocks(Message(text="x", blocks=[done]), today=TODAY)
    assert not [b for b in validated(blocks) if b["type"] == "actions"]
    assert "nothing more to do" in all_text(blocks)


def test_long_text_is_cut_with_an_ellipsis_within_slack_limits() -> None:
    long = "x&" * 5000
    message = Message(
        text=long,
        blocks=[
            Heading(text="H" * 400),
            Paragraph(text=long),
            ActionDetail(
                action=action(title=long, blocked_reason=long, workstream=long, priority="p"),
                history=[
                    HistoryView(
                        at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                        actor="A",
                        source="slack",
                        change="note",
                        note=long,
                    )
                ]
                * 5,
                buttons=True,
            ),
        ],
    )
    rendered = kit.render(message, today=TODAY)
    blocks = validated(rendered.blocks)
    assert blocks[0]["text"]["text"].endswith("…") and len(blocks[0]["text"]["text"]) == 150
    assert len(blocks[1]["text"]["text"]) <= 3000 and blocks[1]["text"]["text"].endswith("…")
    assert len(rendered.text) <= kit.FALLBACK_TEXT
    # an entity is never cut in half
    for chunk in all_text(blocks).split("&")[1:]:
        assert chunk.startswith(("amp;", "lt;", "gt;"))


@pytest.mark.parametrize("buttons", [False, True])
def test_long_lists_stay_within_fifty_blocks_and_count_the_rest(buttons: bool) -> None:
    items = [action(number=n) for n in range(1, 80)]
    message = Message(
        text="many",
        blocks=[
            Heading(text="Lots"),
            ActionList(title="Mine", items=items, buttons=buttons),
            ActionList(title="Others", items=items, more=5),
        ],
    )
    blocks = validated(kit.to_blocks(message, today=TODAY))
    assert len(blocks) <= 50
    text = all_text(blocks)
    assert "more" in text
    # both lists got room: the second is not crowded out by the first
    assert text.count("· #1  ") == 2


def test_home_view_is_a_valid_view_with_up_to_100_blocks() -> None:
    items = [action(number=n) for n in range(1, 80)]
    message = Message(text="home", blocks=[ActionList(title="Mine", items=items, buttons=True)] * 3)
    view = kit.home_view(message, today=TODAY)
    assert view["type"] == "home"
    assert 50 < len(view["blocks"]) <= 100
    assert View(**view).to_dict() == view


def test_summary_counts_usage_and_help_render() -> None:
    counts = [Count(label=f"c{i}", value=i, delta=i - 6) for i in range(12)]
    message = Message(
        text="summary",
        blocks=[
            Counts(title="Plan <1>", items=counts),
            Usage(lines=["/action done <id> [note]"]),
            Usage(lines=["/a <b>", "/c"]),
        ],
    )
    blocks = validated(kit.to_blocks(message))
    assert [b["type"] for b in blocks] == ["section", "section", "context", "section"]
    assert "▲" in all_text(blocks) and "▼" in all_text(blocks)
    assert "`/action done &lt;id&gt; [note]`" in all_text(blocks)
    help_blocks = validated(kit.to_blocks(replies.help_message()))
    assert "/status overdue" in all_text(help_blocks)


def test_error_replies_are_marked() -> None:
    blocks = kit.to_blocks(replies.error("There is no action #99.", "/action list"))
    assert blocks[0]["text"]["text"].startswith(":x: ")


def test_rag_and_statuses_read_well() -> None:
    item = action(status=Status.BLOCKED, rag=Rag.AMBER, blocked_reason="waiting <data>")
    text = all_text(kit.to_blocks(Message(text="x", blocks=[ActionList(items=[item])])))
    assert "blocked: waiting &lt;data&gt;" in text and ":large_orange_circle: amber" in text


def test_command_text_undoes_slack_escaping_and_unwraps_emails() -> None:
    assert command_text("add Fix &lt;b&gt; &amp; c <@U1|amira> due friday") == (
        "add Fix <b> & c <@U1|amira> due friday"
    )
    assert command_text("assign 3 <mailto:a.b@x.org|a.b@x.org>") == "assign 3 a.b@x.org"
    assert command_text("  add <!channel> now ") == "add <!channel> now"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=4000), st.text(min_size=1, max_size=300))
def test_any_user_text_renders_valid_and_inert(title: str, name: str) -> None:
    message = replies.assigned_to_you(action(title=title or "t", owner=name), by=name)
    rendered = kit.render(message, today=TODAY)
    blocks = validated(rendered.blocks)
    for text in [all_text(blocks), rendered.text]:
        stripped = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
        assert "<" not in stripped and ">" not in stripped

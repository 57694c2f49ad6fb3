"""Stored user text is neutral: platform markup in (Slack, Teams) becomes references to people,
plain links and channel names; each platform draws it back its own way, and older rows holding
Slack's raw markup read as the words they showed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Platform, Status
from bot.render import inline, text
from bot.render.inline import Link, Mention, Words
from bot.render.model import ActionDetail, ActionView, HistoryView, Message, Paragraph, PersonView
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from handlers.slack.blocks import cut_escaped, fallback_text, said, to_blocks
from handlers.slack.slash_commands import command_text
from handlers.teams.activities import Incoming, _plain_text
from handlers.teams.cards import render_card
from storage.db import transaction
from storage.models import HistoryEntry, Identity, Person
from tests.test_teams_cards import validate

AMIRA = PersonView(id=7, name="Amira Khan", accounts={"slack": "UAMIRA", "teams": "29:amira"})
CONSOLE_ONLY = PersonView(id=8, name="Tom Price", accounts={"console": "tom"})
NOTE = "draft at https://x.example/plan.docx cc <@person:7|Amira Khan> in #board"


# --------------------------------------------------------------------------- the markup


def test_a_note_splits_into_words_mentions_and_links() -> None:
    assert inline.segments(NOTE) == [
        Words("draft at "),
        Link("https://x.example/plan.docx"),
        Words(" cc "),
        Mention(7, "Amira Khan"),
        Words(" in #board"),
    ]


def test_plain_text_names_the_person_as_they_are_now() -> None:
    assert inline.plain(NOTE) == "draft at https://x.example/plan.docx cc @Amira Khan in #board"
    renamed = {7: AMIRA.model_copy(update={"name": "Amira Khan-Lewis"})}
    assert inline.plain(NOTE, renamed).endswith("cc @Amira Khan-Lewis in #board")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("cc <@U1|amira> now", "cc @amira now"),
        ("cc <@U1>", "cc @U1"),
        ("in <#C0BOARD|board>", "in #board"),
        ("in <#C0BOARD>", "in #C0BOARD"),
        ("<!channel> look", "@channel look"),
        ("<!subteam^S1|@leads> and <!date^1700000000^{date}|1 Dec>", "@leads and 1 Dec"),
        ("at <https://x.example/a.docx>", "at https://x.example/a.docx"),
        ("at <https://x.example/a.docx|the plan>", "at the plan (https://x.example/a.docx)"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
        ("a <b> & <id> stay", "a <b> & <id> stay"),
    ],
)
def test_older_rows_with_slack_markup_read_as_the_words_slack_showed(
    stored: str, shown: str
) -> None:
    assert inline.plain(stored) == shown
    assert not any(isinstance(s, Mention) for s in inline.segments(stored))


def test_a_token_keeps_a_name_that_cannot_break_it() -> None:
    token = inline.person_token(42, "Amira <Khan> | x\nY")
    assert token == "<@person:42|Amira Khan x Y>"
    assert inline.segments(token) == [Mention(42, "Amira Khan x Y")]
    assert inline.person_ids([token, None, "no one"]) == {42}


@pytest.mark.parametrize(
    ("url", "label", "stored"),
    [
        ("https://x.example/p", None, "https://x.example/p"),
        ("https://x.example/p", "https://x.example/p", "https://x.example/p"),
        ("http://x.example", "x.example", "http://x.example"),
        ("https://x.example/p", "the plan", "the plan (https://x.example/p)"),
        ("mailto:a@b.org", "a@b.org", "a@b.org"),
    ],
)
def test_links_are_stored_as_their_address_and_label(
    url: str, label: str | None, stored: str
) -> None:
    assert inline.link_text(url, label) == stored


# --------------------------------------------------------------------------- Slack in


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        (
            "update 2 draft at <https://x.example/plan.docx> cc <@UAMIRA|amira> "
            "in <#C0BOARD|board>",
            "update 2 draft at https://x.example/plan.docx cc <@UAMIRA|amira> in #board",
        ),
        ("add Tell <!channel> and <!here>", "add Tell <!channel> and <!here>"),
        ("add <!subteam^S1|@leads> sync", "add <!subteam^S1|@leads> sync"),
        (
            "update 3 see <https://a.example/?x=1&amp;y=2|the plan>",
            "update 3 see the plan (https://a.example/?x=1&y=2)",
        ),
        ("assign 3 <mailto:a.b@x.org|a.b@x.org>", "assign 3 a.b@x.org"),
        (
            "add Fix &lt;b&gt; &amp; c <@U1|amira> due friday",
            "add Fix <b> & c <@U1|amira> due friday",
        ),
        ("update 4 in <#C1|>", "update 4 in #C1"),
    ],
)
def test_slack_markup_becomes_neutral_words_and_mentions_stay_for_the_core(
    sent: str, words: str
) -> None:
    assert command_text(sent) == words


# --------------------------------------------------------------------------- Slack out


def test_slack_draws_a_mention_of_someone_on_slack_as_a_real_mention() -> None:
    drawn = said(NOTE, {7: AMIRA})
    assert drawn == "draft at <https://x.example/plan.docx> cc <@UAMIRA> in #board"


def test_slack_draws_someone_not_on_slack_as_words_and_escapes_the_rest() -> None:
    note = "ask <@person:8|Tom Price> & <@person:9|Gone> about <!channel> & <b>"
    drawn = said(note, {8: CONSOLE_ONLY})
    assert drawn == "ask @Tom Price &amp; @Gone about @channel &amp; &lt;b&gt;"
    assert "<!" not in drawn and "<@" not in drawn


def test_slack_never_cuts_a_mention_or_a_link_in_half() -> None:
    drawn = said("x" * 20 + " <@person:7|Amira Khan>", {7: AMIRA})
    assert cut_escaped(drawn, 26) == "x" * 20 + "…"
    assert cut_escaped(said("see https://x.example/a", None), 12) == "see…"


def _view(title: str, *, mentions: list[PersonView], reason: str | None = None) -> ActionView:
    return ActionView(
        id=12,
        title=title,
        status=Status.BLOCKED if reason else Status.OPEN,
        blocked_reason=reason,
        mentions=mentions,
    )


def _detail_message(mentions: list[PersonView]) -> Message:
    action = _view("Share <@person:7|Amira Khan>'s draft", mentions=mentions, reason=NOTE)
    entry = HistoryView(
        at=dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC),
        actor="Sarah Chair",
        source="slack",
        change="note",
        note=NOTE,
        mentions=mentions,
    )
    summary = "Added your update to #12 Share <@person:7|Amira Khan>'s draft."
    return Message(
        text=summary,
        blocks=[Paragraph(text=summary), ActionDetail(action=action, history=[entry])],
    )


def test_slack_blocks_mention_in_the_action_and_name_in_the_summary() -> None:
    message = _detail_message([AMIRA])
    blocks = json.dumps(to_blocks(message))
    assert "*#12* Share <@UAMIRA>'s draft" in blocks
    assert "cc <@UAMIRA> in #board" in blocks  # the blocked reason and the history note
    assert "Added your update to #12 Share @Amira Khan's draft." in blocks  # notifies nobody
    assert "person:" not in blocks
    assert fallback_text(message) == "Added your update to #12 Share @Amira Khan's draft."


# --------------------------------------------------------------------------- Teams


def _card_text(card: dict[str, Any]) -> str:
    return json.dumps(card["body"])


def test_teams_card_draws_a_mention_entity_for_someone_on_teams() -> None:
    card = render_card(_detail_message([AMIRA]))
    validate(card)
    body = _card_text(card)
    assert "<at>Amira Khan</at>" in body
    assert "[https://x.example/plan.docx](https://x.example/plan.docx)" in body
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Amira Khan</at>",
            "mentioned": {"id": "29:amira", "name": "Amira Khan"},
        }
    ]
    assert "person:" not in body


def test_teams_card_names_someone_not_on_teams_and_typed_at_tags_stay_words() -> None:
    message = _detail_message([CONSOLE_ONLY])
    typed = "<at>Amira Khan</at> typed by hand"
    message = message.model_copy(update={"blocks": [*message.blocks, Paragraph(text=typed)]})
    card = render_card(message)
    validate(card)
    assert "entities" not in card["msteams"]
    body = _card_text(card)
    assert "@Amira Khan" in body and r"\\<at\\>Amira Khan\\</at\\> typed by hand" in body


def _incoming(text: str, entities: list[dict[str, Any]]) -> Incoming:
    incoming = Incoming.parse(
        {
            "type": "message",
            "serviceUrl": "http://127.0.0.1:1/",
            "conversation": {"id": "a:1"},
            "recipient": {"id": "28:bot"},
            "from": {"id": "29:chair"},
            "text": text,
            "entities": entities,
        }
    )
    assert incoming is not None
    return incoming


def test_teams_mentions_and_links_come_in_as_the_core_reads_them() -> None:
    mention = {
        "type": "mention",
        "text": "<at>Amira Khan</at>",
        "mentioned": {"id": "29:amira", "name": "Amira Khan"},
    }
    incoming = _incoming(
        '<p>update 2 cc <at>Amira Khan</at> on <a href="https://x.example/p?a=1&amp;b=2">the'
        ' <b>plan</b></a> and <a href="https://x.example/q">https://x.example/q</a> &lt;b&gt;</p>',
        [mention],
    )
    assert _plain_text(incoming) == (
        "update 2 cc <@29:amira|Amira Khan> on the plan (https://x.example/p?a=1&b=2) "
        "and https://x.example/q <b>"
    )


# --------------------------------------------------------------------------- the core


def test_console_shows_mentions_as_names(core: Core, chair: Caller) -> None:
    reply = run_command(core, chair, "/action", "add Audit case files")
    assert reply.message.tone == "success"
    reply = run_command(core, chair, "/action", "update 1 cc <@amira|Amira Khan> at <#C1|x>")
    shown = text.render(reply.message)
    with transaction(core.sessions) as session:
        amira = session.scalars(select(Person).where(Person.display_name == "Amira")).one()
        note = session.scalars(select(HistoryEntry.note).where(HistoryEntry.note.is_not(None)))
        assert list(note) == [f"cc <@person:{amira.id}|Amira> at <#C1|x>"]
    show = text.render(run_command(core, chair, "/action", "show 1").message)
    assert "cc @Amira at #x" in show, show
    assert shown.startswith("✓ Added your update to #1 Audit case files.")


def test_a_typed_token_or_an_unknown_mention_is_kept_as_words(core: Core) -> None:
    slack_chair = Caller(Platform.SLACK, "chair", display_name="Sarah Chair")  # a chair
    with transaction(core.sessions) as session:
        boss = Person(display_name="Board Boss", created_at=core.now())
        boss.identities.append(Identity(platform=Platform.SLACK, external_id="UBOSS"))
        session.add(boss)
    assert run_command(core, slack_chair, "/action", "add Audit").message.tone == "success"
    typed = "update 1 forged <@person:1|Board Boss>, unknown <@UNOBODY|nobody>, real <@UBOSS>"
    assert run_command(core, slack_chair, "/action", typed).message.tone == "success"
    with transaction(core.sessions) as session:
        boss_id = session.scalars(
            select(Person.id).where(Person.display_name == "Board Boss")
        ).one()
        [note] = session.scalars(select(HistoryEntry.note).where(HistoryEntry.note.is_not(None)))
    assert note == f"forged @Board Boss, unknown @nobody, real <@person:{boss_id}|Board Boss>"

"""Neutral stored text end to end: Slack's and Teams' markup typed over real HTTP is stored as
references to people, plain links and channel names; `/action show` draws a real mention (Slack)
or a mention entity (Teams) and the link; the history export, through the real CLI, reads as
words; older rows that hold Slack's raw markup are shown readable and never rewritten."""

# ruff: noqa: F811 - pytest fixtures imported by name

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from bot.domain import Change, Platform
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action, HistoryEntry, Identity, Person
from tests.support.teams_server import message
from tests.test_console import actionbot
from tests.test_slack_http import (  # noqa: F401 - fixtures
    AMIRA,
    SlackUser,
    action_row,
    add,
    base,
    bot,
    chair,
    history,
    slack,
    slack_core,
    slack_process,
)
from tests.test_teams_cards import validate
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, rig, seed  # noqa: F401 - fixtures

TYPED = "draft at <https://x.example/plan.docx> cc <@UAMIRA|amira> in <#C0BOARD|board>"


def person_id(core: Core, platform: Platform, external_id: str) -> int:
    with transaction(core.sessions) as session:
        found = session.scalars(
            select(Person.id)
            .join(Identity)
            .where(Identity.platform == platform, Identity.external_id == external_id)
        ).one()
        return int(found)


def exported_history(core: Core) -> list[dict[str, str]]:
    """`actionbot export --history`, run as a user runs it, read as CSV."""
    run = actionbot(core.settings.database_url, "export", "--history")
    assert run.returncode == 0, run.stderr
    return list(csv.DictReader(io.StringIO(run.stdout.lstrip("\ufeff"))))


def test_slack_markup_is_stored_neutral_shown_live_and_exported_readable(
    chair: SlackUser, slack_core: Core
) -> None:
    number = add(chair, "Publish the plan at <https://x.example/plan.docx> in <#C0BOARD|board>")
    answer = chair.reply(f"update {number} {TYPED}")
    assert answer["text"].startswith("Added your update"), answer["text"]

    # Stored neutral: the person by our id, the link as its address, the channel by name.
    amira_id = person_id(slack_core, Platform.SLACK, AMIRA)
    title = "Publish the plan at https://x.example/plan.docx in #board"
    assert action_row(slack_core, number).title == title
    note = f"draft at https://x.example/plan.docx cc <@person:{amira_id}|Amira Khan> in #board"
    assert [n for change, _, n, _ in history(slack_core, number) if change == Change.NOTE] == [note]

    # Shown on Slack: a real mention and real links; none of the raw markup typed.
    shown = json.dumps(chair.reply(f"show {number}")["blocks"])
    assert "cc <@UAMIRA> in #board" in shown
    assert "draft at <https://x.example/plan.docx>" in shown
    assert "Publish the plan at <https://x.example/plan.docx> in #board" in shown
    for raw in ("<@UAMIRA|amira>", "<#C0BOARD", "person:"):
        assert raw not in shown

    # The evidence reads as words.
    rows = exported_history(slack_core)
    [noted] = [r for r in rows if r["change"] == Change.NOTE]
    assert noted["note"] == "draft at https://x.example/plan.docx cc @Amira Khan in #board"
    assert {r["title"] for r in rows if r["action_id"] == str(number)} == {title}


def test_a_title_mentioning_someone_or_the_channel_never_notifies_the_channel(
    chair: SlackUser, slack_core: Core
) -> None:
    answer = chair.reply('add "Share <@UAMIRA|amira>\'s draft with <!channel>"')
    assert answer["text"].startswith("Added action #"), answer["text"]
    number = int(answer["text"].split("#", 1)[1].split()[0])
    amira_id = person_id(slack_core, Platform.SLACK, AMIRA)
    stored = f"Share <@person:{amira_id}|Amira Khan>'s draft with @channel"
    assert action_row(slack_core, number).title == stored
    shown = json.dumps(chair.reply(f"show {number}")["blocks"])
    assert "Share <@UAMIRA>'s draft with @channel" in shown
    assert "<!channel>" not in shown and "<!" not in json.dumps(answer)
    [created] = [r for r in exported_history(slack_core) if r["change"] == Change.CREATED]
    assert created["new_value"] == created["title"] == "Share @Amira Khan's draft with @channel"


def test_older_rows_with_raw_slack_markup_are_shown_readable_and_kept(
    chair: SlackUser, slack_core: Core
) -> None:
    number = add(chair, "Audit case files")
    raw_title = "Ask <!channel> about <#C0BOARD|board>"
    raw_note = "waiting on <@UBEN|ben>, see <https://x.example/a|the audit>"
    with transaction(slack_core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        action.title = raw_title
        session.add(
            HistoryEntry(
                action=action, at=slack_core.now(), source="slack", change="note", note=raw_note
            )
        )
    shown = json.dumps(chair.reply(f"show {number}")["blocks"])
    assert "Ask @channel about #board" in shown
    assert "waiting on @ben, see the audit (<https://x.example/a>)" in shown
    assert "<@UBEN" not in shown and "<!channel>" not in shown
    [noted] = [r for r in exported_history(slack_core) if r["change"] == "note"]
    assert noted["note"] == "waiting on @ben, see the audit (https://x.example/a)"
    assert noted["title"] == "Ask @channel about #board"
    # Displayed readable, stored as it was: history is append-only.
    assert action_row(slack_core, number).title == raw_title
    assert [n for change, _, n, _ in history(slack_core, number) if n] == [raw_note]


def test_a_teams_mention_is_stored_neutral_and_drawn_back_as_a_mention_entity(rig: Rig) -> None:
    [number] = seed(rig.core, ("Audit case files", "amira@council.example", 5))
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.connector.members["29:amira"] = {"name": "Amira Khan", "email": "amira@council.example"}
    mention = {
        "type": "mention",
        "text": "<at>Amira Khan</at>",
        "mentioned": {"id": "29:amira", "name": "Amira Khan"},
    }
    typed = (
        f'update {number} draft at <a href="https://x.example/plan.docx">'
        "https://x.example/plan.docx</a> cc <at>Amira Khan</at> in #board"
    )
    activity = message(rig.connector.url, "29:chair", typed, name="Chair", entities=[mention])
    assert rig.post(activity).status_code == 200
    [updated] = rig.connector.replies()
    assert "Added your update" in updated.card_text

    amira_id = person_id(rig.core, Platform.TEAMS, "29:amira")
    with transaction(rig.core.sessions) as session:
        amira_name = session.get(Person, amira_id).display_name  # type: ignore[union-attr]
        notes = session.scalars(
            select(HistoryEntry.note).where(HistoryEntry.change == Change.NOTE)
        ).all()
    assert notes == [
        f"draft at https://x.example/plan.docx cc <@person:{amira_id}|{amira_name}> in #board"
    ]

    rig.connector.posts.clear()
    assert rig.post(message(rig.connector.url, "29:chair", f"show {number}")).status_code == 200
    [shown] = rig.connector.replies()
    validate(shown.card)
    body = json.dumps(shown.card["body"])
    assert f"cc <at>{amira_name}</at> in #board" in body
    assert "[https://x.example/plan.docx](https://x.example/plan.docx)" in body
    assert shown.card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": f"<at>{amira_name}</at>",
            "mentioned": {"id": "29:amira", "name": amira_name},
        }
    ]

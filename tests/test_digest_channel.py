"""The digest preview names the board channel as the platform shows a channel (a real link in
Slack, its name in Teams, `#id` in the console) and says when the real one goes out; the
channel reference is the bot's own and typed text can never make one."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Rag
from bot.render import inline
from bot.render.model import Message, Paragraph
from bot.services.context import Core
from bot.services.digest import next_words
from scheduler.jobs import run_digest
from storage.db import transaction
from storage.models import Action, Identity, Person
from tests import test_slack_http as http
from tests import test_teams_e2e as e2e
from tests.support.fake_slack import FakeSlack
from tests.support.teams_server import installed, message
from tests.test_slack_blocks import all_text
from tests.test_slack_http import SlackUser, add, dm
from tests.test_teams_e2e import BOARD as TEAMS_BOARD
from tests.test_teams_e2e import CHAIR_EMAIL, Rig, seed

slack, slack_process, slack_core, bot, base = (
    http.slack,
    http.slack_process,
    http.slack_core,
    http.bot,
    http.base,
)
chair = http.chair
rig = e2e.rig

LONDON = Settings(_env_file=None).tz  # type: ignore[call-arg]


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def test_slack_preview_links_the_board_channel_and_says_when_it_goes(chair: SlackUser) -> None:
    answer = chair.reply("digest", "/status")
    [note] = [t for t in sections(answer["blocks"]) if t.startswith("Preview")]
    assert f"the digest goes to <#{http.BOARD}> " in note  # a real channel link
    assert "; /status digest post posts it now." in note

    chair.reply("digest post", "/status")
    later = chair.reply("digest", "/status")
    [note] = [t for t in sections(later["blocks"]) if t.startswith("Preview")]
    assert f"this week's digest was posted to <#{http.BOARD}> " in note
    assert "the next goes out on Mon 30 Nov at 09:00." in note


def test_a_channel_token_typed_in_slack_is_only_words(chair: SlackUser, slack: FakeSlack) -> None:
    # Slack sends `<` and `>` typed by a person escaped; the adapter reads them back.
    number = add(chair, "Brief &lt;#channel:C0OTHER&gt; about the audit")
    shown = chair.reply(f"show {number}")
    text = all_text(shown["blocks"])
    assert "Brief #C0OTHER about the audit" in text
    assert "<#C0OTHER>" not in str(shown["blocks"])


def preview_card_text(rig: Rig) -> str:
    rig.connector.members["29:chair"] = {"name": "Chair", "email": CHAIR_EMAIL}
    rig.post(message(rig.connector.url, "29:chair", "status digest"))
    return rig.connector.replies()[-1].card_text


def test_teams_preview_names_the_board_channel_by_its_name(rig: Rig) -> None:
    # The bot is added to the board's channel; Teams gives the channel's name.
    update = installed(rig.connector.url, "29:admin")
    update["conversation"] = {
        "id": TEAMS_BOARD,
        "conversationType": "channel",
        "tenantId": "tenant-1",
    }
    update["channelData"] = {
        "channel": {"id": TEAMS_BOARD, "name": "Improvement Board"},
        "tenant": {"id": "tenant-1"},
    }
    assert rig.post(update).status_code == 200
    text = preview_card_text(rig)
    assert "the digest goes to #Improvement Board " in text
    assert TEAMS_BOARD not in text


def test_teams_preview_shows_the_id_of_a_channel_never_seen_by_name(rig: Rig) -> None:
    text = preview_card_text(rig)
    assert f"the digest goes to #{TEAMS_BOARD} " in text


def test_console_preview_shows_the_channel_id(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHAIR_USER_IDS": "",
        "BOARD_CHANNEL": "C0BOARD",
    }
    env.pop("SLACK_BOT_TOKEN", None)
    run = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--demo"],
        input="/status digest\n",
        text=True,
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    [note] = [line for line in run.stdout.splitlines() if line.startswith("Preview")]
    assert note.startswith("Preview, only you can see it: the digest goes to #C0BOARD ")
    assert "<#" not in run.stdout


def test_next_digest_time_follows_digest_schedule() -> None:
    settings = Settings(_env_file=None, digest_schedule="wed 16:30")  # type: ignore[call-arg]
    monday = dt.date(2026, 11, 23)

    def at(day: dt.date, hour: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)

    assert next_words(settings, at(monday, 9), sent=False, today=monday) == (
        "on Wed 25 Nov at 16:30"
    )
    assert next_words(settings, at(monday, 9), sent=True, today=monday) == ("on Wed 2 Dec at 16:30")
    thursday = monday + dt.timedelta(days=3)
    assert next_words(settings, at(thursday, 9), sent=True, today=thursday) == (
        "on Wed 2 Dec at 16:30"
    )
    assert "next run" in next_words(settings, at(thursday, 9), sent=False, today=thursday)


def test_the_channel_token_is_drawn_per_renderer_and_never_nests() -> None:
    token = inline.channel_token("C0BOARD")
    assert token == "<#channel:C0BOARD>"
    assert inline.plain(f"to {token}.") == "to #C0BOARD."
    assert inline.segments(token) == [inline.Channel("C0BOARD")]
    named = inline.with_channel_names(
        Message(text="x", blocks=[Paragraph(text=f"to {token}")]), {"C0BOARD": "Board"}
    )
    assert inline.plain(named.blocks[0].text) == "to #Board"  # type: ignore[union-attr]


def rate(core: Core, number: int, *, ref: str, rag: Rag) -> None:
    """Give an action the plan's reference and a RAG, as an import does."""
    with transaction(core.sessions) as session:
        row = session.get(Action, number)
        assert row is not None
        row.ref, row.rag = ref, rag


def test_slack_digest_leads_with_what_needs_attention(
    chair: SlackUser, slack: FakeSlack, slack_core: Core, clock: FixedClock
) -> None:
    late = add(chair, f"Audit the front door <@{http.AMIRA}> due 2026-11-25")
    rate(slack_core, late, ref="CIN-01", rag=Rag.RED)
    add(chair, f"Train managers <@{http.BEN}> due 2026-12-30")
    clock.advance(dt.timedelta(days=14))  # Monday 7 December: the audit is 12 days late
    chair.reply("digest post", "/status")
    digest = dm(slack, http.BOARD)  # posted to the board channel after the ack
    # The notification leads with what needs attention.
    assert digest.text == (
        "1 overdue (1 red), 0 blocked, 0 due this week, 0 done · weekly digest, week of Mon 7 Dec"
    )
    blocks = digest.blocks or []
    assert blocks[0]["text"]["text"] == "Weekly digest, week of Mon 7 Dec"
    assert sections(blocks)[:3] == [
        ":red_circle: *1* overdue (1 red)  ·  *0* blocked  ·  *0* due this week  ·  *0* done",
        "*Overdue, most late first (1)*",
        # state and lateness, the plan's reference and our number, the title, the owner
        # mentioned (a channel message: Slack notifies them), the deadline and the RAG.
        f":red_circle: *12 days late* · `CIN-01` · #{late}  Audit the front door\n"
        f"<@{http.AMIRA}> · due Wed 25 Nov · RAG :red_circle: red",
    ]
    assert "Nothing was completed in the last 7 days." in sections(blocks)


def test_teams_digest_card_leads_with_what_needs_attention(rig: Rig) -> None:
    [late, _] = seed(
        rig.core,
        ("Audit case files", "amira@council.example", -2),
        ("Train managers", "ben@council.example", 20),
    )
    rate(rig.core, late, ref="CIN-01", rag=Rag.RED)
    with transaction(rig.core.sessions) as session:
        amira = session.scalars(select(Person).where(Person.email == "amira@council.example"))
        session.add(Identity(person=amira.one(), platform=Platform.TEAMS, external_id="29:amira"))
    update = installed(rig.connector.url, "29:admin")
    update["conversation"] = {
        "id": TEAMS_BOARD,
        "conversationType": "channel",
        "tenantId": "tenant-1",
    }
    update["channelData"] = {"channel": {"id": TEAMS_BOARD}, "tenant": {"id": "tenant-1"}}
    assert rig.post(update).status_code == 200
    assert len(run_digest(rig.core, rig.senders).delivery.sent) == 1
    [post] = rig.connector.proactive()
    assert post.activity["summary"].startswith(
        "1 overdue (1 red), 0 blocked, 0 due this week, 0 done · weekly digest"
    )
    body = post.card["body"]
    assert body[0]["text"].startswith("Weekly digest, week of ")
    assert (
        body[1]["text"]
        == "🔴 **1** overdue (1 red)  ·  **0** blocked  ·  **0** due this week  ·  **0** done"
    )
    assert body[2]["text"] == "Overdue, most late first (1)"
    head, title, facts = body[3]["items"]
    # State and lateness in red, the reference that never splits across lines, our number.
    assert (head["text"], head["color"]) == (
        f"🔴 **2 days late** · CIN\u201101\u00a0·\u00a0#{late}",
        "Attention",
    )
    assert (title["text"], title["weight"]) == ("Audit case files", "Bolder")
    assert facts["text"].startswith("<at>Amira</at> · due ")
    assert facts["text"].endswith(" · RAG 🔴 red")
    assert post.card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Amira</at>",
            "mentioned": {"id": "29:amira", "name": "Amira"},
        }
    ]

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

from bot.config import Settings
from bot.render import inline
from bot.render.model import Message, Paragraph
from bot.services.digest import next_words
from tests import test_slack_http as http
from tests import test_teams_e2e as e2e
from tests.support.fake_slack import FakeSlack
from tests.support.teams_server import installed, message
from tests.test_slack_blocks import all_text
from tests.test_slack_http import SlackUser, add
from tests.test_teams_e2e import BOARD as TEAMS_BOARD
from tests.test_teams_e2e import CHAIR_EMAIL, Rig

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

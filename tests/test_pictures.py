"""The README's pictures: made from the bot's real messages, phone-wide, and showing them.

The script (docs/pictures/make.py) is run into a temporary folder, never over the committed
PNGs; the screenshots are read back and checked for their width, for content, and for the
colours that prove the messages were drawn (the red of an overdue marker, Slack's green
button). Skipped, saying how to install them, without Chromium or the card renderer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from bot.domain import Status
from bot.render.model import ActionList, ActionView, Heading, Message, PersonView
from docs.pictures import blockkit, make, scenario, teams
from handlers.teams.cards import render_card
from tests.support.browser import PHONE_WIDTH, Browser, BrowserError, require_chromium


def require_renderer() -> None:
    require_chromium()
    problem = teams.missing()
    if problem:
        pytest.skip(f"no Adaptive Card renderer: {problem}")


def count(image: Image.Image, wanted: tuple[int, int, int], *, within: int = 40) -> int:
    """How many pixels are within `within` of the colour `wanted` on each channel."""
    rgb = image.convert("RGB")
    colours = cast(list[tuple[int, tuple[int, int, int]]], rgb.getcolors(rgb.width * rgb.height))
    return sum(
        n
        for n, colour in colours
        if all(abs(c - w) <= within for c, w in zip(colour, wanted, strict=True))
    )


def ink(image: Image.Image) -> float:
    """The share of pixels dark enough to be text."""
    grey = image.convert("L")
    levels = cast(list[tuple[int, int]], grey.getcolors(256))
    dark = sum(n for n, level in levels if level < 110)
    return dark / (grey.width * grey.height)


RED_MARKER = (221, 46, 68)  # the 🔴 of Noto Color Emoji, Slack's :red_circle:
SLACK_GREEN = (0, 122, 90)  # Slack's primary button


def test_the_script_makes_phone_wide_pictures_of_the_real_messages(tmp_path: Path) -> None:
    require_renderer()
    made = make.make(tmp_path / "out", keep_html=tmp_path / "html")
    names = sorted(p.name for p in made)
    assert names == ["digest-slack.png", "digest-teams.png", "home-slack.png", "reminder-slack.png"]
    images = {p.name: Image.open(p) for p in made}
    for name, image in images.items():
        assert image.width == PHONE_WIDTH * make.SCALE, name
        assert image.height > 300 * make.SCALE, name  # a message, not just the top bar
        assert ink(image) > 0.01, f"{name} shows no text"
    # Overdue actions carry the red marker in the digest and on the chair's home tab.
    assert count(images["digest-slack.png"], RED_MARKER) > 200
    assert count(images["home-slack.png"], RED_MARKER) > 200
    # The reminder ends with the owner's buttons, Mark done in Slack's green.
    assert count(images["reminder-slack.png"], SLACK_GREEN, within=12) > 2000
    # The committed pictures were not touched.
    assert all(p.parent == tmp_path / "out" for p in made)
    # Microsoft's renderer drew the digest's card: its heading is in the page.
    with Browser() as browser:
        page = browser.open(tmp_path / "html" / "digest-teams.html")
        page.wait_for("window.cardDrawn === true")
        assert page.errors == []
        shown = page.evaluate("document.getElementById('card').innerText")
    assert "Weekly digest" in shown and "\\" not in shown


def test_the_scenario_takes_its_messages_from_the_bot() -> None:
    played = scenario.run()
    assert played.digest.channel == scenario.SLACK_CHANNEL and played.digest.blocks
    assert played.reminder.channel == scenario.slack_id(scenario.REMINDED)
    assert "Health visitor information" in json.dumps(played.reminder.blocks)
    assert played.home["type"] == "home" and played.home["blocks"]
    [attachment] = played.teams_digest["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert played.users[scenario.slack_id("grace")] == "Grace Lee"


def test_a_card_shows_markdown_characters_without_backslashes(tmp_path: Path) -> None:
    """What Teams' renderer shows of a title full of markdown: the title as typed."""
    require_renderer()
    title = "1. Re-audit *CP* plans_v2 [x]"
    item = ActionView(
        id=7, title=title, owner=PersonView(id=1, name="Amira Khan"), status=Status.OPEN
    )
    message = Message(
        text=title, blocks=[Heading(text=title), ActionList(items=[item], buttons=True)]
    )
    source = tmp_path / "card.html"
    source.write_text(teams.page(render_card(message), title="test"), encoding="utf-8")
    with Browser() as browser:
        page = browser.open(source)
        page.wait_for("window.cardDrawn === true")
        shown = page.evaluate("document.getElementById('card').innerText")
        buttons = page.evaluate(
            "[...document.querySelectorAll('#card button')].map((b) => b.innerText)"
        )
    assert "\\" not in shown
    assert shown.count("Re-audit *CP* plans_v2 [x]") == 2  # the heading and the item
    assert shown.lstrip().startswith(title)  # `1.` stays a number, not a list
    assert buttons[:3] == ["Mark done", "Add update", "Blocked"]


NAMES = blockkit.Names({"U0GRACE": "Grace Lee"}, {"C0BOARD": "improvement-board"})


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* and _italic_ and ~gone~", "<b>bold</b> and <i>italic</i> and <s>gone</s>"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("<@U0GRACE> please", '<span class="mention">@Grace Lee</span> please'),
        ("in <#C0BOARD>", 'in <span class="channel">#improvement-board</span>'),
        (
            "<https://x.example/a?b=1&amp;c=2|the plan>",
            '<a href="https://x.example/a?b=1&amp;c=2">the plan</a>',
        ),
        ("&lt;script&gt; &amp; co", "&lt;script&gt; &amp; co"),
        (":red_circle: red", '<span class="emoji">🔴</span> red'),
        ("`/action done &lt;id&gt;`", "<code>/action done &lt;id&gt;</code>"),
        ("*#7* title\nsecond line", "<b>#7</b> title<br>second line"),
    ],
)
def test_mrkdwn_is_drawn_as_slack_draws_it(text: str, html: str) -> None:
    assert blockkit.mrkdwn(text, NAMES) == html


def test_a_block_the_renderer_does_not_know_is_shown_as_such() -> None:
    drawn = blockkit.blocks(
        [{"type": "video", "title": {"type": "plain_text", "text": "x"}}], NAMES
    )
    assert "block video: not drawn by this renderer" in drawn


def test_the_browser_helper_measures_shoots_and_runs_scripts(tmp_path: Path) -> None:
    require_chromium()
    source = tmp_path / "page.html"
    source.write_text(
        '<body style="margin:0"><div style="height:1200px;background:#ff0000"></div></body>',
        encoding="utf-8",
    )
    library = tmp_path / "library.js"
    library.write_text("window.library = { answer: () => ({ found: [1, 2], ok: true }) };")
    with Browser() as browser:
        page = browser.open(source, width=PHONE_WIDTH)
        page.add_script(library)
        assert page.evaluate("library.answer()") == {"found": [1, 2], "ok": True}
        assert page.evaluate("new Promise((done) => setTimeout(() => done(42), 10))") == 42
        with pytest.raises(BrowserError, match="script failed"):
            page.evaluate("no_such_name.x")
        with pytest.raises(BrowserError, match="timed out"):
            page.wait_for("false", timeout=0.2)
        shot = page.screenshot(tmp_path / "page.png")
    with Image.open(shot) as image:
        # The whole page, not the first screen: 1200 CSS pixels tall, all red.
        assert image.size == (PHONE_WIDTH, 1200)
        assert count(image, (255, 0, 0), within=0) == PHONE_WIDTH * 1200

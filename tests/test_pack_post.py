"""Posting the board pack: `/board pack` answers privately with the link, `/board pack post`
queues the post through the outbox, Slack gets the PDF and the workbook through its upload API
(the fake Slack over real HTTP: upload URL, the bytes, completion in the channel), Teams a card
with the link and the figures; and who may do which."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.domain import Platform, Role
from bot.pack.build import build_pack
from bot.pack.post import queue_pack_post
from bot.render.model import Image, Message
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from handlers.slack.client import build_web_client
from handlers.slack.sender import SlackSender
from handlers.teams.cards import render_card
from storage.db import transaction
from storage.models import BoardPack, Meeting, OutboxMessage, OutboxStatus
from tests.pack_seed import seed_plan
from tests.scheduler_fakes import person
from tests.support.fake_slack import FakeSlack
from wiring.pack import board_pack

BOARD = "C0BOARD"


@pytest.fixture
def pack_core(core: Core) -> Core:
    core.settings = core.settings.model_copy(
        update={"public_url": "https://actionbot.example.org", "board_channel": BOARD}
    )
    return core


def role(core: Core, name: str, given: Role) -> Caller:
    person_id = person(core, name)
    with transaction(core.sessions) as session:
        put_role(session, core.board.id, person_id, given)
    return Caller(Platform.CONSOLE, name.lower(), display_name=name)


def text(core: Core, caller: Caller, words: str) -> str:
    outcome = run_command(core, caller, "/board", words)
    return render(outcome.message, today=core.today(), tz=core.settings.tz)


def test_board_pack_answers_privately_with_the_link(pack_core: Core, chair: Caller) -> None:
    seed_plan(pack_core, actions=6, meetings=2)
    outcome = run_command(pack_core, chair, "/board", "pack")
    assert outcome.message.ephemeral and outcome.outbox_ids == []
    shown = render(outcome.message, today=pack_core.today(), tz=pack_core.settings.tz)
    assert "Board pack for Board meeting, January" in shown
    assert "https://actionbot.example.org/packs/" in shown
    assert "the link expires 23 Dec 2026" in shown
    with transaction(pack_core.sessions) as session:
        [pack] = session.scalars(select(BoardPack)).all()
        assert pack.created_by_id is not None
        assert session.scalars(select(OutboxMessage)).all() == []


def test_who_may_build_and_post_the_pack(pack_core: Core, chair: Caller) -> None:
    seed_plan(pack_core, actions=6, meetings=1)
    member = role(pack_core, "Mo", Role.MEMBER)
    observer = role(pack_core, "Olu", Role.OBSERVER)
    secretary = role(pack_core, "Sarah", Role.SECRETARY)
    assert "Board pack for" in text(pack_core, member, "pack")
    assert "cannot build the board pack" in text(pack_core, observer, "pack")
    assert "post the board pack" in text(pack_core, member, "pack post")
    assert "Posted to the board channel" in text(pack_core, secretary, "pack post")
    assert "is not a meeting number" in text(pack_core, chair, "pack post soon")
    assert "There is no meeting 99" in text(pack_core, chair, "pack 99")


def test_a_missing_public_url_is_named(core: Core, chair: Caller) -> None:
    seed_plan(core, actions=6, meetings=0)
    assert "PUBLIC_URL" in text(core, chair, "pack")


def test_the_pack_is_uploaded_to_slack_with_the_current_upload_api(
    pack_core: Core, chair: Caller
) -> None:
    seed_plan(pack_core, actions=6, meetings=2)
    with FakeSlack() as slack:
        sender = SlackSender(build_web_client("xoxb-test", base_url=slack.api_url), pack_core)
        outcome = run_command(pack_core, chair, "/board", "pack post")
        [outbox_id] = outcome.outbox_ids
        from bot.outbox.delivery import deliver_queued

        report = deliver_queued(pack_core, [sender], outcome.outbox_ids)
        assert report.sent == [outbox_id], report
        asked = slack.calls("files.getUploadURLExternal")
        assert [c.params["filename"] for c in asked] == ["pack.pdf", "pack.xlsx"]
        assert all(c.ok for c in slack.calls("upload"))
        [complete] = slack.calls("files.completeUploadExternal")
        assert complete.params["channel_id"] == BOARD
        uploads = slack.uploads(BOARD)
        assert [u["name"] for u in uploads] == ["pack.pdf", "pack.xlsx"]
        comment = uploads[0]["initial_comment"]
        assert comment.startswith("*Board pack: Board meeting, January, Thursday 3 December")
        assert "Open *4* · Complete *1* · Delivered, awaiting sign-off *1* · Overdue *1*" in comment
        assert "Open the pack: https://actionbot.example.org/packs/" in comment
        reader = PdfReader(io.BytesIO(uploads[0]["content"]))
        assert "Exceptions" in " ".join(p.extract_text() for p in reader.pages)
        assert uploads[1]["content"].startswith(b"PK")
        assert slack.calls("chat.postMessage") == []
        with transaction(pack_core.sessions) as session:
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None and row.status is OutboxStatus.SENT


def test_the_fake_refuses_what_slack_refuses(pack_core: Core) -> None:
    upcoming = seed_plan(pack_core, actions=6, meetings=1)
    with FakeSlack() as slack:
        client = build_web_client("xoxb-test", base_url=slack.api_url)
        sender = SlackSender(client, pack_core)
        with transaction(pack_core.sessions) as session:
            meeting = session.get(Meeting, upcoming.id)
            assert meeting is not None
            built = build_pack(session, pack_core, meeting, pack_core.now())
            [outbox_id] = [queue_pack_post(session, built, pack_core.now())]
            # Queued once per pack, however often asked.
            assert queue_pack_post(session, built, pack_core.now()) is None
        slack.leave_channel(BOARD)
        from bot.outbox.delivery import deliver_queued

        assert outbox_id is not None
        report = deliver_queued(pack_core, [sender], [outbox_id])
        assert report.sent == []
        with transaction(pack_core.sessions) as session:
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None and row.status is OutboxStatus.FAILED
            assert "not_in_channel" in (row.last_error or "")
        # An unknown file, or one whose bytes never came, is refused at completion.
        from slack_sdk.errors import SlackApiError

        with pytest.raises(SlackApiError, match="file_not_found"):
            client.files_completeUploadExternal(files=[{"id": "F0NOPE"}], channel_id="C0OTHER")
        asked = client.files_getUploadURLExternal(filename="a.txt", length=5)
        with pytest.raises(SlackApiError, match="file_not_found"):
            client.files_completeUploadExternal(
                files=[{"id": asked["file_id"]}], channel_id="C0OTHER"
            )
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError, match="400"):
            urllib.request.urlopen(
                urllib.request.Request(asked["upload_url"], data=b"too long", method="POST")
            )


def test_teams_gets_a_card_with_the_link_and_the_figures(pack_core: Core) -> None:
    upcoming = seed_plan(pack_core, actions=6, meetings=1)
    with transaction(pack_core.sessions) as session:
        meeting = session.get(Meeting, upcoming.id)
        assert meeting is not None
        built = build_pack(session, pack_core, meeting, pack_core.now())
        outbox_id = queue_pack_post(session, built, pack_core.now())
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        from bot.render.model import Message

        message = Message.model_validate(row.payload)
    card = render_card(message, today=pack_core.today(), tz=pack_core.settings.tz)
    import json

    dumped = json.dumps(card)
    # The link survives the card's markdown escaping whole.
    assert built.url in dumped and len(built.token) == 64
    assert "Board pack: Board meeting, January" in dumped
    assert "Delivered, awaiting sign-off" in dumped
    assert "exceptions to read first" in dumped


def test_the_command_line_writes_the_three_files(pack_core: Core, tmp_path: Path) -> None:
    seed_plan(pack_core, actions=6, meetings=2)
    out, err = io.StringIO(), io.StringIO()
    folder = tmp_path / "pack"
    assert board_pack(pack_core, meeting_id=None, out_dir=folder, out=out, err=err) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["pack.html", "pack.pdf", "pack.xlsx"]
    page = (folder / "pack.html").read_text(encoding="utf-8")
    assert 'href="pack.pdf"' in page and "<PACK/>" not in page
    assert "Link: https://actionbot.example.org/packs/" in out.getvalue()
    assert board_pack(pack_core, meeting_id=42, out_dir=folder, out=out, err=err) == 1
    assert "There is no meeting 42." in err.getvalue()


def test_the_digest_shows_the_trend_chart_of_the_last_posted_pack(
    pack_core: Core, chair: Caller, clock: FixedClock
) -> None:
    import datetime as dt
    import json

    import httpx

    from bot.services.digest import build_digest
    from handlers.slack.blocks import render as slack_render
    from handlers.web import create_web_app
    from tests.support.teams_server import running

    seed_plan(pack_core, actions=6, meetings=3)

    def digest() -> Message:
        with transaction(pack_core.sessions) as session:
            return build_digest(
                session,
                settings=pack_core.settings,
                now=pack_core.now(),
                channel=BOARD,
                board_id=pack_core.board.id,
            ).message

    # No pack posted yet: no chart.
    assert not any(isinstance(b, Image) for b in digest().blocks)
    run_command(pack_core, chair, "/board", "pack")  # a private pack is not the channel's
    assert not any(isinstance(b, Image) for b in digest().blocks)
    [outbox_id] = run_command(pack_core, chair, "/board", "pack post").outbox_ids
    message = digest()
    [chart] = [b for b in message.blocks if isinstance(b, Image)]
    assert chart.url.startswith("https://actionbot.example.org/packs/")
    assert chart.url.endswith("/trend.png")
    assert chart.alt.startswith("BRAG at each of the last 3 board meetings, oldest first: ")
    # Slack: an image block the fake Slack (slack_sdk's models) accepts.
    rendered = slack_render(message, today=pack_core.today(), tz=pack_core.settings.tz)
    [image] = [b for b in rendered.blocks if b["type"] == "image"]
    assert image["image_url"] == chart.url and image["alt_text"] == chart.alt
    with FakeSlack() as slack:
        client = build_web_client("xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel=BOARD, text=rendered.text, blocks=rendered.blocks)
        assert slack.messages_to(BOARD)[0].ok
    # Teams: an Image with its text alternative.
    card = json.dumps(render_card(message, today=pack_core.today(), tz=pack_core.settings.tz))
    assert '"type": "Image"' in card and chart.url in card
    # The console: the figures in words.
    assert chart.alt in render(message, today=pack_core.today(), tz=pack_core.settings.tz)
    # The chart is served under the pack's link, a PNG.
    path = chart.url.removeprefix("https://actionbot.example.org")
    with running(create_web_app(pack_core)) as base, httpx.Client(base_url=base) as http:
        served = http.get(path)
        assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    assert outbox_id
    # Once the link expires, the digest leaves the chart out.
    clock.set(pack_core.now() + dt.timedelta(days=31))
    assert not any(isinstance(b, Image) for b in digest().blocks)

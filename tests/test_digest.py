"""The weekly digest: its content, its trend, its size limit, the schedule and /status digest."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Rag, Status
from bot.outbox.delivery import deliver
from bot.render.model import ActionList, Count, Counts, Heading, Message, Paragraph
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.digest import DIGEST_LIST_LIMIT, build_digest, digest_key, iso_week
from bot.services.dispatch import run_command
from scheduler.jobs import run_digest
from scheduler.weekly_digest import queue_weekly_digest, scheduled_at
from storage.db import transaction
from storage.models import Action, OutboxStatus
from tests.scheduler_fakes import FakeSender, action, bulk_actions, outbox, permanent, person

LONDON = ZoneInfo("Europe/London")
BOARD = "C0BOARD01"
MONDAY = dt.date(2026, 11, 23)


@pytest.fixture
def board(core: Core) -> Core:
    core.settings = Settings(
        _env_file=None,
        database_url=core.settings.database_url,
        chair_user_ids=("chair",),
        board_channel=BOARD,
    )
    return core


def london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def build(core: Core, **kwargs: object) -> Message:
    with core.sessions() as session:
        return build_digest(
            session,
            settings=core.settings,
            now=core.now(),
            channel=core.settings.board_channel,
            board_id=core.board.id,
            **kwargs,  # type: ignore[arg-type]
        ).message


def lists(message: Message) -> dict[str, ActionList]:
    return {
        (block.title or "").split(" (")[0]: block
        for block in message.blocks
        if isinstance(block, ActionList)
    }


def figures(message: Message, index: int = 0) -> dict[str, tuple[int, int | None]]:
    counts = [block for block in message.blocks if isinstance(block, Counts)][index]
    return {c.label: (c.value, c.delta) for c in counts.items}


def seed_plan(core: Core) -> None:
    day = dt.timedelta(days=1)
    action(core, "Signed off", owner="amira", due=MONDAY, status=Status.DONE,
           done_at=london(MONDAY - 3 * day, 15))  # fmt: skip
    action(core, "Long done", owner="amira", due=MONDAY, status=Status.DONE,
           done_at=london(MONDAY - 20 * day, 15))  # fmt: skip
    action(core, "Due today", owner="ben", due=MONDAY, rag=Rag.AMBER)
    action(core, "Due Friday", owner="amira", due=MONDAY + 4 * day)
    action(core, "Due next Monday", owner="ben", due=MONDAY + 7 * day)
    action(core, "Due later", owner="ben", due=MONDAY + 8 * day)
    action(core, "A little late", owner="ben", due=MONDAY - 3 * day, rag=Rag.RED)
    action(core, "Very late", owner="amira", due=MONDAY - 13 * day, rag=Rag.RED)
    action(core, "Stuck", owner="cy", due=MONDAY + 30 * day, status=Status.BLOCKED,
           blocked_reason="police data-sharing agreement not signed")  # fmt: skip


def headline(message: Message) -> dict[str, Count]:
    """The headline figures: the first line of figures, after the heading (and a preview's
    note)."""
    first = next(b for b in message.blocks if isinstance(b, Counts) and b.line)
    return {c.label: c for c in first.items}


def with_ref(core: Core, number: int, ref: str) -> None:
    """Give an action the plan's reference, as an import does."""
    with transaction(core.sessions) as session:
        row = session.get(Action, number)
        assert row is not None
        row.ref = ref


def test_digest_leads_with_what_needs_attention(board: Core) -> None:
    seed_plan(board)
    message = build(board)
    assert not message.ephemeral
    heading = message.blocks[0]
    assert isinstance(heading, Heading) and heading.text == "Weekly digest, week of Mon 23 Nov"
    # The notification leads with what needs attention.
    assert message.text == (
        "2 overdue (2 red), 1 blocked, 3 due this week, 1 done · weekly digest, week of Mon 23 Nov"
    )
    # Then one headline line, then overdue, blocked and due; done is one line.
    assert isinstance(message.blocks[1], Counts) and message.blocks[1].line
    assert [(c.label, c.value, c.note, c.tone) for c in message.blocks[1].items] == [
        ("overdue", 2, "2 red", "attention"),
        ("blocked", 1, None, "warning"),
        ("due this week", 3, None, None),
        ("done", 1, None, "good"),
    ]
    found = lists(message)
    assert list(found) == ["Overdue, most late first", "Blocked", "Due in the next 7 days"]
    assert [b.type for b in message.blocks[2:]] == [
        "action_list",
        "action_list",
        "action_list",
        "paragraph",
        "counts",
        "paragraph",
    ]
    overdue = found["Overdue, most late first"].items
    assert [(a.title, a.owner.name if a.owner else None, a.days_late) for a in overdue] == [
        ("Very late", "Amira", 13),
        ("A little late", "Ben", 3),
    ]
    assert [a.blocked_reason for a in found["Blocked"].items] == [
        "police data-sharing agreement not signed"
    ]
    assert [a.title for a in found["Due in the next 7 days"].items] == [
        "Due today",
        "Due Friday",
        "Due next Monday",
    ]
    assert message.blocks[5] == Paragraph(
        text="1 completed in the last 7 days: #1 Signed off (Fri 20 Nov)."
    )
    rag = message.blocks[6]
    assert isinstance(rag, Counts) and rag.title == "RAG of the 7 open actions"
    assert [(c.label, c.value, c.tone) for c in rag.items] == [
        ("red", 2, "attention"),
        ("amber", 1, "warning"),
        ("green", 0, None),
        ("not rated", 4, None),
    ]
    assert message.blocks[7] == Paragraph(
        text="This is the first digest, so there is no change to show yet."
    )
    lines = render(message, today=MONDAY).splitlines()
    assert lines[2:5] == [
        "2 overdue (2 red) · 1 blocked · 3 due this week · 1 done",
        "Overdue, most late first (2)",
        "  13 days late · #8 Very late — Amira — due Tue 10 Nov — RAG red",
    ]
    assert "  due today · #3 Due today — Ben — RAG amber" in lines


def test_an_action_overdue_and_blocked_is_listed_once_under_blocked(board: Core) -> None:
    seed_plan(board)
    late = action(board, "Late and stuck", owner="ben", due=MONDAY - dt.timedelta(days=14),
                  status=Status.BLOCKED, blocked_reason="waiting for legal")  # fmt: skip
    with_ref(board, late, "CIN-01")
    message = build(board)
    found = lists(message)
    assert "Late and stuck" not in [a.title for a in found["Overdue, most late first"].items]
    assert [a.title for a in found["Blocked"].items] == ["Late and stuck", "Stuck"]
    assert headline(message)["overdue"].value == 2  # the two not blocked
    assert headline(message)["blocked"].value == 2
    text = render(message, today=MONDAY)
    assert text.count("Late and stuck") == 1
    assert (
        "  blocked, 14 days late · CIN-01 · #10 Late and stuck — Ben — due Mon 9 Nov — "
        "blocked: waiting for legal"
    ) in text.splitlines()
    assert message.text.startswith("2 overdue (2 red), 2 blocked, 3 due this week, 1 done")


def test_done_line_says_when_each_was_completed(board: Core) -> None:
    day = dt.timedelta(days=1)
    early = action(board, "Early", owner="amira", due=MONDAY + 20 * day, status=Status.DONE,
                   done_at=london(MONDAY - 4 * day, 11))  # fmt: skip
    on_time = action(board, "On time", owner="ben", due=MONDAY - day, status=Status.DONE,
                     done_at=london(MONDAY - day, 16))  # fmt: skip
    with_ref(board, early, "CIN-03")
    with_ref(board, on_time, "QA-02")
    message = build(board)
    # The days they were completed, not their deadlines (Sat 12 Dec and Sun 22 Nov).
    done = "2 completed in the last 7 days: QA-02 (Sun 22 Nov), CIN-03 (Thu 19 Nov)."
    assert Paragraph(text=done) in message.blocks
    assert headline(message)["done"].value == 2


def test_digest_shows_the_change_since_last_week(board: Core, clock: FixedClock) -> None:
    seed_plan(board)
    clock.set(london(MONDAY, 9))
    assert queue_weekly_digest(board) is not None
    next_monday = MONDAY + dt.timedelta(days=7)
    action(board, "Slipped", owner="ben", due=next_monday - dt.timedelta(days=1))
    clock.set(london(next_monday, 9))
    message = build(board)
    # Last week's two overdue are still late, "Due today" and "Due Friday" slipped, and so did
    # the new one: 5 overdue, up 3.
    figures = headline(message)
    assert (figures["overdue"].value, figures["overdue"].delta) == (5, 3)
    assert (figures["done"].value, figures["done"].delta) == (0, -1)
    assert message.text.startswith("5 overdue (2 red), 1 blocked, 2 due this week, 0 done")
    assert Paragraph(text="▲ and ▼ are the change since the digest of Mon 23 Nov.") in (
        message.blocks
    )
    assert Paragraph(text="Nothing was completed this week.") in message.blocks
    # The change reads as an arrow on every platform.
    assert render(message, today=next_monday).splitlines()[2] == (
        "5 overdue ▲3 (2 red) · 1 blocked · 2 due this week ▼1 · 0 done ▼1"
    )
    slack_blocks = pytest.importorskip("handlers.slack.blocks")
    slack = slack_blocks.render(message, today=next_monday, tz=LONDON)
    assert slack.blocks[1]["text"]["text"] == (
        ":red_circle: *5* overdue ▲3 (2 red)  ·  :large_orange_circle: *1* blocked  ·  "
        "*2* due this week ▼1  ·  *0* done ▼1"
    )


def test_a_huge_plan_fits_in_one_slack_message(board: Core) -> None:
    people = [person(board, f"owner{n}") for n in range(50)]
    statuses = [Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED, Status.DONE]
    bulk_actions(
        board,
        (
            {
                "title": f"Action {n} " + "long words " * 20,
                "owner_id": people[n % 50],
                "due_date": MONDAY + dt.timedelta(days=n % 40 - 25),
                "status": statuses[n % 4].value,
                "blocked_reason": "waiting" if n % 4 == 2 else None,
                "done_at": london(MONDAY, 8) if n % 4 == 3 else None,
            }
            for n in range(4000)
        ),
    )
    message = build(board)
    for block in lists(message).values():
        assert len(block.items) <= DIGEST_LIST_LIMIT
        assert block.more > 0 and block.more_hint
    overdue = lists(message)["Overdue, most late first"]
    assert overdue.more + len(overdue.items) == figures(message)["overdue"][0]
    text = render(message, today=MONDAY)
    assert f"… and {overdue.more} more (/status overdue lists them all)" in text

    slack_blocks = pytest.importorskip("handlers.slack.blocks")
    rendered = slack_blocks.render(message, today=MONDAY, tz=LONDON)
    assert len(rendered.blocks) <= 50
    assert any(f"and {overdue.more} more" in str(block) for block in rendered.blocks), (
        "the Slack rendering keeps the 'and N more' line"
    )


def test_digest_is_queued_once_a_week_at_its_time(board: Core, clock: FixedClock) -> None:
    clock.set(london(MONDAY, 8, 59))
    assert queue_weekly_digest(board) is None
    clock.set(london(MONDAY, 9, 0))
    first = queue_weekly_digest(board)
    assert first is not None and first.outbox_id is not None
    assert first.key == f"digest:{BOARD}:2026-W48"
    clock.set(london(MONDAY, 15, 0))
    again = queue_weekly_digest(board)
    assert again is not None and again.outbox_id is None and again.existing is not None
    assert [r.key for r in outbox(board)] == [first.key]


def test_missed_digest_is_caught_up_that_week_only(board: Core, clock: FixedClock) -> None:
    # Down from Sunday to Wednesday: the Monday digest goes out on Wednesday, once.
    clock.set(london(MONDAY + dt.timedelta(days=2), 14))
    caught = queue_weekly_digest(board)
    assert caught is not None and caught.outbox_id is not None
    # Down from last Sunday to next Monday 08:00: that week's digest is not sent late into
    # the next week, and the next one waits for its time.
    clock.set(london(MONDAY + dt.timedelta(days=14), 8))
    assert queue_weekly_digest(board) is None
    assert [r.key for r in outbox(board)] == [digest_key(BOARD, MONDAY)]


def test_schedule_is_local_time_in_summer_and_winter(board: Core) -> None:
    summer = scheduled_at(board.settings, dt.datetime(2026, 6, 3, 12, tzinfo=dt.UTC))
    assert summer.astimezone(dt.UTC) == dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    winter = scheduled_at(board.settings, dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC))
    assert winter.astimezone(dt.UTC) == dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    friday = Settings(_env_file=None, digest_schedule="fri 16:30")
    assert scheduled_at(friday, winter) == london(dt.date(2026, 11, 27), 16, 30)
    assert iso_week(dt.date(2027, 1, 1)) == "2026-W53"


def test_run_digest_posts_once_a_week(board: Core, clock: FixedClock) -> None:
    seed_plan(board)
    person(board, "chair")
    sender = FakeSender()
    first = run_digest(board, [sender])
    assert first.planned == {"digest": 1} and first.delivery.summary().startswith("sent 1,")
    assert [(s.where, s.to) for s in sender.sent] == [("channel", BOARD)]
    clock.advance(dt.timedelta(days=2))
    second = run_digest(board, [sender])
    assert second.planned == {} and len(sender.sent) == 1
    assert second.notes == ["this week's digest was already posted on Mon 23 Nov at 09:30"]


def test_run_digest_without_a_board_channel_says_so(core: Core) -> None:
    report = run_digest(core, [FakeSender()])
    assert report.notes == ["BOARD_CHANNEL is not set: no digest"]


def test_status_digest_is_for_chairs(board: Core, amira: Caller) -> None:
    out = run_command(board, amira, "/status", "digest")
    assert out.message.text == "Only a chair or the secretary can preview the digest."
    out = run_command(board, amira, "/status", "digest post")
    assert out.message.text == "Only a chair or the secretary can post the digest."
    assert outbox(board) == []


def test_chair_previews_privately_and_posts_once(
    board: Core, chair: Caller, clock: FixedClock
) -> None:
    seed_plan(board)
    preview = run_command(board, chair, "/status", "digest")
    assert preview.message.ephemeral and preview.outbox_ids == []
    assert preview.message.blocks[1] == Paragraph(
        text=f"Preview, only you can see it: the digest goes to <#channel:{BOARD}> at the "
        "worker's next run (its time this week has passed); /status digest post posts it now."
    )
    assert outbox(board) == []

    posted = run_command(board, chair, "/status", "digest post")
    assert posted.message.text == f"Posting this week's digest to {BOARD} now."
    sender = FakeSender()
    deliver(board, [sender], ids=posted.outbox_ids)
    assert [(s.where, s.to) for s in sender.sent] == [("channel", BOARD)]
    assert not sender.sent[0].message.ephemeral

    clock.advance(dt.timedelta(hours=2))
    again = run_command(board, chair, "/status", "digest post")
    assert again.message.text == (
        f"This week's digest was already posted to {BOARD} on Mon 23 Nov at 09:30; "
        "it is posted once a week."
    )
    assert again.outbox_ids == []
    later = run_command(board, chair, "/status", "digest")
    assert isinstance(later.message.blocks[1], Paragraph)
    assert later.message.blocks[1].text.startswith(
        f"Preview: this week's digest was posted to <#channel:{BOARD}> on Mon 23 Nov at 09:30;"
        " the next goes out on Mon 30 Nov at 09:00."
    )
    # And the scheduled run that week does not post it again.
    clock.set(london(MONDAY, 9, 5))
    assert run_digest(board, [sender], force=False).planned == {}
    assert len(sender.sent) == 1


def test_a_preview_on_saturday_shows_the_digest_monday_will_post(
    board: Core, chair: Caller, clock: FixedClock
) -> None:
    seed_plan(board)
    sender = FakeSender()
    assert run_digest(board, [sender]).planned == {"digest": 1}  # Mon 23 Nov, 09:30
    saturday = MONDAY + dt.timedelta(days=5)
    action(board, "Signed off Wednesday", owner="ben", due=MONDAY + dt.timedelta(days=30),
           status=Status.DONE, done_at=london(MONDAY + dt.timedelta(days=2), 14))  # fmt: skip
    action(board, "Due Sunday", owner="amira", due=saturday + dt.timedelta(days=1), rag=Rag.RED)
    clock.set(london(saturday, 10))

    preview = run_command(board, chair, "/status", "digest").message
    assert preview.ephemeral
    # Monday's digest: its week, compared with this week's digest, lateness as of Monday.
    assert preview.blocks[0] == Heading(text="Weekly digest, week of Mon 30 Nov")
    assert preview.blocks[1] == Paragraph(
        text=f"Preview: this week's digest was posted to <#channel:{BOARD}> on Mon 23 Nov at "
        "09:30; the next goes out on Mon 30 Nov at 09:00. This is that one, with the plan as "
        "it stands now; only you can see it."
    )
    figures = headline(preview)
    assert (figures["overdue"].value, figures["overdue"].delta) == (5, 3)
    assert (figures["done"].value, figures["done"].delta) == (1, 0)
    assert preview.text.startswith("5 overdue (3 red), 1 blocked, 2 due this week, 1 done")
    overdue = lists(preview)["Overdue, most late first"].items
    assert [(a.title, a.days_late) for a in overdue][-1] == ("Due Sunday", 1)
    assert Paragraph(text="1 completed this week: #10 Signed off Wednesday (Wed 25 Nov).") in (
        preview.blocks
    )
    assert Paragraph(text="▲ and ▼ are the change since the digest of Mon 23 Nov.") in (
        preview.blocks
    )
    lines = render(preview, today=saturday).splitlines()
    assert lines[3] == "5 overdue ▲3 (3 red) · 1 blocked · 2 due this week ▼1 · 1 done"
    assert "  1 day late · #11 Due Sunday — Amira — due Sun 29 Nov — RAG red" in lines
    assert len(sender.sent) == 1  # nothing more was posted


def test_a_digest_that_failed_can_be_posted_again(board: Core, chair: Caller) -> None:
    run_command(board, chair, "/status", "")
    posted = run_command(board, chair, "/status", "digest post")
    refusing = FakeSender(errors={BOARD: [permanent("Slack refused the message: not_in_channel")]})
    deliver(board, [refusing], ids=posted.outbox_ids)
    assert refusing.texts() == [
        f"I could not post the weekly digest to {BOARD} "
        "(Slack refused the message: not_in_channel)."
    ]
    again = run_command(board, chair, "/status", "digest post")
    assert again.message.text.startswith(f"This week's digest could not be posted to {BOARD}")
    fixed = FakeSender()
    deliver(board, [fixed], ids=again.outbox_ids)
    assert [s.to for s in fixed.sent] == [BOARD]
    rows = [r for r in outbox(board) if r.kind == "digest"]
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.SENT, 1)]


def test_post_without_a_board_channel_is_refused(core: Core, chair: Caller) -> None:
    out = run_command(core, chair, "/status", "digest post")
    assert out.message.tone == "error"
    assert out.message.text == (
        "BOARD_CHANNEL is not set, so there is no channel to post the digest to."
    )
    preview = run_command(core, chair, "/status", "digest")
    assert preview.message.blocks[1] == Paragraph(
        text="Preview: BOARD_CHANNEL is not set, so it cannot be posted yet."
    )


def test_snapshot_is_kept_with_the_queued_digest(board: Core, clock: FixedClock) -> None:
    seed_plan(board)
    clock.set(london(MONDAY, 9))
    queue_weekly_digest(board)
    from sqlalchemy import select

    from storage.models import DigestSnapshot

    with transaction(board.sessions) as session:
        snaps = list(session.scalars(select(DigestSnapshot)))
    assert [(s.key, s.week, s.counts["overdue"], s.counts["red"]) for s in snaps] == [
        (f"digest:{BOARD}:2026-W48", "2026-W48", 2, 2)
    ]

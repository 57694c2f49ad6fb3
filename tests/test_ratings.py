"""Computed ratings of stored actions, `/status rules`, and a chair accepting a declared rating."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain import Change, Rag
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from bot.services.ratings import ratings
from storage.db import transaction
from storage.models import Action, HistoryEntry


def say(core: Core, who: Caller, command: str, text: str) -> str:
    return render(run_command(core, who, command, text).message)


def add_late(core: Core, chair: Caller, clock: FixedClock, text: str) -> None:
    """Add an action dated in the past: added three weeks ago, the clock brought back."""
    now = clock.now()
    clock.set(now - dt.timedelta(days=21))
    assert "Added" in say(core, chair, "/action", f"add {text}")
    clock.set(now)


def flags(core: Core) -> dict[int, str | None]:
    with transaction(core.sessions) as session:
        actions = list(session.scalars(select(Action).order_by(Action.id)))
        found = ratings(
            session, actions, settings=core.settings, calendar=core.calendar, today=core.today()
        )
        return {action_id: rating.flag for action_id, rating in found.items()}


def test_status_rules_prints_the_configured_thresholds(core: Core, amira: Caller) -> None:
    text = say(core, amira, "/status", "rules")
    assert "How the bot rates actions (BRAG)" in text
    assert "overdue by more than 5 working days, or blocked for more than 5" in text
    assert "/action accept <id> <reason>" in text


def test_a_late_action_rated_green_is_flagged_until_a_chair_accepts_it(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    add_late(core, chair, clock, "Re-audit CP plans @amira due 2026-11-09")
    say(core, chair, "/action", "add Train new starters @amira due 2027-03-01")
    say(core, amira, "/action", "rag 1 green")
    say(core, amira, "/action", "rag 2 green")
    # Monday 23 Nov: due Monday 9 Nov is 10 working days late.
    assert flags(core) == {1: "declared green, computed red: overdue 10 working days", 2: None}

    refused = say(core, amira, "/action", "accept 1 agreed at the board")
    assert "Only a chair can accept a declared rating" in refused

    accepted = say(core, chair, "/action", "accept 1 the audit is done, the report is late")
    assert "stays green" in accepted
    assert flags(core) == {1: None, 2: None}
    with transaction(core.sessions) as session:
        entry = session.scalars(
            select(HistoryEntry).where(HistoryEntry.change == Change.RAG_ACCEPTED.value)
        ).one()
        assert (entry.old_value, entry.new_value) == ("green", "red")
        assert entry.note == "the audit is done, the report is late"
        assert entry.actor is not None and entry.actor.display_name == "Chair"

    nothing = say(core, chair, "/action", "accept 2 fine")
    assert "Nothing to accept" in nothing


def test_an_accepted_rating_is_flagged_again_when_the_owner_changes_it(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    add_late(core, chair, clock, "Re-audit CP plans @amira due 2026-11-09")
    say(core, amira, "/action", "rag 1 green")
    say(core, chair, "/action", "accept 1 agreed")
    say(core, amira, "/action", "rag 1 amber")
    assert flags(core) == {1: "declared amber, computed red: overdue 10 working days"}


def test_blocked_counts_from_when_it_was_blocked(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    say(core, chair, "/action", "add Recruit two social workers @amira due 2027-06-01")
    say(core, amira, "/action", "blocked 1 waiting for the budget")
    say(core, amira, "/action", "rag 1 amber")
    clock.advance(dt.timedelta(days=8))  # Tuesday 1 Dec: 6 working days blocked
    with transaction(core.sessions) as session:
        actions = list(session.scalars(select(Action)))
        rating = ratings(
            session, actions, settings=core.settings, calendar=core.calendar, today=core.today()
        )[1]
        assert rating.computed.rag is Rag.RED
        assert rating.computed.reason == "blocked 6 working days"
        assert rating.flag == "declared amber, computed red: blocked 6 working days"


FLAG = "declared green, computed red: overdue 10 working days"


def test_the_flag_shows_in_lists_show_and_the_digest_on_every_platform(
    core: Core, chair: Caller, amira: Caller, clock: FixedClock
) -> None:
    from bot.services.digest import build_digest
    from handlers.slack.blocks import to_blocks
    from handlers.teams.cards import render_card
    from tests.test_slack_blocks import all_text

    add_late(core, chair, clock, "Re-audit CP plans @amira due 2026-11-09")
    say(core, amira, "/action", "rag 1 green")
    overdue = run_command(core, chair, "/status", "overdue").message
    shown = run_command(core, chair, "/action", "show 1").message
    assert f"RAG green — ⚠️ {FLAG}" in render(overdue)
    assert f"RAG: green ⚠️ {FLAG}" in render(shown)
    for message in (overdue, shown):
        assert f"⚠️ {FLAG}" in all_text(to_blocks(message, today=core.today()))
        assert f"⚠️ {FLAG}" in str(render_card(message, today=core.today()))
    with transaction(core.sessions) as session:
        digest = build_digest(
            session, settings=core.settings, now=clock.now(), channel=None, board_id=1
        )
    assert f"⚠️ {FLAG}" in render(digest.message)
    # Once accepted, no list says it any more.
    say(core, chair, "/action", "accept 1 the report is late, the work is done")
    assert FLAG not in render(run_command(core, chair, "/status", "overdue").message)

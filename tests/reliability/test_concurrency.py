"""2. Two of everything: two workers at once, two people changing one action at once."""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.context import Caller, Core
from bot.services.request import Outcome, Request
from scheduler.jobs import run_digest, run_reminders
from storage.db import transaction
from storage.models import Action, OutboxMessage, OutboxStatus
from tests.conftest import MONDAY
from tests.reliability.conftest import SOAK, Tally
from tests.reliability.helpers import added_id, command, history_rows, ok
from tests.reliability.slackworld import BOARD, posts_by_channel, seed_owners, slack_core
from tests.support.fake_slack import FakeSlack

RETRY_HINT = "changed by someone else at the same moment"


def run_together(*jobs: Callable[[], Any], timeout: float = 120) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def runner(i: int, job: Callable[[], Any]) -> None:
        try:
            results[i] = job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a job hung"
    if errors:
        raise errors[0]
    return results


def test_two_workers_never_send_a_reminder_or_digest_twice(
    database_url: str, tally: Tally
) -> None:
    count = 1000 if SOAK else 200
    with FakeSlack() as fake:
        users = seed_owners(database_url, count, MONDAY.date())
        (a, sa, cal), (b, sb, _) = (slack_core(database_url, fake, MONDAY) for _ in range(2))
        reports = run_together(
            lambda: (run_reminders(a, sa, cal), run_digest(a, sa, force=False)),
            lambda: (run_reminders(b, sb, cal), run_digest(b, sb, force=False)),
        )
        # And a third pass by both finds nothing left to send.
        run_together(lambda: run_reminders(a, sa, cal), lambda: run_reminders(b, sb, cal))
        posts = posts_by_channel(fake)
        with transaction(a.sessions) as session:
            statuses = set(session.scalars(select(OutboxMessage.status)))
    sent = sum(len(r[0].delivery.sent) + len(r[1].delivery.sent) for r in reports)
    missing = [u for u in users if posts[u] == 0]
    duplicated = sum(n - 1 for n in posts.values() if n > 1)
    lost = len(missing) + (posts[BOARD] == 0)
    tally.add("2 two of everything", sent=sum(posts.values()), lost=lost,
              duplicated=duplicated, inputs=count, note=f"two workers: {count} reminders + digest")
    assert statuses == {OutboxStatus.SENT}
    assert missing == [] and posts[BOARD] == 1
    assert duplicated == 0, {k: v for k, v in posts.items() if v > 1}
    assert sent == count + 1
    # Both workers did some of the work (otherwise this proved nothing about concurrency).
    assert all(len(r[0].delivery.sent) + len(r[0].delivery.skipped) > 0 for r in reports)


@pytest.fixture
def meet(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Barrier]:
    """Both commands load the action, then wait for each other before changing it."""
    barrier = threading.Barrier(2, timeout=15)
    original = Request.action

    def action(self: Request, action_id: int) -> Action:
        found = original(self, action_id)
        if threading.current_thread() is not threading.main_thread():
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return found

    monkeypatch.setattr(Request, "action", action)
    yield barrier


PAIRS = [
    ("chair", "/action due {n} 2026-12-18 moved", "amira", "/action rag {n} red"),
    ("amira", "/action done {n} finished", "chair", "/action blocked {n} no budget"),
    ("chair", "/action assign {n} @ben", "amira", "/action rag {n} green"),
    ("amira", "/action rag {n} amber", "chair", "/action rag {n} red"),
    ("amira", "/action update {n} first note", "chair", "/action update {n} second note"),
    # On an open action the first note also starts it: the clash is retried, both notes land.
    ("amira", "/action update {n} first note", "chair", "/action update {n} second note open"),
]


@pytest.mark.parametrize("first, one, second, two", PAIRS, ids=[f"{p[1]} vs {p[3]}" for p in PAIRS])
def test_two_people_change_one_action_at_the_same_moment(
    core: Core, chair: Caller, amira: Caller, ben: Caller, meet: threading.Barrier,
    first: str, one: str, second: str, two: str, tally: Tally,
) -> None:
    ok(core, ben, "/action help")
    number = added_id(ok(core, chair, "/action add Shared action @amira due 2026-12-04"))
    if "update" in one and "open" not in two:
        ok(core, amira, f"/action update {number} started")  # in progress: notes only append
    callers = {"chair": chair, "amira": amira}
    before = len(history_rows(core, number))
    version = _version(core, number)
    outcomes: list[Outcome] = run_together(
        lambda: command(core, callers[first], one.format(n=number)),
        lambda: command(core, callers[second], two.format(n=number)),
    )
    tally.add("2 two of everything", inputs=2)
    new = history_rows(core, number)[before:]
    won = [o for o in outcomes if o.message.tone != "error"]
    lost = [o for o in outcomes if o.message.tone == "error"]
    for outcome in lost:  # the loser is told, with a retry hint, and nothing of it was saved
        assert RETRY_HINT in outcome.message.text and "retry" in outcome.message.text.lower()
    assert len(won) >= 1
    actors = {h.actor_id for h in new}
    assert len(actors) == len(won), "every accepted change is in the history, no other"
    if "update" in one:
        notes = {h.note for h in new if h.change == "note"}
        assert len(won) == 2 and notes == {"first note", two.split("} ", 1)[1]}
    else:  # both read the same version: exactly one write lands, the other is told to retry
        assert len(lost) == 1 and _version(core, number) == version + 1
    # No silent overwrite: each field holds the value its newest history entry says.
    _state_matches_history(core, number)


def _version(core: Core, number: int) -> int:
    with transaction(core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        return action.version


def _state_matches_history(core: Core, number: int) -> None:
    last: dict[str, str | None] = {}
    for entry in history_rows(core, number):
        if entry.field:
            last[entry.field] = entry.new_value
    with transaction(core.sessions) as session:
        action = session.get(Action, number)
        assert action is not None
        if "rag" in last:
            assert (action.rag.value if action.rag else None) == last["rag"]
        if "due" in last:
            assert str(action.due_date) == last["due"]
        if "status" in last:
            assert action.status.value == last["status"]
        if "owner" in last:
            assert (action.owner.display_name if action.owner else None) == last["owner"]


def test_many_people_hammering_one_action_lose_nothing(
    core: Core, chair: Caller, amira: Caller, tally: Tally
) -> None:
    """Four threads change one action at random; every accepted change is in the history."""
    number = added_id(ok(core, chair, "/action add Hot action @amira due 2026-12-04"))
    rounds = 60 if SOAK else 15
    lines = ["/action rag {n} red", "/action rag {n} amber", "/action rag {n} green",
             "/action due {n} 2026-12-1{d} r", "/action update {n} note {i}",
             "/action blocked {n} reason {i}", "/action reopen {n}"]
    accepted: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        caller = chair if seed % 2 else amira
        for i in range(rounds):
            line = rng.choice(lines).format(n=number, d=rng.randint(0, 9), i=f"{seed}-{i}")
            outcome = command(core, caller, line)
            text = outcome.message.text
            assert outcome.message.tone != "error" or RETRY_HINT in text or (
                caller is amira and text.startswith("Only a chair")), (line, text)
            if outcome.message.tone == "success":
                with lock:
                    accepted.append((line, outcome.message.text))

    run_together(*(lambda s=s: worker(s) for s in range(4)))
    tally.add("2 two of everything", inputs=4 * rounds)
    notes = {h.note for h in history_rows(core, number) if h.change == "note"}
    for line, _ in accepted:
        if " update " in line:
            assert line.rsplit(" ", 2)[-2] + " " + line.rsplit(" ", 1)[-1] in notes
    _state_matches_history(core, number)

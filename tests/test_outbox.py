"""The outbox under crashes, failures, rate limits and two workers at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.outbox import delivery as outbox_module
from bot.outbox.delivery import BACKOFF_CAP, CLAIM_LEASE, MAX_ATTEMPTS, backoff, deliver
from bot.outbox.queue import enqueue
from bot.outbox.sender import Delivered
from bot.people.directory import ConsoleDirectory
from bot.render.model import Message, Paragraph
from bot.services.context import Core
from storage.db import make_engine, make_session_factory, transaction
from storage.models import DEFAULT_BOARD_ID, OutboxMessage, OutboxStatus, Person
from tests.scheduler_fakes import (
    Crash,
    FakeSender,
    Sent,
    outbox,
    permanent,
    person,
    statuses,
    transient,
)


def queue(core: Core, key: str, *, to: str | None = None, channel: str | None = None) -> int:
    """Queue a one-line message to a person (created if new) or a channel."""
    recipient_id = person(core, to) if to else None
    with transaction(core.sessions) as session:
        recipient = session.get(Person, recipient_id) if recipient_id else None
        outbox_id = enqueue(
            session,
            board_id=DEFAULT_BOARD_ID,
            key=key,
            kind=key.split(":")[0],
            message=Message(text=key, blocks=[Paragraph(text=key)], ephemeral=False),
            now=core.now(),
            recipient=recipient,
            channel=channel,
        )
    assert outbox_id is not None
    return outbox_id


def row(core: Core, outbox_id: int) -> OutboxMessage:
    with core.sessions() as session:
        found = session.get(OutboxMessage, outbox_id)
        assert found is not None
        return found


def test_sent_rows_record_where_they_landed(core: Core) -> None:
    first = queue(core, "reminder:1", to="amira")
    sender = FakeSender()
    report = deliver(core, [sender])
    assert report.sent == [first] and sender.dms() == ["amira"]
    sent = row(core, first)
    assert (sent.status, sent.platform, sent.platform_channel, sent.platform_ref) == (
        OutboxStatus.SENT,
        "console",
        "D-amira",
        "1.000100",
    )
    assert sent.sent_at == core.now() and sent.attempts == 1
    assert deliver(core, [sender]).sent == []  # never twice


def test_enqueue_twice_queues_once(core: Core) -> None:
    queue(core, "digest:C1:2026-W48", channel="C1")
    with transaction(core.sessions) as session:
        again = enqueue(
            session,
            board_id=DEFAULT_BOARD_ID,
            key="digest:C1:2026-W48",
            kind="digest",
            message=Message(text="x"),
            now=core.now(),
            channel="C1",
        )
    assert again is None
    assert len(outbox(core)) == 1


def test_crash_between_claim_and_send_is_resent_after_the_lease(
    core: Core, clock: FixedClock
) -> None:
    outbox_id = queue(core, "reminder:1", to="amira")
    sender = FakeSender(errors={"amira": [Crash()]})
    with pytest.raises(Crash):
        deliver(core, [sender])
    assert row(core, outbox_id).status == OutboxStatus.SENDING
    # A restart within the lease leaves the claim alone (the first worker may still be alive)…
    assert deliver(core, [sender]).sent == [] and sender.sent == []
    # …and once it has run out the message goes, once.
    clock.advance(CLAIM_LEASE + dt.timedelta(seconds=1))
    assert deliver(core, [sender]).sent == [outbox_id]
    assert sender.dms() == ["amira"]
    assert row(core, outbox_id).attempts == 2


def test_crash_between_send_and_mark_is_not_lost(core: Core, clock: FixedClock) -> None:
    # The one window the outbox allows a duplicate in: after the platform's answer, before our
    # commit. The message is never lost; it is sent again once the claim runs out.
    outbox_id = queue(core, "reminder:1", to="amira")
    sender = FakeSender(crash_after_send=Crash())
    with pytest.raises(Crash):
        deliver(core, [sender])
    assert row(core, outbox_id).status == OutboxStatus.SENDING
    clock.advance(CLAIM_LEASE + dt.timedelta(seconds=1))
    deliver(core, [sender])
    assert row(core, outbox_id).status == OutboxStatus.SENT
    assert sender.dms() == ["amira", "amira"]


def test_crash_while_marking_sent_is_not_lost(
    core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox_id = queue(core, "reminder:1", to="amira")
    real = outbox_module._mark_sent

    def crash(*args: object) -> None:
        raise Crash()

    monkeypatch.setattr(outbox_module, "_mark_sent", crash)
    with pytest.raises(Crash):
        deliver(core, [FakeSender()])
    monkeypatch.setattr(outbox_module, "_mark_sent", real)
    clock.advance(CLAIM_LEASE + dt.timedelta(seconds=1))
    assert deliver(core, [FakeSender()]).sent == [outbox_id]


def test_rate_limit_waits_as_asked_and_pauses_the_pass(core: Core, clock: FixedClock) -> None:
    ids = [queue(core, f"reminder:{n}", to=name) for n, name in enumerate(("amira", "ben", "cy"))]
    sender = FakeSender(errors={"amira": [transient("Slack rate limit", retry_after=30)]})
    report = deliver(core, [sender])
    assert report.retried == [ids[0]] and report.sent == []
    assert report.paused_until == clock.now() + dt.timedelta(seconds=30)
    assert "rate-limited until" in report.summary()
    limited = row(core, ids[0])
    assert limited.status == OutboxStatus.PENDING
    assert limited.not_before == clock.now() + dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=29))
    assert deliver(core, [sender]).sent == ids[1:]  # the others' turn; the limited one waits
    clock.advance(dt.timedelta(seconds=1))
    assert deliver(core, [sender]).sent == [ids[0]]
    assert sorted(sender.dms()) == ["amira", "ben", "cy"]


def test_server_errors_back_off_then_succeed(core: Core, clock: FixedClock) -> None:
    outbox_id = queue(core, "reminder:1", to="amira")
    sender = FakeSender(errors={"amira": [transient(), transient()]})
    assert deliver(core, [sender]).retried == [outbox_id]
    assert row(core, outbox_id).not_before == clock.now() + dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=30))
    assert deliver(core, [sender]).retried == [outbox_id]
    assert row(core, outbox_id).not_before == clock.now() + dt.timedelta(seconds=60)
    clock.advance(dt.timedelta(seconds=59))
    assert deliver(core, [sender]).sent == []
    clock.advance(dt.timedelta(seconds=1))
    assert deliver(core, [sender]).sent == [outbox_id]
    assert row(core, outbox_id).attempts == 3 and row(core, outbox_id).last_error is None


def test_backoff_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == BACKOFF_CAP


def test_retries_give_up_after_a_cap_and_the_chairs_are_told(core: Core, clock: FixedClock) -> None:
    person(core, "chair")
    outbox_id = queue(core, "reminder:1", to="amira")
    sender = FakeSender(errors={"amira": [transient() for _ in range(MAX_ATTEMPTS)]})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver(core, [sender])
        clock.advance(backoff(attempt))
    assert report.failed == [outbox_id]
    assert row(core, outbox_id).status == OutboxStatus.FAILED
    assert row(core, outbox_id).attempts == MAX_ATTEMPTS
    assert sender.dms() == ["chair"]
    notice = sender.sent[0].message
    assert (
        notice.text == "I could not deliver a deadline reminder to Amira (Slack error: HTTP 500)."
    )
    assert notice.blocks[1] == Paragraph(
        text=f"The platform kept failing; I stopped after {MAX_ATTEMPTS} attempts."
    )


def test_unexpected_sender_error_is_retried_and_the_pass_goes_on(core: Core) -> None:
    first = queue(core, "reminder:1", to="amira")
    second = queue(core, "reminder:2", to="ben")
    sender = FakeSender(errors={"amira": [RuntimeError("socket closed")]})
    report = deliver(core, [sender])
    assert (report.retried, report.sent) == ([first], [second])
    assert row(core, first).last_error == "RuntimeError: socket closed"


def test_unreachable_chair_is_logged_not_looped(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    person(core, "chair")
    outbox_id = queue(core, "reminder:1", to="amira")
    sender = FakeSender(errors={"amira": [permanent()], "chair": [permanent()]})
    report = deliver(core, [sender])
    notice = report.notices[0]
    assert report.failed == [outbox_id, notice]
    assert report.unreported == [notice] and report.sent == []
    assert [r.kind for r in outbox(core)] == ["reminder", "unreachable"]  # no third row
    assert "a notice to Chair about a failure" in caplog.text


def test_escalation_a_chair_cannot_receive_goes_to_the_other_chairs(core: Core) -> None:
    person(core, "chair")
    other = Settings(
        _env_file=None, database_url=core.settings.database_url, chair_user_ids=("chair", "dee")
    )
    core.settings = other
    person(core, "dee")
    queue(core, "escalation:1", to="chair")
    sender = FakeSender(errors={"chair": [permanent()]})
    deliver(core, [sender])
    assert sender.dms() == ["dee"]
    assert sender.texts() == [
        "I could not deliver an escalation to Chair (Slack refused the message: user_not_found)."
    ]


def test_no_chair_known_is_an_unreported_failure(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    outbox_id = queue(core, "reminder:1", to="amira")
    report = deliver(core, [FakeSender(errors={"amira": [permanent()]})])
    assert report.failed == report.unreported == [outbox_id]
    assert "no chair is known to tell" in caplog.text
    assert "1 not reported to anyone" in report.summary()


def test_digest_the_channel_refuses_is_reported(core: Core) -> None:
    person(core, "chair")
    queue(core, "digest:C404:2026-W48", channel="C404")
    sender = FakeSender(errors={"C404": [permanent("Slack refused the message: not_in_channel")]})
    deliver(core, [sender])
    assert sender.texts() == [
        "I could not post the weekly digest to C404 (Slack refused the message: not_in_channel)."
    ]


def test_person_without_an_account_on_the_platform_is_unreachable(core: Core) -> None:
    person(core, "chair", platform=Platform.SLACK)
    outbox_id = queue(core, "reminder:1", to="amira")  # a console account only
    slack = FakeSender(platform=Platform.SLACK)
    report = deliver(core, [slack])
    assert report.failed == [outbox_id]
    assert row(core, outbox_id).last_error == "Amira has no account the bot can reach"
    assert slack.dms() == ["chair"]


def test_unreadable_payload_fails_permanently(core: Core) -> None:
    person(core, "chair")
    outbox_id = queue(core, "reminder:1", to="amira")
    with transaction(core.sessions) as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(payload={"x": 1})
        )
    report = deliver(core, [FakeSender()])
    assert report.failed == [outbox_id]
    assert (row(core, outbox_id).last_error or "").startswith("unreadable message")


def test_kinds_and_ids_limit_what_is_delivered(core: Core) -> None:
    reminder = queue(core, "reminder:1", to="amira")
    assigned = queue(core, "assigned:1", to="ben")
    sender = FakeSender()
    assert deliver(core, [sender], kinds=("reminder",)).sent == [reminder]
    assert deliver(core, [sender], ids=[assigned]).sent == [assigned]


def test_stop_ends_the_call_between_messages(core: Core) -> None:
    for n in range(3):
        queue(core, f"reminder:{n}", to=f"p{n}")
    stop = threading.Event()
    sender = FakeSender()
    original = sender._send

    def send_then_stop(where: str, to: str, message: Message) -> Delivered:
        stop.set()
        return original(where, to, message)

    sender._send = send_then_stop  # type: ignore[method-assign]
    assert len(deliver(core, [sender], stop=stop).sent) == 1


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_new_owner(
    core: Core, clock: FixedClock
) -> None:
    outbox_id = queue(core, "reminder:1", to="amira")
    second = FakeSender()

    class SlowThenFailing(FakeSender):
        def _send(self, where: str, to: str, message: Message) -> Delivered:
            # While this send hangs, the lease runs out and another worker delivers the row.
            clock.advance(CLAIM_LEASE + dt.timedelta(seconds=1))
            assert deliver(core, [second]).sent == [outbox_id]
            raise transient("timed out")

    report = deliver(core, [SlowThenFailing()])
    assert report.skipped == [outbox_id]
    assert row(core, outbox_id).status == OutboxStatus.SENT
    assert second.dms() == ["amira"]


# --- two workers at once -------------------------------------------------------------------


@pytest.fixture
def second_core(core: Core) -> Iterator[Core]:
    """Another worker: its own engine and connections to the same database."""
    engine = make_engine(core.settings.database_url)
    yield Core(
        settings=core.settings,
        sessions=make_session_factory(engine),
        clock=core.clock,
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    engine.dispose()


def test_two_workers_at_once_never_send_a_key_twice(core: Core, second_core: Core) -> None:
    for n in range(60):
        queue(core, f"reminder:{n}", to=f"owner{n}")
    sent: list[Sent] = []
    lock = threading.Lock()
    started = threading.Barrier(2)
    counts: Counter[str] = Counter()

    class Recording(FakeSender):
        first = True

        def _send(self, where: str, to: str, message: Message) -> Delivered:
            if self.first:  # both workers are inside a send before either goes on
                self.first = False
                with contextlib.suppress(threading.BrokenBarrierError):
                    started.wait(timeout=10)
            with lock:
                sent.append(Sent(where, to, message))
                counts[message.text] += 1
            return Delivered(channel=to, ref=str(len(sent)))

    reports = {}

    def work(name: str, worker_core: Core) -> None:
        reports[name] = deliver(worker_core, [Recording()], limit=5)

    threads = [
        threading.Thread(target=work, args=("a", core)),
        threading.Thread(target=work, args=("b", second_core)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(sent) == 60
    assert set(counts.values()) == {1}
    assert len(reports["a"].sent) + len(reports["b"].sent) == 60
    assert set(statuses(core).values()) == {OutboxStatus.SENT}

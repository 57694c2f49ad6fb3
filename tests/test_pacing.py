"""The send pacer: a token bucket that learns a rate limit from 429s, on injected time."""

from __future__ import annotations

import threading

import pytest

from bot.outbox.pacing import BURST, MARGIN, Backlogged, Pacer
from tests.support.fake_time import FakeTime


def pacer(time: FakeTime, ceiling: float | None = None) -> Pacer:
    return Pacer(ceiling=ceiling, clock=time.monotonic, sleep=time.sleep)


def send(p: Pacer, time: FakeTime, seconds: float, *, cost: float = 0.001) -> list[float]:
    """Send as fast as the pacer lets us for `seconds`; the send times."""
    times: list[float] = []
    end = time.now + seconds
    while time.now < end:
        p.acquire()
        times.append(time.now)
        time.advance(cost)
    return times


def busiest_second(times: list[float]) -> int:
    """The most sends in any one-second span."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_unpaced_until_told_otherwise() -> None:
    time = FakeTime()
    p = pacer(time)
    assert [p.acquire() for _ in range(100)] == [0.0] * 100
    assert p.rate is None and time.sleeps == []


def test_a_ceiling_paces_evenly_with_a_small_burst() -> None:
    time = FakeTime()
    p = pacer(time, ceiling=10)
    times = send(p, time, 5.0)
    assert p.rate == 10
    assert busiest_second(times) <= 10 * (1 + BURST) + 1
    assert len(times) == pytest.approx(50, abs=2)


def test_a_429_pauses_every_send_for_retry_after() -> None:
    time = FakeTime()
    p = pacer(time)
    send(p, time, 0.01, cost=0.005)
    p.throttled(2.0)
    assert p.acquire() == pytest.approx(2.0)
    assert p.acquire() == 0.0
    # A handful of sends is no measure of the limit (someone else used it up): still unpaced.
    assert p.rate is None


def test_a_429_without_retry_after_waits_a_second() -> None:
    time = FakeTime()
    p = pacer(time)
    p.throttled(None)
    assert p.acquire() == pytest.approx(1.0)


def test_a_long_wait_is_refused_not_slept() -> None:
    time = FakeTime()
    p = pacer(time)
    p.throttled(30.0)
    with pytest.raises(Backlogged) as caught:
        p.acquire(max_wait=10.0)
    assert caught.value.wait == pytest.approx(30.0) and time.sleeps == []
    assert p.acquire() == pytest.approx(30.0)  # no slot was taken by the refused call


def test_a_wait_left_to_the_caller_only_teaches_the_rate() -> None:
    time = FakeTime()
    p = pacer(time)
    send(p, time, 1.0, cost=0.01)  # 100 a second
    p.throttled(60.0, hold=False)
    # A minute's allowance spent in a second: about 100 a minute from now on.
    assert p.rate == pytest.approx(100 / 61 * (1 - MARGIN), rel=0.02)
    time.advance(60.0)  # the outbox waited
    assert p.acquire() == 0.0


def test_a_burst_into_the_limit_learns_the_limit() -> None:
    time = FakeTime()
    p = pacer(time)
    # 50 sends in 0.2 s, then Slack says "wait a second": 50 a second was the limit.
    send(p, time, 0.2, cost=0.004)
    p.throttled(1.0)
    # Straight after: what the burst achieved once the wait is counted, less the margin.
    assert p.rate == pytest.approx(50 / 1.2 * (1 - MARGIN), rel=0.02)
    p.acquire()
    # Then back up to just under the refused rate within seconds, and no further for a while.
    send(p, time, 5.0)
    assert p.rate == pytest.approx(50 * (1 - MARGIN), rel=0.03)
    times = send(p, time, 20.0)
    assert 44 <= busiest_second(times) < 50


def test_a_429_while_paced_lowers_the_pace_below_what_was_refused() -> None:
    time = FakeTime()
    p = pacer(time, ceiling=60)
    send(p, time, 5.0)
    p.throttled(1.0)
    times = send(p, time, 10.0)
    # Just under the refused 60 a second (plus the slow climb of ten seconds).
    assert p.rate == pytest.approx(60 * (1 - MARGIN), rel=0.03)
    assert busiest_second(times[100:]) < 60


def test_the_pace_climbs_again_slowly_but_never_past_the_ceiling() -> None:
    time = FakeTime()
    p = pacer(time, ceiling=20)
    send(p, time, 5.0)
    p.throttled(1.0)
    send(p, time, 120.0)
    assert p.rate == 20


def test_idle_time_does_not_raise_the_pace() -> None:
    time = FakeTime()
    p = pacer(time)
    send(p, time, 0.2, cost=0.004)
    p.throttled(1.0)
    send(p, time, 10.0)
    before = p.rate
    assert before is not None
    time.advance(3600)
    p.acquire()
    assert p.rate is not None and p.rate <= before * 1.01


def test_threads_get_distinct_slots() -> None:
    time = FakeTime()
    waits: list[float] = []
    # Sleeping records the wait without moving the clock: every thread asks at the same instant.
    p = Pacer(ceiling=10, clock=time.monotonic, sleep=lambda seconds: None)
    start = threading.Barrier(20)
    lock = threading.Lock()

    def take() -> None:
        start.wait()
        wait = p.acquire()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One slot now, one from the burst allowance, then one every tenth of a second.
    assert sorted(waits) == pytest.approx([0.0, 0.0] + [n / 10 for n in range(1, 19)])


def test_a_sender_asleep_on_its_slot_waits_out_a_429_that_came_meanwhile() -> None:
    time = FakeTime()

    def sleep(seconds: float) -> None:
        if not time.sleeps:
            p.throttled(5.0)  # another thread's call is refused while this one sleeps
        time.sleep(seconds)

    p = Pacer(ceiling=10, clock=time.monotonic, sleep=sleep)
    p.acquire()
    p.acquire()  # the burst allowance
    assert p.acquire() == pytest.approx(5.0)


def test_a_ceiling_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(ceiling=0)

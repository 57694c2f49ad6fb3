"""4. Delivery under rate limits: 1,000 reminders through a fake Slack that says "slow down".

The fake (tests/support/fake_slack.py) is scripted, through fail_when/fail_next, into a
rate-limited Slack: chat.postMessage allows RATE calls per one-second window; a call over the
limit is answered 429 with Retry-After: 1, and every FIVE_HUNDRED_EVERY-th call is answered
HTTP 500. The allowed rate is then RATE messages a second, so 1,000 messages cannot take less
than 1,000 / RATE seconds; we print how close the outbox gets.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from bench.common import Table, build_bench_core, bulk_load, databases, fresh_database

MESSAGES = 1_000
RATE = 50
FIVE_HUNDRED_EVERY = 40
#: The outbox loop stops after this long whatever happens (bounded).
DEADLINE = 300.0


class RateLimitScript:
    """A fail_when predicate that arms fail_next for the calls over the window's allowance.

    The fake takes a pending fault before it consults its rules, so the predicate decides on
    each call whether the *next* call fails; a window that reaches RATE arms one 429, and the
    client is expected to wait its Retry-After (which lands it in the next window).
    """

    def __init__(self, fake: Any, *, rate: int, every_500: int) -> None:
        self.fake = fake
        self.rate = rate
        self.every_500 = every_500
        self.lock = threading.Lock()
        self.window = -1
        self.in_window = 0
        self.calls = 0
        self.armed_429 = 0
        self.armed_500 = 0

    def __call__(self, params: dict[str, Any]) -> bool:
        with self.lock:
            now = int(time.monotonic())
            if now != self.window:
                self.window, self.in_window = now, 0
            self.in_window += 1
            self.calls += 1
            if self.in_window >= self.rate:
                self.fake.fail_next("chat.postMessage", status=429, retry_after=1)
                self.armed_429 += 1
                self.in_window = -(10**9)  # one 429 per window; the client then waits
            elif self.calls % self.every_500 == 0:
                self.fake.fail_next("chat.postMessage", status=500)
                self.armed_500 += 1
        return False  # the rule itself never answers: the armed fault does


def run(db: str = "both", quick: bool = False) -> list[Table]:
    from sqlalchemy import func, select

    from bot.domain import Platform
    from bot.domain.workdays import WorkingCalendar
    from bot.outbox.delivery import deliver
    from handlers.slack.client import build_web_client
    from handlers.slack.sender import SlackSender
    from scheduler.jobs import REMINDER_KINDS, plan_messages
    from storage.db import transaction
    from storage.models import OutboxMessage, OutboxStatus
    from tests.support.fake_slack import FakeSlack

    messages = 200 if quick else MESSAGES
    tables = []
    for label, url in databases(db):
        fresh_database(url)
        core = build_bench_core(url)  # the real clock: Retry-After waits are real
        today = core.today()
        bulk_load(
            url,
            actions=messages,
            due_soon=messages,
            owners=messages,
            today=today,
            now=core.now(),
        )
        calendar = WorkingCalendar.from_settings(core.settings)
        # No chairs: only the 1,000 reminders are queued (escalations are not the subject).
        core.settings = core.settings.model_copy(update={"chair_user_ids": ()})
        planned = plan_messages(core, calendar, platforms=[Platform.SLACK])
        with FakeSlack() as fake:
            script = RateLimitScript(fake, rate=RATE, every_500=FIVE_HUNDRED_EVERY)
            fake.fail_when("chat.postMessage", script, error="unused")
            client = build_web_client("xoxb-bench", base_url=fake.api_url)
            senders = [SlackSender(client, core)]
            started = time.perf_counter()
            passes = 0
            pauses = 0
            while time.perf_counter() - started < DEADLINE:
                passes += 1
                report = deliver(core, senders, kinds=REMINDER_KINDS)
                with transaction(core.sessions) as session:
                    left = session.scalar(
                        select(func.count()).where(
                            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
                        )
                    )
                    soonest = session.scalar(
                        select(func.min(OutboxMessage.not_before)).where(
                            OutboxMessage.status == OutboxStatus.PENDING
                        )
                    )
                if not left:
                    break
                # Like the worker: wait for the platform's Retry-After (or the next retry).
                wake = report.paused_until or soonest
                if wake is not None:
                    pauses += 1
                    time.sleep(min(5.0, max(0.0, (wake - core.now()).total_seconds())))
            elapsed = time.perf_counter() - started
            calls = fake.calls("chat.postMessage")
        ok = [c for c in calls if c.ok]
        per_message = Counter((c.params.get("channel"), c.text) for c in ok)
        twice = sum(1 for n in per_message.values() if n > 1)
        outcomes = Counter(c.outcome for c in calls)
        with transaction(core.sessions) as session:
            # The reminders' own rows (each went out inside its owner's one message).
            states = Counter(
                str(s)
                for s in session.scalars(
                    select(OutboxMessage.status).where(OutboxMessage.kind == "reminder")
                ).all()
            )
        core.sessions.kw["bind"].dispose()
        queued = sum(planned.values())
        allowed = RATE
        achieved = len(ok) / elapsed if elapsed else 0.0
        floor = queued / allowed
        table = Table(f"4. Delivery under rate limits ({label}, {queued:,} reminders)")
        table.add(
            "delivered once (distinct messages sent ok)",
            f"{len(per_message):,} / {queued:,}",
            f"{queued:,}",
            ok=len(per_message) == queued and states.get("sent", 0) == queued,
        )
        table.add("sent twice", str(twice), "0", ok=twice == 0)
        table.add(
            "total time",
            f"{elapsed:.1f} s",
            f"close to {floor:.1f} s",
            f"{floor:.1f} s at the allowed rate",
            ok=elapsed <= floor * 1.25 + 2,
        )
        table.add(
            "achieved vs allowed rate",
            f"{achieved:.1f} msg/s",
            f"close to {allowed} msg/s",
            f"{allowed} msg/s",
            ok=achieved >= allowed * 0.8,
        )
        table.add(
            "calls answered",
            ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        )
        table.add("outbox rows", ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
        table.notes.append(
            f"fake Slack: {RATE} chat.postMessage calls per 1-s window, then 429 Retry-After 1; "
            f"every {FIVE_HUNDRED_EVERY}th call HTTP 500; {script.armed_429} 429s and "
            f"{script.armed_500} 500s injected; {passes} delivery passes, {pauses} waits; "
            "ok = within 25% (+2 s) of the floor"
        )
        tables.append(table)
    return tables

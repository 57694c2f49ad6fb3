"""8. One message per person per run: a 300-action plan's reminders, nudges and escalations.

A plan of 300 open actions over 20 owners (one also supporting every tenth action) and two
chairs: due today, tomorrow and in 7 days, a little late, long late, and blocked a while.
One run plans every notice and delivers it through the fake Slack limited to RATE posts a
second (bench.delivery's script: 429 + Retry-After beyond it). Printed: messages per person
(max, mean) and the delivery time, beside the baseline of one message per notice (how the
bot sent them before bundling, counted from the notices planned; its time at the same rate).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter

from bench.common import Table, build_bench_core, databases, fresh_database
from bench.delivery import RATE, RateLimitScript

ACTIONS = 300
OWNERS = 20
CHAIRS = ("UCHAIR1", "UCHAIR2")
#: A Monday in working time, so every kind of notice is due.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DEADLINE = 300.0


def run(db: str = "both", quick: bool = False) -> list[Table]:
    from sqlalchemy import func, select

    from bot.domain import Platform, Role, Status
    from bot.domain.workdays import WorkingCalendar
    from bot.outbox.delivery import deliver
    from handlers.slack.client import build_web_client
    from handlers.slack.sender import SlackSender
    from scheduler.jobs import REMINDER_KINDS, plan_messages
    from storage.db import transaction
    from storage.models import Action, Identity, OutboxMessage, OutboxStatus, Person, Supporter
    from tests.support.fake_slack import FakeSlack

    del quick  # the plan is small: the run is the same either way
    tables = []
    for label, url in databases(db):
        fresh_database(url)
        core = build_bench_core(url, now=NOW, chair_user_ids=CHAIRS)
        today = core.today()
        created = NOW - dt.timedelta(days=90)
        with transaction(core.sessions) as session:
            for chair in CHAIRS:
                person = Person(display_name=f"Chair {chair}", role=Role.CHAIR, created_at=created)
                person.identities.append(Identity(platform=Platform.SLACK, external_id=chair))
                session.add(person)
            owners = []
            for n in range(OWNERS):
                person = Person(display_name=f"Owner {n}", created_at=created)
                person.identities.append(Identity(platform=Platform.SLACK, external_id=f"U{n:07d}"))
                session.add(person)
                owners.append(person)
            session.flush()
            for n in range(ACTIONS):
                ahead = (0, 1, 7, -2, -12, 30)[n % 6]
                blocked = n % 6 == 5
                action = Action(
                    title=f"Action {n}",
                    owner_id=owners[n % OWNERS].id,
                    due_date=today + dt.timedelta(days=ahead),
                    status=Status.BLOCKED if blocked else Status.OPEN,
                    blocked_reason="waiting on partners" if blocked else None,
                    created_at=created,
                    updated_at=created,
                )
                if n % 10 == 3:
                    action.supporters.append(Supporter(person_id=owners[0].id, position=0))
                session.add(action)
        calendar = WorkingCalendar.from_settings(core.settings)
        planned = plan_messages(core, calendar, platforms=[Platform.SLACK])
        notices = sum(planned.values())
        with transaction(core.sessions) as session:
            per_notice = Counter(
                session.scalars(
                    select(OutboxMessage.recipient_id).where(OutboxMessage.kind.in_(REMINDER_KINDS))
                )
            )
        with FakeSlack() as fake:
            script = RateLimitScript(fake, rate=RATE, every_500=10**9)
            fake.fail_when("chat.postMessage", script, error="unused")
            client = build_web_client("xoxb-bench", base_url=fake.api_url)
            senders = [SlackSender(client, core)]
            started = time.perf_counter()
            while time.perf_counter() - started < DEADLINE:
                report = deliver(core, senders, kinds=REMINDER_KINDS)
                with transaction(core.sessions) as session:
                    left = session.scalar(
                        select(func.count()).where(
                            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
                        )
                    )
                if not left:
                    break
                if report.paused_until is not None:
                    time.sleep(1.0)  # the fake's Retry-After; the core's clock stands still
                    core.clock.advance(dt.timedelta(seconds=1))
            elapsed = time.perf_counter() - started
            ok = [c for c in fake.calls("chat.postMessage") if c.ok]
        core.sessions.kw["bind"].dispose()
        per_person = Counter(str(c.params.get("channel")) for c in ok)
        most = max(per_person.values(), default=0)
        mean = statistics.mean(per_person.values()) if per_person else 0.0
        before_most = max(per_notice.values(), default=0)
        before_mean = statistics.mean(per_notice.values()) if per_notice else 0.0
        table = Table(f"8. One message per person per run ({label}, {ACTIONS} actions)")
        table.add(
            "messages sent",
            f"{len(ok)} to {len(per_person)} people",
            "one per person",
            f"{notices} (one per notice)",
            ok=len(ok) == len(per_person),
        )
        table.add(
            "messages per person (max)",
            str(most),
            "1",
            str(before_most),
            ok=most == 1,
        )
        table.add("messages per person (mean)", f"{mean:.2f}", "1", f"{before_mean:.2f}")
        table.add(
            f"delivery time at Slack's rate ({RATE} msg/s)",
            f"{elapsed:.1f} s",
            "-",
            f"{notices / RATE:.1f} s at best ({notices} posts)",
        )
        table.notes.append(
            f"planned: {', '.join(f'{k} {v}' for k, v in sorted(planned.items()))}; "
            f"{OWNERS} owners and {len(CHAIRS)} chairs; the baseline is one post per notice, "
            f"as sent before bundling, at the same {RATE} posts a second"
        )
        tables.append(table)
    return tables

"""Escalation to the chairs: actions long overdue, and actions blocked for a while.

An action more than ESCALATE_AFTER_DAYS days late, or blocked for more than that many days,
is escalated to every chair once a week while it stays so (a blocked action's chairs are
told at once by `/action blocked`; this is the reminder that it still is). Key:
`escalation:{action}:{due}:{reason}:{ISO week}:{chair}`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain import OPEN_STATUSES, Change, Platform, Status
from bot.outbox import deferred
from bot.people.directory import Account
from bot.people.resolve import chairs, upsert_account
from bot.render import notices
from bot.services.context import Core
from bot.services.digest import iso_week
from scheduler.bulk_queue import Planned
from storage.db import transaction
from storage.models import Action, HistoryEntry, Person

log = logging.getLogger(__name__)

ESCALATION = "escalation"


def blocked_since(session: Session) -> dict[int, dt.datetime]:
    """When each blocked action last became blocked, from its history (one grouped query)."""
    query = (
        select(HistoryEntry.action_id, func.max(HistoryEntry.at))
        .join(Action, Action.id == HistoryEntry.action_id)
        .where(
            Action.status == Status.BLOCKED,
            HistoryEntry.change == Change.STATUS,
            HistoryEntry.new_value == Status.BLOCKED.value,
        )
        .group_by(HistoryEntry.action_id)
    )
    return {action_id: at for action_id, at in session.execute(query).all()}


def plan_escalations(
    session: Session,
    *,
    settings: Settings,
    today: dt.date,
    people: Sequence[Person],
) -> list[Planned]:
    """Escalations due by `today`, one per action, reason and chair, keyed by ISO week."""
    threshold = settings.escalate_after_days
    week = iso_week(today)
    found: list[tuple[int, dt.date | None, notices.EscalationReason, int]] = []
    since = blocked_since(session)
    blocked = session.execute(
        select(Action.id, Action.due_date, Action.updated_at).where(Action.status == Status.BLOCKED)
    )
    for action_id, due, updated_at in blocked:
        # Imported as blocked, with no history of it: count from the action's last change.
        start = since.get(action_id, updated_at).astimezone(settings.tz).date()
        days = (today - start).days
        if days > threshold:
            found.append((action_id, due, "blocked", days))
    escalated = {action_id for action_id, _, _, _ in found}
    late = session.execute(
        select(Action.id, Action.due_date).where(
            Action.status.in_(OPEN_STATUSES),
            Action.due_date < today - dt.timedelta(days=threshold),
        )
    )
    for action_id, due in late:
        assert due is not None
        if action_id in escalated:  # one escalation an action: being blocked says more
            continue
        found.append((action_id, due, "overdue", (today - due).days))
    if found and not people:
        log.warning("%d escalation(s) due but no chair is known (CHAIR_USER_IDS)", len(found))
    planned: list[Planned] = []
    for action_id, due, reason, days in found:
        # One payload however many chairs receive it.
        payload = deferred.escalation_payload(today, due, reason, days)
        when = due.isoformat() if due else "none"
        for chair in people:
            planned.append(
                Planned(
                    key=f"{ESCALATION}:{action_id}:{when}:{reason}:{week}:{chair.id}",
                    kind=ESCALATION,
                    recipient_id=chair.id,
                    action_id=action_id,
                    payload=payload,
                )
            )
    return planned


def ensure_chairs(
    session: Session, *, core: Core, platforms: Sequence[Platform], now: dt.datetime
) -> list[Person]:
    """Every chair of CHAIR_USER_IDS as a person the bot can message, then all chairs.

    A chair who never used the bot is otherwise unknown, and escalations would have nobody to
    go to. Each is looked up in the directory of a platform we send on; without a directory
    a plain id is taken to be an account on the first such platform.
    """
    known = chairs(session, settings=core.settings)
    names = {i.external_id.lower() for p in known for i in p.identities}
    names |= {p.email.lower() for p in known if p.email}
    added = False
    for value in core.settings.chair_user_ids:
        if value.lower() in names:
            continue
        account = _lookup(core, value, platforms)
        if account is None:
            log.warning("chair %s is not known on %s", value, ", ".join(platforms) or "-")
            continue
        upsert_account(session, account=account, now=now)
        added = True
    return list(chairs(session, settings=core.settings)) if added else list(known)


def _lookup(core: Core, value: str, platforms: Sequence[Platform]) -> Account | None:
    for platform in platforms:
        directory = core.directories.get(platform)
        account = None
        if directory is not None:
            lookup = directory.lookup_email if "@" in value else directory.lookup_id
            try:
                account = lookup(value)
            except Exception as exc:  # a directory is a network call: it must not stop the job
                log.warning("looking up chair %s on %s failed: %s", value, platform, exc)
        if account is not None:
            return account
        if "@" not in value:
            # An id the directory cannot describe is still worth a try: if it is wrong, the
            # send fails and says so, rather than escalations going nowhere without a word.
            return Account(platform=platform, external_id=value, name=value)
    return None


def register_chairs(core: Core, *, platforms: Sequence[Platform]) -> None:
    """ensure_chairs in its own transaction; a second worker doing it at the same moment wins
    the race harmlessly (the unique account constraint refuses the copy, we read theirs)."""
    for attempt in (1, 2):
        try:
            with transaction(core.sessions) as session:
                ensure_chairs(session, core=core, platforms=platforms, now=core.now())
            return
        except IntegrityError:
            if attempt == 2:
                raise

"""Personal data: `actionbot people export` (subject access), `people forget` (erasure with the
history re-sealed), and retention (`people retention`, RETENTION_MONTHS, the worker's daily run).

End to end on the tests' database (SQLite, or PostgreSQL with TEST_DATABASE_URL): the plan and
the people come in through the real paths (people file, plan file, commands, delivery), the
commands run as the real `actionbot` in a child process, and what is left is read back from
every text column of every table.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Role, Status
from bot.domain.workdays import WorkingCalendar
from bot.outbox.delivery import deliver
from bot.people.directory import ConsoleDirectory
from bot.people.privacy import (
    ERASED,
    ERASED_REASON,
    REMOVED_OWNER,
    Matcher,
    Target,
    apply_retention,
    months_before,
)
from bot.plans.importer import import_file
from bot.render.inline import person_token
from bot.services.context import Caller, Core
from scheduler.jobs import Ticker
from storage.db import transaction
from storage.history_chain import verify
from storage.models import (
    DEFAULT_BOARD_ID,
    Action,
    HistoryEntry,
    Identity,
    Meeting,
    OutboxMessage,
    Person,
    PlanSnapshot,
    TeamsReference,
)
from storage.queries import find_by_email
from tests.conftest import MONDAY
from tests.reliability.helpers import added_id, ok
from tests.scheduler_fakes import FakeSender
from wiring.people import forget_person, import_people

ROOT = Path(__file__).resolve().parents[1]

AMIRA_EMAIL = "amira.khan@council.gov.uk"
BEN_EMAIL = "ben.ode@council.gov.uk"
AMIRA_TEAMS = "29:1amira-aad"
PEOPLE = (
    "Name,Job title,Organisation,Email,Aliases\n"
    f"Amira Khan,Head of Service Front Door,Westshire Council,{AMIRA_EMAIL},HoS Front Door\n"
    f"Ben Ode,Performance Analyst,Westshire Council,{BEN_EMAIL},\n"
)
PLAN = (
    "Ref,Action,Owner,Due,Status,Notes\n"
    "FD-9,Map the referral routes,Amira Khan,2026-12-18,In progress,call Amira Khan on Monday\n"
)
#: Whatever names Amira, in any case: her name, surname, email, console and Teams ids.
AMIRA_WORDS = ("amira", "khan", AMIRA_EMAIL, AMIRA_TEAMS)


def people_callers() -> tuple[Caller, Caller]:
    amira = Caller(Platform.CONSOLE, "amira", display_name="Amira Khan", email=AMIRA_EMAIL)
    ben = Caller(Platform.CONSOLE, "ben", display_name="Ben Ode", email=BEN_EMAIL)
    return amira, ben


def seed(core: Core, chair: Caller, tmp_path: Path) -> dict[str, int]:
    """A small board: the people file, a plan, commands mentioning Amira, messages delivered,
    and her Teams account with its conversation reference."""
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    import_people(core, people, out=io.StringIO())
    amira, ben = people_callers()
    # Each has used the bot before: their console accounts are theirs, not new people.
    ok(core, amira, "/action list")
    ok(core, ben, "/action list")
    audit = added_id(ok(core, chair, "/action add Audit the front door @amira due 2026-12-04"))
    shared = added_id(
        ok(core, chair, "/action add Threshold document for @ben, @amira by 2026-12-18")
    )
    ok(core, chair, f"/action update {audit} spoke to <@amira> about Amira Khan's first visit")
    ok(core, ben, f"/action update {shared} draft sent to <@amira> for comment")
    ok(core, amira, f"/action done {audit} signed off")
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    import_file(core, plan, directory=ConsoleDirectory())
    deliver(core, [FakeSender()])
    with transaction(core.sessions) as session:
        person = find_by_email(session, email=AMIRA_EMAIL)
        assert person is not None
        # What the Teams adapter stores when she first writes to the bot there.
        person.identities.append(Identity(platform=Platform.TEAMS, external_id=AMIRA_TEAMS))
        session.add_all(
            [
                _reference(f"user:{AMIRA_TEAMS}", AMIRA_TEAMS, "Amira Khan", AMIRA_EMAIL),
                _reference("conversation:19:board", None, "Improvement Board", None),
            ]
        )
        amira_id = person.id
        # What the board was shown at a meeting's cut-off: kept append-only by the database.
        meeting = Meeting(title="December board", starts_at=MONDAY, created_at=MONDAY)
        session.add(meeting)
        session.flush()
        session.add(
            PlanSnapshot(
                meeting_id=meeting.id,
                taken_at=MONDAY,
                action_id=audit,
                title="Audit the front door",
                owner_id=amira_id,
                owner_name="Amira Khan",
                status=Status.OPEN,
                rebaselines=0,
            )
        )
        ben_person = find_by_email(session, email=BEN_EMAIL)
        assert ben_person is not None
        ben_id = ben_person.id
    return {"amira": amira_id, "ben": ben_id, "audit": audit, "shared": shared}


def _reference(key: str, user: str | None, name: str, email: str | None) -> TeamsReference:
    return TeamsReference(
        key=key,
        service_url="http://127.0.0.1:9/teams/",
        conversation_id=f"a:{key}",
        conversation_type="personal" if user else "channel",
        tenant_id="tenant-1",
        bot_id="28:bot",
        user_id=user,
        name=name,
        email=email,
        updated_at=MONDAY,
    )


def cli(core: Core, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """The real `actionbot` in a child process, on the test's database."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_")) and k != "RETENTION_MONTHS"
    }
    environment.update(
        DATABASE_URL=core.settings.database_url,
        CHAIR_USER_IDS="chair",
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=environment,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dump(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as the database holds it."""
    engine = core.sessions.kw["bind"]
    metadata = MetaData()
    metadata.reflect(engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            result = connection.execute(select(table))
            rows[table.name] = sorted((tuple(row) for row in result), key=repr)
    return rows


def leftovers(core: Core, words: tuple[str, ...]) -> list[str]:
    """Each text value of the whole database that still holds one of `words`."""
    found: list[str] = []
    for table, rows in dump(core).items():
        for row in rows:
            for value in row:
                text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
                if isinstance(text, str) and any(w.lower() in text.lower() for w in words):
                    found.append(f"{table}: {text[:160]}")
    return found


# --- subject access -------------------------------------------------------------------------


def test_export_gives_everything_held_about_a_person(
    core: Core, chair: Caller, tmp_path: Path
) -> None:
    ids = seed(core, chair, tmp_path)
    result = cli(core, "people", "export", AMIRA_EMAIL.upper())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)

    assert data["person"]["id"] == ids["amira"]
    assert data["person"]["display_name"] == "Amira Khan"
    assert data["person"]["email"] == AMIRA_EMAIL
    assert data["person"]["job_title"] == "Head of Service Front Door"
    assert {(a["platform"], a["external_id"]) for a in data["accounts"]} == {
        ("console", "amira"),
        ("teams", AMIRA_TEAMS),
    }
    assert {"kind": "alias", "text": "HoS Front Door"} in data["directory_names"]
    assert [r["key"] for r in data["teams_conversation_references"]] == [f"user:{AMIRA_TEAMS}"]
    owned = {a["title"]: a for a in data["actions_owned"]}
    assert set(owned) == {"Audit the front door", "Map the referral routes"}
    assert owned["Audit the front door"]["status"] != "open"
    assert owned["Map the referral routes"]["ref"] == "FD-9"
    assert [a["title"] for a in data["actions_supported"]] == ["Threshold document"]

    history = data["history"]
    made = [h for h in history if "made by them" in h["why"]]
    assert ("status", "signed off") in [(h["change"], h["note"]) for h in made]
    assert all(h["action_id"] == ids["audit"] for h in made)
    named = [h for h in history if "names them" in h["why"]]
    # The assignments name her; notes mention her by token and by name.
    assert any(h["change"] == "assigned" and h["new_value"] == "Amira Khan" for h in named)
    mention = person_token(ids["amira"], "Amira Khan")
    assert any(h["note"] == f"draft sent to {mention} for comment" for h in named)
    assert any("plan" not in h["why"] and h["note"] and "Amira Khan's" in h["note"] for h in named)

    to_her = data["messages_to_them"]
    assert to_her and all(m["payload"]["text"] for m in to_her)
    assert any(m["status"] == "sent" and "assigned you" in m["payload"]["text"] for m in to_her)
    assert all(m["id"] not in {n["id"] for n in to_her} for m in data["messages_naming_them"])
    assert "digest_snapshots" in data["not_held"]

    # Someone the bot knows no email of is found by a chat user id, or by their id.
    for who in ("amira", AMIRA_TEAMS, f"person:{ids['amira']}"):
        found = cli(core, "people", "export", who)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["person"]["id"] == ids["amira"]

    written = tmp_path / "amira.json"
    result = cli(core, "people", "export", AMIRA_EMAIL, "--out", str(written))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(written.read_text(encoding="utf-8"))["person"] == data["person"]


def test_export_and_forget_refuse_an_unknown_email(core: Core, tmp_path: Path) -> None:
    out = tmp_path / "nobody.json"
    result = cli(core, "people", "export", "nobody@council.gov.uk", "--out", str(out))
    assert result.returncode == 1
    assert "nobody has the email 'nobody@council.gov.uk'" in result.stderr
    assert not out.exists()
    result = cli(core, "people", "forget", "nobody@council.gov.uk", "--yes")
    assert result.returncode == 1
    assert "nobody has the email" in result.stderr
    result = cli(core, "people", "export", "U0NOBODY")
    assert result.returncode == 1
    assert "nobody is known as 'U0NOBODY' (give an email, person:N or a chat user id)" in (
        result.stderr
    )


# --- erasure --------------------------------------------------------------------------------


def test_forget_replaces_her_everywhere_and_the_history_still_verifies(
    core: Core, chair: Caller, tmp_path: Path
) -> None:
    ids = seed(core, chair, tmp_path)
    engine = core.sessions.kw["bind"]
    before = dump(core)
    assert leftovers(core, AMIRA_WORDS)
    assert verify(engine).intact

    result = cli(
        core, "people", "forget", AMIRA_EMAIL, "--yes", "--reason", "Amira Khan asked (SAR-12)"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Forgot Amira Khan <{AMIRA_EMAIL}> (person {ids['amira']})" in out
    assert f"now known as: Former member {ids['amira']}" in out
    assert f"chat accounts removed: console amira, teams {AMIRA_TEAMS}" in out
    assert "Teams conversation references removed: 1" in out
    assert "plan_snapshots.owner_name: 1 row rewritten" in out
    assert "the chain was sealed again from entry #" in out

    verified = cli(core, "verify-history")
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout

    # Nothing that names her is left, in any text column of any table.
    assert leftovers(core, AMIRA_WORDS) == []
    # Ben, the chair and the board's channel are untouched.
    assert leftovers(core, ("Ben Ode", BEN_EMAIL, "Improvement Board"))

    after = dump(core)
    # The history keeps every row, plus one `erased` entry per action whose trail changed.
    old_ids = {row[0] for row in before["action_history"]}
    new_rows = [row for row in after["action_history"] if row[0] not in old_ids]
    assert {row[0] for row in after["action_history"]} >= old_ids
    with transaction(core.sessions) as session:
        erased = session.scalars(
            select(HistoryEntry).where(HistoryEntry.change == ERASED).order_by(HistoryEntry.id)
        ).all()
        assert len(erased) == len(new_rows) >= 2
        old_head = max(before["action_history"], key=lambda r: r[0])
        head_column = [c.name for c in HistoryEntry.__table__.columns].index("hash")
        for entry in erased:
            assert entry.source == "privacy"
            assert entry.actor_id is None
            assert entry.old_value == old_head[head_column]
            assert entry.note is not None
            assert f"Former member {ids['amira']} (person {ids['amira']})" in entry.note
            assert "reason: Former member" in entry.note  # her name in the reason went too
            assert "(SAR-12)" in entry.note
            assert f"the chain's head before was {old_head[head_column]}" in entry.note
        person = session.get(Person, ids["amira"])
        assert person is not None
        assert person.display_name == f"Former member {ids['amira']}"
        assert person.email is None and person.job_title is None and person.identities == []
        assert person.left_reason == ERASED_REASON
        # The token still points at her id, with the pseudonym.
        notes = session.scalars(
            select(HistoryEntry.note).where(HistoryEntry.action_id == ids["shared"])
        ).all()
        token = person_token(ids["amira"], f"Former member {ids['amira']}")
        assert f"draft sent to {token} for comment" in notes
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient_id == ids["amira"])
        ).all()
        assert sent and all(m.platform_channel is None for m in sent)

    # She is gone for the export too; forgetting her again changes nothing.
    assert cli(core, "people", "export", AMIRA_EMAIL).returncode == 1
    again = cli(core, "people", "forget", f"person:{ids['amira']}", "--yes")
    assert again.returncode == 0, again.stderr
    assert f"Former member {ids['amira']} was already forgotten" in again.stdout
    assert dump(core) == after


def test_forget_asks_first_and_changes_nothing_without_a_yes(
    core: Core, chair: Caller, tmp_path: Path
) -> None:
    seed(core, chair, tmp_path)
    before = dump(core)
    result = cli(core, "people", "forget", AMIRA_EMAIL, stdin="no\n")
    assert result.returncode == 1
    assert "Forget Amira Khan" in result.stderr
    assert "This cannot be undone" in result.stderr
    assert "Nothing was changed." in result.stderr
    assert dump(core) == before

    result = cli(core, "people", "forget", AMIRA_EMAIL, stdin="yes\n")
    assert result.returncode == 0, result.stderr
    assert "Forgot Amira Khan" in result.stdout


def test_matcher_keeps_other_people_and_finds_her_in_every_form() -> None:
    amira = Target(7, ("Amira Khan", "Khan, Amira", AMIRA_EMAIL, "U0AMIRA"), ("U0AMIRA",))
    matcher = Matcher([amira])
    gone = "Former member 7"
    token = person_token(7, gone)
    assert matcher.scrub("owner: Amira Khan") == f"owner: {gone}"
    assert matcher.scrub("AMIRA KHAN, Ben Ode") == f"{gone}, Ben Ode"
    assert matcher.scrub("Khan, Amira (HoS)") == f"{gone} (HoS)"
    assert matcher.scrub(f"mail {AMIRA_EMAIL}.") == f"mail {gone}."
    assert matcher.scrub("old <@person:7|Amira K> note") == f"old {token} note"
    # A namesake, another person: her mention keeps its name.
    assert matcher.scrub("<@person:8|Amira Khan>") == "<@person:8|Amira Khan>"
    # Slack's own markup in rows written before mentions were neutral.
    assert matcher.scrub("ask <@U0AMIRA|amira> and <@U0BEN>") == f"ask {token} and <@U0BEN>"
    # Whole words only.
    assert matcher.scrub("Amira Khanum") == "Amira Khanum"
    assert matcher.names("see Amira Khan") and not matcher.names("see Ben")
    assert matcher.scrub_json(
        {"owner": {"id": 7, "name": "Amira", "accounts": {"slack": "U"}}}
    ) == {"owner": {"id": 7, "name": gone, "accounts": {}}}


# --- retention ------------------------------------------------------------------------------

LONG_AGO = dt.datetime(2024, 3, 4, 10, 0, tzinfo=dt.UTC)


def seed_retention(core: Core, clock: FixedClock, chair: Caller, tmp_path: Path) -> dict[str, int]:
    """Amira's only action closed long ago (Ben supported it); Ben still has an open one."""
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    import_people(core, people, out=io.StringIO())
    amira, ben = people_callers()
    clock.set(LONG_AGO)
    # Each has used the bot before: their console accounts are theirs, not new people.
    ok(core, amira, "/action list")
    ok(core, ben, "/action list")
    old = added_id(ok(core, chair, "/action add Old audit for @amira, @ben by 2024-03-29"))
    ok(core, amira, f"/action update {old} done with <@ben>'s help")
    ok(core, chair, f"/action cancel {old} merged into the new audit")
    # A plan's owner the bot knows nobody by: the words are kept as the owner's text.
    plan = tmp_path / "old-plan.csv"
    plan.write_text(
        "Ref,Action,Owner,Due,Notes\nOLD-2,Old review,Jane Doe,2024-03-20,ask Jane Doe first\n",
        encoding="utf-8",
    )
    import_file(core, plan, directory=ConsoleDirectory())
    with transaction(core.sessions) as session:
        review = session.scalars(select(Action.id).where(Action.ref == "OLD-2")).one()
    ok(core, chair, f"/action cancel {review} replaced by the audit")
    deliver(core, [FakeSender()])
    clock.set(MONDAY)
    current = added_id(ok(core, chair, "/action add Current work @ben due 2026-12-18"))
    with transaction(core.sessions) as session:
        amira_person = find_by_email(session, email=AMIRA_EMAIL)
        ben_person = find_by_email(session, email=BEN_EMAIL)
        assert amira_person is not None and ben_person is not None
        return {
            "amira": amira_person.id,
            "ben": ben_person.id,
            "old": old,
            "review": review,
            "current": current,
        }


def test_retention_dry_run_writes_nothing_and_says_who(
    core: Core, clock: FixedClock, chair: Caller, tmp_path: Path
) -> None:
    ids = seed_retention(core, clock, chair, tmp_path)
    before = dump(core)
    result = cli(core, "people", "retention", "--dry-run", RETENTION_MONTHS="12")
    assert result.returncode == 0, result.stderr
    assert dump(core) == before
    out = result.stdout
    assert "Retention (12 months)" in out
    assert "would forget 1 person (dry run: nothing was changed)" in out
    assert f"person {ids['amira']}: Amira Khan" in out
    assert f"person {ids['ben']}:" not in out
    assert "would be rewritten" in out
    assert f"owners named by the plan (matching nobody) would be removed from #{ids['review']}" in (
        out
    )

    off = cli(core, "people", "retention", "--dry-run")
    assert off.returncode == 0
    assert "Retention is off" in off.stdout
    assert dump(core) == before


def test_retention_forgets_who_has_nothing_else_and_keeps_the_rest(
    core: Core, clock: FixedClock, chair: Caller, tmp_path: Path
) -> None:
    ids = seed_retention(core, clock, chair, tmp_path)
    with transaction(core.sessions) as session:
        result = apply_retention(
            session, settings=core.settings, months=24, now=MONDAY, dry_run=False
        )
    assert result.cutoff == dt.datetime(2024, 11, 23, 9, 30, tzinfo=dt.UTC)
    assert result.people == [(ids["amira"], "Amira Khan")]
    assert verify(core.sessions.kw["bind"]).intact
    assert leftovers(core, ("Amira Khan", AMIRA_EMAIL, "Jane Doe")) == []
    assert leftovers(core, ("Ben Ode",)), "Ben has an open action: he stays"
    with transaction(core.sessions) as session:
        ben = session.get(Person, ids["ben"])
        assert ben is not None and ben.display_name == "Ben Ode"
        # Ben's mention in the closed action's note stays his.
        notes = session.scalars(
            select(HistoryEntry.note).where(HistoryEntry.action_id == ids["old"])
        ).all()
        ben_token = person_token(ids["ben"], "Ben Ode")
        assert any(note and ben_token in note for note in notes)

    with transaction(core.sessions) as session:
        review = session.get(Action, ids["review"])
        assert review is not None and review.owner_text is None
        trail = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action_id == ids["review"])
        ).all()
        # The trail kept the plan's owner text when the plan was loaded.
        assert REMOVED_OWNER in [e.new_value for e in trail if e.change == "owner_text"]
        assert review.notes == f"ask {REMOVED_OWNER} first"
        assert any(
            e.change == ERASED and f"the owner named by the plan on #{ids['review']}" in e.note
            for e in trail
            if e.note
        )

    # Run again: nobody left to forget, nothing changes.
    before = dump(core)
    with transaction(core.sessions) as session:
        again = apply_retention(
            session, settings=core.settings, months=24, now=MONDAY, dry_run=False
        )
    assert again.people == []
    assert dump(core) == before

    # Not yet due: a closed action younger than the setting keeps its people.
    with transaction(core.sessions) as session:
        young = apply_retention(
            session, settings=core.settings, months=36, now=MONDAY, dry_run=True
        )
    assert young.people == [] and young.expired_actions == 0


def test_the_worker_applies_retention_once_a_day(
    core: Core, clock: FixedClock, chair: Caller, tmp_path: Path
) -> None:
    ids = seed_retention(core, clock, chair, tmp_path)
    settings = core.settings.model_copy(update={"retention_months": 24})
    worker_core = Core(
        settings=settings, sessions=core.sessions, clock=clock, directories=core.directories
    )
    calendar = WorkingCalendar.from_settings(settings)
    ticker = Ticker(worker_core, [FakeSender()], calendar)
    clock.set(dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC))  # a Saturday, out of hours
    report = ticker.tick()
    assert "retention: forgot 1 person (actions closed more than 24 months ago)" in report.notes
    with transaction(core.sessions) as session:
        amira = session.get(Person, ids["amira"])
        assert amira is not None and amira.left_reason == ERASED_REASON

    # Ben's last action closed long ago too (as the clock had it then): later the same day the
    # worker does not look again...
    clock.set(LONG_AGO + dt.timedelta(days=30))
    ok(core, chair, f"/action cancel {ids['current']} no longer needed")
    clock.set(dt.datetime(2026, 11, 28, 16, 0, tzinfo=dt.UTC))
    assert not any("retention" in note for note in ticker.tick().notes)
    with transaction(core.sessions) as session:
        ben = session.get(Person, ids["ben"])
        assert ben is not None and ben.display_name == "Ben Ode"
    # ...and the next day it does.
    clock.set(dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC))
    assert "retention: forgot 1 person (actions closed more than 24 months ago)" in (
        ticker.tick().notes
    )
    assert verify(core.sessions.kw["bind"]).intact
    assert leftovers(core, ("Amira Khan", "Ben Ode", AMIRA_EMAIL, BEN_EMAIL)) == []


def test_retention_setting() -> None:
    def read(value: str | None) -> int | None:
        env = {} if value is None else {"retention_months": value}
        return Settings(_env_file=None, **env).retention_months  # type: ignore[call-arg, arg-type]

    assert read(None) is None
    assert read("none") is None
    assert read("off") is None
    assert read("24") == 24
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        read("0")
    assert months_before(dt.datetime(2026, 3, 31, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, tzinfo=dt.UTC
    )
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 13) == dt.datetime(
        2024, 12, 15, tzinfo=dt.UTC
    )


def test_someone_with_a_role_is_neither_forgotten_nor_retired(
    core: Core, clock: FixedClock, chair: Caller, tmp_path: Path
) -> None:
    ids = seed_retention(core, clock, chair, tmp_path)
    with transaction(core.sessions) as session:
        amira = session.get(Person, ids["amira"])
        assert amira is not None
        # As `actionbot people role EMAIL member` records it.
        put_role(session, DEFAULT_BOARD_ID, amira.id, Role.MEMBER)
    before = dump(core)
    result = cli(core, "people", "forget", AMIRA_EMAIL, "--yes")
    assert result.returncode == 1
    assert (
        "Amira Khan holds the role member on the board: take it away first "
        "(`actionbot people role EMAIL none`), then forget them."
    ) in result.stderr
    assert dump(core) == before
    with transaction(core.sessions) as session:
        kept = apply_retention(session, settings=core.settings, months=24, now=MONDAY, dry_run=True)
    assert kept.people == []


def test_forget_while_commands_write_history(core: Core, chair: Caller, tmp_path: Path) -> None:
    """Commands go on while an erasure runs: each waits for the other, none fails, and the
    chain verifies with every entry of both."""
    ids = seed(core, chair, tmp_path)
    _, ben = people_callers()
    with transaction(core.sessions) as session:
        entries = len(session.scalars(select(HistoryEntry.id)).all())
    started = threading.Event()
    failures: list[BaseException] = []

    def commands() -> None:
        try:
            for n in range(15):
                ok(core, ben, f"/action update {ids['shared']} progress note {n}")
                started.set()
        except BaseException as exc:
            failures.append(exc)
            started.set()

    worker = threading.Thread(target=commands)
    worker.start()
    started.wait(timeout=30)
    out = io.StringIO()
    code = forget_person(
        core,
        AMIRA_EMAIL,
        reason="",
        by="test",
        confirmed=True,
        answer=io.StringIO(),
        out=out,
        err=io.StringIO(),
    )
    worker.join(timeout=120)
    assert failures == []
    assert code == 0, out.getvalue()
    assert verify(core.sessions.kw["bind"]).intact
    with transaction(core.sessions) as session:
        after = session.scalars(select(HistoryEntry)).all()
    erased = [e for e in after if e.change == ERASED]
    assert len(after) == entries + 15 + len(erased)
    assert leftovers(core, AMIRA_WORDS) == []

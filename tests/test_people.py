"""The people directory: folding names, loading people, finding the owners a plan names, owner
cells with several people, unassigned and unreachable owners, supporting owners, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain import Platform, Status
from bot.domain.workdays import WorkingCalendar
from bot.people.directory import Account, Directory
from bot.people.names import (
    email_in,
    find_people,
    fold,
    load_people,
    name_keys,
)
from bot.people.resolve import resolve_caller
from bot.plans.exporter import export_register
from bot.plans.owners import Owners, look_up_owners, resolve_owners
from bot.plans.rows import OwnerRef, validate_rows
from bot.plans.table import PersonRow, RawRow
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command
from handlers.teams.connector import Connector, NoToken
from handlers.teams.directory import TeamsDirectory
from handlers.teams.references import Reference, find_user_by_email, save_reference
from scheduler.reminders import plan_reminders
from storage.db import transaction
from storage.models import Action, Identity, Person, PersonName, Supporter
from tests.support.fake_connector import fake_connector
from tests.test_console import actionbot

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)

PEOPLE = [
    PersonRow(
        2,
        "Marsh, Helen",
        role="Head of Service – Front Door",
        organisation="Borough Council",
        email="Helen.Marsh@Council.gov.uk",
        aliases=("HoS Front Door", "HoS FD"),
    ),
    PersonRow(3, "Gareth Lowe", role="DCS; Director of Children's Services", email=None),
    PersonRow(4, "Priya Shah", role="Head of Service", organisation="Borough Council"),
    PersonRow(5, "Tom Reid", role="Head of Service", organisation="Police"),
    PersonRow(6, "Zoë Hart (Designated Nurse)", organisation="ICB", email="zoe.hart@nhs.net"),
]


class SlackLike:
    """A chat platform's directory that knows only the accounts it is given."""

    platform = Platform.SLACK

    def __init__(self, *accounts: Account) -> None:
        self.accounts = accounts
        self.asked: list[str] = []

    def lookup_id(self, external_id: str) -> Account | None:
        self.asked.append(external_id)
        return next((a for a in self.accounts if a.external_id == external_id), None)

    def lookup_email(self, email: str) -> Account | None:
        self.asked.append(email)
        return next((a for a in self.accounts if a.email == email), None)


def load(core: Core, rows: Sequence[PersonRow] = PEOPLE) -> list[tuple[str, ...]]:
    with transaction(core.sessions) as session:
        report = load_people(session, rows, now=NOW)
    return [tuple(report.added), tuple(report.updated), (str(report.unchanged),)]


def directory(core: Core) -> list[tuple[object, ...]]:
    """Every person and every name they are known by, as the database holds them."""
    with core.sessions() as session:
        people = [
            (p.display_name, p.job_title, p.organisation, p.email)
            for p in session.scalars(select(Person).order_by(Person.id))
        ]
        names = [
            (n.person_id, n.kind, n.text, n.key)
            for n in session.scalars(select(PersonName).order_by(PersonName.id))
        ]
    return [*people, *names]


def found(core: Core, text: str) -> tuple[str, list[str], str]:
    with core.sessions() as session:
        match = find_people(session, text)
        return match.outcome, [p.display_name for p in match.people], match.via


# --- folding ---------------------------------------------------------------------------------


def test_fold_ignores_case_spacing_punctuation_and_accents() -> None:
    assert fold("  Head of Service – Front  Door ") == "head of service front door"
    assert fold("ZOË  hart") == "zoe hart"
    assert fold("Quality & Performance") == fold("quality and performance")
    assert name_keys("Helen Marsh (HoS Front Door)") == [
        "helen marsh hos front door",
        "helen marsh",
        "hos front door",
    ]
    assert name_keys("Marsh, Helen") == ["marsh helen", "helen marsh"]
    assert "gareth lowe" in name_keys("Gareth Lowe, Head of Service – Front Door")
    assert "head of service front door" in name_keys("Gareth Lowe, Head of Service – Front Door")


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("helen.marsh@council.gov.uk", "helen.marsh@council.gov.uk"),
        ("HELEN.MARSH@COUNCIL.GOV.UK", "helen.marsh@council.gov.uk"),
        (" helen.marsh @ council.gov.uk ", "helen.marsh@council.gov.uk"),
        ("Helen Marsh <Helen.Marsh@Council.gov.uk>", "helen.marsh@council.gov.uk"),
        ('"Marsh, Helen" <helen.marsh@council.gov.uk>', "helen.marsh@council.gov.uk"),
        ("mailto:helen.marsh@council.gov.uk", "helen.marsh@council.gov.uk"),
        ("Helen Marsh", None),
        ("DCS", None),
    ],
)
def test_email_forms(text: str, email: str | None) -> None:
    assert email_in(text) == email


# --- loading ---------------------------------------------------------------------------------


def test_load_people_is_idempotent_and_updates_only_what_changed(core: Core) -> None:
    assert load(core) == [
        ("Helen Marsh", "Gareth Lowe", "Priya Shah", "Tom Reid", "Zoë Hart"),
        (),
        ("0",),
    ]
    first = directory(core)
    assert first[:5] == [
        (
            "Helen Marsh",
            "Head of Service – Front Door",
            "Borough Council",
            "helen.marsh@council.gov.uk",
        ),
        ("Gareth Lowe", "DCS; Director of Children's Services", None, None),
        ("Priya Shah", "Head of Service", "Borough Council", None),
        ("Tom Reid", "Head of Service", "Police", None),
        ("Zoë Hart", None, "ICB", "zoe.hart@nhs.net"),
    ]
    helen = [(kind, text) for pid, kind, text, _ in first[5:] if pid == 1]
    assert helen == [
        ("name", "Helen Marsh"),
        ("title", "Head of Service – Front Door"),
        ("alias", "HoS Front Door"),
        ("alias", "HoS FD"),
    ]
    gareth = [(kind, key) for pid, kind, _, key in first[5:] if pid == 2]
    assert ("title", "dcs") in gareth and ("title", "director of children s services") in gareth

    assert load(core) == [(), (), ("5",)]
    assert directory(core) == first

    # Helen moves job and gains an alias; matched by email although her name is written
    # differently; Gareth's row now has his email and is matched by name.
    changed = [
        PersonRow(2, "Helen Marsh", role="Service Manager", email="helen.marsh@council.gov.uk"),
        PersonRow(3, "gareth  lowe", email="Gareth.Lowe@Council.gov.uk", aliases=("GL",)),
    ]
    assert load(core, changed) == [(), ("Helen Marsh", "Gareth Lowe"), ("0",)]
    after = directory(core)
    assert after[0] == (
        "Helen Marsh",
        "Service Manager",
        "Borough Council",
        "helen.marsh@council.gov.uk",
    )
    assert after[1] == (
        "Gareth Lowe",
        "DCS; Director of Children's Services",
        None,
        "gareth.lowe@council.gov.uk",
    )
    assert after[2:5] == first[2:5]
    helen = [(kind, text) for pid, kind, text, _ in after[5:] if pid == 1]
    # The old title no longer finds her; the aliases stay (a file never forgets them).
    assert helen == [
        ("name", "Helen Marsh"),
        ("alias", "HoS Front Door"),
        ("alias", "HoS FD"),
        ("title", "Service Manager"),
    ]
    assert found(core, "Head of Service – Front Door")[:2] == (
        "ambiguous",
        ["Priya Shah", "Tom Reid"],
    )
    assert found(core, "Service Manager") == ("resolved", ["Helen Marsh"], "title")


def test_find_people(core: Core) -> None:
    load(core)
    with transaction(core.sessions) as session:
        amira = Person(display_name="Amira Khan", created_at=NOW)
        amira.identities.append(Identity(platform=Platform.SLACK, external_id="U012AB3CD"))
        session.add(amira)
    assert found(core, "HELEN.MARSH@COUNCIL.GOV.UK") == ("resolved", ["Helen Marsh"], "email")
    assert found(core, "Marsh, Helen <helen.marsh@council.gov.uk>") == (
        "resolved",
        ["Helen Marsh"],
        "email",
    )
    assert found(core, "Marsh, Helen") == ("resolved", ["Helen Marsh"], "name")
    assert found(core, "Helen Marsh (HoS Front Door)")[:2] == ("resolved", ["Helen Marsh"])
    assert found(core, "hos front door") == ("resolved", ["Helen Marsh"], "alias")
    assert found(core, "Head of Service - Front Door") == ("resolved", ["Helen Marsh"], "title")
    assert found(core, "Gareth Lowe, Head of Service") == ("resolved", ["Gareth Lowe"], "name")
    assert found(core, "Director of Children’s Services") == ("resolved", ["Gareth Lowe"], "title")
    assert found(core, "DCS") == ("resolved", ["Gareth Lowe"], "title")
    assert found(core, "zoe hart") == ("resolved", ["Zoë Hart"], "name")
    assert found(core, "Designated Nurse") == ("resolved", ["Zoë Hart"], "alias")
    assert found(core, "<@U012AB3CD>") == ("resolved", ["Amira Khan"], "chat id")
    assert found(core, "U012AB3CD") == ("resolved", ["Amira Khan"], "chat id")
    assert found(core, "Amira Khan") == ("resolved", ["Amira Khan"], "name")
    # Two Heads of Service: ambiguous, never a guess.
    assert found(core, "Head of Service") == ("ambiguous", ["Priya Shah", "Tom Reid"], "title")
    assert found(core, "nobody@council.gov.uk") == ("unresolved", [], "")
    assert found(core, "HoS") == ("unresolved", [], "")


# --- owner cells -----------------------------------------------------------------------------


def rows(*owner_cells: object, supporting: Sequence[object] = ()) -> list[RawRow]:
    raw = []
    for number, cell in enumerate(owner_cells, start=2):
        cells = {"title": f"Action {number}", "owner": cell, "due": "1/12/2026"}
        if supporting:
            cells["supporting"] = supporting[number - 2]
        where = {"owner": f"'Plan'!C{number}", "supporting": f"'Plan'!D{number}"}
        raw.append(RawRow(number, cells, sheet="Plan", where=where))
    return raw


def test_owner_cells_name_several_people_or_nobody() -> None:
    plan = validate_rows(
        rows(
            "Helen Marsh / Gareth Lowe",
            "HoS Front Door & DCS",
            "a@council.gov.uk; B@Council.gov.uk",
            "a@council.gov.uk, Zoë Hart",
            "Marsh, Helen <helen.marsh@council.gov.uk>, Lowe, Gareth <g@council.gov.uk>",
            "Helen Marsh\nGareth Lowe",
            "Helen Marsh and Gareth Lowe",
            None,
            "TBC",
            "<@U012AB3CD>",
            "amira",
            supporting=[None, None, None, None, None, None, None, "Tom Reid", None, None, None],
        )
    )
    assert [[ref.text for ref in row.owners] for row in plan] == [
        ["Helen Marsh", "Gareth Lowe"],
        ["HoS Front Door", "DCS"],
        ["a@council.gov.uk", "B@Council.gov.uk"],
        ["a@council.gov.uk", "Zoë Hart"],
        [
            "Marsh, Helen <helen.marsh@council.gov.uk>",
            "Lowe, Gareth <g@council.gov.uk>",
        ],
        ["Helen Marsh", "Gareth Lowe"],
        ["Helen Marsh", "Gareth Lowe"],
        [],
        [],
        ["<@U012AB3CD>"],
        ["amira"],
    ]
    assert plan[2].owners[1] == OwnerRef("B@Council.gov.uk", email="b@council.gov.uk")
    assert plan[1].owners[1] == OwnerRef("DCS", name="dcs")  # never a chat user by itself
    assert plan[9].owners[0].key == ("id", "U012AB3CD")
    assert plan[10].owners[0] == OwnerRef("amira", external_id="amira", name="amira")
    assert [ref.text for ref in plan[7].supporting] == ["Tom Reid"]
    assert (plan[8].owner_cell, plan[8].owner_at) == ("TBC", "'Plan'!C10")


def resolve(
    core: Core, raw: list[RawRow], chat: Directory
) -> tuple[Owners, list[tuple[str | None, list[str], str | None]]]:
    plan = validate_rows(raw)
    accounts = look_up_owners(core, plan, directory=chat)
    with transaction(core.sessions) as session:
        owners = resolve_owners(session, plan, directory=chat, accounts=accounts, now=NOW)
        people = [
            (
                p.display_name if (p := owners.owner(row)) else None,
                [s.display_name for s in owners.supporters(row)],
                owners.owner_text(row),
            )
            for row in plan
        ]
    return owners, people


def test_owners_resolved_supporting_unresolved_and_unreachable(core: Core) -> None:
    load(core)
    amira = Account(Platform.SLACK, "U0AMIRA01", "Amira Khan", "amira.khan@council.gov.uk")
    chat = SlackLike(amira)
    owners, people = resolve(
        core,
        rows(
            "Marsh, Helen / DCS",
            "Head of Service – Front Door",
            "AMIRA.KHAN@council.gov.uk & Designated Nurse",
            "Head of Service",
            "HoS",
            "Partner Lead <lead@partner.org.uk>",
            None,
            "Helen Marsh",
            supporting=[None, "Zoë Hart; Tom Reid", None, None, "Gareth Lowe", None, None, "HoS"],
        ),
        chat,
    )
    assert people == [
        ("Helen Marsh", ["Gareth Lowe"], None),
        ("Helen Marsh", ["Zoë Hart", "Tom Reid"], None),
        ("Amira Khan", ["Zoë Hart"], None),
        (None, [], "Head of Service"),
        (None, ["Gareth Lowe"], "HoS"),
        ("Partner Lead", [], None),
        (None, [], None),
        ("Helen Marsh", [], None),
    ]
    assert owners.unresolved == {
        "Head of Service": ["'Plan'!C5"],
        "HoS": ["'Plan'!C6", "'Plan'!D9"],
    }
    assert {text: [p.display_name for p in who] for text, who in owners.ambiguous.items()} == {
        "Head of Service": ["Priya Shah", "Tom Reid"]
    }
    # Known only by email: the imported directory's people and the partner nobody invited.
    assert [p.display_name for p in owners.unreachable] == [
        "Gareth Lowe",
        "Helen Marsh",
        "Partner Lead",
        "Tom Reid",
        "Zoë Hart",
    ]
    # Slack was asked about the emails nobody had, never about a name or "HoS".
    assert chat.asked == ["amira.khan@council.gov.uk", "lead@partner.org.uk"]
    with core.sessions() as session:
        partner = session.scalars(select(Person).where(Person.email == "lead@partner.org.uk")).one()
        assert partner.identities == []


def test_an_unreachable_owner_is_linked_when_they_first_use_the_bot(core: Core) -> None:
    resolve(core, rows("Partner Lead <LEAD@partner.org.uk>"), SlackLike())
    caller = Caller(
        Platform.SLACK, "U0LEAD001", display_name="Pat Lead", email="Lead@Partner.org.uk"
    )
    with transaction(core.sessions) as session:
        person = resolve_caller(session, caller=caller, now=NOW)
        assert (person.display_name, person.email) == ("Partner Lead", "lead@partner.org.uk")
        assert [(i.platform, i.external_id) for i in person.identities] == [
            (Platform.SLACK, "U0LEAD001")
        ]
    with core.sessions() as session:
        assert len(session.scalars(select(Person)).all()) == 1


def test_a_title_with_and_in_it_is_one_owner_when_the_directory_knows_it(core: Core) -> None:
    load(core, [PersonRow(2, "Sam Cole", role="Head of Quality and Performance")])
    _, people = resolve(core, rows("Head of Quality & Performance"), SlackLike())
    assert people == [("Sam Cole", [], None)]


# --- supporting owners and unassigned actions in chat ----------------------------------------


def plan_with_supporter(core: Core) -> None:
    with transaction(core.sessions) as session:
        amira = Person(display_name="Amira", created_at=NOW)
        amira.identities.append(Identity(platform=Platform.CONSOLE, external_id="amira"))
        ben = Person(display_name="Ben", created_at=NOW)
        ben.identities.append(Identity(platform=Platform.CONSOLE, external_id="ben"))
        outsider = Person(display_name="Pat Lead", email="lead@partner.org.uk", created_at=NOW)
        session.add_all([amira, ben, outsider])
        session.flush()
        owned = Action(
            title="Audit case files",
            owner=amira,
            due_date=dt.date(2026, 11, 24),
            status=Status.OPEN,
            created_at=NOW - dt.timedelta(days=30),
            updated_at=NOW,
        )
        owned.supporters.append(Supporter(person_id=ben.id, position=0))
        owned.supporters.append(Supporter(person_id=outsider.id, position=1))
        unassigned = Action(
            title="Front door review",
            owner_text="HoS Front Door",
            due_date=dt.date(2026, 12, 18),
            status=Status.OPEN,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add_all([owned, unassigned])


def test_supporting_owner_may_update_and_is_shown(
    core: Core, amira: Caller, ben: Caller, chair: Caller
) -> None:
    plan_with_supporter(core)
    done = run_command(core, ben, "/action", "update 1 half the files audited")
    assert done.message.text == "Added your update to #1 Audit case files."
    refused = run_command(core, Caller(Platform.CONSOLE, "tom"), "/action", "rag 1 red")
    assert refused.message.text.startswith("Only the owner of #1 (Amira) or a chair can")
    shown = render(run_command(core, ben, "/action", "show 1").message)
    assert "Supporting: Ben, Pat Lead" in shown
    assert "Not reachable in chat yet: Pat Lead" in shown


def test_supporting_owners_are_reminded_with_the_owner(
    core: Core, calendar: WorkingCalendar
) -> None:
    plan_with_supporter(core)
    with core.sessions() as session:
        planned = plan_reminders(
            session, settings=core.settings, calendar=calendar, today=dt.date(2026, 11, 23)
        )
        names = {p.id: p.display_name for p in session.scalars(select(Person))}
    assert sorted((p.key, names[p.recipient_id]) for p in planned) == [
        ("reminder:1:2026-11-24:1", "Amira"),
        ("reminder:1:2026-11-24:1:s2", "Ben"),
        ("reminder:1:2026-11-24:1:s3", "Pat Lead"),
    ]


def test_status_unassigned_and_assign_teaches_the_directory(core: Core, chair: Caller) -> None:
    plan_with_supporter(core)
    listed = render(run_command(core, chair, "/status", "unassigned").message)
    assert "#2 Front door review" in listed
    assert "#2: “HoS Front Door”" in listed
    assert "#1 Audit" not in listed
    digest = render(run_command(core, chair, "/status", "digest").message)
    assert "1 open action has no owner yet: /status unassigned lists them." in digest
    assigned = run_command(core, chair, "/action", "assign 2 @amira")
    assert assigned.message.text == "Assigned #2 Front door review to Amira."
    with core.sessions() as session:
        action = session.get(Action, 2)
        assert action is not None and action.owner_text is None
    assert found(core, "HoS front door") == ("resolved", ["Amira"], "alias")
    empty = run_command(core, chair, "/status", "unassigned").message
    assert empty.text == "Every open action has an owner."


# --- the command line ------------------------------------------------------------------------


def test_people_import_and_list_through_the_cli(database_url: str, tmp_path: Path) -> None:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Cover"
    cover["A1"] = "Children's Services Improvement Board"
    sheet = book.create_sheet("Key individuals")
    sheet.append(["Key individuals (as at November 2026)"])
    sheet.append([])
    sheet.append(["Name", "Role", "Organisation", "E-mail address", "Aliases"])
    sheet.append(
        [
            "Marsh, Helen",
            "Head of Service – Front Door",
            "Council",
            "Helen.Marsh@Council.gov.uk",
            "HoS Front Door; HoS FD",
        ]
    )
    sheet.append(["Gareth Lowe", "Director of Children's Services", "Council", None, "DCS"])
    sheet.append([None, None, None, None, None])
    path = tmp_path / "people.xlsx"
    book.save(path)

    first = actionbot(database_url, "people", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"People from {path}: 2 added, 0 updated, 0 unchanged.",
        "  added    Helen Marsh",
        "  added    Gareth Lowe",
    ]
    again = actionbot(database_url, "people", "import", str(path))
    assert again.stdout.splitlines() == [f"People from {path}: 0 added, 0 updated, 2 unchanged."]

    listed = actionbot(database_url, "people", "list")
    assert listed.returncode == 0, listed.stderr
    lines = [" ".join(line.replace("│", " ").split()) for line in listed.stdout.splitlines()]
    assert "Gareth Lowe Director of Children's Services Council not reachable in chat DCS" in lines
    assert (
        "Helen Marsh Head of Service – Front Door Council helen.marsh@council.gov.uk "
        "not reachable in chat HoS Front Door; HoS FD"
    ) in lines

    bad = tmp_path / "people.txt"
    bad.write_text("name\n")
    refused = actionbot(database_url, "people", "import", str(bad))
    assert refused.returncode == 1
    assert "must be a .csv or .xlsx file" in refused.stderr


def test_the_register_lists_supporting_owners(core: Core) -> None:
    plan_with_supporter(core)
    out = io.BytesIO()
    export_register(core, fmt="csv", history=False, out=out)
    register = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert [(r["title"], r["owner"], r["supporting"], r["owner_text"]) for r in register] == [
        ("Audit case files", "amira", "ben; lead@partner.org.uk", ""),
        ("Front door review", "HoS Front Door", "", "HoS Front Door"),
    ]


def test_teams_owners_by_email_are_found_among_the_board_teams_members(core: Core) -> None:
    with fake_connector() as connector:
        connector.members.update(
            {
                "29:ann": {"name": "Ann Lee", "email": "ann.lee@council.gov.uk"},
                "29:bo": {"name": "Bo Khan", "userPrincipalName": "bo.khan@council.gov.uk"},
                "29:cy": {"name": "Cy Hart", "email": "Cy.Hart@Council.gov.uk"},
            }
        )
        connector.teams["19:board@thread.tacv2"] = ["29:ann", "29:bo", "29:cy"]
        with transaction(core.sessions) as session:
            save_reference(
                session,
                Reference(
                    key="conversation:19:board@thread.tacv2",
                    service_url=connector.url,
                    conversation_id="19:board@thread.tacv2",
                    conversation_type="channel",
                    tenant_id="tenant-1",
                    bot_id="28:bot",
                ),
                now=NOW,
            )
        teams = TeamsDirectory(core.sessions, connector=Connector(NoToken()), clock=FixedClock(NOW))
        _, people = resolve(
            core, rows("cy.hart@council.gov.uk / Bo Khan <BO.KHAN@council.gov.uk>"), teams
        )
        assert people == [("Cy Hart", ["Bo Khan"], None)]
        # Two pages of members (a continuation token), asked once for both emails.
        paged = [c.path for c in connector.calls if "pagedmembers" in c.path]
        assert paged == [
            "/v3/conversations/19%3Aboard%40thread.tacv2/pagedmembers?pageSize=500",
            "/v3/conversations/19%3Aboard%40thread.tacv2/pagedmembers"
            "?pageSize=500&continuationToken=2",
        ]
        assert teams.lookup_email("nobody@council.gov.uk") is None
        assert len([c for c in connector.calls if "pagedmembers" in c.path]) == 2
    with core.sessions() as session:
        cy = session.scalars(select(Person).where(Person.email == "cy.hart@council.gov.uk")).one()
        assert [(i.platform, i.external_id) for i in cy.identities] == [(Platform.TEAMS, "29:cy")]
        # Ann was not named, but she is now a member the bot can reach and link by email.
        assert find_user_by_email(session, email="ann.lee@council.gov.uk") is not None

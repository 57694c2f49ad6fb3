"""A sample improvement plan, so a newcomer sees the bot work in one command."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.plans.importer import import_rows
from bot.plans.reader import RawRow
from bot.services.context import Core
from bot.services.directory import ConsoleDirectory
from storage.db import transaction
from storage.models import Action, Identity, Person, Role

#: Who the console logs in as with --demo: the board's independent chair.
DEMO_CHAIR = "sarah"

#: (console name, display name, email, role)
PEOPLE = [
    ("sarah", "Sarah Mitchell", "sarah.mitchell@board.example", Role.CHAIR),
    ("david", "David Okafor", "david.okafor@council.example", Role.CHAIR),
    ("amira", "Amira Khan", "amira.khan@council.example", Role.MEMBER),
    ("tom", "Tom Price", "tom.price@council.example", Role.MEMBER),
    ("grace", "Grace Lee", "grace.lee@health.example", Role.MEMBER),
    ("raj", "Raj Patel", "raj.patel@police.example", Role.MEMBER),
    ("helen", "Helen Morris", "helen.morris@council.example", Role.MEMBER),
    ("owen", "Owen Hughes", "owen.hughes@council.example", Role.MEMBER),
]

# (ref, workstream, title, owner, days from today, status, rag, priority, notes)
_PLAN = [
    (
        "CIN-01",
        "Children in need",
        "Audit 50 children-in-need plans for SMART outcomes",
        "amira",
        -12,
        "in progress",
        "red",
        "high",
        "Priority action 1 of the focus visit",
    ),
    (
        "CIN-02",
        "Children in need",
        "Introduce monthly management oversight of CIN plans",
        "amira",
        4,
        "open",
        "amber",
        "high",
        None,
    ),
    (
        "CP-01",
        "Child protection",
        "Strategy meetings held within 3 working days of referral",
        "tom",
        -5,
        "open",
        "red",
        "high",
        "Priority action 2 of the focus visit",
    ),
    (
        "CP-02",
        "Child protection",
        "Re-audit child protection plans that ended within 3 months",
        "tom",
        2,
        "open",
        "amber",
        "medium",
        None,
    ),
    (
        "CP-03",
        "Child protection",
        "Publish revised threshold document with the partnership",
        "helen",
        -20,
        "done",
        "green",
        "medium",
        None,
    ),
    (
        "PART-01",
        "Partnership (police & health)",
        "Police attend every initial child protection conference",
        "raj",
        -3,
        "blocked",
        "red",
        "high",
        "Awaiting police duty rota sign-off by the Superintendent",
    ),
    (
        "PART-02",
        "Partnership (police & health)",
        "Health visitor information shared before strategy meetings",
        "grace",
        0,
        "open",
        "amber",
        "high",
        None,
    ),
    (
        "PART-03",
        "Partnership (police & health)",
        "Joint training on neglect for GPs and social workers",
        "grace",
        25,
        "open",
        "green",
        "medium",
        None,
    ),
    (
        "WF-01",
        "Workforce",
        "Reduce social worker caseloads to 18 or fewer",
        "helen",
        45,
        "in progress",
        "amber",
        "high",
        "Priority action 3 of the focus visit",
    ),
    (
        "WF-02",
        "Workforce",
        "Recruit 6 permanent social workers to replace agency staff",
        "helen",
        6,
        "open",
        "amber",
        "medium",
        None,
    ),
    (
        "IT-01",
        "IT & case recording",
        "Fix the case recording system's chronology report",
        "owen",
        -2,
        "open",
        "amber",
        "medium",
        None,
    ),
    (
        "IT-02",
        "IT & case recording",
        "Add supervision records to the case management system",
        "owen",
        -30,
        "done",
        "green",
        "low",
        None,
    ),
    (
        "QA-01",
        "Quality assurance",
        "Monthly multi-agency case audit reported to the board",
        "david",
        9,
        "open",
        "green",
        "medium",
        None,
    ),
    (
        "QA-02",
        "Quality assurance",
        "Practice week: senior leaders observe frontline visits",
        "david",
        16,
        "open",
        None,
        "low",
        None,
    ),
]


def demo_rows(today: dt.date) -> list[RawRow]:
    """The sample plan with deadlines around `today`: some overdue, some this week, some done."""
    rows = []
    for number, (ref, stream, title, owner, days, status, rag, priority, notes) in enumerate(
        _PLAN, start=2
    ):
        cells: dict[str, object] = {
            "ref": ref,
            "workstream": stream,
            "title": title,
            "owner": owner,
            "due": (today + dt.timedelta(days=days)).isoformat(),
            "status": status,
            "rag": rag,
            "priority": priority,
            "notes": notes,
        }
        rows.append(RawRow(number=number, cells=cells))
    return rows


def load_demo(core: Core) -> int:
    """Load the sample plan into an empty database; 0 (and no change) when it has actions."""
    with core.sessions() as session:
        if session.scalar(select(func.count()).select_from(Action)):
            return 0
    directory = ConsoleDirectory()
    now = core.now()
    with transaction(core.sessions) as session:
        for name, display, email, role in PEOPLE:
            person = Person(display_name=display, email=email, role=role, created_at=now)
            account = directory.lookup_id(name)
            assert account is not None
            person.identities.append(Identity(platform=account.platform, external_id=name))
            session.add(person)
    report = import_rows(core, demo_rows(core.today()), directory=directory, source_name="demo")
    return report.created

"""A sample improvement plan, so a newcomer sees the bot at work in one command.

The plan is what a council's children's services might agree after an Ofsted focus visit with
three priority actions: children-in-need planning, timely child protection strategy meetings,
and caseloads. Deadlines are set around "today", so the sample always has something overdue,
something due this week, something done and something blocked. It is loaded through the same
importer as a real plan file, so `actionbot console --demo` exercises that path too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.boards.members import put_role
from bot.domain import Platform, Role
from bot.people.directory import Account, ConsoleDirectory
from bot.people.resolve import upsert_account
from bot.plans.importer import load_rows
from bot.plans.rows import validate_rows
from bot.plans.table import COLUMNS, RawRow
from bot.services.context import Core
from storage.db import transaction
from storage.models import Action

#: Who the console logs in as with --demo: the board's independent chair.
DEMO_CHAIR = "sarah"


@dataclass(frozen=True)
class DemoPerson:
    """A member of the sample board: console name, display name, email and board role."""

    name: str
    display_name: str
    email: str
    role: Role


#: The sample board: Sarah, the independent chair, and David, the council leader, chair it;
#: the owners are the heads of children in need (Amira) and safeguarding (Tom), the principal
#: social worker (Helen), the head of digital services (Owen), the designated nurse (Grace) and
#: a police detective inspector (Raj). Reserved .example domains (RFC 2606) reach nobody.
PEOPLE = (
    DemoPerson("sarah", "Sarah Mitchell", "sarah.mitchell@board.example", Role.CHAIR),
    DemoPerson("david", "David Okafor", "david.okafor@council.example", Role.CHAIR),
    DemoPerson("amira", "Amira Khan", "amira.khan@council.example", Role.MEMBER),
    DemoPerson("tom", "Tom Price", "tom.price@council.example", Role.MEMBER),
    DemoPerson("helen", "Helen Morris", "helen.morris@council.example", Role.MEMBER),
    DemoPerson("owen", "Owen Hughes", "owen.hughes@council.example", Role.MEMBER),
    DemoPerson("grace", "Grace Lee", "grace.lee@health.example", Role.MEMBER),
    DemoPerson("raj", "Raj Patel", "raj.patel@police.example", Role.MEMBER),
)

_EMAIL = {person.name: person.email for person in PEOPLE}

# (ref, workstream, title, owner, due in days from today, status, rag, priority, notes).
# Overdue: CIN-01 by 12 days, CP-01 by 5, PART-01 by 3 (blocked), IT-01 by 2. Due this week:
# PART-02 today, CP-02, CIN-02, WF-02. Done: CP-03, IT-02. The rest later.
_PLAN: tuple[tuple[str, str, str, str, int, str, str, str, str], ...] = (
    ("CIN-01", "Children in need", "Audit 50 children-in-need plans for SMART outcomes",
     "amira", -12, "in progress", "red", "high", "Priority action 1 of the focus visit"),
    ("CIN-02", "Children in need", "Introduce monthly management oversight of CIN plans",
     "amira", 4, "open", "amber", "high", ""),
    ("CP-01", "Child protection", "Strategy meetings held within 3 working days of referral",
     "tom", -5, "open", "red", "high", "Priority action 2 of the focus visit"),
    ("CP-02", "Child protection", "Re-audit child protection plans that ended within 3 months",
     "tom", 2, "open", "amber", "medium", ""),
    ("CP-03", "Child protection", "Publish revised threshold document with the partnership",
     "helen", -20, "done", "green", "medium", ""),
    ("PART-01", "Partnership (police & health)",
     "Police attend every initial child protection conference",
     "raj", -3, "blocked", "red", "high",
     "Awaiting police duty rota sign-off by the Superintendent"),
    ("PART-02", "Partnership (police & health)",
     "Health visitor information shared before strategy meetings",
     "grace", 0, "open", "amber", "high", ""),
    ("PART-03", "Partnership (police & health)",
     "Joint training on neglect for GPs and social workers",
     "grace", 25, "open", "green", "medium", ""),
    ("WF-01", "Workforce", "Reduce social worker caseloads to 18 or fewer",
     "helen", 45, "in progress", "amber", "high", "Priority action 3 of the focus visit"),
    ("WF-02", "Workforce", "Recruit 6 permanent social workers to replace agency staff",
     "helen", 6, "open", "amber", "medium", ""),
    ("IT-01", "IT & case recording", "Fix the case recording system's chronology report",
     "owen", -2, "open", "amber", "medium", ""),
    ("IT-02", "IT & case recording", "Add supervision records to the case management system",
     "owen", -30, "done", "green", "low", ""),
    ("QA-01", "Quality assurance", "Monthly multi-agency case audit reported to the board",
     "amira", 9, "open", "green", "medium", ""),
    ("QA-02", "Quality assurance", "Practice week: senior leaders observe frontline visits",
     "tom", 16, "open", "", "low", ""),
)  # fmt: skip


def demo_plan(today: dt.date) -> list[dict[str, str]]:
    """The sample plan as the rows of a plan file (owners by email, due dates in ISO form)."""
    rows = []
    for ref, workstream, title, owner, days, status, rag, priority, notes in _PLAN:
        rows.append(
            {
                "ref": ref,
                "workstream": workstream,
                "title": title,
                "owner": _EMAIL[owner],
                "due": (today + dt.timedelta(days=days)).isoformat(),
                "status": status,
                "rag": rag,
                "priority": priority,
                "notes": notes,
            }
        )
    return rows


def load_demo(core: Core) -> int:
    """Load the sample plan and its people into an empty database; the number of actions.

    Returns 0 and changes nothing when the database already has actions: the sample must
    never mix with a real plan.
    """
    now = core.now()
    # Row numbers as if the plan were a file with a header row, for the history notes.
    raw = [
        RawRow(number=number, cells={column: row.get(column) or None for column in COLUMNS})
        for number, row in enumerate(demo_plan(core.today()), start=2)
    ]
    rows = validate_rows(raw)
    with transaction(core.sessions) as session:
        if session.scalar(select(func.count()).select_from(Action)):
            return 0
        # Console accounts with emails first, so the plan's owners (named by email, as in a
        # real plan) resolve to people one can `--as amira` as.
        people = {
            person: upsert_account(
                session,
                account=Account(Platform.CONSOLE, person.name, person.display_name, person.email),
                now=now,
            )
            for person in PEOPLE
        }
        report = load_rows(
            session,
            rows,
            directory=ConsoleDirectory(),
            accounts={},
            now=now,
            source_name="the sample plan",
            board_id=core.board.id,
        )
        # Chairs by role, so the sample works without CHAIR_USER_IDS.
        for person, row in people.items():
            put_role(session, core.board.id, row.id, person.role)
    return report.created

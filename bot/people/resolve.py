"""People: who is calling, who a command names, and who is a chair."""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Sequence

from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload

from bot.boards.members import boards_of, role_on
from bot.boards.view import BoardView
from bot.config import Settings
from bot.domain import Platform, Role
from bot.errors import CommandError
from bot.grammar.commands import UserRef
from bot.people.directory import Account, Directory
from bot.services.context import Caller
from storage.models import Action, BoardMember, Identity, Person, PersonName
from storage.queries import find_by_email

#: Every command starts with this: the person and all their accounts in one statement, built
#: once (building a statement costs more than SQLAlchemy's cached compilation of it).
_BY_ACCOUNT = (
    select(Person)
    .join(Identity)
    .where(
        Identity.platform == bindparam("platform"),
        Identity.external_id == bindparam("external_id"),
    )
    .options(joinedload(Person.identities))
)


def find_account(session: Session, *, platform: Platform, external_id: str) -> Person | None:
    """The person who has this platform account, if we know them."""
    found = session.scalars(_BY_ACCOUNT, {"platform": platform, "external_id": external_id})
    return found.unique().first()


def upsert_account(session: Session, *, account: Account, now: dt.datetime) -> Person:
    """The person behind `account`, linking by email across platforms; created if new."""
    person = find_account(session, platform=account.platform, external_id=account.external_id)
    email = account.email.strip().lower() if account.email else None
    if person is None and email:
        person = find_by_email(session, email=email)
    if person is None:
        person = Person(display_name=account.name, email=email, created_at=now)
        session.add(person)
    elif email and person.email is None and find_by_email(session, email=email) is None:
        person.email = email
    if person.identity(account.platform) is None:
        person.identities.append(
            Identity(platform=account.platform, external_id=account.external_id)
        )
        remember_names(person, account.aliases)
    # Every command passes here: only write when the person or an account is new or changed.
    if session.new or session.dirty:
        session.flush()
    return person


#: What someone from outside the workspace hears when they have no role and own nothing.
OUTSIDER_REFUSAL = (
    "This bot is for the board's members; ask the board's secretary or chair to give you a role."
)


class Outsider(CommandError):
    """A caller from outside the workspace with no role and no action: refused, not registered."""

    def __init__(self) -> None:
        super().__init__(OUTSIDER_REFUSAL, None)


def resolve_caller(
    session: Session, *, caller: Caller, now: dt.datetime, settings: Settings | None = None
) -> Person:
    """The person behind a command, registered on first sight so history can name them.

    Outsider (nothing written) for someone from outside the workspace who holds no role,
    owns or supports no action, and is no chair named in CHAIR_USER_IDS (`settings`).
    """
    if caller.external:
        _admit_outsider(session, caller=caller, settings=settings)
    known = _known_callers(session)
    key = (caller.platform, caller.external_id, caller.display_name, caller.email, caller.aliases)
    person = find_account(session, platform=caller.platform, external_id=caller.external_id)
    if person is not None and known.get(key) == person.id and (person.email or not caller.email):
        # Met before as exactly this, with nothing to write: no email to link, names known.
        return _back(person)
    account = Account(
        platform=caller.platform,
        external_id=caller.external_id,
        name=caller.display_name or caller.external_id,
        email=caller.email,
        aliases=caller.aliases,
    )
    person = upsert_account(session, account=account, now=now)
    if caller.aliases:
        # People met before their handle was remembered learn it the next time they type.
        remember_names(person, caller.aliases)
    if len(known) >= _KNOWN_CALLERS:
        known.clear()
    known[key] = person.id
    return _back(person)


def _back(person: Person) -> Person:
    if person.left_at is not None:
        # Someone who types a command is evidently back (a reactivated account).
        person.left_at = None
        person.left_reason = None
    return person


#: Callers a process has met, per database: (platform, id, name, email, handles) → person id.
#: A caller met again as exactly that (every command after their first) skips matching their
#: email and learning their names, which wrote nothing the last time; the person and their
#: accounts are still read fresh. An account that moved to someone else, an erased person
#: (accounts and names go together) or anything new the platform says takes the whole way.
_KNOWN_CALLERS = 10_000
_known: weakref.WeakKeyDictionary[Engine, dict[tuple[object, ...], int]] = (
    weakref.WeakKeyDictionary()
)
_known_lock = threading.Lock()


def _known_callers(session: Session) -> dict[tuple[object, ...], int]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _known_lock:
        return _known.setdefault(engine, {})


def _admit_outsider(session: Session, *, caller: Caller, settings: Settings | None) -> None:
    """Outsider unless the external caller has standing on the board (see resolve_caller)."""
    from storage.models import Action, Supporter

    named = {value.lower() for value in settings.chair_user_ids} if settings else set()
    email = caller.email.strip().lower() if caller.email else None
    if caller.external_id.lower() in named or (email and email in named):
        return
    person = find_account(session, platform=caller.platform, external_id=caller.external_id)
    if person is None and email:
        person = find_by_email(session, email=email)
    if person is None:
        raise Outsider
    if boards_of(session, person.id) or (settings is not None and named_chair(person, settings)):
        return
    owner = select(Action.id).where(Action.owner_id == person.id).limit(1)
    supporter = select(Supporter.action_id).where(Supporter.person_id == person.id).limit(1)
    if session.scalar(owner) is None and session.scalar(supporter) is None:
        raise Outsider


def resolve_user(
    session: Session,
    *,
    ref: UserRef,
    platform: Platform,
    directory: Directory | None,
    now: dt.datetime,
) -> Person:
    """The person a command names; CommandError when nobody matches."""
    if ref.platform_id:
        person = find_account(session, platform=platform, external_id=ref.platform_id)
        if person is not None:
            if ref.name:
                # Slack's `<@U123|dee>` carries the handle people will type next time.
                remember_names(person, [ref.name])
            return person
        account = directory.lookup_id(ref.platform_id) if directory else None
        if account is None:
            gone = directory.departure(ref.platform_id) if directory else None
            raise CommandError(
                f"I can't find the user {ref.describe()}" + (f": {gone}." if gone else ".")
            )
        return upsert_account(session, account=account, now=now)
    if ref.email:
        person = find_by_email(session, email=ref.email)
        if person is not None:
            return person
        account = directory.lookup_email(ref.email) if directory else None
        if account is None:
            raise CommandError(f"I can't find anyone with the email {ref.email}.")
        return upsert_account(session, account=account, now=now)
    assert ref.name is not None
    person = _find_by_name(session, name=ref.name, platform=platform)
    if person is not None:
        return person
    # Only the console treats a new name as a new user; elsewhere names must be known.
    account = directory.lookup_id(ref.name) if directory and platform == Platform.CONSOLE else None
    if account is None:
        raise CommandError(f"I don't know {ref.describe()}; mention them so I can find them.")
    return upsert_account(session, account=account, now=now)


def require_present(person: Person, *, platform: Platform, directory: Directory | None) -> None:
    """CommandError, with the reason, when `person` has left and cannot be given actions.

    Asks the platform's directory (which caches its answers for a few minutes) about the
    person's account there, beside what the bot learned when a message to them was refused.
    """
    if person.left_at is not None:
        why = f" ({person.left_reason})" if person.left_reason else ""
        raise CommandError(
            f"{person.display_name} has left{why}, so I can't give them actions. "
            "Choose someone else."
        )
    identity = person.identity(platform)
    gone = directory.departure(identity.external_id) if directory and identity else None
    if gone is not None:
        raise CommandError(
            f"I can't give actions to {person.display_name}: {gone}. Choose someone else."
        )


def remember_names(person: Person, names: Sequence[str]) -> None:
    """Keep the names people type for `person` (a Slack handle, a display name) as aliases."""
    from bot.people.names import fold, learn_alias

    for name in names:
        if fold(name) and fold(name) != fold(person.display_name):
            learn_alias(person, name)


def _find_by_name(session: Session, *, name: str, platform: Platform) -> Person | None:
    """The one person `@name` means: their account name, real name, Slack handle or display
    name (remembered as aliases), or else their first name; CommandError when several."""
    from bot.people.names import fold

    low = name.lower()
    person = find_account(session, platform=platform, external_id=low)
    if person is not None:
        return person
    key = fold(name)
    # "@amira.khan" is Amira Khan: a handle's dots and underscores are spaces in a name.
    spoken = {low, key}
    query = (
        select(Person)
        .outerjoin(Identity)
        .outerjoin(PersonName)
        .where(
            or_(
                func.lower(Person.display_name).in_(spoken),
                func.lower(Identity.external_id) == low,
                PersonName.key == key,
            )
        )
        .distinct()
    )
    matches = session.scalars(query).all()
    if not matches and key and " " not in key:
        first = select(Person).where(func.lower(Person.display_name).like(f"{key} %"))
        matches = session.scalars(first).all()
    if len(matches) > 1:
        names = ", ".join(sorted(p.display_name for p in matches)[:5])
        raise CommandError(
            f"More than one person answers to @{name} ({names}); mention them instead."
        )
    return matches[0] if matches else None


def is_chair(
    session: Session, person: Person, board: BoardView, *, role: Role | None = None
) -> bool:
    """A chair of `board`: holds the chair role on it (`role`, when already read), or (the
    default board, which the environment configures) is named in CHAIR_USER_IDS by platform
    id or email."""
    if board.is_default and named_chair(person, board.settings):
        return True
    return (role or role_on(session, board.id, person.id)) == Role.CHAIR


def named_chair(person: Person, settings: Settings) -> bool:
    """Whether CHAIR_USER_IDS names `person` (by email or an account id)."""
    named = {value.lower() for value in settings.chair_user_ids}
    if person.email and person.email.lower() in named:
        return True
    return any(identity.external_id.lower() in named for identity in person.identities)


def owners_of(action: Action, *, supporters_only: bool = False) -> list[Person]:
    """The owner (unless `supporters_only`) and supporting owners still on the board."""
    people = [] if supporters_only or action.owner is None else [action.owner]
    people += [supporter.person for supporter in action.supporters]
    return [person for person in people if person.left_at is None]


def chairs(session: Session, *, board: BoardView) -> Sequence[Person]:
    """Every chair of `board` the bot knows as a person (on the default board, those in
    CHAIR_USER_IDS once they are known)."""
    named = [value.lower() for value in board.settings.chair_user_ids] if board.is_default else []
    on_board = select(BoardMember.person_id).where(
        BoardMember.board_id == board.id, BoardMember.role == Role.CHAIR
    )
    query = (
        select(Person)
        .outerjoin(Identity)
        .where(
            or_(
                Person.id.in_(on_board),
                func.lower(Identity.external_id).in_(named),
                func.lower(Person.email).in_(named),
            )
        )
        .distinct()
        .order_by(Person.id)
    )
    return session.scalars(query).all()

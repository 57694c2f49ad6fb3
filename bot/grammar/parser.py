"""The command grammar: `/action …` and `/status …` text into typed commands.

Parsing looks nothing up: ids, people and permissions are checked by the services.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.domain import Rag
from bot.errors import CommandError
from bot.grammar.add_words import UnclearAdd, parse_user, read_add, user_token
from bot.grammar.board import parse_board
from bot.grammar.commands import (
    AcceptRag,
    AddAction,
    AddEvidence,
    AddUpdate,
    ApproveDate,
    AssignAction,
    CancelAction,
    Command,
    DeclineDate,
    Help,
    ListActions,
    MarkBlocked,
    MarkDone,
    MoveDue,
    NudgeOwner,
    Paged,
    Reopen,
    RequestDate,
    ReturnAction,
    SetRag,
    ShowAction,
    SignOff,
    StatusAwaiting,
    StatusBlocked,
    StatusDigest,
    StatusDone,
    StatusDue,
    StatusNoDate,
    StatusOverdue,
    StatusPerson,
    StatusRag,
    StatusRules,
    StatusSummary,
    StatusUnassigned,
    UndoReply,
    UserRef,
)
from bot.grammar.dates import DateParseError, parse_date
from bot.grammar.paging import split_page
from bot.grammar.phrasing import ID_TOKEN, nearest, reorder
from bot.grammar.usage import action_usage, status_usage
from bot.grammar.words import read_rag

#: Highest id accepted; beyond it the number cannot be an action (and would overflow INTEGER).
MAX_ID = 2**31 - 1

_ID = ID_TOKEN
_MAX_DATE_WORDS = 4

#: Databases cannot store NUL; typed text, buttons and forms are refused with these words.
NUL_REFUSED = "The text contains a NUL character, which I cannot store."


def parse(command: str, text: str, *, today: dt.date) -> Command:
    """Parse one slash command (`/action`, `/status` or `/board`, slash optional) and its text."""
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text; no keyboard types it, so it is refused, not kept.
        raise CommandError(NUL_REFUSED, None)
    name = command.strip().lstrip("/").lower()
    rest, page = split_page(text)
    if page is not None:
        # `page N` ends a list command; anything else keeps the words (a note may end so).
        try:
            listed = _parse_named(name, rest, today)
        except CommandError:
            listed = None
        if isinstance(listed, Paged):
            return listed.model_copy(update={"page": page})
    return _parse_named(name, text, today)


def _parse_named(name: str, text: str, today: dt.date) -> Command:
    if name == "action":
        return parse_action(text, today=today)
    if name == "status":
        return parse_status(text, today=today)
    if name == "board":
        return parse_board(text, today=today)
    raise CommandError(f"I don't know the command /{name}.", "/action help")


def parse_action(text: str, *, today: dt.date) -> Command:
    """Parse the text after `/action`."""
    verb, rest = _split(reorder(text, _ACTION_PARSERS))
    verb = verb.lower()
    if verb in ("", "help", "?"):
        return Help(topic=rest.strip().lower() or None)
    parser = _ACTION_PARSERS.get(verb)
    if parser is None:
        raise CommandError(_unknown("/action", verb, rest, _ACTION_VERBS), action_usage(None))
    try:
        return parser(rest.strip(), today)
    except DateParseError as exc:
        raise CommandError(str(exc), action_usage(verb)) from None
    except _Missing as exc:
        raise CommandError(str(exc), action_usage(verb)) from None


def parse_status(text: str, *, today: dt.date) -> Command:
    """Parse the text after `/status`."""
    verb, rest = _split(text)
    low = verb.lower()
    rest = rest.strip()
    if low == "":
        return StatusSummary()
    if low in ("help", "?") and not rest:
        return Help(topic="status")
    if low == "overdue" and not rest:
        return StatusOverdue()
    if low == "overdue" and rest.lower() in ("mine", "me"):
        return StatusOverdue(user=UserRef(me=True))
    if low == "overdue" and (user := parse_user(rest)):
        return StatusOverdue(user=user)
    if low == "blocked" and not rest:
        return StatusBlocked()
    if low in _AWAITING and not rest:
        return StatusAwaiting()
    if low in ("done", "closed", "finished") and not rest:
        return StatusDone()
    if low in ("red", "amber", "green") and not rest:
        return StatusRag(rag=Rag(low))
    if low == "unassigned" and not rest:
        return StatusUnassigned()
    if (low in ("nodate", "undated") and not rest) or (low, rest.lower()) == ("no", "date"):
        return StatusNoDate()
    if low in ("mine", "me") and not rest:
        return StatusPerson()
    if (user := parse_user(verb)) and not rest:
        return StatusPerson(user=user)
    if low == "due":
        return _status_due(rest, today)
    if low == "rules" and not rest:
        return StatusRules()
    if low == "digest":
        if rest.lower() in ("", "preview"):
            return StatusDigest(post=False)
        if rest.lower() == "post":
            return StatusDigest(post=True)
        raise CommandError(
            f"`/status digest {_quote(rest)}` is not a digest option.", status_usage("digest")
        )
    raise CommandError(_unknown("/status", low, rest, _STATUS_WORDS), status_usage(None))


#: What `/status` knows, for suggestions.
_STATUS_WORDS = (
    "overdue", "blocked", "done", "red", "amber", "green", "mine", "due", "nodate",
    "unassigned", "digest", "rules", "help",
)  # fmt: skip


def _unknown(command: str, verb: str, rest: str, known: tuple[str, ...]) -> str:
    """`I don't know `/action dne`. Did you mean `/action done 12`?`."""
    said = f"I don't know `{command} {_quote(verb)}`."
    guess = nearest(verb, known) if verb else None
    if guess is None:
        return said
    words = _quote(f"{guess} {rest}".strip(), 60)
    return f"{said} Did you mean `{command} {words}`?"


class _Missing(ValueError):
    """A required part of the command is absent or malformed."""


def _split(text: str) -> tuple[str, str]:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _quote(text: str, limit: int = 40) -> str:
    # A reason is one line, whatever line breaks the quoted text had.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _action_id(token: str) -> int:
    match = _ID.fullmatch(token.strip())
    if not match:
        if not token.strip():
            raise _Missing("Which action? Give its number, e.g. 12 or #12.")
        raise _Missing(f"'{_quote(token.strip())}' is not an action number (e.g. 12 or #12).")
    number = int(match.group(1))
    if not 1 <= number <= MAX_ID:
        raise _Missing(f"There is no action #{_quote(match.group(1), 20)}.")
    return number


def _id_and_rest(rest: str) -> tuple[int, str]:
    token, remainder = _split(rest)
    return _action_id(token), remainder.strip()


def _only_id(rest: str, verb: str) -> int:
    """The action number of a command that takes nothing after it."""
    action_id, extra = _id_and_rest(rest)
    if extra:
        raise _Missing(f"{verb} takes only the action number.")
    return action_id


def _required(text: str, what: str) -> str:
    if not text.strip():
        raise _Missing(f"Please add {what}.")
    return text.strip()


def _parse_add(rest: str, today: dt.date) -> Command:
    if not rest:
        return AddAction(title=None)
    try:
        reading = read_add(rest, today=today)
    except UnclearAdd as exc:
        raise _Missing(str(exc)) from None
    if not reading.title:
        raise _Missing("Please give the action a title.")
    owner, *supporters = reading.owners or (None,)
    return AddAction(
        title=reading.title, owner=owner, supporters=tuple(supporters), due=reading.due
    )


def _parse_assign(rest: str, today: dt.date) -> Command:
    first, after = _split(rest)
    if user_token(first) is not None or first.lower() == "me":
        # `assign @amira 12`: the person first.
        number, tail = _split(after)
        rest = f"{number} {first} {tail}".strip()
    action_id, remainder = _id_and_rest(rest)
    if remainder.lower().startswith("to "):
        remainder = remainder[3:].strip()
    if not remainder:
        raise _Missing("Who should own it? Mention them, e.g. @amira.")
    if remainder.lower() in ("me", "myself"):
        return AssignAction(action_id=action_id, owner=UserRef(me=True))
    owner = parse_user(remainder)
    if owner is None:
        raise _Missing(f"'{_quote(remainder)}' is not a person; mention them, e.g. @amira.")
    return AssignAction(action_id=action_id, owner=owner)


def _parse_done(rest: str, today: dt.date) -> Command:
    action_id, note = _id_and_rest(rest)
    return MarkDone(action_id=action_id, note=note or None)


def _parse_update(rest: str, today: dt.date) -> Command:
    action_id, note = _id_and_rest(rest)
    return AddUpdate(action_id=action_id, note=_required(note, "a note saying what has happened"))


def _parse_blocked(rest: str, today: dt.date) -> Command:
    action_id, reason = _id_and_rest(rest)
    return MarkBlocked(action_id=action_id, reason=_required(reason, "the reason it is blocked"))


def _parse_reopen(rest: str, today: dt.date) -> Command:
    return Reopen(action_id=_only_id(rest, "reopen"))


def _parse_nudge(rest: str, today: dt.date) -> Command:
    return NudgeOwner(action_id=_only_id(rest, "nudge"))


def _parse_signoff(rest: str, today: dt.date) -> Command:
    action_id, note = _id_and_rest(rest)
    return SignOff(action_id=action_id, note=note or None)


def _parse_return(rest: str, today: dt.date) -> Command:
    action_id, reason = _id_and_rest(rest)
    reason = _required(reason, "the reason it goes back to its owner")
    return ReturnAction(action_id=action_id, reason=reason)


_LINK = re.compile(r"<?(https?://[^\s<>|]+)(?:\|[^>]*)?>?", re.IGNORECASE)


def _parse_evidence(rest: str, today: dt.date) -> Command:
    """`evidence 12 https://… [note]` is a link (and its note); any other words, a note."""
    action_id, words = _id_and_rest(rest)
    words = _required(words, "the evidence: a note, or a link (a file: the Add evidence form)")
    return evidence_of(action_id, words)


def evidence_of(action_id: int, words: str) -> AddEvidence:
    """Words given as evidence (typed, or a done note): a link when they start with one (the
    rest its note), else a note."""
    first, after = _split(words)
    if match := _LINK.fullmatch(first):
        return AddEvidence(action_id=action_id, link=match.group(1), note=after.strip() or None)
    return AddEvidence(action_id=action_id, note=words.strip())


def _parse_due(rest: str, today: dt.date) -> Command:
    action_id, remainder = _id_and_rest(rest)
    words = remainder.split()
    if not words:
        raise _Missing("Please give the new date.")
    # The date is the longest run of leading words that reads as one; the rest is the reason.
    for count in range(min(len(words), _MAX_DATE_WORDS), 0, -1):
        try:
            due = parse_date(" ".join(words[:count]), today=today)
        except DateParseError:
            continue
        reason = " ".join(words[count:]) or None
        return MoveDue(action_id=action_id, due=due, reason=reason)
    parse_date(words[0], today=today)  # raises the date error with the user's text
    raise AssertionError("unreachable")


def _parse_rebaseline(rest: str, today: dt.date) -> Command:
    """`rebaseline 12 31 Mar <reason>`: the date is the longest run of leading words that
    reads as one, as for `due`; the reason is required."""
    action_id, remainder = _id_and_rest(rest)
    words = remainder.split()
    if not words:
        raise _Missing("Please give the new date and the reason, e.g. 31 Mar waiting for data.")
    for count in range(min(len(words), _MAX_DATE_WORDS), 0, -1):
        try:
            due = parse_date(" ".join(words[:count]), today=today)
        except DateParseError:
            continue
        reason = _required(" ".join(words[count:]), "the reason the deadline should move")
        return RequestDate(action_id=action_id, due=due, reason=reason)
    parse_date(words[0], today=today)  # raises the date error with the user's text
    raise AssertionError("unreachable")


def _parse_approve(rest: str, today: dt.date) -> Command:
    return ApproveDate(action_id=_only_id(rest, "approve"))


def _parse_decline(rest: str, today: dt.date) -> Command:
    action_id, reason = _id_and_rest(rest)
    return DeclineDate(
        action_id=action_id, reason=_required(reason, "the reason the new date is declined")
    )


def _parse_mark(rest: str, today: dt.date) -> Command:
    # Only reached when `mark …` did not read as `mark <id> [as] done|blocked|red …`.
    raise _Missing(
        "Say which action and what it is now, e.g. mark 12 done or mark 12 blocked <why>."
    )


def _parse_cancel(rest: str, today: dt.date) -> Command:
    action_id, reason = _id_and_rest(rest)
    return CancelAction(action_id=action_id, reason=_required(reason, "the reason it is cancelled"))


def _parse_accept(rest: str, today: dt.date) -> Command:
    action_id, reason = _id_and_rest(rest)
    return AcceptRag(action_id=action_id, reason=_required(reason, "why the rating stands"))


def _parse_rag(rest: str, today: dt.date) -> Command:
    action_id, remainder = _id_and_rest(rest)
    rag = read_rag(remainder)
    if rag is None:
        raise _Missing("RAG must be red, amber or green.")
    return SetRag(action_id=action_id, rag=rag)


def _parse_show(rest: str, today: dt.date) -> Command:
    action_id, _ = _id_and_rest(rest)
    return ShowAction(action_id=action_id)


_UNDO = re.compile(r"#?(\d{1,10})(?:\s*-\s*#?(\d{1,10}))?")


def _parse_undo(rest: str, today: dt.date) -> Command:
    """`undo 345` or `undo 345-346`: the numbers a reply's answer gives with its Undo."""
    match = _UNDO.fullmatch(rest.strip())
    if match is None:
        raise _Missing("Give the number the answer to your reply showed, e.g. `undo 345-346`.")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 0 < first <= last <= MAX_ID:
        raise _Missing("Those numbers do not name a reply I recorded.")
    return UndoReply(first=first, last=last)


def _parse_list(rest: str, today: dt.date) -> Command:
    scope = rest.strip()
    first = scope.split(maxsplit=1)[0].lower() if scope else ""
    if first in _LIST_VIEWS:
        # `list overdue`, `list blocked`, `list due next week`: the /status view of that name.
        return parse_status(scope, today=today)
    if scope.lower() in ("", "all", "open"):
        return ListActions(scope="all")
    if scope.lower() in ("mine", "me"):
        return ListActions(scope="mine")
    user = parse_user(scope)
    if user is None:
        raise _Missing(
            f"'{_quote(scope)}' is not mine, all, a person, overdue, blocked, done or due."
        )
    return ListActions(scope="user", user=user)


#: `/action list <word>` shows the `/status <word>` view.
_LIST_VIEWS = frozenset(
    {"overdue", "blocked", "done", "due", "red", "amber", "green", "delivered", "signoff"}
)
#: `/status signoff`: delivered actions waiting for sign-off.
_AWAITING = frozenset({"signoff", "sign-off", "delivered", "awaiting"})
_WEEKS = re.compile(r"(?:in\s+|next\s+)?(\d{1,2}|a|one|two|three|four)\s+weeks?")
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}


def _status_due(rest: str, today: dt.date) -> StatusDue:
    """`due`, `due 14`, `due this week`, `due next week`, `due 2 weeks`, `due this month`."""
    words = " ".join(rest.lower().split())
    to_sunday = 6 - today.weekday()
    if words in ("this week", "week"):
        return StatusDue(days=to_sunday, span="this week")
    if words == "next week":
        return StatusDue(offset=to_sunday + 1, days=6, span="next week")
    if words in ("this month", "month"):
        last = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return StatusDue(days=(last - today).days - 1, span="this month")
    if words == "today":
        return StatusDue(days=0)
    if match := _WEEKS.fullmatch(words):
        count = _NUMBERS.get(match.group(1)) or int(match.group(1))
        return StatusDue(days=7 * count, span=f"{count} week{'s' if count != 1 else ''}")
    return StatusDue(days=_parse_days(rest))


def _parse_days(rest: str) -> int:
    if not rest:
        return 7
    match = re.fullmatch(r"(?:in\s+)?(\d{1,4})(?:\s*(?:d|days?))?", rest.strip().lower())
    if not match or not 0 <= int(match.group(1)) <= 366:
        raise CommandError(
            f"'{_quote(rest)}' is not a number of days (0 to 366).", status_usage("due")
        )
    return int(match.group(1))


_ACTION_PARSERS = {
    "add": _parse_add,
    "new": _parse_add,
    "assign": _parse_assign,
    "done": _parse_done,
    "complete": _parse_done,
    "completed": _parse_done,
    "close": _parse_done,
    "closed": _parse_done,
    "finished": _parse_done,
    "cancel": _parse_cancel,
    "mark": _parse_mark,
    "update": _parse_update,
    "note": _parse_update,
    "blocked": _parse_blocked,
    "block": _parse_blocked,
    "reopen": _parse_reopen,
    "due": _parse_due,
    "rebaseline": _parse_rebaseline,
    "approve": _parse_approve,
    "decline": _parse_decline,
    "nudge": _parse_nudge,
    "signoff": _parse_signoff,
    "sign-off": _parse_signoff,
    "return": _parse_return,
    "evidence": _parse_evidence,
    "rag": _parse_rag,
    "accept": _parse_accept,
    "show": _parse_show,
    "undo": _parse_undo,
    "list": _parse_list,
}

#: The verbs a suggestion may name: the canonical ones, not their aliases.
_ACTION_VERBS = (
    "add", "assign", "done", "close", "update", "blocked", "reopen", "cancel", "due", "rag",
    "signoff", "return", "evidence",
    "rebaseline", "approve", "decline",
    "show", "list", "help", "nudge", "accept",
)  # fmt: skip

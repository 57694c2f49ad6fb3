"""Reading `/action add`: a title, then its owners and its deadline, in either order.

`add Audit case files for @dee, @amira due fri` and `add Audit case files due: 1 Dec @dee`
both mean the title "Audit case files", owner @dee (accountable), @amira supporting, and a
deadline. Only a final clause whose words read as a date is a deadline, so a title may say
"due diligence". Words that could be meant either way are refused with what was understood,
never guessed: a person named inside the title, a date at the end without `due`, a `due` or
`by` followed by something that looks like a date but is not one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.grammar.commands import UserRef
from bot.grammar.dates import DateParseError, format_date, parse_date

#: Words that start the deadline clause (`due 1 Dec`, `due: 1 Dec`, `by friday`).
DATE_WORDS = frozenset({"due", "by", "deadline"})
#: Words that may stand before the owners (`for @dee`, `owner: @dee`, `owned by @dee`).
_OWNER_WORDS = frozenset({"for", "owner", "owners", "lead", "leads", "by", "to"})
_OWNER_PAIRS = frozenset({("owned", "by"), ("assigned", "to"), ("assign", "to")})
#: Between several owners: `@dee, @amira`, `@dee and @amira`, `@dee & @amira`.
_SEPARATORS = frozenset({",", "and", "&", "+"})
#: A date may take this many words (`Fri 4 Dec 2026`); longer tails are title words.
_MAX_DATE_WORDS = 4

# Chat markup may hold spaces (Teams: `<@29:1abc|Amira Khan>`, a link's label): one token all
# the same; any other `<…>` is the user's own text (`<script>`), kept as typed.
_TOKEN = re.compile(r"<(?:[@#!]|https?:|mailto:)[^<>]*>[,;.]*|\S+")
# Slack sends `<@U123>` or `<@U123|name>`; Teams mentions are translated to the same form.
_PLATFORM_MENTION = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>")
_NAME_MENTION = re.compile(r"@([\w.\-']+)")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_QUOTES = {'"': '"', "“": "”"}

_MONTHS = frozenset(
    [
        "jan",
        "january",
        "feb",
        "february",
        "mar",
        "march",
        "apr",
        "april",
        "may",
        "jun",
        "june",
        "jul",
        "july",
        "aug",
        "august",
        "sep",
        "sept",
        "september",
        "oct",
        "october",
        "nov",
        "november",
        "dec",
        "december",
    ]
)
_WEEKDAYS = frozenset(
    [
        "mon",
        "monday",
        "tue",
        "tues",
        "tuesday",
        "wed",
        "weds",
        "wednesday",
        "thu",
        "thur",
        "thurs",
        "thursday",
        "fri",
        "friday",
        "sat",
        "saturday",
        "sun",
        "sunday",
    ]
)


class UnclearAdd(ValueError):
    """The words of an add could be read more than one way; the message says what was read."""


@dataclass(frozen=True)
class AddReading:
    """What an add's words say: the title, the owners (accountable first) and the deadline."""

    title: str
    owners: tuple[UserRef, ...] = ()
    due: dt.date | None = None


def parse_user(token: str) -> UserRef | None:
    """A user reference if `token` is exactly one (mention, @name or email), else None."""
    token = token.strip()
    if match := _PLATFORM_MENTION.fullmatch(token):
        return UserRef(platform_id=match.group(1), name=(match.group(2) or None))
    if _EMAIL.fullmatch(token):
        return UserRef(email=token.lower())
    if match := _NAME_MENTION.fullmatch(token):
        return UserRef(name=match.group(1))
    return None


def user_token(token: str) -> UserRef | None:
    """The person `token` names, as in a list of owners: trailing commas allowed."""
    return parse_user(token.strip().rstrip(",;"))


def read_add(text: str, *, today: dt.date) -> AddReading:
    """Read the words after `add`; DateParseError or UnclearAdd when they cannot be trusted."""
    quoted, text = _quoted_title(text.strip())
    tokens = _split_colons(_TOKEN.findall(text))
    after, tokens = _take_owners(tokens)
    due, tokens = _take_due(tokens, today, after)
    before: list[UserRef] = []
    if due is not None:
        before, tokens = _take_owners(tokens)
    owners = tuple(before + after)
    if quoted is not None:
        if tokens:
            raise UnclearAdd(
                _understood(quoted, owners, due, today)
                + f" — I don't know what to do with '{' '.join(tokens)}' after the title."
            )
        return AddReading(quoted, owners, due)
    title = " ".join(tokens)
    if not title:
        return AddReading("", owners, due)
    if due is None and (trailing := _trailing_date(tokens, today)) is not None:
        raise UnclearAdd(
            _understood(title, owners, due, today)
            + f" — is '{trailing}' the deadline? Write `due {trailing}`, or quote the title."
        )
    inside = [t for t in tokens if user_token(t) is not None]
    if inside:
        raise UnclearAdd(
            _understood(title, owners, due, today)
            + f" — is {_describe(inside[0])} an owner? Put the owners after the title"
            f" (`add <title> for {_describe(inside[0])} due <date>`), or quote the title."
        )
    return AddReading(title, owners, due)


def _quoted_title(text: str) -> tuple[str | None, str]:
    close = _QUOTES.get(text[:1])
    if close is None:
        return None, text
    end = text.find(close, 1)
    if end <= 1:
        return None, text
    return " ".join(text[1:end].split()), text[end + 1 :]


def _split_colons(tokens: list[str]) -> list[str]:
    # `due:1 Dec` and `owner:@dee` are `due: 1 Dec` and `owner: @dee`.
    out: list[str] = []
    for token in tokens:
        word, colon, rest = token.partition(":")
        if colon and rest and word.lower() in DATE_WORDS | _OWNER_WORDS:
            out += [word + ":", rest]
        else:
            out.append(token)
    return out


def _word(token: str) -> str:
    return token.lower().rstrip(":")


def _take_owners(tokens: list[str]) -> tuple[list[UserRef], list[str]]:
    """The owners named at the end of `tokens` (with `for`, `owner:` …), and what is left."""
    end = len(tokens)
    people: list[UserRef] = []
    start = end
    index = end - 1
    while index >= 0:
        token = tokens[index]
        ref = user_token(token)
        if ref is not None:
            people.insert(0, ref)
            start = index
        elif token.lower() not in _SEPARATORS:
            break
        index -= 1
    if not people:
        return [], tokens
    rest = tokens[:start]
    if len(rest) >= 2 and (_word(rest[-2]), _word(rest[-1])) in _OWNER_PAIRS:
        rest = rest[:-2]
    elif rest and _word(rest[-1]) in _OWNER_WORDS:
        rest = rest[:-1]
    return people, rest


def _take_due(
    tokens: list[str], today: dt.date, owners_after: list[UserRef]
) -> tuple[dt.date | None, list[str]]:
    """The deadline of a final `due …`/`by …` clause, and the words before it."""
    for index in range(len(tokens) - 1, -1, -1):
        if _word(tokens[index]) not in DATE_WORDS:
            continue
        tail = tokens[index + 1 :]
        if not tail:
            if tokens[index].endswith(":") or (index > 0 and _word(tokens[index]) == "due"):
                before, title = _take_owners(tokens[:index])
                raise UnclearAdd(
                    _understood(" ".join(title), (*before, *owners_after), None, today)
                    + f" — '{tokens[index]}' needs a date after it (`due 1 Dec`)."
                )
            return None, tokens
        if len(tail) > _MAX_DATE_WORDS:
            return None, tokens
        words = " ".join(tail)
        try:
            return parse_date(words, today=today), tokens[:index]
        except DateParseError:
            # "the due diligence checks": no date here, the words belong to the title.
            if looks_like_date(tail):
                raise
            return None, tokens
    return None, tokens


def looks_like_date(words: list[str]) -> bool:
    """Whether words that failed to read as a date were still meant as one (`31/2`, `fri 5`)."""
    low = [w.lower().strip(".,;:") for w in words]
    if not low or not low[0]:
        return False
    first, second = low[0], low[1] if len(low) > 1 else ""
    third = low[2] if len(low) > 2 else ""
    if first[0].isdigit() or first in _MONTHS or first in _WEEKDAYS:
        return True
    if first in ("today", "tomorrow", "eow", "eom"):
        return True
    if first in ("this", "next") and (second in _WEEKDAYS or second in ("week", "month")):
        return True
    if first == "end" and second == "of" and (third in ("week", "month") or third in _MONTHS):
        return True
    return first == "in" and bool(second) and (second[0].isdigit() or second in ("a", "an"))


def _trailing_date(tokens: list[str], today: dt.date) -> str | None:
    """The last words of a title when they read as a date written in words or with a slash."""
    for count in range(min(_MAX_DATE_WORDS, len(tokens) - 1), 0, -1):
        words = " ".join(tokens[-count:])
        # "Implement recommendation 3.1" names a section, not the 3rd of January.
        if not re.search(r"[A-Za-z/\-]", words):
            continue
        try:
            parse_date(words, today=today)
        except DateParseError:
            continue
        return words
    return None


def _describe(token: str) -> str:
    ref = user_token(token)
    return ref.describe() if ref is not None else token


def _understood(
    title: str, owners: tuple[UserRef, ...], due: dt.date | None, today: dt.date
) -> str:
    # A person inside the title is quoted as @name, not as the platform's markup.
    shown = " ".join(_describe(word) for word in _TOKEN.findall(title))
    parts = [f"title '{shown}'" if title else "no title"]
    if owners:
        parts.append(f"owner {owners[0].describe()}")
        if owners[1:]:
            parts.append("supporting " + ", ".join(o.describe() for o in owners[1:]))
    else:
        parts.append("no owner")
    parts.append(f"due {format_date(due, today=today)}" if due else "no deadline")
    return "I read: " + ", ".join(parts)

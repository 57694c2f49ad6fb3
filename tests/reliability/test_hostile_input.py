"""5. Hostile and odd input: random texts through the grammar and every command handler.

No exception escapes, a rejected command changes nothing, stored text comes back as typed,
and every reply renders escaped and within Slack's limits.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from bot.errors import CommandError
from bot.grammar.commands import NOTE_CHARS, TITLE_CHARS
from bot.grammar.parser import MAX_ID, parse, parse_user
from bot.services.context import Caller, Core
from tests.reliability.conftest import SOAK, Tally
from tests.reliability.helpers import (
    added_id,
    check_plain_rendering,
    check_slack_rendering,
    command,
    history_rows,
    ok,
    snapshot,
)

GRAMMAR_EXAMPLES = 20_000 if SOAK else 3_000
HANDLER_EXAMPLES = 3_000 if SOAK else 300
STORED_EXAMPLES = 1_000 if SOAK else 120

NASTY = [
    "'; DROP TABLE actions; --",
    "1; DELETE FROM action_history",
    "\" OR 1=1 --",
    "Robert'); DROP TABLE people;--",
    "<!channel> <!here> <!everyone>",
    "<@UCHAIR> <@UCHAIR|chair> <#C123|general>",
    "<https://evil.example|click here> <mailto:x@y.z|mail>",
    "*bold* _it_ ~strike~ `code` ```block``` > quote",
    "&lt;!channel&gt; &amp; &",
    "مرحبا بالعالم \u202eevil\u202c",
    "שלום עולם",
    "👩🏽‍💻🚀🔥 \u200b\u200d\ufeff",
    "Z̸̢̛a̵l̷g̶o̴",
    "line one\nline two\r\nline three\ttab",
    "\x00nul\x00",
    "x" * 10_000,
    "🙂" * 3_000,
    "%s %d {0} {title} $(rm -rf /) `id`",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://evil\")",
]

#: Chat markup a user may paste: broadcasts and mentions are stored neutral, not as typed.
_CHAT_MARKUP = re.compile(r"<(?:@[A-Za-z0-9]+|![a-z]+)(?:\|[^<>]*)?>")


def assert_stored_neutral(stored: str) -> None:
    """No broadcast and no raw platform mention survives into the database."""
    assert _CHAT_MARKUP.search(stored) is None, stored


VERBS = [
    "add", "new", "assign", "done", "complete", "update", "note", "blocked", "block", "reopen",
    "due", "rag", "show", "list", "help", "?", "", "frobnicate", "DONE", "Update",
]
STATUS_WORDS = ["", "overdue", "mine", "me", "due", "digest", "digest post", "@amira",
                "<@chair>", "due 9999", "due in 3 days", "digest nonsense"]


def ids() -> st.SearchStrategy[str]:
    numbers = st.one_of(
        st.integers(-3, 12),
        st.integers(MAX_ID - 3, MAX_ID + 3),
        st.integers(10**15, 10**40),
    )
    return st.one_of(
        numbers.map(str),
        numbers.map(lambda n: f"#{n}"),
        st.sampled_from(["#", "##1", "1.5", "1e3", "0x1", "١٢", "１", "𝟏", "+1", "-0", "NaN"]),
    )


def junk() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=200),
        st.sampled_from(NASTY),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
        st.sampled_from(["red", "amber", "g", "tomorrow", "1/12/2026", "2026-02-30", "friday",
                         "in 10 days", "in 99999 days", "32/1", "@amira", "<@ben>",
                         "amira@example.com", "<@UNKNOWN|chair>", "due tomorrow"]),
    )


def lines() -> st.SearchStrategy[tuple[str, str]]:
    action = st.tuples(st.sampled_from(VERBS), ids(), junk(), st.sampled_from(["", " due friday",
                       " @amira", " <@ben|x>", " due 2026-13-45"])).map(
        lambda t: ("/action", f"{t[0]} {t[1]} {t[2]}{t[3]}")
    )
    free = st.tuples(st.sampled_from(["/action", "/status", "action", "/ACTION", "/nope", ""]),
                     junk())
    status = st.tuples(st.just("/status"), st.one_of(st.sampled_from(STATUS_WORDS), junk()))
    return st.one_of(action, free, status)


@settings(max_examples=GRAMMAR_EXAMPLES, deadline=None, derandomize=not SOAK)
@given(line=lines())
def test_grammar_parses_or_refuses_in_one_line(line: tuple[str, str]) -> None:
    name, body = line
    try:
        parsed = parse(name, body, today=dt.date(2026, 11, 23))
    except CommandError as exc:
        assert exc.reason and len(exc.reason) <= 400, exc.reason
        assert "Traceback" not in exc.reason
        assert "\n" not in exc.reason
        return
    action_id = getattr(parsed, "action_id", None)
    if action_id is not None:
        assert 1 <= action_id <= MAX_ID


@pytest.mark.parametrize("name, body", [("/status", "0\n0"), ("/action", "assign 1 not a\nperson"),
                                        ("/action", "list not\na person")])
def test_a_refusal_quoting_a_line_break_is_still_one_line(name: str, body: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(name, body, today=dt.date(2026, 11, 23))
    assert "\n" not in caught.value.reason


def test_grammar_tally(tally: Tally) -> None:
    tally.add("5 hostile input", inputs=GRAMMAR_EXAMPLES, note="grammar: random command texts")


@pytest.fixture
def plan(core: Core, chair: Caller, amira: Caller, ben: Caller) -> dict[str, int]:
    """#1 open and #2 in progress, owned by Amira; Ben is a known member."""
    ok(core, ben, "/action help")
    first = added_id(ok(core, chair, "/action add Audit the front door @amira due 2026-12-04"))
    second = added_id(ok(core, chair, "/action add Refresh thresholds @amira due 2026-12-11"))
    ok(core, amira, f"/action update {second} started")
    return {"open": first, "in_progress": second}


@settings(
    max_examples=HANDLER_EXAMPLES,
    deadline=None,
    derandomize=not SOAK,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(line=lines(), who=st.sampled_from(["chair", "amira", "ben"]))
def test_every_handler_answers_and_a_refusal_changes_nothing(
    core: Core, plan: dict[str, int], chair: Caller, amira: Caller, ben: Caller,
    line: tuple[str, str], who: str,
) -> None:
    caller = {"chair": chair, "amira": amira, "ben": ben}[who]
    before = snapshot(core)
    outcome = command(core, caller, f"{line[0]} {line[1]}")  # must not raise
    if outcome.message.tone == "error":
        assert snapshot(core) == before, (line, outcome.message.text)
    check_slack_rendering(core, outcome.message)
    check_plain_rendering(core, outcome.message)


def test_handler_tally(tally: Tally) -> None:
    tally.add("5 hostile input", inputs=HANDLER_EXAMPLES, note="handlers: random commands x roles")


def _note_text() -> st.SearchStrategy[str]:
    return st.one_of(st.text(min_size=1, max_size=400), st.sampled_from(NASTY)).filter(
        lambda s: s.strip() == s and s != "" and "\x00" not in s
    )


@settings(
    max_examples=STORED_EXAMPLES,
    deadline=None,
    derandomize=not SOAK,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(note=_note_text(), verb=st.sampled_from(["update", "blocked", "done"]))
def test_stored_notes_come_back_byte_identical(
    core: Core, plan: dict[str, int], chair: Caller, amira: Caller, note: str, verb: str
) -> None:
    number = plan["in_progress"]
    before = snapshot(core)
    outcome = command(core, amira, f"/action {verb} {number} {note}")
    if len(note) > NOTE_CHARS:
        # Evidence, not an essay: refused with the limit, and nothing stored.
        assert outcome.message.tone == "error" and f"{NOTE_CHARS:,}" in outcome.message.text
        assert snapshot(core) == before
        return
    assert outcome.message.tone != "error", outcome.message.text
    newest = history_rows(core, number)[-1]
    assert newest.note is not None
    if _CHAT_MARKUP.search(note):
        assert_stored_neutral(newest.note)
    else:
        assert newest.note == note
    if verb == "blocked":
        shown = command(core, chair, f"/action show {number}")
        check_slack_rendering(core, shown.message)
    ok(core, chair, f"/action reopen {number}")


def test_a_title_of_any_text_is_stored_and_shown_escaped(
    core: Core, plan: dict[str, int], chair: Caller, tally: Tally
) -> None:
    for title in NASTY:
        if "\x00" in title:
            continue
        words = title.split()
        outcome = command(core, chair, f"/action add {title}")
        if outcome.message.tone == "error":
            # Only a title too long for lists, one naming people the grammar will not guess
            # about (it says what it read), or whose last word names an unknown person.
            too_long = len(title) > TITLE_CHARS and f"{TITLE_CHARS:,}" in outcome.message.text
            unsure = outcome.message.text.startswith("I read: ")
            assert too_long or unsure or parse_user(words[-1]) is not None, (
                title[:60],
                outcome.message.text,
            )
            continue
        number = added_id(outcome)
        stored = command(core, chair, f"/action show {number}")
        check_slack_rendering(core, stored.message)
        expected = " ".join(words if parse_user(words[-1]) is None else words[:-1])
        from storage.db import transaction
        from storage.models import Action

        with transaction(core.sessions) as session:
            action = session.get(Action, number)
            assert action is not None
            if _CHAT_MARKUP.search(expected):
                assert_stored_neutral(action.title)
            else:
                assert action.title == expected
    with core.sessions() as session:  # SQL injection texts did nothing to the schema
        names = set(inspect(session.connection()).get_table_names())
        assert {"actions", "action_history", "people"} <= names
        assert session.execute(text("SELECT count(*) FROM actions")).scalar_one() >= 2
    tally.add("5 hostile input", inputs=len(NASTY))


@pytest.mark.parametrize("line", [
    "/action update {n} \x00",
    "/action update {n} before\x00after",
    "/action add Title with a \x00 in it",
    "/action blocked {n} \x00 reason",
])
def test_a_nul_character_is_refused_or_stored(
    core: Core, plan: dict[str, int], chair: Caller, line: str, tally: Tally
) -> None:
    """Slack delivers what people paste; PostgreSQL cannot store NUL in text."""
    before = snapshot(core)
    outcome = command(core, chair, line.format(n=plan["in_progress"]))
    tally.add("5 hostile input", inputs=1)
    if outcome.message.tone == "error":
        assert snapshot(core) == before
    check_slack_rendering(core, outcome.message)


def test_forged_mentions_do_not_impersonate(
    core: Core, plan: dict[str, int], ben: Caller, tally: Tally
) -> None:
    """A member who writes the chair's mention, or names himself chair, is still a member."""
    number = plan["open"]
    for line in [
        f"/action done {number} <@chair|chair>",
        f"/action due {number} friday <@chair>",
        f"/action assign {number} <@ben|chair>",
        "/action add <@chair> says so @ben",
        f"/action rag {number} red <!channel>",
    ]:
        before = snapshot(core)
        outcome = command(core, ben, line)
        tally.add("5 hostile input", inputs=1)
        assert outcome.message.tone == "error", (line, outcome.message.text)
        assert snapshot(core) == before
        check_slack_rendering(core, outcome.message)

"""The command grammar: every /action and /status form, and every way to get it wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import Rag, Status
from bot.errors import CommandError
from bot.grammar import commands as c
from bot.grammar.parser import parse, parse_user
from bot.grammar.words import (
    RagReading,
    StatusReading,
    read_plan_rag,
    read_plan_status,
    read_rag,
    read_status,
)

TODAY = dt.date(2026, 11, 23)  # a Monday


def action(text: str) -> c.Command:
    return parse("/action", text, today=TODAY)


def status(text: str) -> c.Command:
    return parse("/status", text, today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add Audit of case files", c.AddAction(title="Audit of case files")),
        (
            "add Audit <@U123> due 2026-12-01",
            c.AddAction(
                title="Audit", owner=c.UserRef(platform_id="U123"), due=dt.date(2026, 12, 1)
            ),
        ),
        (
            "add Audit <@U123|amira> due 1/12/2026",
            c.AddAction(
                title="Audit",
                owner=c.UserRef(platform_id="U123", name="amira"),
                due=dt.date(2026, 12, 1),
            ),
        ),
        (
            "add Review overdue cases @ben due friday",
            c.AddAction(
                title="Review overdue cases", owner=c.UserRef(name="ben"), due=dt.date(2026, 11, 27)
            ),
        ),
        (
            "add Review due diligence of partner agencies and their contracts",
            c.AddAction(title="Review due diligence of partner agencies and their contracts"),
        ),
        (
            "add Train staff head@school.example",
            c.AddAction(title="Train staff", owner=c.UserRef(email="head@school.example")),
        ),
        ("add", c.AddAction(title=None)),
        ("assign 12 <@U9>", c.AssignAction(action_id=12, owner=c.UserRef(platform_id="U9"))),
        ("assign #12 @amira", c.AssignAction(action_id=12, owner=c.UserRef(name="amira"))),
        ("done 12", c.MarkDone(action_id=12)),
        (
            "done #12 signed off by the board",
            c.MarkDone(action_id=12, note="signed off by the board"),
        ),
        ("DONE 12", c.MarkDone(action_id=12)),
        ("update 3 met the police lead", c.AddUpdate(action_id=3, note="met the police lead")),
        ("blocked 3 waiting for data", c.MarkBlocked(action_id=3, reason="waiting for data")),
        ("reopen #3", c.Reopen(action_id=3)),
        ("due 3 2026-12-14", c.MoveDue(action_id=3, due=dt.date(2026, 12, 14))),
        (
            "due 3 14 Dec police data late",
            c.MoveDue(action_id=3, due=dt.date(2026, 12, 14), reason="police data late"),
        ),
        ("due 3 in 10 days", c.MoveDue(action_id=3, due=dt.date(2026, 12, 3))),
        ("rag 3 amber", c.SetRag(action_id=3, rag=Rag.AMBER)),
        ("rag 3 R", c.SetRag(action_id=3, rag=Rag.RED)),
        ("show #7", c.ShowAction(action_id=7)),
        ("list", c.ListActions(scope="all")),
        ("list mine", c.ListActions(scope="mine")),
        ("list <@U5>", c.ListActions(scope="user", user=c.UserRef(platform_id="U5"))),
        ("", c.Help()),
        ("help", c.Help()),
    ],
)
def test_action_forms(text: str, expected: c.Command) -> None:
    assert action(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.StatusSummary()),
        ("overdue", c.StatusOverdue()),
        ("mine", c.StatusPerson()),
        ("<@U7>", c.StatusPerson(user=c.UserRef(platform_id="U7"))),
        ("@amira", c.StatusPerson(user=c.UserRef(name="amira"))),
        ("due", c.StatusDue(days=7)),
        ("due 14", c.StatusDue(days=14)),
        ("due 30 days", c.StatusDue(days=30)),
        ("digest", c.StatusDigest(post=False)),
        ("digest post", c.StatusDigest(post=True)),
        ("nodate", c.StatusNoDate()),
        ("undated", c.StatusNoDate()),
        ("No Date", c.StatusNoDate()),
    ],
)
def test_status_forms(text: str, expected: c.Command) -> None:
    assert status(text) == expected


@pytest.mark.parametrize(
    ("text", "reason", "usage"),
    [
        ("frobnicate 12", "I don't know `/action frobnicate`.", "/action add|assign"),
        ("done", "Which action?", "/action done <id> [note]"),
        ("done twelve", "'twelve' is not an action number", "/action done <id> [note]"),
        ("done 0", "There is no action #0.", "/action done"),
        ("done 99999999999999999999", "There is no action #", "/action done"),
        ("update 12", "Please add a note", "/action update <id> <note>"),
        ("blocked 12", "Please add the reason", "/action blocked <id> <reason>"),
        ("assign 12", "Who should own it?", "/action assign <id> [to] @user"),
        ("assign 12 someone", "'someone' is not a person", "/action assign <id> [to] @user"),
        ("due 12 someday", "someday", "/action due <id> <date> [reason]"),
        ("due 12", "Please give the new date.", "/action due"),
        ("rag 12 purple", "RAG must be red, amber or green.", "/action rag"),
        # Blue is a plan's "complete", not a rating a chat command sets.
        ("rag 12 blue", "RAG must be red, amber or green.", "/action rag"),
        ("add due tomorrow", "Please give the action a title.", "/action add"),
        ("add Fix it due 31/2/2027", "31/2/2027", "/action add"),
        ("reopen 12 now", "reopen takes only the action number.", "/action reopen"),
        ("list everyone please", "is not mine, all, a person, overdue", "/action list"),
    ],
)
def test_action_errors(text: str, reason: str, usage: str) -> None:
    with pytest.raises(CommandError) as caught:
        action(text)
    assert reason in caught.value.reason
    assert caught.value.usage is not None and caught.value.usage.startswith(usage)
    assert "\n" not in caught.value.reason


@pytest.mark.parametrize(
    "text", ["sideways", "due soonish", "digest now", "overdue please", "nodate please"]
)
def test_status_errors(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        status(text)
    assert caught.value.usage and caught.value.usage.startswith("/status")


def test_unknown_command() -> None:
    with pytest.raises(CommandError):
        parse("/actions", "done 1", today=TODAY)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U123>", c.UserRef(platform_id="U123")),
        ("<@U123|amira.k>", c.UserRef(platform_id="U123", name="amira.k")),
        ("@amira", c.UserRef(name="amira")),
        ("Amira@Council.Example", c.UserRef(email="amira@council.example")),
        ("amira", None),
        ("<!channel>", None),
    ],
)
def test_user_references(token: str, expected: c.UserRef | None) -> None:
    assert parse_user(token) == expected


# --- status and RAG words of plan files ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not started", StatusReading(Status.OPEN)),
        ("In progress", StatusReading(Status.IN_PROGRESS)),
        ("On track", StatusReading(Status.IN_PROGRESS)),
        ("  ON   TRACK. ", StatusReading(Status.IN_PROGRESS)),
        ("Off track", StatusReading(Status.IN_PROGRESS, note="'Off track' read as in progress")),
        (
            "Carried forward",
            StatusReading(Status.IN_PROGRESS, note="'Carried forward' read as in progress"),
        ),
        ("On hold", StatusReading(Status.BLOCKED, blocked_reason="On hold")),
        ("Blocked", StatusReading(Status.BLOCKED)),
        ("Complete", StatusReading(Status.DONE)),
        ("Completed", StatusReading(Status.DONE)),
        ("Closed", StatusReading(Status.DONE)),
        ("Done", StatusReading(Status.DONE)),
        ("Completed 12/10/2026", StatusReading(Status.DONE, done_on=dt.date(2026, 10, 12))),
        ("Complete - 12 Oct 2026", StatusReading(Status.DONE, done_on=dt.date(2026, 10, 12))),
        ("Closed on 2026-10-12", StatusReading(Status.DONE, done_on=dt.date(2026, 10, 12))),
        # Done all the same, but never stamped with a guessed day.
        (
            "Completed Oct 2026",
            StatusReading(
                Status.DONE, note="'Completed Oct 2026' read as done, on a day not known"
            ),
        ),
        (
            "Overdue",
            StatusReading(
                None, note="'Overdue' is worked out from the deadline; status left as it is"
            ),
        ),
        ("Cancelled", StatusReading(Status.CANCELLED)),
    ],
)
def test_plan_status_words(text: str, expected: StatusReading) -> None:
    assert read_plan_status(text) == expected


@pytest.mark.parametrize("text", ["nearly", "green-ish", "Completed soon", ""])
def test_plan_status_words_that_are_not(text: str) -> None:
    assert read_plan_status(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Red", RagReading(Rag.RED)),
        ("r", RagReading(Rag.RED)),
        ("AMBER", RagReading(Rag.AMBER)),
        ("g", RagReading(Rag.GREEN)),
        ("Blue", RagReading(Rag.BLUE, done=True)),
        ("B", RagReading(Rag.BLUE, done=True)),
        ("Complete", RagReading(Rag.BLUE, done=True)),
        ("Completed", RagReading(Rag.BLUE, done=True)),
        ("Closed", RagReading(Rag.BLUE, done=True)),
        ("Done", RagReading(Rag.BLUE, done=True)),
        ("A/G", RagReading(Rag.AMBER, note="'A/G' read as amber, the worse of the two")),
        ("G/A", RagReading(Rag.AMBER, note="'G/A' read as amber, the worse of the two")),
        ("R/A", RagReading(Rag.RED, note="'R/A' read as red, the worse of the two")),
        (
            "Amber - Green",
            RagReading(Rag.AMBER, note="'Amber - Green' read as amber, the worse of the two"),
        ),
        ("A/A", RagReading(Rag.AMBER)),
    ],
)
def test_plan_rag_words(text: str, expected: RagReading) -> None:
    assert read_plan_rag(text) == expected


@pytest.mark.parametrize("text", ["purple", "A/X", "RAG", "", "red amber green"])
def test_plan_rag_words_that_are_not(text: str) -> None:
    assert read_plan_rag(text) is None


def test_chat_keeps_its_own_words() -> None:
    # Plans may say "Blue" or "On hold"; the commands' words stay the short list.
    assert read_rag("amber") == Rag.AMBER
    assert read_rag("blue") is None
    assert read_status("in progress") == Status.IN_PROGRESS
    assert read_status("on hold") is None


# --- what people type besides the canonical forms --------------------------------------------

DEE = c.UserRef(platform_id="U1", name="dee")
AMIRA_REF = c.UserRef(platform_id="U2", name="amira")
FRIDAY = dt.date(2026, 11, 27)
DEC_1 = dt.date(2026, 12, 1)

#: Every phrase people were refused for, and the command it now is.
PHRASES: list[tuple[str, str, c.Command]] = [
    ("/action", "done 12.", c.MarkDone(action_id=12)),
    ("/action", "done #12, all sorted", c.MarkDone(action_id=12, note="all sorted")),
    ("/action", "12 done", c.MarkDone(action_id=12)),
    ("/action", "#12 done signed off", c.MarkDone(action_id=12, note="signed off")),
    ("/action", "mark 12 done", c.MarkDone(action_id=12)),
    ("/action", "mark #12 as done", c.MarkDone(action_id=12)),
    ("/action", "mark 12 blocked no data", c.MarkBlocked(action_id=12, reason="no data")),
    ("/action", "mark 12 red", c.SetRag(action_id=12, rag=Rag.RED)),
    ("/action", "close 12", c.MarkDone(action_id=12)),
    (
        "/action",
        "cancel 12 merged into #14",
        c.CancelAction(action_id=12, reason="merged into #14"),
    ),
    ("/action", "list overdue", c.StatusOverdue()),
    ("/action", "list blocked", c.StatusBlocked()),
    ("/action", "list done", c.StatusDone()),
    ("/action", "list due", c.StatusDue(days=7)),
    ("/status", "help", c.Help(topic="status")),
    ("/status", "overdue @dee", c.StatusOverdue(user=c.UserRef(name="dee"))),
    ("/status", "overdue <@U1|dee>", c.StatusOverdue(user=DEE)),
    ("/status", "overdue mine", c.StatusOverdue(user=c.UserRef(me=True))),
    ("/status", "blocked", c.StatusBlocked()),
    ("/status", "red", c.StatusRag(rag=Rag.RED)),
    ("/status", "amber", c.StatusRag(rag=Rag.AMBER)),
    ("/status", "due this week", c.StatusDue(days=6, span="this week")),
    ("/status", "due next week", c.StatusDue(offset=7, days=6, span="next week")),
    ("/status", "due 2 weeks", c.StatusDue(days=14, span="2 weeks")),
    ("/status", "due this month", c.StatusDue(days=7, span="this month")),
    ("/action", "assign 12 to @amira", c.AssignAction(action_id=12, owner=c.UserRef(name="amira"))),
    ("/action", "assign 12 me", c.AssignAction(action_id=12, owner=c.UserRef(me=True))),
    ("/action", "assign 12 to me", c.AssignAction(action_id=12, owner=c.UserRef(me=True))),
    ("/action", "assign @amira 12", c.AssignAction(action_id=12, owner=c.UserRef(name="amira"))),
    # adding: `by`, `due`, `due:`, the owner before or after the date, several owners
    ("/action", "add Audit <@U1|dee> by 1 Dec", c.AddAction(title="Audit", owner=DEE, due=DEC_1)),
    ("/action", "add Audit due: 1 Dec", c.AddAction(title="Audit", due=DEC_1)),
    ("/action", "add Audit due:1 Dec <@U1|dee>", c.AddAction(title="Audit", owner=DEE, due=DEC_1)),
    (
        "/action",
        "add Audit by friday for <@U1|dee>",
        c.AddAction(title="Audit", owner=DEE, due=FRIDAY),
    ),
    (
        "/action",
        "add Audit for <@U1|dee>, <@U2|amira> due fri",
        c.AddAction(title="Audit", owner=DEE, supporters=(AMIRA_REF,), due=FRIDAY),
    ),
    (
        "/action",
        "add Audit <@U1|dee> and <@U2|amira>",
        c.AddAction(title="Audit", owner=DEE, supporters=(AMIRA_REF,)),
    ),
    (
        "/action",
        "add Audit owner: <@29:1a|Amira Khan> due 1 Dec",
        c.AddAction(
            title="Audit", owner=c.UserRef(platform_id="29:1a", name="Amira Khan"), due=DEC_1
        ),
    ),
    # a title that says "due" is a title
    (
        "/action",
        "add Complete the due diligence checks",
        c.AddAction(title="Complete the due diligence checks"),
    ),
    (
        "/action",
        "add Complete the due diligence checks by 1 Dec",
        c.AddAction(title="Complete the due diligence checks", due=DEC_1),
    ),
    (
        "/action",
        "add Implement recommendation 3.1 @dee",
        c.AddAction(title="Implement recommendation 3.1", owner=c.UserRef(name="dee")),
    ),
    (
        "/action",
        'add "Publish by 1 Dec" for @dee due fri',
        c.AddAction(title="Publish by 1 Dec", owner=c.UserRef(name="dee"), due=FRIDAY),
    ),
]


@pytest.mark.parametrize(("command", "text", "expected"), PHRASES, ids=[p[1] for p in PHRASES])
def test_phrases_people_type(command: str, text: str, expected: c.Command) -> None:
    assert parse(command, text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a person inside the title, a date without `due`: refused with what was read
        (
            "add Meet <@U1|dee> about the audit due fri",
            "I read: title 'Meet @dee about the audit', no owner, due Fri 27 Nov"
            " — is @dee an owner?",
        ),
        (
            "add Audit <@U1|dee> friday",
            "I read: title 'Audit @dee friday', no owner, no deadline — is 'friday' the deadline? "
            "Write `due friday`",
        ),
        ("add Audit @dee 1 Dec", "is '1 Dec' the deadline? Write `due 1 Dec`"),
        (
            "add Audit for @dee due",
            "I read: title 'Audit', owner @dee, no deadline — 'due' needs a date",
        ),
        ("add Audit due 1 Dcember", "I can't read '1 Dcember' as a date"),
        ("add Fix it by 31/2/2027", "February 2027 has 28 days"),
    ],
)
def test_add_words_that_cannot_be_trusted_are_refused(text: str, said: str) -> None:
    with pytest.raises(CommandError) as caught:
        action(text)
    assert said in caught.value.reason
    assert caught.value.usage and caught.value.usage.startswith("/action add")


@pytest.mark.parametrize(
    ("command", "text", "said"),
    [
        ("/action", "dne 12", "Did you mean `/action done 12`?"),
        ("/action", "updte 12 met the police", "Did you mean `/action update 12 met the police`?"),
        ("/action", "asign 12 @amira", "Did you mean `/action assign 12 @amira`?"),
        ("/action", "cancle 12 duplicate", "Did you mean `/action cancel 12 duplicate`?"),
        ("/status", "ovredue", "Did you mean `/status overdue`?"),
        ("/status", "bloked", "Did you mean `/status blocked`?"),
    ],
)
def test_unknown_words_get_the_nearest_command(command: str, text: str, said: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(command, text, today=TODAY)
    assert said in caught.value.reason


def test_a_cancel_needs_its_reason() -> None:
    with pytest.raises(CommandError) as caught:
        action("cancel 12")
    assert "reason it is cancelled" in caught.value.reason
    assert caught.value.usage == "/action cancel <id> <reason>"


def test_29_february_in_a_year_without_one_is_refused() -> None:
    november_2026 = dt.date(2026, 11, 23)
    with pytest.raises(CommandError) as caught:
        parse("/action", "due 12 29/2", today=november_2026)
    assert "2027 has no 29 February" in caught.value.reason
    assert parse("/action", "due 12 29/2/2028", today=november_2026) == c.MoveDue(
        action_id=12, due=dt.date(2028, 2, 29)
    )

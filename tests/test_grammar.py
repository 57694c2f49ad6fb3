"""The command grammar: every /action and /status form, and every way to get it wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import Rag
from bot.errors import CommandError
from bot.grammar import commands as c
from bot.grammar.parser import parse, parse_user

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
        ("assign 12", "Who should own it?", "/action assign <id> @user"),
        ("assign 12 someone", "'someone' is not a person", "/action assign <id> @user"),
        ("due 12 someday", "someday", "/action due <id> <date> [reason]"),
        ("due 12", "Please give the new date.", "/action due"),
        ("rag 12 purple", "RAG must be red, amber or green.", "/action rag"),
        ("add due tomorrow", "Please give the action a title.", "/action add"),
        ("add Fix it due 31/2/2027", "31/2/2027", "/action add"),
        ("reopen 12 now", "reopen takes only the action number.", "/action reopen"),
        ("list everyone please", "is not mine, all or a person", "/action list"),
    ],
)
def test_action_errors(text: str, reason: str, usage: str) -> None:
    with pytest.raises(CommandError) as caught:
        action(text)
    assert reason in caught.value.reason
    assert caught.value.usage is not None and caught.value.usage.startswith(usage)
    assert "\n" not in caught.value.reason


@pytest.mark.parametrize("text", ["sideways", "due soonish", "digest now", "overdue please"])
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

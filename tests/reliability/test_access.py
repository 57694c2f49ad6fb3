# ruff: noqa: F811, B023 - pytest fixtures imported by name; lambdas called at once
"""6. Access: every command against every role (chair, secretary, member, observer, none,
owners, people from outside the workspace); signatures on every Slack route; Teams tokens;
secrets never in logs or error messages."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.boards.members import put_role
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform, Role
from bot.people.resolve import OUTSIDER_REFUSAL
from bot.services.context import Caller, Core
from storage.db import transaction
from storage.models import Action, Board, HistoryEntry, Person
from tests.reliability.conftest import Tally
from tests.reliability.helpers import added_id, command, history_rows, ok, snapshot

#: Kinds of command, by who may use them.
RUN, OWNER, BOARD, OWN, HELP, CHAIR = "run", "owner", "board", "own", "help", "chair"

#: Who is calling: the chair (CHAIR_USER_IDS), people given a role with /board role, Ben (in
#: the workspace, no role), Amira (owner of the action, no role), an observer and someone from
#: outside the workspace who support the action, an outsider with nothing, and someone in the
#: workspace never seen before.
ROLES = (
    "chair", "secretary", "member", "observer", "none", "owner", "observer owner",
    "outsider owner", "outsider", "unknown",
)  # fmt: skip

#: Who each kind lets in, written out here (not read from the bot's table) so a change to the
#: table that this test does not expect fails it.
_BOARD = {"chair", "secretary", "member", "observer", "none", "owner", "observer owner", "unknown"}
MAY: dict[str, set[str]] = {
    RUN: {"chair", "secretary"},
    OWNER: {"chair", "secretary", "owner", "outsider owner"},
    BOARD: _BOARD,
    OWN: _BOARD | {"outsider owner"},
    HELP: set(ROLES),
    CHAIR: {"chair"},
}

#: The chair turns sign-off on (the suite runs with it off), so that done waits for one.
SIGNED_OFF_ON = "/board settings signoff on; "

#: (command with {n} for a fresh action, who may, steps the chair takes first, `;` between)
TABLE: list[tuple[str, str, str | None]] = [
    ("/action add Another action @amira due 2026-12-18", RUN, None),
    ("/action assign {n} @ben", RUN, None),
    ("/action done {n} finished", OWNER, None),
    ("/action update {n} progress made", OWNER, None),
    ("/action blocked {n} waiting for data", OWNER, None),
    ("/action reopen {n}", OWNER, "/action done {n}"),
    ("/action due {n} 2026-12-18 partner asked", RUN, None),
    # An owner asks the chairs; a chair or the secretary moves the date at once.
    ("/action rebaseline {n} 2026-12-18 the data is late", OWNER, None),
    ("/action cancel {n} no longer needed", RUN, None),
    ("/action rag {n} red", OWNER, None),
    ("/action evidence {n} https://example.org/audit.pdf", OWNER, None),
    ("/action signoff {n} checked", RUN, SIGNED_OFF_ON + "/action done {n}"),
    ("/action return {n} the audit is missing", RUN, SIGNED_OFF_ON + "/action done {n}"),
    ("/action show {n}", OWN, None),  # of an action they own or support
    ("/action list", BOARD, None),
    ("/action list mine", OWN, None),
    ("/action list @amira", BOARD, None),
    ("/action help", HELP, None),
    ("/status", BOARD, None),
    ("/status overdue", BOARD, None),
    ("/status mine", OWN, None),
    ("/status @amira", BOARD, None),
    ("/status due 14 days", BOARD, None),
    ("/status digest", RUN, None),
    ("/status digest post", RUN, None),
    ("/status signoff", BOARD, None),
    ("/board roles", BOARD, None),
    ("/board role @zed observer", CHAIR, None),
    ("/board settings", BOARD, None),
    ("/board settings signoff off", CHAIR, None),
    ("/board help", HELP, None),
]


def _allowed(who_may: str, role: str) -> bool:
    return role in MAY[who_may]


@pytest.fixture
def board_core(core: Core) -> Core:
    """The core with a board channel, so `/status digest post` has somewhere to post."""
    settings = core.settings.model_copy(update={"board_channel": "C0BOARD01"})
    return Core(settings=settings, sessions=core.sessions, clock=core.clock,
                directories=core.directories)


def _people(core: Core) -> int:
    with transaction(core.sessions) as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


@pytest.mark.parametrize("line, who_may, first", TABLE, ids=[t[0] for t in TABLE])
def test_every_command_against_every_role(
    board_core: Core, chair: Caller, amira: Caller, ben: Caller, line: str, who_may: str,
    first: str | None, tally: Tally,
) -> None:
    core = board_core
    ok(core, ben, "/action help")
    ok(core, ben, "/status mine")  # Ben is known; "unknown" has never been seen
    for name, role in (("sam", "secretary"), ("mo", "member"), ("olive", "observer"),
                       ("oscar", "observer")):
        ok(core, chair, f"/board role @{name} {role}")
    callers = {
        "chair": chair,
        "secretary": Caller(Platform.CONSOLE, "sam", "Sam"),
        "member": Caller(Platform.CONSOLE, "mo", "Mo"),
        "observer": Caller(Platform.CONSOLE, "olive", "Olive"),
        "none": ben,
        "owner": amira,
        "observer owner": Caller(Platform.CONSOLE, "oscar", "Oscar"),
        "outsider owner": Caller(Platform.CONSOLE, "pat", "Pat", external=True),
        "outsider": Caller(Platform.CONSOLE, "xena", "Xena", external=True),
    }
    for index, role in enumerate(ROLES):
        caller = callers.get(role) or Caller(Platform.CONSOLE, f"stranger{index}", "Stranger")
        number = added_id(
            ok(core, chair, f"/action add Case {role} for @amira, @oscar, @pat by 2026-12-04")
        )
        for step in (first or "").split("; "):
            if step:
                ok(core, chair, step.format(n=number))
        before, people = snapshot(core), _people(core)
        history_before = len(history_rows(core))
        outcome = command(core, caller, line.format(n=number))
        tally.add("6 access", inputs=1)
        reply = outcome.message
        if _allowed(who_may, role):
            assert reply.tone != "error", (role, line, reply.text)
            if who_may in (RUN, OWNER) and "digest" not in line:
                new = history_rows(core)[history_before:]
                assert new, (role, line, "an allowed change left no history")
                assert all(entry.actor_id is not None for entry in new)
        else:
            assert reply.tone == "error", (role, line, reply.text)
            # Each refusal says who may, or whom to ask.
            assert "chair" in reply.text, reply.text
            assert snapshot(core) == before, (role, line)
            if role == "outsider":
                assert reply.text == OUTSIDER_REFUSAL
                assert _people(core) == people, "an outsider was registered"
            if role in ("observer", "observer owner"):
                assert reply.text.startswith("You are an observer"), reply.text


# --------------------------------------------------------------------------- other boards

#: The default board's channel (board_core) and a second board's, in its own workspace.
DEFAULT_CHANNEL, SEND_CHANNEL, SEND_TEAM = "C0BOARD01", "C0SEND001", "T0SEND"

#: Who tries another board's action: its own chair typing in the default board's channel,
#: the default board's chair in a direct message on another workspace, and the second
#: board's own chair from a workspace that is not the board's.
CROSS = ("chair here", "chair elsewhere", "their chair, wrong workspace")


@pytest.mark.parametrize(
    "line", [line for line, _, _ in TABLE if "{n}" in line], ids=lambda line: line
)
def test_every_command_refuses_another_boards_action(
    board_core: Core, chair: Caller, line: str, tally: Tally
) -> None:
    core = board_core
    with transaction(core.sessions) as session:
        session.add(Board(name="SEND Board", slack_team_id=SEND_TEAM, slack_channel=SEND_CHANNEL,
                          created_at=core.now()))  # fmt: skip
    core.boards.invalidate()
    theirs = Caller(Platform.SLACK, "USENDCHAIR", "Sendra", workspace=SEND_TEAM,
                    channel=SEND_CHANNEL)  # fmt: skip
    ok(core, theirs, "/action list mine")  # the bot meets them
    with transaction(core.sessions) as session:
        sendra = session.scalars(select(Person).where(Person.display_name == "Sendra")).one()
        put_role(session, 2, sendra.id, Role.CHAIR)
    number = added_id(ok(core, theirs, "/action add Map the SEND pathway @sendra by 2026-12-04"))
    with transaction(core.sessions) as session:
        assert session.get(Action, number).board_id == 2  # type: ignore[union-attr]
    callers = {
        "chair here": Caller(Platform.CONSOLE, "chair", "Chair", channel=DEFAULT_CHANNEL),
        "chair elsewhere": Caller(Platform.SLACK, "chair", "Chair", workspace="T0OTHER"),
        "their chair, wrong workspace": Caller(
            Platform.SLACK, "USENDCHAIR", "Sendra", workspace="T0OTHER"
        ),
    }
    for who in CROSS:
        before = snapshot(core)
        outcome = command(core, callers[who], line.format(n=number))
        tally.add("6 access", inputs=1)
        assert outcome.message.tone == "error", (who, line, outcome.message.text)
        assert "SEND pathway" not in outcome.message.text, (who, line)
        assert snapshot(core) == before, (who, line)


# --------------------------------------------------------------------------- Slack routes

from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.slack_signing import (  # noqa: E402
    app_home_opened_event,
    block_actions_body,
    signed_headers,
    slash_command_body,
    text_input,
    view_submission_body,
)
from tests.test_slack_http import (  # noqa: E402, F401 - fixtures
    AMIRA,
    CHAIR,
    SECRET,
    SlackUser,
    base,
    bot,
    count,
    slack,
    slack_core,
    slack_process,
)


def _bodies() -> dict[str, bytes]:
    return {
        "slash command": slash_command_body(text="add Should never exist", user_id=CHAIR),
        "status command": slash_command_body(command="/status", text="", user_id=CHAIR),
        "button press": block_actions_body(CHAIR, "action_done", "1"),
        "form submission": view_submission_body(
            CHAIR, "add_action", {"title": {"value": text_input("Never")}}, ""
        ),
        "event": app_home_opened_event(CHAIR),
        "url verification": json.dumps(
            {"token": "x", "challenge": "abc", "type": "url_verification"}
        ).encode(),
    }


_TAMPER = ["bad secret", "no signature", "no timestamp", "replayed (6 min old)",
           "future timestamp", "garbage timestamp", "tampered body", "v1 signature"]


@pytest.mark.parametrize("how", _TAMPER)
def test_every_slack_route_refuses_bad_signatures(
    how: str, base: str, slack: FakeSlack, slack_core: Core, tally: Tally
) -> None:
    with transaction(slack_core.sessions) as session:
        before = session.scalar(select(func.count()).select_from(Action))
    for name, body in _bodies().items():
        slack.clear()
        now = int(time.time())
        headers = {
            "bad secret": lambda: signed_headers(body, "not-the-secret"),
            "no signature": lambda: {
                k: v for k, v in signed_headers(body, SECRET).items()
                if k.lower() != "x-slack-signature"
            },
            "no timestamp": lambda: {
                k: v for k, v in signed_headers(body, SECRET).items()
                if k.lower() != "x-slack-request-timestamp"
            },
            "replayed (6 min old)": lambda: signed_headers(body, SECRET, now - 360),
            "future timestamp": lambda: signed_headers(body, SECRET, now + 360),
            "garbage timestamp": lambda: {
                **signed_headers(body, SECRET), "X-Slack-Request-Timestamp": "1e9"
            },
            "tampered body": lambda: signed_headers(body, SECRET),
            "v1 signature": lambda: {
                **signed_headers(body, SECRET),
                "X-Slack-Signature": signed_headers(body, SECRET)["X-Slack-Signature"].replace(
                    "v0=", "v1="
                ),
            },
        }[how]()
        sent = body + b"&x=1" if how == "tampered body" else body
        response = httpx.post(f"{base}/slack/events", content=sent, headers=headers, timeout=10)
        tally.add("6 access", inputs=1)
        assert response.status_code == 401, (name, how, response.status_code, response.text)
        assert slack.calls() == [], (name, how)  # no listener ran
    assert count(slack_core, Action) == before and count(slack_core, HistoryEntry) == 0


def test_a_correctly_signed_request_is_served(base: str, slack: FakeSlack) -> None:
    """The control: the same harness with a good signature gets through."""
    body = slash_command_body(command="/status", text="", user_id=CHAIR)
    response = httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"


# --------------------------------------------------------------------------- Teams

from tests.support.teams_server import message  # noqa: E402
from tests.test_teams_auth import APP_ID, connector, secured  # noqa: E402, F401


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer x", "Bearer garbage", "Basic dXNlcjpwYXNz", "bearer lower.case.token",
    "alg-none",
])
def test_teams_refuses_requests_without_a_valid_token(
    secured: str, connector: Any, database_url: str, authorization: str | None, tally: Tally
) -> None:
    if authorization == "alg-none":
        now = int(time.time())
        authorization = "Bearer " + _unsigned({
            "aud": APP_ID, "iss": "https://api.botframework.com", "iat": now, "nbf": now,
            "exp": now + 600, "serviceurl": connector.url,
        })
    headers = {"Authorization": authorization} if authorization is not None else {}
    activity = message(connector.url, "29:chair", "action add Never should exist")
    answer = httpx.post(f"{secured}/api/messages", json=activity, headers=headers, timeout=20)
    tally.add("6 access", inputs=1)
    assert answer.status_code == 401
    assert connector.posts == []
    from storage.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        assert session.scalar(select(func.count()).select_from(Action)) == 0
    engine.dispose()


# --------------------------------------------------------------------------- secrets

TOKEN = "xoxb-1234-5678-SECRETTOKENabcdef"
SIGNING = "signing-SECRET-0123456789abcdef"
TEAMS_PASSWORD = "teams-PASSWORD-fedcba9876543210"


def test_secrets_never_appear_in_logs_or_replies(
    database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture, tally: Tally
) -> None:
    """Everything at DEBUG, through good and failing paths; then grep for the secrets."""
    from bot.outbox.delivery import deliver
    from handlers.web import create_web_app
    from tests.test_slack_http import running
    from wiring.root import compose
    from wiring.serve import build_slack_bot

    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with FakeSlack() as fake:
        fake.add_user(CHAIR, "sarah@board.example", "Sarah Chair")
        fake.add_user(AMIRA, "amira@council.example", "Amira Khan")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url, slack_bot_token=TOKEN, slack_signing_secret=SIGNING,
            slack_api_url=fake.api_url, chair_user_ids=(CHAIR,), teams_app_id="app-id",
            teams_app_password=TEAMS_PASSWORD,
        )
        seen += [repr(settings), str(settings), settings.model_dump_json()]
        process = compose(settings, clock=clock)
        core = process.core
        slack_bot = build_slack_bot(process)
        with running(create_web_app(core, slack=slack_bot)) as url:
            def post(body: bytes, secret: str = SIGNING) -> None:
                response = httpx.post(f"{url}/slack/events", content=body,
                                      headers=signed_headers(body, secret), timeout=10)
                seen.append(response.text)
                seen.append(json.dumps(dict(response.headers)))

            post(slash_command_body(text=f"add Audit <@{AMIRA}> due friday", user_id=CHAIR))
            post(slash_command_body(text="status", user_id=CHAIR), secret="wrong")
            fake.fail_next("users.info", status=500, times=3)
            post(slash_command_body(text="list", user_id="UNEW"))
            fake.fail_next("chat.postMessage", error="invalid_auth", status=200, times=5)
            fake.fail_next("users.info", error="not_authed", status=200, times=3)
            post(slash_command_body(text=f"add Second <@{AMIRA}>", user_id=CHAIR))
            fake.fail_next("chat.postMessage", reset=True, times=3)
            post(slash_command_body(text=f"add Third <@{AMIRA}>", user_id=CHAIR))
            post(slash_command_body(text="done 999999", user_id=CHAIR))
            clock.advance(dt_hours(2))
            report = deliver(core, process.senders)
            seen.append(report.summary())
        slack_bot.close()
        process.close()
        # Outbound calls carry the token (that is the point) but nothing else may.
        seen += [json.dumps(c.params) for c in fake.calls()]
    tally.add("6 access", inputs=8, faults=14)
    haystack = caplog.text + "\n".join(seen)
    haystack += "\n".join(str(r.args) + str(r.exc_info) for r in caplog.records)
    assert "refused a Slack request" in caplog.text  # the logs did capture the bad request
    for secret in (TOKEN, SIGNING, TEAMS_PASSWORD, TOKEN[5:], SIGNING[:16]):
        assert secret not in haystack, f"a secret ({secret[:8]}…) appears in logs or replies"


def dt_hours(hours: int) -> Any:
    import datetime as dt

    return dt.timedelta(hours=hours)

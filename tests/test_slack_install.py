"""Many workspaces: the Slack app installed through Bolt's OAuth flow over real HTTP against the
fake Slack (which answers oauth.v2.access), tokens encrypted at rest, commands and messages
of each workspace made with its own token, uninstalls and revocations, the first installation
from SLACK_BOT_TOKEN, and `serve` refusing to start without ACTIONBOT_SECRET_KEY."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.outbox.pacing import Pacer
from bot.render.model import Message, Paragraph
from handlers.slack.install import Workspaces
from handlers.slack.installations import EncryptedInstallationStore, TokenCipher
from handlers.slack.sender import SlackSender
from handlers.web import create_web_app
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.fake_time import FakeTime
from tests.support.slack_signing import event_body, signed_headers, slash_command_body
from tests.test_slack_http import running
from wiring.root import compose
from wiring.serve import build_app, build_slack_bot

SECRET = "test-signing-secret"
CLIENT_ID, CLIENT_SECRET = "1234.5678", "client-secret-of-the-app"
KEY = "k" * 16 + "-a-key-of-at-least-32-characters"
PUBLIC = "https://bot.example.org"
HELLO = Message(text="Hello", blocks=[Paragraph(text="Hello")], ephemeral=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.oauth_client(CLIENT_ID, CLIENT_SECRET)
        fake.add_workspace("T0SEND", "SEND partnership")
        fake.add_workspace("T0SAFE", "Safeguarding partnership")
        fake.add_user("USEND", "sam@send.example", "Sam Send", workspace="T0SEND")
        fake.add_user("USAFE", "sol@safe.example", "Sol Safe", workspace="T0SAFE")
        fake.add_user("UCHAIR", "chair@board.example", "Sarah Chair")
        yield fake


def settings_for(database_url: str, slack: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.api_url,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "actionbot_secret_key": KEY,
        "public_url": PUBLIC,
        "chair_user_ids": ("UCHAIR",),
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def served(database_url: str, slack: FakeSlack, clock: FixedClock) -> Iterator[str]:
    """`serve`'s app with only the install flow (no SLACK_BOT_TOKEN), on a real socket."""
    process = compose(settings_for(database_url, slack), clock=clock)
    bot = build_slack_bot(process)
    try:
        with running(create_web_app(process.core, slack=bot)) as base:
            yield base
    finally:
        bot.close()
        process.close()


def install(base: str, slack: FakeSlack, team: str, user: str) -> httpx.Response:
    """Someone of `team` opens /slack/install, approves, and Slack sends them back."""
    with httpx.Client(base_url=base, timeout=10) as browser:
        page = browser.get("/slack/install")
        assert page.status_code == 200
        [authorize] = re.findall(
            r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text
        )
        query = parse_qs(urlsplit(authorize.replace("&amp;", "&")).query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == [f"{PUBLIC}/slack/oauth_redirect"]
        assert query["scope"][0].split(",") == list(Settings.model_fields["slack_scopes"].default)
        # The state's cookie is Secure (Slack's redirect arrives over https): the browser of
        # this test on plain http hands it back itself.
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        code = slack.install_code(team, user=user)
        return browser.get(
            "/slack/oauth_redirect",
            params={"code": code, "state": query["state"]},
            headers={"cookie": cookie},
        )


def raw_rows(database_url: str, table: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()]
    finally:
        engine.dispose()


def command(
    base: str, team: str, user: str, text_: str, slack: FakeSlack, name: str = "/status"
) -> httpx.Response:
    body = slash_command_body(
        command=name,
        text=text_,
        user_id=user,
        user_name=user.lower(),
        team_id=team,
        channel_id=f"C{team}",
        response_url=slack.response_url(f"cmd-{user}"),
    )
    return httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )


def test_an_install_through_the_flow_stores_the_workspace_and_its_commands_use_its_token(
    served: str, slack: FakeSlack, database_url: str
) -> None:
    done = install(served, slack, "T0SEND", "USEND")
    assert done.status_code == 200, done.text
    [exchange] = slack.calls("oauth.v2.access")
    assert exchange.ok and exchange.params["redirect_uri"] == f"{PUBLIC}/slack/oauth_redirect"
    token = str(exchange.response["access_token"])  # type: ignore[index]
    assert slack.token_team(token) == "T0SEND"

    [row] = raw_rows(database_url, "slack_installations")
    assert (row["team_id"], row["team_name"], row["user_id"]) == (
        "T0SEND",
        "SEND partnership",
        "USEND",
    )
    # Encrypted at rest: the token is nowhere in the rows, in clear.
    for table in ("slack_installations", "slack_bots"):
        assert token not in repr(raw_rows(database_url, table))
        assert "xoxb-" not in repr(raw_rows(database_url, table))

    slack.clear()
    answer = command(served, "T0SEND", "USEND", "mine", slack)
    assert answer.status_code == 200, answer.text
    assert answer.json()["response_type"] == "ephemeral"
    # Sam was looked up in his workspace, with its token (another's would not find him).
    [lookup] = slack.calls("users.info")
    assert lookup.ok and lookup.params["user"] == "USEND"
    assert lookup.headers["authorization"] == f"Bearer {token}"

    # A workspace that never installed the app is told so, not answered with another's token.
    slack.clear()
    refused = command(served, "T0SAFE", "USAFE", "mine", slack)
    assert refused.status_code == 200
    [said] = slack.calls("response_url")
    assert "install" in str(said.params.get("text")).lower()
    assert not [c for c in slack.calls() if c.team == "T0SAFE"]


def test_a_workspaces_commands_check_its_token_with_slack_once(
    served: str, slack: FakeSlack
) -> None:
    """Bolt asks auth.test about an installation's token for its first command, not before
    every reply."""
    assert install(served, slack, "T0SEND", "USEND").status_code == 200
    assert command(served, "T0SEND", "USEND", "mine", slack).status_code == 200
    slack.clear()
    for text_ in ("overdue", "mine"):
        answer = command(served, "T0SEND", "USEND", text_, slack)
        assert answer.status_code == 200, answer.text
        assert answer.json()["response_type"] == "ephemeral"
    assert slack.calls("auth.test") == []


def test_a_redirect_with_a_code_slack_does_not_know_installs_nothing(
    served: str, slack: FakeSlack, database_url: str
) -> None:
    with httpx.Client(base_url=served, timeout=10) as browser:
        page = browser.get("/slack/install")
        state = re.findall(r"state=([^&\"]+)", page.text)[0]
        answer = browser.get(
            "/slack/oauth_redirect",
            params={"code": "forged", "state": state},
            headers={"cookie": page.headers["set-cookie"].split(";", 1)[0]},
        )
    assert answer.status_code != 200
    [exchange] = slack.calls("oauth.v2.access")
    assert exchange.outcome == "invalid_code"
    assert raw_rows(database_url, "slack_installations") == []


def test_a_redirect_without_the_state_issued_is_refused(served: str, slack: FakeSlack) -> None:
    code = slack.install_code("T0SEND")
    answer = httpx.get(
        f"{served}/slack/oauth_redirect", params={"code": code, "state": "made-up"}, timeout=10
    )
    assert answer.status_code != 200
    assert slack.calls("oauth.v2.access") == []  # the code was never spent


def add_board(database_url: str, board_id: int, name: str, team: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO boards (id, name, slack_team_id, created_at) "
                "VALUES (:id, :name, :team, :at)"
            ),
            {"id": board_id, "name": name, "team": team, "at": dt.datetime.now(dt.UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO outbox (key, kind, channel, payload, status, attempts, "
                "not_before, created_at, board_id) VALUES (:key, 'digest', :channel, "
                "'{}', 'pending', 0, :at, :at, :id)"
            ),
            {
                "key": f"digest-{board_id}",
                "channel": f"C{team}",
                "at": dt.datetime.now(dt.UTC),
                "id": board_id,
            },
        )
    engine.dispose()


def post_event(base: str, team: str, event: dict[str, Any]) -> httpx.Response:
    body = event_body(event, team_id=team)
    return httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET), timeout=10
    )


def test_an_uninstall_removes_the_tokens_and_stops_the_workspaces_deliveries(
    served: str, slack: FakeSlack, database_url: str
) -> None:
    assert install(served, slack, "T0SEND", "USEND").status_code == 200
    assert install(served, slack, "T0SAFE", "USAFE").status_code == 200
    add_board(database_url, 2, "SEND", "T0SEND")
    add_board(database_url, 3, "Safeguarding", "T0SAFE")

    answer = post_event(served, "T0SEND", {"type": "app_uninstalled"})
    assert answer.status_code == 200
    assert {r["team_id"] for r in raw_rows(database_url, "slack_installations")} == {"T0SAFE"}
    assert {r["team_id"] for r in raw_rows(database_url, "slack_bots")} == {"T0SAFE"}
    rows = {r["board_id"]: r for r in raw_rows(database_url, "outbox")}
    # Kept, with the reason, not sent: the other workspace's row still waits.
    assert rows[2]["status"] == "failed"
    assert rows[2]["last_error"] == "not sent: the Slack app was uninstalled from workspace T0SEND"
    assert rows[3]["status"] == "pending"

    revoked = post_event(
        served,
        "T0SAFE",
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTT0SAFE"]}},
    )
    assert revoked.status_code == 200
    assert raw_rows(database_url, "slack_bots") == []
    rows = {r["board_id"]: r for r in raw_rows(database_url, "outbox")}
    assert rows[3]["status"] == "failed"
    assert "tokens were revoked in workspace T0SAFE" in rows[3]["last_error"]


def test_the_bot_tokens_workspace_is_the_first_installation(
    database_url: str, slack: FakeSlack, clock: FixedClock
) -> None:
    settings = settings_for(database_url, slack, slack_bot_token="xoxb-test")
    for _ in range(2):  # a restart registers nothing twice
        process = compose(settings, clock=clock)
        build_slack_bot(process).close()
        process.close()
    [row] = raw_rows(database_url, "slack_bots")
    assert (row["team_id"], row["bot_user_id"], row["app_id"]) == (TEAM_ID, "UBOT", "A0001")
    # The board it served is that workspace's own: seen from there only.
    assert [(b["id"], b["slack_team_id"]) for b in raw_rows(database_url, "boards")] == [
        (1, TEAM_ID)
    ]
    assert "xoxb-test" not in repr(row)
    store = EncryptedInstallationStore(CLIENT_ID, create_engine(database_url), TokenCipher(KEY))
    found = store.find_installation(enterprise_id=None, team_id=TEAM_ID)
    assert found is not None and found.bot_token == "xoxb-test"


def test_tokens_are_sealed_at_rest_and_only_the_key_opens_them(database_url: str) -> None:
    engine = create_engine(database_url)
    store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher(KEY))
    store.save(
        Installation(
            app_id="A0001",
            team_id="T0ROT",
            user_id="UINSTALLER",
            bot_token="xoxe.xoxb-1-secret-bot",
            bot_refresh_token="xoxe-1-secret-refresh",
            bot_token_expires_in=43200,
            user_token="xoxp-secret-user",
            user_refresh_token="xoxe-1-secret-user-refresh",
            user_token_expires_in=43200,
            bot_id="B1",
            bot_user_id="U1",
        )
    )
    raw = repr(raw_rows(database_url, "slack_installations")) + repr(
        raw_rows(database_url, "slack_bots")
    )
    # Neither any token nor a recognisable part of one (a random ciphertext may hold any
    # three letters, so it is the tokens themselves that are looked for).
    for token in ("xoxe.xoxb-1-secret-bot", "xoxe-1-secret-refresh", "xoxp-secret-user"):
        assert token not in raw and token.split("-", 1)[1] not in raw
    assert "-secret-" not in raw
    found = store.find_installation(enterprise_id=None, team_id="T0ROT")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token) == (
        "xoxe.xoxb-1-secret-bot",
        "xoxe-1-secret-refresh",
    )
    assert (found.user_token, found.user_refresh_token) == (
        "xoxp-secret-user",
        "xoxe-1-secret-user-refresh",
    )
    other = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher("another-" + KEY))
    with pytest.raises(ValueError, match="ACTIONBOT_SECRET_KEY"):
        other.find_bot(enterprise_id=None, team_id="T0ROT")
    engine.dispose()


def test_serve_refuses_to_start_without_the_secret_key(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(database_url, slack, actionbot_secret_key=None)
    with caplog.at_level(logging.ERROR):
        assert build_app(settings) is None
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.startswith("Slack would not start: ACTIONBOT_SECRET_KEY is not set")
    with pytest.raises(ValidationError, match="ACTIONBOT_SECRET_KEY must be at least 32"):
        settings_for(database_url, slack, actionbot_secret_key="short")


def test_the_actionbot_serve_command_names_the_missing_key(
    database_url: str,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wiring.cli import main

    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "PUBLIC_URL": PUBLIC,
        "ACTIONBOT_SECRET_KEY": "too short",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    assert "ACTIONBOT_SECRET_KEY" in capsys.readouterr().err


def test_a_rate_limit_in_one_workspace_does_not_slow_another(
    core: Any, slack: FakeSlack, database_url: str
) -> None:
    settings = settings_for(database_url, slack)
    engine = create_engine(database_url)
    client_process = compose(settings)
    workspaces = Workspaces(settings, engine, client=client_process.slack.client)  # type: ignore[union-attr]
    for team, user in (("T0SEND", "USEND"), ("T0SAFE", "USAFE")):
        workspaces.store.save(
            Installation(
                app_id="A0001",
                team_id=team,
                user_id=user,
                bot_token=f"xoxb-{team.lower()}-bot",
                bot_user_id=f"UBOT{team}",
            )
        )
    time = FakeTime()
    waiting, release = threading.Event(), threading.Event()
    slept: list[tuple[str, float]] = []

    def sleep(seconds: float) -> None:
        slept.append((threading.current_thread().name, seconds))
        waiting.set()
        release.wait(10)
        time.sleep(seconds)

    sender = SlackSender(
        client_process.slack.client,  # type: ignore[union-attr]
        core,
        workspaces=workspaces,
        new_pacer=lambda: Pacer(clock=time.monotonic, sleep=sleep),
    )
    slack.fail_next("chat.postMessage", status=429, retry_after=3)
    results: dict[str, Any] = {}
    busy = threading.Thread(
        target=lambda: results.update(
            send=sender.send_to_account("USEND", HELLO, workspace="T0SEND")
        ),
        name="send-workspace",
    )
    busy.start()
    assert waiting.wait(10)  # SEND's sender waits out Slack's Retry-After
    # Meanwhile the safeguarding board's message goes at once, with its workspace's token.
    delivered = sender.send_to_account("USAFE", HELLO, workspace="T0SAFE")
    assert delivered.channel == "DUSAFE"
    assert slept == [("send-workspace", 3.0)]
    release.set()
    busy.join(10)
    assert results["send"].channel == "DUSEND"
    teams = [(c.team, c.outcome) for c in slack.calls("chat.postMessage")]
    assert teams == [("T0SEND", "ratelimited"), ("T0SAFE", "ok"), ("T0SEND", "ok")]
    # A workspace without an installation is refused for good, with the reason.
    from bot.outbox.sender import SendError

    with pytest.raises(SendError, match="not installed in workspace T0GONE") as refused:
        sender.send_to_account("UX", HELLO, workspace="T0GONE")
    assert refused.value.permanent
    client_process.close()
    engine.dispose()
    assert Platform.SLACK is sender.platform


def test_a_new_workspace_sees_no_other_workspaces_board(
    served: str, slack: FakeSlack, database_url: str
) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE boards SET slack_team_id = 'T0HOME' WHERE id = 1"))
        conn.execute(
            text(
                "INSERT INTO actions (board_id, title, status, created_at, updated_at, version) "
                "VALUES (1, 'Audit the front door', 'open', :at, :at, 1)"
            ),
            {"at": "2026-11-23 09:00:00" if database_url.startswith("sqlite") else "2026-11-23"},
        )
    engine.dispose()
    assert install(served, slack, "T0SEND", "USEND").status_code == 200
    slack.clear()
    answer = command(served, "T0SEND", "USEND", "", slack)
    assert answer.status_code == 200, answer.text
    said = json.dumps(answer.json() if answer.content else slack.calls("response_url")[0].params)
    assert "This workspace has no board yet" in said
    assert "Audit the front door" not in said

    # Its first board: anyone there may start it, and becomes its chair.
    slack.clear()
    created = command(served, "T0SEND", "USEND", "create SEND Partnership", slack, "/board")
    said = json.dumps(created.json() if created.content else slack.calls("response_url")[0].params)
    assert "Board SEND Partnership created; you are its chair" in said, said
    assert "Improvement Board" not in said
    slack.clear()
    listed = command(served, "T0SEND", "USEND", "", slack)
    said = json.dumps(listed.json() if listed.content else slack.calls("response_url")[0].params)
    assert "no board yet" not in said and "Audit the front door" not in said
    [board] = [b for b in raw_rows(database_url, "boards") if b["name"] == "SEND Partnership"]
    assert board["slack_team_id"] == "T0SEND"


def test_the_schemas_description_of_slacks_tables_is_the_stores_own() -> None:
    # storage/slack_tables.py describes slack_sdk's tables without importing it: the stores'
    # own builders (tokens widened) must agree, or an update of slack_sdk needs a migration.
    from sqlalchemy import MetaData

    from handlers.slack.installations import define_tables
    from storage import slack_tables

    def shape(table: Any) -> tuple[object, ...]:
        columns = sorted(
            (c.name, str(c.type), c.nullable, c.primary_key) for c in table.columns
        )
        indexes = sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes)
        return table.name, columns, indexes

    theirs = define_tables(MetaData())
    ours = (
        slack_tables.SLACK_BOTS,
        slack_tables.SLACK_INSTALLATIONS,
        slack_tables.SLACK_OAUTH_STATES,
    )
    assert [shape(t) for t in ours] == [shape(t) for t in theirs]

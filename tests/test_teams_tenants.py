"""Teams across organisations: activities of two tenants over real HTTP, tokens checked by the
SDK's validator against a test key, each tenant's Bot Connector a fake of its own on loopback
(Teams gives every tenant the service URL of its region).

A multi-tenant deployment serves both tenants and keeps each one's conversation references
with its tenant; a single-tenant one refuses the other tenant's activities; a proactive message
for a board goes only through references of the board's tenant.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_teams.api.auth.cloud_environment import PUBLIC
from pydantic import SecretStr
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Status
from bot.outbox.delivery import deliver
from bot.outbox.queue import enqueue
from bot.outbox.sender import SendError
from bot.render.model import Message
from handlers.teams.activities import Incoming
from handlers.teams.app import TeamsEndpoint, build_teams
from handlers.teams.connector import ClientCredentialsToken, Connector, NoToken, token_source
from handlers.teams.sender import TeamsSender
from handlers.teams.tenants import Tenants
from handlers.web import create_web_app
from storage.db import transaction
from storage.models import Action, Board, OutboxMessage, OutboxStatus, TeamsReference
from tests.conftest import MONDAY
from tests.support.fake_connector import FakeConnector, fake_connector
from tests.support.teams_server import message, running
from wiring.root import compose

APP_ID = "00000000-0000-0000-0000-0000000ten42"
ISSUER = "https://api.botframework.test"
TENANT_A = "aaaaaaaa-0000-0000-0000-00000000000a"
TENANT_B = "bbbbbbbb-0000-0000-0000-00000000000b"
TENANT_C = "cccccccc-0000-0000-0000-00000000000c"
CHANNEL_A = "19:board-a@thread.tacv2"
CHANNEL_B = "19:board-b@thread.tacv2"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(service_url: str) -> str:
    """A Bot Framework token for our app, signed by the key the fake publishes."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "iat": now, "nbf": now, "exp": now + 600}
    claims["serviceurl"] = service_url
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "test-key"})


@dataclass
class Rig:
    """The web app of one deployment, with a Bot Connector per tenant."""

    url: str
    endpoint: TeamsEndpoint
    sender: TeamsSender
    settings: Settings
    regions: dict[str, FakeConnector]
    http: httpx.Client

    def post(self, activity: dict[str, Any], authorization: str | None = None) -> httpx.Response:
        bearer = authorization or f"Bearer {token(activity['serviceUrl'])}"
        return self.http.post(
            f"{self.url}/api/messages", json=activity, headers={"Authorization": bearer}
        )

    def says(self, tenant: str, user: str, text: str, **extra: Any) -> httpx.Response:
        """`user` of `tenant` writes to the bot (in their personal chat unless told)."""
        return self.post(message(self.regions[tenant].url, user, text, tenant=tenant, **extra))

    def references(self) -> dict[str, str | None]:
        """Every kept conversation reference: its key and the tenant it was kept with."""
        with transaction(self.endpoint.bot.core.sessions) as session:
            rows = session.scalars(select(TeamsReference)).all()
            return {row.key: row.tenant_id for row in rows}


@contextmanager
def deployment(database_url: str, **teams: Any) -> Iterator[Rig]:
    """`actionbot serve` with an app registration and the given tenant settings."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        teams_app_id=APP_ID,
        teams_app_password=SecretStr("not-a-real-secret"),
        **teams,
    )
    with fake_connector() as region_a, fake_connector() as region_b, fake_connector() as region_c:
        public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        region_a.jwks = {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}
        regions = {TENANT_A: region_a, TENANT_B: region_b, TENANT_C: region_c}
        for tenant, region in regions.items():
            # Each organisation's people, as its connector's member lookup describes them.
            region.members.update(
                {
                    f"29:{name}-{tenant[0]}": {"name": name.title(), "email": f"{name}@{tenant}"}
                    for name in ("ann", "bob")
                }
            )
        # Outbound calls carry no token: a real one would need Azure AD, which tests never reach.
        process = compose(settings, clock=FixedClock(MONDAY), teams_connector=Connector(NoToken()))
        assert process.teams is not None
        keys = {"openid_metadata_url": region_a.openid_url, "token_issuer": ISSUER}
        cloud = PUBLIC.__class__(**{**PUBLIC.__dict__, **keys})
        endpoint = build_teams(
            process.core,
            settings,
            connector=process.teams.connector,
            senders=process.senders,
            cloud=cloud,
        )
        app = create_web_app(process.core, teams=endpoint.handle)
        with running(app) as url, httpx.Client(timeout=20) as http:
            yield Rig(url, endpoint, process.teams.sender, settings, regions, http)
        process.close()


def ann(tenant: str) -> str:
    return f"29:ann-{tenant[0]}"


def bob(tenant: str) -> str:
    return f"29:bob-{tenant[0]}"


@pytest.mark.parametrize("word", [None, "multi", "common"])
def test_a_multi_tenant_deployment_serves_every_organisation(
    database_url: str, word: str | None
) -> None:
    with deployment(database_url, teams_tenant_id=word) as rig:
        assert rig.says(TENANT_A, ann(TENANT_A), "status").status_code == 200
        channel = {"conversation": CHANNEL_B, "conversation_type": "channel"}
        answer = rig.says(TENANT_B, bob(TENANT_B), "status", channel_id=CHANNEL_B, **channel)
        assert answer.status_code == 200
        # Each answer went to the connector of the tenant it came from.
        [reply_a] = rig.regions[TENANT_A].replies()
        [reply_b] = rig.regions[TENANT_B].replies()
        assert reply_a.conversation_id == f"a:personal-{ann(TENANT_A)}"
        assert reply_b.conversation_id == CHANNEL_B
        assert reply_a.card_text and reply_b.card_text
        assert rig.references() == {
            f"user:{ann(TENANT_A)}": TENANT_A,
            f"conversation:{CHANNEL_B}": TENANT_B,
            f"user:{bob(TENANT_B)}": TENANT_B,
        }


def test_the_tokens_of_every_tenant_are_still_checked(database_url: str) -> None:
    with deployment(database_url) as rig:
        activity = message(rig.regions[TENANT_B].url, bob(TENANT_B), "status", tenant=TENANT_B)
        forged = jwt.encode(
            {"iss": ISSUER, "aud": APP_ID, "exp": int(time.time()) + 600},
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            algorithm="RS256",
            headers={"kid": "test-key"},
        )
        assert rig.post(activity, f"Bearer {forged}").status_code == 401
        wrong_app = {"iss": ISSUER, "aud": "another-app", "exp": int(time.time()) + 600}
        other = jwt.encode(wrong_app, KEY, algorithm="RS256", headers={"kid": "test-key"})
        assert rig.post(activity, f"Bearer {other}").status_code == 401
        assert rig.regions[TENANT_B].posts == []
        assert rig.references() == {}


def test_a_single_tenant_deployment_refuses_another_organisation(database_url: str) -> None:
    with deployment(database_url, teams_tenant_id=TENANT_A) as rig:
        assert rig.says(TENANT_A, ann(TENANT_A), "status").status_code == 200
        refused = rig.says(TENANT_B, bob(TENANT_B), "status")
        assert refused.status_code == 403
        assert len(rig.regions[TENANT_A].replies()) == 1
        # Nothing of the other organisation is answered, asked of its connector, or kept.
        assert rig.regions[TENANT_B].calls == []
        assert rig.references() == {f"user:{ann(TENANT_A)}": TENANT_A}


def test_a_single_tenant_deployment_serves_the_organisations_it_names(database_url: str) -> None:
    with deployment(
        database_url, teams_tenant_id=TENANT_A, teams_allowed_tenants=TENANT_B.upper()
    ) as rig:
        assert rig.says(TENANT_B, bob(TENANT_B), "status").status_code == 200
        assert rig.says(TENANT_C, ann(TENANT_C), "status").status_code == 403
        assert len(rig.regions[TENANT_B].replies()) == 1
        assert rig.regions[TENANT_C].calls == []


def test_the_caller_carries_the_tenant_and_the_channel(database_url: str) -> None:
    with deployment(database_url) as rig:
        url = rig.regions[TENANT_B].url
        thread = f"{CHANNEL_B};messageid=1700000000000"
        in_channel = message(
            url,
            bob(TENANT_B),
            "status",
            tenant=TENANT_B,
            conversation=thread,
            conversation_type="channel",
            channel_id=CHANNEL_B,
        )
        personal = message(url, bob(TENANT_B), "status", tenant=TENANT_B)
        bot = rig.endpoint.bot
        for activity, channel in ((in_channel, CHANNEL_B), (personal, None)):
            incoming = Incoming.parse(activity)
            assert incoming is not None
            caller = bot.caller(incoming)
            assert (caller.workspace, caller.channel) == (TENANT_B, channel)
            assert caller.email == f"bob@{TENANT_B}"  # asked of tenant B's connector


def test_a_proactive_message_goes_through_the_boards_tenant(database_url: str) -> None:
    with deployment(database_url) as rig:
        # Ann (tenant A) and Bob (tenant B) were only seen in their boards' channels: a
        # message to them opens a personal chat, in their own tenant, on their own connector.
        for tenant, user, channel in ((TENANT_A, ann, CHANNEL_A), (TENANT_B, bob, CHANNEL_B)):
            where = {"conversation": channel, "conversation_type": "channel"}
            rig.says(tenant, user(tenant), "status", channel_id=channel, **where)
        note = Message(text="Your action #4 is due on Friday")

        rig.sender.send_to_account(bob(TENANT_B), note, workspace=TENANT_B)
        [created] = rig.regions[TENANT_B].created
        assert created["tenantId"] == TENANT_B
        assert created["channelData"] == {"tenant": {"id": TENANT_B}}
        [sent] = rig.regions[TENANT_B].proactive()
        assert sent.conversation_id == f"a:personal-{bob(TENANT_B)}"
        assert sent.activity["summary"] == "Your action #4 is due on Friday"

        rig.sender.send_to_channel(CHANNEL_A, Message(text="Digest of board A"), workspace=TENANT_A)
        [digest] = rig.regions[TENANT_A].proactive()
        assert (digest.conversation_id, digest.activity["summary"]) == (
            CHANNEL_A,
            "Digest of board A",
        )

        # Tenant A's references are never used for a board of tenant B, nor the reverse.
        with pytest.raises(SendError, match="another Microsoft 365 organisation") as to_person:
            rig.sender.send_to_account(ann(TENANT_A), note, workspace=TENANT_B)
        with pytest.raises(SendError, match="another Microsoft 365 organisation") as to_channel:
            rig.sender.send_to_channel(CHANNEL_B, note, workspace=TENANT_A)
        assert to_person.value.permanent and to_channel.value.permanent
        assert rig.regions[TENANT_A].created == []
        assert len(rig.regions[TENANT_A].proactive()) == 1
        assert len(rig.regions[TENANT_B].proactive()) == 1


def test_the_default_board_of_a_single_tenant_deployment_stays_in_its_tenant(
    database_url: str,
) -> None:
    with deployment(database_url) as rig:
        # Kept while the deployment served every organisation.
        rig.says(TENANT_A, ann(TENANT_A), "status")
        rig.says(TENANT_B, bob(TENANT_B), "status")
        single = Tenants.from_settings(
            rig.settings.model_copy(update={"teams_tenant_id": TENANT_A})
        )
        sender = TeamsSender(rig.endpoint.bot.core, rig.endpoint.bot.connector, tenants=single)
        note = Message(text="Reminder")
        # The default board (no tenant of its own) is the single tenant's.
        sender.send_to_account(ann(TENANT_A), note)
        with pytest.raises(SendError, match="another Microsoft 365 organisation"):
            sender.send_to_account(bob(TENANT_B), note)
        assert [p.activity["summary"] for p in rig.regions[TENANT_A].proactive()] == ["Reminder"]
        assert rig.regions[TENANT_B].proactive() == []


@pytest.mark.parametrize(
    ("configured", "authority"),
    [
        (None, "https://login.microsoftonline.com/botframework.com"),
        ("multi", "https://login.microsoftonline.com/botframework.com"),
        (" Common ", "https://login.microsoftonline.com/botframework.com"),
        (TENANT_A, f"https://login.microsoftonline.com/{TENANT_A}"),
    ],
)
def test_the_bots_token_is_asked_of_the_home_tenant_or_of_bot_framework(
    configured: str | None, authority: str
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id=APP_ID,
        teams_app_password=SecretStr("not-a-real-secret"),
        teams_tenant_id=configured,
    )
    source = token_source(settings)
    assert isinstance(source, ClientCredentialsToken)
    assert source.authority == authority
    assert Tenants.from_settings(settings).any == (configured != TENANT_A)


def board_in(rig: Rig, name: str, tenant: str, channel: str) -> int:
    """A board tied to `tenant`, its Teams channel `channel`; its id."""
    core = rig.endpoint.bot.core
    with transaction(core.sessions) as session:
        board = Board(name=name, teams_tenant_id=tenant, teams_channel=channel, created_at=MONDAY)
        session.add(board)
        session.flush()
        board_id = board.id
    core.boards.invalidate()
    return board_id


def queue(rig: Rig, board_id: int, channel: str, text: str) -> int:
    """A message for `channel` in the outbox, as a job of board `board_id` queues it."""
    core = rig.endpoint.bot.core
    with transaction(core.sessions) as session:
        outbox_id = enqueue(
            session,
            board_id=board_id,
            key=text,
            kind="digest",
            message=Message(text=text),
            now=MONDAY,
            channel=channel,
        )
        assert outbox_id is not None
    return outbox_id


def test_the_outbox_posts_a_boards_messages_only_in_its_tenant(database_url: str) -> None:
    with deployment(database_url) as rig:
        board_a = board_in(rig, "Board A", TENANT_A, CHANNEL_A)
        board_b = board_in(rig, "Board B", TENANT_B, CHANNEL_B)
        for tenant, user, channel in ((TENANT_A, ann, CHANNEL_A), (TENANT_B, bob, CHANNEL_B)):
            where = {"conversation": channel, "conversation_type": "channel"}
            rig.says(tenant, user(tenant), "status", channel_id=channel, **where)
        sent_b = queue(rig, board_b, CHANNEL_B, "Digest of board B")
        sent_a = queue(rig, board_a, CHANNEL_A, "Digest of board A")
        # A row of board B naming tenant A's channel (a link gone wrong) is never sent there.
        crossed = queue(rig, board_b, CHANNEL_A, "Board B's news in A's channel")
        deliver(rig.endpoint.bot.core, rig.endpoint.bot.senders, ids=[sent_b, sent_a, crossed])

        assert [p.activity["summary"] for p in rig.regions[TENANT_B].proactive()] == [
            "Digest of board B"
        ]
        assert [p.activity["summary"] for p in rig.regions[TENANT_A].proactive()] == [
            "Digest of board A"
        ]
        with transaction(rig.endpoint.bot.core.sessions) as session:
            row = session.get(OutboxMessage, crossed)
            assert row is not None and row.status == OutboxStatus.FAILED
            assert "another Microsoft 365 organisation" in (row.last_error or "")


def overdue_on(rig: Rig, board_id: int, title: str) -> None:
    """An overdue action of board `board_id`."""
    created = MONDAY - dt.timedelta(days=30)
    with transaction(rig.endpoint.bot.core.sessions) as session:
        session.add(
            Action(
                board_id=board_id,
                title=title,
                due_date=MONDAY.date() - dt.timedelta(days=3),
                status=Status.OPEN,
                created_at=created,
                updated_at=created,
            )
        )


def test_a_command_in_a_channel_is_on_the_board_of_that_channel_and_tenant(
    database_url: str,
) -> None:
    with deployment(database_url) as rig:
        overdue_on(rig, board_in(rig, "Board A", TENANT_A, CHANNEL_A), "Audit the files of A")
        overdue_on(rig, board_in(rig, "Board B", TENANT_B, CHANNEL_B), "Audit the files of B")

        def overdue(tenant: str, user: str, channel: str) -> str:
            where = {"conversation": channel, "conversation_type": "channel"}
            rig.says(tenant, user, "status overdue", channel_id=channel, **where)
            return rig.regions[tenant].replies()[-1].card_text

        seen_in_b = overdue(TENANT_B, bob(TENANT_B), CHANNEL_B)
        assert "Audit the files of B" in seen_in_b and "files of A" not in seen_in_b
        seen_in_a = overdue(TENANT_A, ann(TENANT_A), CHANNEL_A)
        assert "Audit the files of A" in seen_in_a and "files of B" not in seen_in_a
        # An activity of tenant A naming tenant B's channel never reaches board B.
        assert "files of B" not in overdue(TENANT_A, ann(TENANT_A), CHANNEL_B)

"""Teams request authentication: the SDK's JWT validator, pointed at a test key on loopback.

The validator is the Teams SDK's own (`InboundActivityTokenValidator`); only its cloud settings
are changed, so it fetches signing keys from the fake connector instead of login.botframework.com.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_teams.api.auth.cloud_environment import PUBLIC
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import Platform
from bot.people.directory import ConsoleDirectory
from bot.services.context import Core
from handlers.teams.app import build_teams
from handlers.teams.connector import Connector, NoToken
from handlers.web import create_web_app
from storage.db import make_engine, make_session_factory
from tests.conftest import MONDAY
from tests.support.fake_connector import FakeConnector, fake_connector
from tests.support.teams_server import message, running

APP_ID = "00000000-0000-0000-0000-00000000a99"
ISSUER = "https://api.botframework.test"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


GOOD, OTHER = _key(), _key()


def token(key: rsa.RSAPrivateKey, service_url: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": APP_ID,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "serviceurl": service_url,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "test-key"})


def _settings(database_url: str, **extra: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **extra)  # type: ignore[call-arg]


def _serve(database_url: str, connector: FakeConnector, settings: Settings) -> Iterator[str]:
    engine = make_engine(database_url)
    core = Core(
        settings=settings,
        sessions=make_session_factory(engine),
        clock=FixedClock(MONDAY),
        directories={Platform.CONSOLE: ConsoleDirectory()},
    )
    cloud = PUBLIC.__class__(
        **{
            **PUBLIC.__dict__,
            "openid_metadata_url": connector.openid_url,
            "token_issuer": ISSUER,
        }
    )
    # Outbound calls without a token: a real one would need Azure AD, which tests never reach.
    endpoint = build_teams(core, settings, connector=Connector(NoToken()), senders=(), cloud=cloud)
    with running(create_web_app(core, teams=endpoint.handle)) as url:
        yield url
    engine.dispose()


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    with fake_connector() as fake:
        public = json.loads(RSAAlgorithm.to_jwk(GOOD.public_key()))
        fake.jwks = {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}
        yield fake


@pytest.fixture
def secured(database_url: str, connector: FakeConnector) -> Iterator[str]:
    settings = _settings(
        database_url, teams_app_id=APP_ID, teams_app_password=SecretStr("not-a-real-secret")
    )
    yield from _serve(database_url, connector, settings)


def _post(url: str, activity: dict[str, Any], authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return httpx.post(f"{url}/api/messages", json=activity, headers=headers, timeout=20)


def test_missing_token_is_refused(secured: str, connector: FakeConnector) -> None:
    answer = _post(secured, message(connector.url, "29:x", "status"), None)
    assert answer.status_code == 401
    assert connector.posts == []


def test_a_probe_of_the_endpoint_is_answered_like_healthz(secured: str) -> None:
    # Probes send HEAD or GET without a token: they learn the bot is up, and nothing else.
    head = httpx.head(f"{secured}/api/messages", timeout=20)
    get = httpx.get(f"{secured}/api/messages", timeout=20)
    assert (head.status_code, head.content) == (200, b"")
    assert (get.status_code, get.json()) == (200, {"ok": True})


@pytest.mark.parametrize("header", ["Bearer garbage", "Basic abc", "Bearer a.b.c"])
def test_garbage_token_is_refused(secured: str, connector: FakeConnector, header: str) -> None:
    answer = _post(secured, message(connector.url, "29:x", "status"), header)
    assert answer.status_code == 401
    assert connector.posts == []


def test_token_signed_by_another_key_is_refused(secured: str, connector: FakeConnector) -> None:
    bad = token(OTHER, connector.url)
    answer = _post(secured, message(connector.url, "29:x", "status"), f"Bearer {bad}")
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        {"serviceurl": "https://elsewhere.example/"},
    ],
)
def test_wrong_claims_are_refused(
    secured: str, connector: FakeConnector, claims: dict[str, Any]
) -> None:
    bad = token(GOOD, connector.url, **claims)
    answer = _post(secured, message(connector.url, "29:x", "status"), f"Bearer {bad}")
    assert answer.status_code == 401
    assert connector.posts == []


def test_valid_token_is_served(secured: str, connector: FakeConnector) -> None:
    good = token(GOOD, connector.url)
    answer = _post(secured, message(connector.url, "29:x", "status"), f"Bearer {good}")
    assert answer.status_code == 200
    assert len(connector.replies()) == 1


def test_no_credentials_and_no_insecure_flag_refuses_everything(
    database_url: str, connector: FakeConnector
) -> None:
    for url in _serve(database_url, connector, _settings(database_url)):
        good = token(GOOD, connector.url)
        answer = _post(url, message(connector.url, "29:x", "status"), f"Bearer {good}")
        assert answer.status_code == 401


def test_insecure_mode_never_asks_azure_for_a_token() -> None:
    from handlers.teams.connector import token_source

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id=APP_ID,
        teams_app_password=SecretStr("x"),
        teams_insecure_no_auth=True,
    )
    assert isinstance(token_source(settings), NoToken)
    assert settings.teams_enabled

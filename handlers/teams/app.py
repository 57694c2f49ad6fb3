"""The Teams endpoint, POST /api/messages, mounted in the same Starlette app as Slack.

Built from the Teams SDK v2 (`microsoft-teams-apps`) pieces rather than its `App`: the SDK's
`App` runs its own FastAPI server and event loop and routes activities to async handlers,
while `actionbot serve` is one Starlette app whose core is synchronous. We use the SDK's own
inbound JWT validation (`InboundActivityTokenValidator`: Bot Framework's OpenID keys, issuer,
audience = our app id, and the token's `serviceurl` claim against the activity's) and its
cloud settings, and answer 401 before anything else runs when it fails; an activity of an
organisation (tenant) the deployment does not serve is then refused with 403 (tenants.py).
https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-authentication
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.services.context import Core
from handlers.http_body import read_body
from handlers.teams.activities import TeamsBot
from handlers.teams.connector import Connector
from handlers.teams.tenants import Tenants, tenant_of

if TYPE_CHECKING:
    from microsoft_teams.api.auth.cloud_environment import CloudEnvironment

    from bot.outbox.sender import Sender

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

INSECURE_WARNING = (
    "TEAMS_INSECURE_NO_AUTH=1: /api/messages accepts activities WITHOUT checking who sent "
    "them, and replies go unauthenticated to whatever serviceUrl they name. For local "
    "testing only; never in production."
)


class Authenticator:
    """Decides whether a request comes from the Bot Framework, before its body is used."""

    def __init__(self, settings: Settings, *, cloud: CloudEnvironment | None = None) -> None:
        self.insecure = settings.teams_insecure_no_auth
        self._validator: Any = None
        if not self.insecure and settings.teams_app_id and settings.teams_app_password:
            with warnings.catch_warnings():
                # Importing the SDK's apps package announces preview features we do not use.
                warnings.simplefilter("ignore")
                from microsoft_teams.apps.auth import InboundActivityTokenValidator

            # The validator only fetches Bot Framework's signing keys on the first request.
            self._validator = InboundActivityTokenValidator(settings.teams_app_id, cloud=cloud)

    async def allows(self, authorization: str, service_url: str | None) -> bool:
        """True for a valid Bot Framework token issued for our app and this service URL."""
        if self.insecure:
            return True
        if self._validator is None or not authorization.startswith("Bearer "):
            return False
        token = authorization.removeprefix("Bearer ").strip()
        validator = self._validator

        def check() -> None:
            # The SDK's validator is declared async but fetches keys with blocking I/O:
            # it runs in a worker thread so the event loop (and Slack) never waits on it.
            asyncio.run(validator.validate_token(token, service_url))

        try:
            await run_in_threadpool(check)
        except Exception as exc:  # jwt.InvalidTokenError, PyJWKClientError, a garbled token
            log.warning("refused a Teams request: %s", exc)
            return False
        return True


@dataclass
class TeamsEndpoint:
    """The route handler and what it is made of (tests reach the bot through it)."""

    bot: TeamsBot
    auth: Authenticator
    #: Multi-tenant unless told: what the bot did before it knew of tenants.
    tenants: Tenants = field(default_factory=lambda: Tenants(home=None))

    async def handle(self, request: Request) -> Response:
        """POST /api/messages: 401 unless authenticated, 403 from a tenant the deployment
        does not serve, then the activity is handled."""
        authorization = request.headers.get("authorization", "")
        if not self.auth.insecure and not authorization.startswith("Bearer "):
            # No token at all: refused before the body is even read.
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        body = await read_body(request)
        if body is None:
            return JSONResponse({"error": "request too large"}, status_code=413)
        try:
            activity = json.loads(body)
        except ValueError:
            activity = None
        if not isinstance(activity, dict):
            if not await self.auth.allows(authorization, None):
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            return JSONResponse({"error": "an activity is a JSON object"}, status_code=400)
        service_url = activity.get("serviceUrl")
        if not await self.auth.allows(
            authorization, service_url if isinstance(service_url, str) else None
        ):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        tenant = tenant_of(activity)
        if not self.tenants.serves(tenant):
            # Nothing of it is kept or answered: another organisation installed the app.
            log.warning("refused a Teams activity of tenant %s, which is not served", tenant)
            return JSONResponse({"error": "this organisation is not served"}, status_code=403)
        answer = await run_in_threadpool(self.bot.handle, activity)
        if answer is not None:
            # An invoke's result travels in the HTTP answer (a pressed card's new state).
            return JSONResponse(answer, status_code=200)
        # Replies went out through the connector; invokes we do not use get a plain 200.
        return Response(status_code=200)


def build_teams(
    core: Core,
    settings: Settings,
    *,
    connector: Connector,
    senders: Sequence[Sender],
    cloud: CloudEnvironment | None = None,
) -> TeamsEndpoint:
    """The Teams endpoint on `core`, delivering through `senders`; warns about insecure mode."""
    if settings.teams_insecure_no_auth:
        log.warning(INSECURE_WARNING)
    bot = TeamsBot(core, connector, senders)
    return TeamsEndpoint(
        bot=bot, auth=Authenticator(settings, cloud=cloud), tenants=Tenants.from_settings(settings)
    )


async def refuse(request: Request) -> Response:
    """/api/messages while Teams is off (no app registration): every request is refused."""
    return JSONResponse({"error": "Unauthorized"}, status_code=401)

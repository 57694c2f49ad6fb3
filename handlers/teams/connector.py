"""The Bot Connector REST calls the bot makes, and the token that authorises them.

Five calls are needed (https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference):
send an activity (`POST /v3/conversations/{id}/activities[/{replyToId}]`), replace one the bot
sent (`PUT /v3/conversations/{id}/activities/{activityId}`), open a 1:1 chat
(`POST /v3/conversations`), look a member up (`GET /v3/conversations/{id}/members/{userId}`)
and list a team's members (`GET /v3/conversations/{id}/pagedmembers`).

Why not the Teams SDK's `ApiClient`: it is async-only, while the outbox worker and the core are
synchronous and call a sender from plain threads. These calls over a synchronous httpx client
keep one code path for replies, proactive sends and edits; the token comes from MSAL, the same
library and the same client-credentials flow the SDK's TokenManager uses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx

from bot.config import Settings

log = logging.getLogger(__name__)

#: Scope of a Bot Connector token (public cloud); the SDK's `PUBLIC.bot_scope`.
BOT_SCOPE = "https://api.botframework.com/.default"
LOGIN = "https://login.microsoftonline.com"
#: Multi-tenant bots get their tokens from the botframework.com tenant.
DEFAULT_TENANT = "botframework.com"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ConnectorError(Exception):
    """A connector call that failed: `status` is the HTTP status, 0 when it never arrived."""

    def __init__(self, reason: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class TokenSource(Protocol):
    """Where the bearer token of outbound calls comes from; None means send none."""

    def token(self) -> str | None:
        """The current access token."""
        ...


class NoToken:
    """TEAMS_INSECURE_NO_AUTH: no token is asked for and none is sent (a fake connector)."""

    def token(self) -> str | None:
        return None


class ClientCredentialsToken:
    """An app-only token for the Bot Connector, from Azure AD's client-credentials flow.

    MSAL keeps the token in its in-memory cache and only goes back to Azure AD shortly before
    it expires, so this is cheap to call before every request. Nothing is fetched until the
    first outbound call.
    """

    def __init__(self, app_id: str, password: str, tenant_id: str | None) -> None:
        self._app_id = app_id
        self._password = password
        self._tenant = tenant_id or DEFAULT_TENANT
        self._lock = threading.Lock()
        self._app: Any = None

    @property
    def authority(self) -> str:
        """Where the token is asked for: the home tenant of a single-tenant registration,
        Bot Framework's own tenant for a multi-tenant one."""
        return f"{LOGIN}/{self._tenant}"

    def token(self) -> str | None:
        with self._lock:
            if self._app is None:
                import msal  # type: ignore[import-untyped]  # no stubs published

                self._app = msal.ConfidentialClientApplication(
                    self._app_id,
                    client_credential=self._password,
                    authority=self.authority,
                )
            result = self._app.acquire_token_for_client(scopes=[BOT_SCOPE])
        if "access_token" not in result:
            reason = result.get("error_description") or result.get("error") or "no token"
            raise ConnectorError(f"Azure AD refused the bot's credentials: {reason}")
        return str(result["access_token"])


class Connector:
    """A synchronous Bot Connector client; the service URL comes with each conversation."""

    def __init__(self, tokens: TokenSource, *, http: httpx.Client | None = None) -> None:
        self._tokens = tokens
        self._http = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def bearer(self) -> str | None:
        """The token the bot's calls carry: also what an attachment on the connector's own
        host is read with."""
        return self._tokens.token()

    def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        reply_to: str | None = None,
    ) -> str | None:
        """Post an activity (a reply when `reply_to` is given); the new activity's id."""
        path = f"/v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to:
            path += f"/{quote(reply_to, safe='')}"
        answer = self._call("POST", service_url, path, activity)
        return str(answer["id"]) if isinstance(answer, dict) and answer.get("id") else None

    def update(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
    ) -> None:
        """Replace an activity the bot sent with `activity` (the message edited in place)."""
        path = (
            f"/v3/conversations/{quote(conversation_id, safe='')}"
            f"/activities/{quote(activity_id, safe='')}"
        )
        self._call("PUT", service_url, path, {**activity, "id": activity_id})

    def create_personal(
        self, service_url: str, *, bot_id: str, user_id: str, tenant_id: str | None
    ) -> str:
        """Open (or find) the 1:1 chat between the bot and a user; its conversation id."""
        body: dict[str, Any] = {
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "isGroup": False,
        }
        if tenant_id:
            body["tenantId"] = tenant_id
            body["channelData"] = {"tenant": {"id": tenant_id}}
        answer = self._call("POST", service_url, "/v3/conversations", body)
        if not isinstance(answer, dict) or not answer.get("id"):
            raise ConnectorError("the connector created a conversation without an id", status=502)
        return str(answer["id"])

    def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any] | None:
        """A member's profile (name, email, userPrincipalName); None if not a member."""
        path = (
            f"/v3/conversations/{quote(conversation_id, safe='')}/members/{quote(user_id, safe='')}"
        )
        try:
            answer = self._call("GET", service_url, path, None)
        except ConnectorError as exc:
            if exc.status in (403, 404):
                return None
            raise
        return answer if isinstance(answer, dict) else None

    def paged_members(
        self, service_url: str, conversation_id: str, *, page_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Every member of a team or channel (name, email, userPrincipalName), page by page.

        `GET /v3/conversations/{id}/pagedmembers` answers a page and a continuationToken
        until the last page; a channel's id gives its team's members.
        """
        base = f"/v3/conversations/{quote(conversation_id, safe='')}/pagedmembers"
        token: str | None = None
        while True:
            query = {"pageSize": str(page_size)}
            if token:
                query["continuationToken"] = token
            answer = self._call("GET", service_url, f"{base}?{urlencode(query)}", None)
            if not isinstance(answer, dict):
                return
            for member in answer.get("members") or []:
                if isinstance(member, dict) and member.get("id"):
                    yield member
            token = answer.get("continuationToken") or None
            if not token:
                return

    def _call(self, method: str, service_url: str, path: str, body: dict[str, Any] | None) -> Any:
        url = service_url.rstrip("/") + path
        headers = {"Content-Type": "application/json"}
        token = self._tokens.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"Bot Connector unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise ConnectorError(
                f"Bot Connector answered HTTP {response.status_code} to {method} {path}",
                status=response.status_code,
                retry_after=_retry_after(response),
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code != 429:
        return None
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def token_source(settings: Settings) -> TokenSource:
    """No token in insecure mode (none is asked of Azure AD); client credentials otherwise."""
    if settings.teams_insecure_no_auth or not (
        settings.teams_app_id and settings.teams_app_password
    ):
        return NoToken()
    return ClientCredentialsToken(
        settings.teams_app_id,
        settings.teams_app_password.get_secret_value(),
        settings.teams_tenant_id,
    )

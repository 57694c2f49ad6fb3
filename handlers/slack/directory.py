"""Slack's user directory: users.info and users.lookupByEmail behind the Directory protocol."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.clock import Clock, SystemClock
from bot.domain import Platform
from bot.people.directory import Account

log = logging.getLogger(__name__)

#: Answers Slack gives for someone who does not exist (or cannot be seen) in the workspace.
_NOT_FOUND = frozenset({"user_not_found", "users_not_found", "user_not_visible"})

#: How long a looked-up profile is reused: users.info is rate limited, and someone deactivated
#: is refused new actions within five minutes.
CACHE_SECONDS = 300.0

#: What `departure` says for each way Slack shows that an account is gone.
_GONE = {
    "deleted": "their Slack account is deactivated",
    "user_not_found": "Slack no longer knows their account",
    "user_not_visible": "their Slack account can no longer be seen from this workspace",
}


class SlackDirectory:
    """Looks Slack users up by id (users.info) and email (users.lookupByEmail).

    Needs the `users:read` and `users:read.email` scopes. Unknown people are None; any other
    Slack error propagates, so a wrong token is not mistaken for "nobody has that email".
    """

    platform = Platform.SLACK

    def __init__(
        self,
        client: WebClient,
        *,
        clock: Clock | None = None,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._client = client
        # The core's clock, so a test moves past the cache instead of sleeping.
        self._clock = clock or SystemClock()
        self._cache_seconds = cache_seconds
        # Slack's user object, or the error that says it is not there, per lookup.
        self._cache: dict[str, tuple[dt.datetime, dict[str, Any] | str]] = {}
        self._lock = threading.Lock()

    def lookup_id(self, external_id: str) -> Account | None:
        """The account with this user id (`U…`/`W…`), or None if Slack does not know it."""
        return _account(self._by_id(external_id))

    def lookup_email(self, email: str) -> Account | None:
        """The account with this email address, or None."""
        address = email.strip().lower()
        return _account(
            self._cached(
                f"email:{address}", lambda: self._client.users_lookupByEmail(email=address)
            )
        )

    def departure(self, external_id: str) -> str | None:
        """Why this user can no longer be given actions (deactivated, unknown), or None."""
        found = self._by_id(external_id)
        if isinstance(found, str):
            return _GONE.get(found, _GONE["user_not_found"])
        return _GONE["deleted"] if found.get("deleted") else None

    def _by_id(self, external_id: str) -> dict[str, Any] | str:
        return self._cached(f"id:{external_id}", lambda: self._client.users_info(user=external_id))

    def _cached(self, key: str, call: Callable[[], SlackResponse]) -> dict[str, Any] | str:
        now = self._clock.now()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and 0 <= (now - hit[0]).total_seconds() < self._cache_seconds:
            return hit[1]
        found: dict[str, Any] | str
        try:
            response = call()
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in _NOT_FOUND:
                raise
            found = str(error)
        else:
            found = dict(response["user"])
        with self._lock:
            self._cache[key] = (now, found)
        return found


def _account(found: dict[str, Any] | str) -> Account | None:
    return None if isinstance(found, str) else to_account(found)


def to_account(user: dict[str, Any]) -> Account | None:
    """A Slack user object as an Account; None for deleted users and bots."""
    if user.get("deleted") or user.get("is_bot"):
        return None
    profile = user.get("profile") or {}
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or user["id"]
    )
    email = profile.get("email") or None
    # `@dee` typed without Slack's menu is the handle or the display name, not the real name.
    typed = (user.get("name"), profile.get("display_name"), profile.get("real_name"))
    aliases = tuple(dict.fromkeys(str(a).strip() for a in typed if a and str(a).strip()))
    return Account(
        Platform.SLACK, str(user["id"]), str(name), str(email) if email else None, aliases
    )

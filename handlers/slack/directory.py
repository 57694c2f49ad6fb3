"""Slack's user directory: users.info and users.lookupByEmail behind the Directory protocol."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.domain import Platform
from bot.services.directory import Account

log = logging.getLogger(__name__)

#: Answers Slack gives for someone who does not exist (or cannot be seen) in the workspace.
_NOT_FOUND = frozenset({"user_not_found", "users_not_found", "user_not_visible"})

#: How long a looked-up profile is reused: names change rarely, and users.info is rate limited.
CACHE_SECONDS = 600.0


class SlackDirectory:
    """Looks Slack users up by id (users.info) and email (users.lookupByEmail).

    Needs the `users:read` and `users:read.email` scopes. Unknown people are None; any other
    Slack error propagates, so a wrong token is not mistaken for "nobody has that email".
    """

    platform = Platform.SLACK

    def __init__(self, client: WebClient, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()

    def lookup_id(self, external_id: str) -> Account | None:
        """The account with this user id (`U…`/`W…`), or None if Slack does not know it."""
        return self._cached(f"id:{external_id}", lambda: self._client.users_info(user=external_id))

    def lookup_email(self, email: str) -> Account | None:
        """The account with this email address, or None."""
        address = email.strip().lower()
        return self._cached(
            f"email:{address}", lambda: self._client.users_lookupByEmail(email=address)
        )

    def _cached(self, key: str, call: Callable[[], SlackResponse]) -> Account | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        try:
            response = call()
        except SlackApiError as exc:
            if exc.response.get("error") not in _NOT_FOUND:
                raise
            account = None
        else:
            account = to_account(response["user"])
        with self._lock:
            self._cache[key] = (now, account)
        return account


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
    return Account(Platform.SLACK, str(user["id"]), str(name), str(email) if email else None)

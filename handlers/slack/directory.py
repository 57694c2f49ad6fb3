"""Slack's user directory: users.info and users.lookupByEmail behind the Directory protocol."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
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
        self._home: Home | None = None

    def lookup_id(self, external_id: str) -> Account | None:
        """The account with this user id (`U…`/`W…`), or None if Slack does not know it."""
        return self._account(self._by_id(external_id))

    def lookup_email(self, email: str) -> Account | None:
        """The account with this email address, or None."""
        address = email.strip().lower()
        return self._account(
            self._cached(
                f"email:{address}", lambda: self._client.users_lookupByEmail(email=address)
            )
        )

    def home(self) -> Home:
        """The workspace (and Enterprise Grid organisation) the bot is installed in, from
        auth.test once: people of another team are from outside it."""
        with self._lock:
            home = self._home
        if home is None:
            try:
                answer = self._client.auth_test()
            except (SlackApiError, SlackClientError, OSError) as exc:
                # Asked again next time; meanwhile guests and strangers are still known.
                log.warning("auth.test failed: %s", exc)
                return Home(team_id=None)
            home = Home(team_id=answer.get("team_id"), enterprise_id=answer.get("enterprise_id"))
            with self._lock:
                self._home = home
        return home

    def _account(self, found: dict[str, Any] | str) -> Account | None:
        if isinstance(found, str):
            return None
        return to_account(found, home=self.home())

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


@dataclass(frozen=True)
class Home:
    """The installing workspace's team id and, on Enterprise Grid, its organisation's id."""

    team_id: str | None
    enterprise_id: str | None = None


def is_external(user: dict[str, Any], home: Home | None) -> bool:
    """Whether a Slack user is from outside the workspace.

    Slack marks them in the user object: `is_stranger` (another organisation's user the
    workspace shares no channel with), a `team_id` that is not the installing workspace's
    (a Slack Connect user of a partner organisation; on Enterprise Grid another workspace of
    the same organisation is inside, by `enterprise_user.enterprise_id`), and guests
    (`is_restricted` multi-channel, `is_ultra_restricted` single-channel).
    https://api.slack.com/types/user
    """
    if user.get("is_stranger") or user.get("is_restricted") or user.get("is_ultra_restricted"):
        return True
    team = user.get("team_id") or (user.get("profile") or {}).get("team")
    if home is None or home.team_id is None or not team or team == home.team_id:
        return False
    organisation = (user.get("enterprise_user") or {}).get("enterprise_id")
    return not (home.enterprise_id and organisation == home.enterprise_id)


def to_account(user: dict[str, Any], *, home: Home | None = None) -> Account | None:
    """A Slack user object as an Account (external when `is_external` says so against the
    workspace `home`); None for deleted users and bots."""
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
        Platform.SLACK,
        str(user["id"]),
        str(name),
        str(email) if email else None,
        aliases,
        external=is_external(user, home),
    )

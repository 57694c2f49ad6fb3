"""Many workspaces: the Slack app installed through Bolt's OAuth flow, and every Web API call
made with the token of the workspace it is for.

- The process's one WebClient (handlers/slack/client.py, WorkspaceClient) calls with the
  token of the workspace in hand: that of the request being answered (Bolt's per-request
  client, put in hand by handlers/slack/deps.py's middleware) or the one the sender picked,
  and otherwise its own (SLACK_BOT_TOKEN, the single workspace).
- `Workspaces` finds a workspace's token in the installation store (cached per process,
  rotated when it is about to expire) for the outbox, and registers SLACK_BOT_TOKEN's
  workspace as the first installation when the install flow is turned on.

https://docs.slack.dev/authentication/installing-with-oauth
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, column, distinct, select, table, update

from bot.config import Settings
from handlers.slack.installations import (
    EncryptedInstallationStore,
    TokenCipher,
    state_store,
)

log = logging.getLogger(__name__)

#: Where Slack sends the installer back to, under PUBLIC_URL.
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

#: A rotating token is refreshed when it has fewer minutes than this left (Bolt's default).
ROTATION_MINUTES = 120


class InstallNotConfigured(ValueError):
    """The install flow is on but cannot run as configured (the reason names the variable)."""


def install_problem(settings: Settings) -> str | None:
    """Why the install flow cannot run as configured, naming the variable; None when it can
    (or is off)."""
    if not settings.slack_install_enabled:
        return None
    if settings.actionbot_secret_key is None:
        return (
            "ACTIONBOT_SECRET_KEY is not set: it is required when SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET turn the install flow on (installations' tokens are "
            "encrypted with it)"
        )
    if not settings.public_url:
        return (
            "PUBLIC_URL is not set: Slack sends installers back to PUBLIC_URL"
            f"{REDIRECT_PATH} when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set"
        )
    return None


class Workspaces:
    """Installations by workspace: their tokens for the outbox, rotated when due."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        client: WebClient,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        problem = install_problem(settings)
        if problem is not None:
            raise InstallNotConfigured(problem)
        assert settings.slack_client_id is not None and settings.slack_client_secret is not None
        assert settings.actionbot_secret_key is not None
        self.settings = settings
        self.engine = engine
        self.client = client
        self.store = EncryptedInstallationStore(
            settings.slack_client_id,
            engine,
            TokenCipher(settings.actionbot_secret_key.get_secret_value()),
        )
        self.states = state_store(engine)
        self._rotator = TokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            client=WebClient(base_url=client.base_url, timeout=client.timeout),
        )
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()

    def oauth_settings(self) -> OAuthSettings:
        """Bolt's OAuth flow on our stores: GET /slack/install, /slack/oauth_redirect."""
        assert self.settings.slack_client_id is not None
        assert self.settings.slack_client_secret is not None
        public = (self.settings.public_url or "").rstrip("/")
        settings = OAuthSettings(
            client_id=self.settings.slack_client_id,
            client_secret=self.settings.slack_client_secret.get_secret_value(),
            scopes=list(self.settings.slack_scopes),
            redirect_uri=public + REDIRECT_PATH,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.store,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=ROTATION_MINUTES,
            state_store=self.states,
        )
        if isinstance(settings.authorize, InstallationStoreAuthorize):
            # Bolt's authorize otherwise calls auth.test for every request it answers (a round
            # trip to Slack before each command's reply). Its answer is kept by token: the
            # installation is still looked up first, so an uninstalled workspace has no token,
            # and a rotated token is a new key.
            settings.authorize.cache_enabled = True
        return settings

    def token_for(self, team_id: str | None) -> str | None:
        """The bot token of workspace `team_id` (rotated if due); None when the app is not
        installed there. None for `team_id` None: the single workspace's, when it is the
        only installation."""
        if team_id is None:
            team_id = self.sole_team()
            if team_id is None:
                return None
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        if bot.bot_token_expires_at is not None:
            with self._lock:  # one refresh at a time: a refresh token is spent when used
                bot = self.store.find_bot(enterprise_id=None, team_id=team_id) or bot
                rotated = self._rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATION_MINUTES
                )
                if rotated is not None:
                    self.store.save_bot(rotated)
                    bot = rotated
        return bot.bot_token

    def sole_team(self) -> str | None:
        """The workspace of the only installation, if there is exactly one."""
        bots = self.store.bots
        query = (
            select(distinct(bots.c.team_id))
            .where(bots.c.client_id == self.store.client_id, bots.c.bot_token.is_not(None))
            .limit(2)
        )
        with self.engine.connect() as conn:
            teams = list(conn.scalars(query))
        return teams[0] if len(teams) == 1 else None

    def forget(self, team_id: str | None) -> None:
        """Drop what this process remembers of a workspace (after its uninstall)."""
        self.store.forget(None, team_id)

    def install_from_token(self, token: str) -> str:
        """Register SLACK_BOT_TOKEN's workspace as an installation, unless it has one: the
        workspace a single-workspace deployment served needs no reinstall. Its team id."""
        client = WebClient(token=token, base_url=self.client.base_url, timeout=self.client.timeout)
        try:
            auth = client.auth_test()
            team_id = str(auth["team_id"])
            if self.store.find_bot(enterprise_id=None, team_id=team_id) is not None:
                return team_id
            bot_id = str(auth.get("bot_id") or "")
            app_id = str(client.bots_info(bot=bot_id)["bot"]["app_id"]) if bot_id else ""
        except SlackApiError as exc:
            log.error("could not register SLACK_BOT_TOKEN's workspace: %s", exc)
            raise
        scopes = auth.headers.get("x-oauth-scopes") or ",".join(self.settings.slack_scopes)
        installation = Installation(
            app_id=app_id,
            enterprise_id=None,
            team_id=team_id,
            team_name=str(auth.get("team") or "") or None,
            bot_token=token,
            bot_id=bot_id or None,
            bot_user_id=str(auth.get("user_id") or "") or None,
            bot_scopes=scopes,
            # Nobody installed it through the flow: the bot stands for the installer.
            user_id=str(auth.get("user_id") or ""),
            token_type="bot",  # noqa: S106 - a kind of token, not a secret
            installed_at=self._clock().timestamp(),
        )
        self.store.save(installation)
        log.info("SLACK_BOT_TOKEN's workspace %s is the first installation", team_id)
        return team_id


def bolt_options(workspaces: Workspaces | None) -> dict[str, Any]:
    """The App's keyword arguments for the install flow (none when it is off)."""
    if workspaces is None:
        return {}
    return {"oauth_settings": workspaces.oauth_settings()}


#: What `stop_deliveries` reads and changes, by name: the boards of a workspace and their
#: undelivered outbox rows.
_boards = table("boards", column("id"), column("slack_team_id"))
_outbox = table("outbox", column("board_id"), column("status"), column("last_error"))
#: Outbox rows not yet settled (the values of storage.models.OutboxStatus).
_UNSENT = ("pending", "sending", "bundled")


def stop_deliveries(engine: Engine, team_id: str, reason: str) -> int:
    """Mark the unsent outbox rows of the boards in workspace `team_id` failed with `reason`
    (kept, not deleted: the history and the row say what was not sent and why); how many."""
    boards = select(_boards.c.id).where(_boards.c.slack_team_id == team_id)
    with engine.begin() as conn:
        result = conn.execute(
            update(_outbox)
            .where(_outbox.c.board_id.in_(boards), _outbox.c.status.in_(_UNSENT))
            .values(status="failed", last_error=reason)
        )
    return int(result.rowcount)

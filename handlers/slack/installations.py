"""Slack installations in our database: slack_sdk's SQLAlchemy stores on our engine, their
tokens encrypted at rest, and the installations looked up once per process.

The tables are slack_sdk's own (its stores' table builders), created by our migration
0016 and described to the rest of the schema in storage/slack_tables.py; the token columns
are wider than slack_sdk's VARCHAR(200), which a token fits in clear and its ciphertext does
not. The key is derived from ACTIONBOT_SECRET_KEY with HKDF-SHA256;
tokens are sealed with Fernet (AES-128-CBC and HMAC-SHA256), so a row read without the key
shows no token, and one altered in the database is refused rather than used.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, Text

log = logging.getLogger(__name__)

BOTS_TABLE = SQLAlchemyInstallationStore.default_bots_table_name
INSTALLATIONS_TABLE = SQLAlchemyInstallationStore.default_installations_table_name
STATES_TABLE = SQLAlchemyOAuthStateStore.default_table_name

#: The columns that hold a secret; they are stored sealed, as Text.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

#: Seconds an installation found in the database is reused without asking again: another
#: process's uninstall reaches this one within that time at the latest (this process's own
#: saves and deletes take effect at once).
CACHE_SECONDS = 60.0

#: Seconds an install's `state` (the guard against forged redirects) is accepted.
STATE_SECONDS = 600

#: HKDF's fixed inputs: the key is for this purpose only, whatever else the secret keys.
_SALT = b"actionbot/slack-installations"
_INFO = b"slack installation tokens v1"


def _widen(table: Table) -> Table:
    for name in TOKEN_COLUMNS:
        if name in table.c:
            table.c[name].type = Text()
    return table


def define_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """slack_sdk's three tables (bots, installations, OAuth states) on `metadata`."""
    bots = _widen(SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE))
    installs = _widen(
        SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    )
    states = SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)
    return bots, installs, states


class TokenCipher:
    """Seals and opens tokens with a key derived from ACTIONBOT_SECRET_KEY."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
            secret.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, value: str | None) -> str | None:
        """The token sealed; a value already sealed with this key is left as it is."""
        if value is None or self.is_sealed(value):
            return value
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str | None) -> str | None:
        """The token in clear; a value this key did not seal is refused (ValueError)."""
        if value is None:
            return None
        try:
            return self._fernet.decrypt(value.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise ValueError(
                "a stored Slack token cannot be decrypted: was ACTIONBOT_SECRET_KEY changed?"
            ) from exc

    def is_sealed(self, value: str) -> bool:
        """Whether `value` was sealed with this key (a Slack token never is)."""
        try:
            self._fernet.decrypt(value.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True


_Entity = TypeVar("_Entity", Installation, Bot)


def _with_tokens(entity: _Entity, change: Callable[[str | None], str | None]) -> _Entity:
    changed = copy.copy(entity)
    for name in TOKEN_COLUMNS:
        if hasattr(changed, name):
            setattr(changed, name, change(getattr(changed, name)))
    return changed


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store whose tokens are sealed on save and opened on find, with
    what it finds kept per process for CACHE_SECONDS (dropped at once on a save or delete)."""

    def __init__(
        self,
        client_id: str,
        engine: Engine,
        cipher: TokenCipher,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.cipher = cipher
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[float, Installation | Bot]] = {}
        self._inside = threading.local()

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's installations table, its token columns wide enough for ciphertext."""
        return _widen(super().build_installations_table(metadata, table_name))

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's bots table, its token columns wide enough for ciphertext."""
        return _widen(super().build_bots_table(metadata, table_name))

    def save(self, installation: Installation) -> None:
        """Store an installation (and its bot) with its tokens sealed."""
        self.forget(installation.enterprise_id, installation.team_id)
        super().save(_with_tokens(installation, self.cipher.seal))

    def save_bot(self, bot: Bot) -> None:
        """Store a bot with its tokens sealed (seal leaves sealed ones alone: save calls this
        with the installation's bot already sealed)."""
        self.forget(bot.enterprise_id, bot.team_id)
        super().save_bot(_with_tokens(bot, self.cipher.seal))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The workspace's latest bot, tokens in clear."""
        found_sealed = super().find_bot
        if getattr(self._inside, "installation", False):
            # Called by the base class's find_installation, which copies the bot's tokens onto
            # the installation it then hands to us to open: they must still be sealed.
            return found_sealed(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        key = ("bot", enterprise_id, team_id, bool(is_enterprise_install))
        cached = self._cached(key)
        if isinstance(cached, Bot):
            return cached
        found = found_sealed(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if found is None:
            return None
        opened = _with_tokens(found, self.cipher.open)
        self._keep(key, opened)
        return opened

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's latest installation (by `user_id`, if given), tokens in clear."""
        key = ("installation", enterprise_id, team_id, user_id, bool(is_enterprise_install))
        cached = self._cached(key)
        if isinstance(cached, Installation):
            return cached
        self._inside.installation = True
        try:
            found = super().find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        finally:
            self._inside.installation = False
        if found is None:
            return None
        opened = _with_tokens(found, self.cipher.open)
        self._keep(key, opened)
        return opened

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Remove the workspace's bot tokens."""
        self.forget(enterprise_id, team_id)
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        """Remove the workspace's installations (one user's, if given)."""
        self.forget(enterprise_id, team_id)
        super().delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop what this process remembers of a workspace: the next find reads the table."""
        with self._lock:
            for key in [k for k in self._cache if k[1] == enterprise_id and k[2] == team_id]:
                del self._cache[key]

    def _cached(self, key: tuple[Any, ...]) -> Installation | Bot | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._cache[key]
                return None
            return entry[1]

    def _keep(self, key: tuple[Any, ...], value: Installation | Bot) -> None:
        with self._lock:
            self._cache[key] = (self._clock() + self._cache_seconds, value)


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    """Where an install's one-use `state` values wait for Slack's redirect."""
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)

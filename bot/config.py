"""Typed settings, read from the environment and `.env` (README, Configuration)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.brag import BragRules
from bot.domain.ladder import DEFAULT_LADDER, Step, parse_ladder

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: What deploy/slack/manifest.yml's oauth_config asks for (tests/test_slack_manifest.py).
SLACK_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "files:read",
    "files:write",
)
#: The shortest ACTIONBOT_SECRET_KEY accepted: the key tokens are encrypted with comes from it.
MIN_SECRET_KEY = 32


class Settings(BaseSettings):
    """Every setting of the bot; one instance is built by the composition root."""

    # Empty values (a copied .env.example) mean "not set", never an empty token.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    database_url: str = "sqlite:///actionbot.db"
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    #: The Slack app's OAuth credentials (Bolt's own variable names): set both and the app
    #: can be installed in many workspaces (GET /slack/install, README, "Distributing the
    #: Slack app").
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    #: The bot scopes an install asks for: those deploy/slack/manifest.yml lists.
    slack_scopes: Annotated[tuple[str, ...], NoDecode] = SLACK_SCOPES
    #: Installations' tokens are encrypted at rest with a key derived from this (at least 32
    #: characters); required when the install flow is on.
    actionbot_secret_key: SecretStr | None = None
    #: Most chat.postMessage calls a second the outbox makes; unset, it learns Slack's limit
    #: from its 429s (bot/outbox/pacing.py).
    slack_max_send_rate: float | None = Field(default=None, gt=0)
    board_channel: str | None = None
    #: The address `serve` is reached at (https://actionbot.example.org): links to board
    #: packs are built from it.
    public_url: str | None = None
    #: The board's name, on the board pack's cover.
    board_name: str = "Improvement Board"
    #: Days a board pack's link works before it expires.
    pack_link_days: int = Field(default=30, ge=1, le=3650)
    chair_user_ids: Annotated[tuple[str, ...], NoDecode] = ()
    bot_timezone: str = "Europe/London"
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (7, 1, 0)
    digest_schedule: str = "mon 09:00"
    port: int = Field(default=3000, ge=1, le=65535)
    #: Processes of `serve` (the name Heroku and uvicorn use); one per core is a good start.
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # All interfaces by default (a platform's router reaches the process from outside);
    # 127.0.0.1 behind a local reverse proxy, and in tests.
    host: str = "0.0.0.0"  # noqa: S104
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    #: The app registration's home tenant: single-tenant, its token comes from there and only
    #: that organisation is served. Unset (or "multi", "common"): a multi-tenant registration.
    teams_tenant_id: str | None = None
    #: Other organisations (tenant ids) whose Teams activities are served; "*" for any.
    teams_allowed_tenants: Annotated[tuple[str, ...], NoDecode] = ()
    teams_insecure_no_auth: bool = False
    # The scheduler (README, "Scheduler"): when reminders may go out, and how hard to chase.
    working_hours: str = "09:00-17:30"
    working_days: Annotated[tuple[int, ...], NoDecode] = (0, 1, 2, 3, 4)
    holiday_country: str = "GB"
    holiday_subdivision: str | None = "ENG"
    overdue_daily_days: int = Field(default=7, ge=0, le=365)
    overdue_repeat_days: int = Field(default=7, ge=1, le=365)
    #: Who hears about late and blocked actions after how many working days
    #: (bot/domain/ladder.py); `none` turns escalation off.
    escalation_ladder: str = DEFAULT_LADDER
    #: The single threshold the ladder replaced: set, it stops the start with how to move on.
    escalate_after_days: int | None = None
    # The computed BRAG rating's thresholds in working days (bot/domain/brag.py).
    brag_red_overdue_days: int = Field(default=5, ge=0, le=250)
    brag_red_blocked_days: int = Field(default=5, ge=0, le=250)
    brag_amber_due_days: int = Field(default=10, ge=0, le=250)
    brag_amber_stale_days: int = Field(default=20, ge=1, le=250)
    brag_amber_rebaselines: int = Field(default=1, ge=0, le=50)
    #: Seconds between the worker's ticks (plan what is due, deliver the outbox); a tick
    #: that runs longer delays the next one rather than overlapping it.
    worker_tick_seconds: int = Field(default=60, ge=1, le=3600)
    #: Forget the people of actions closed (done or cancelled) longer ago than this many
    #: months, once a day (README, "Data protection"). Unset or "none": kept until erased.
    retention_months: int | None = Field(default=None, ge=1, le=1200)
    #: The board cycle (README, "Board meetings and update rounds"): the update round opens
    #: this many working days before a meeting, and closes at the cut-off, this many working
    #: days before it (updates collated, non-responders listed, the plan snapshotted).
    update_round_days: int = Field(default=10, ge=1, le=60)
    update_cutoff_days: int = Field(default=5, ge=0, le=59)

    @field_validator("escalation_ladder")
    @classmethod
    def _check_ladder(cls, value: str) -> str:
        parse_ladder(value)
        return value

    @model_validator(mode="after")
    def _cutoff_before_round(self) -> Self:
        if self.update_cutoff_days >= self.update_round_days:
            raise ValueError(
                f"UPDATE_CUTOFF_DAYS ({self.update_cutoff_days}) must be fewer than "
                f"UPDATE_ROUND_DAYS ({self.update_round_days}): the round opens before it closes"
            )
        return self

    @field_validator("escalate_after_days")
    @classmethod
    def _replaced_by_the_ladder(cls, value: int | None) -> int | None:
        if value is not None:
            raise ValueError(
                "ESCALATE_AFTER_DAYS is replaced by ESCALATION_LADDER; unset it and, to keep "
                f"escalating to the chairs after {max(value, 1)} working days, set "
                f"ESCALATION_LADDER='overdue {max(value, 1)}: chairs; blocked {max(value, 1)}: "
                "chairs' "
                f"(the default is '{DEFAULT_LADDER}')"
            )
        return value

    @cached_property
    def ladder(self) -> tuple[Step, ...]:
        """The escalation ladder's steps."""
        return parse_ladder(self.escalation_ladder)

    @cached_property
    def brag_rules(self) -> BragRules:
        """The computed rating's thresholds."""
        return BragRules(
            red_overdue_days=self.brag_red_overdue_days,
            red_blocked_days=self.brag_red_blocked_days,
            amber_due_days=self.brag_amber_due_days,
            amber_stale_days=self.brag_amber_stale_days,
            amber_rebaselines=self.brag_amber_rebaselines,
        )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Heroku-style platforms hand out postgres:// URLs; SQLAlchemy 2 wants a driver name.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("slack_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("actionbot_secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY:
            raise ValueError(
                f"ACTIONBOT_SECRET_KEY must be at least {MIN_SECRET_KEY} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("chair_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("teams_tenant_id", mode="before")
    @classmethod
    def _multi_tenant(cls, value: object) -> object:
        # Azure's own words for "any organisation" mean no home tenant to pin.
        if isinstance(value, str) and value.strip().lower() in ("", "multi", "common"):
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("teams_allowed_tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                days = {int(part) for part in value.split(",") if part.strip()}
            except ValueError as exc:
                raise ValueError("REMINDER_DAYS must be whole numbers, e.g. 7,1,0") from exc
            if any(day < 0 for day in days):
                raise ValueError("REMINDER_DAYS cannot be negative")
            return tuple(sorted(days, reverse=True))
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("digest_schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        parse_weekly_schedule(value)
        return value.strip().lower()

    @field_validator("working_hours")
    @classmethod
    def _check_working_hours(cls, value: str) -> str:
        parse_working_hours(value)
        return value.strip()

    @field_validator("working_days", mode="before")
    @classmethod
    def _split_working_days(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_weekdays(value)
        return value

    @field_validator("holiday_country", mode="before")
    @classmethod
    def _no_holidays(cls, value: object) -> object:
        # An empty variable is ignored like an unset one (env_ignore_empty), so "none" is how
        # a deployment turns bank holidays off.
        return "" if _says_none(value) else value

    @field_validator("retention_months", mode="before")
    @classmethod
    def _retention_off(cls, value: object) -> object:
        # "none" or "off" says it outright; an empty variable is already unset.
        return None if _says_none(value) or str(value).strip().lower() == "off" else value

    @field_validator("holiday_subdivision", mode="before")
    @classmethod
    def _whole_country(cls, value: object) -> object:
        # "none": the whole country's holidays, no subdivision.
        return None if _says_none(value) else value

    @cached_property
    def working_window(self) -> tuple[dt.time, dt.time]:
        """WORKING_HOURS as (start, end) local times; reminders go out in [start, end)."""
        return parse_working_hours(self.working_hours)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The bot's timezone as a ZoneInfo."""
        return ZoneInfo(self.bot_timezone)

    @property
    def slack_enabled(self) -> bool:
        """Slack is on with the signing secret and a bot token or the install flow."""
        return self.slack_signing_secret is not None and (
            self.slack_bot_token is not None or self.slack_install_enabled
        )

    @property
    def slack_install_enabled(self) -> bool:
        """The OAuth install flow (many workspaces) is on with the app's client id and secret."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def teams_enabled(self) -> bool:
        """Teams is on with an app registration, or explicitly without auth for local tests."""
        return bool(self.teams_app_id and self.teams_app_password) or self.teams_insecure_no_auth


def parse_weekly_schedule(text: str) -> tuple[int, dt.time]:
    """Read `mon 09:00` into (weekday 0-6, time); raise ValueError with a readable reason."""
    match = re.fullmatch(r"\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*", text.lower())
    if not match or match.group(1) not in _WEEKDAYS:
        raise ValueError(f"DIGEST_SCHEDULE {text!r} should look like 'mon 09:00'")
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(f"DIGEST_SCHEDULE {text!r} has an impossible time")
    return _WEEKDAYS.index(match.group(1)), dt.time(hour, minute)


def parse_working_hours(text: str) -> tuple[dt.time, dt.time]:
    """Read `09:00-17:30` into (start, end); raise ValueError with a readable reason."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"WORKING_HOURS {text!r} should look like '09:00-17:30'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"WORKING_HOURS {text!r} has an impossible time")
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start >= end:
        raise ValueError(f"WORKING_HOURS {text!r} should end after it starts")
    return start, end


def parse_weekdays(text: str) -> tuple[int, ...]:
    """Read `mon-fri` or `mon,tue,thu` into sorted weekday numbers (Monday is 0)."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        names = [first[:3], (last or first)[:3]]
        if any(name not in _WEEKDAYS for name in names):
            raise ValueError(f"WORKING_DAYS {text!r} should look like 'mon-fri' or 'mon,tue,wed'")
        start, end = (_WEEKDAYS.index(name) for name in names)
        if end < start:
            raise ValueError(f"WORKING_DAYS {text!r}: {part} runs backwards")
        days.update(range(start, end + 1))
    if not days:
        raise ValueError("WORKING_DAYS needs at least one day")
    return tuple(sorted(days))


def _says_none(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("", "none")

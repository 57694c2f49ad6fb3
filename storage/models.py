"""Typed SQLAlchemy models: people and their platform identities, actions, history, outbox."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from bot.domain import Platform, Rag, Role, Status
from bot.domain.rebaseline import RequestState
from storage.types import UTCDateTime

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # VARCHAR rather than native enums: adding a value later needs no ALTER TYPE dance.
    return Enum(
        cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Person(Base):
    """Someone the bot knows: an owner, a chair, or anyone who ever typed a command."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # The board they last chose in a direct message (asked again only when it is gone).
    current_board_id: Mapped[int | None] = mapped_column(
        ForeignKey("boards.id", ondelete="SET NULL")
    )
    job_title: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Set when their chat account turned out to be gone (deactivated, unknown to the platform):
    # their actions show as unowned and the chairs were told once. Cleared when they are back.
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    left_reason: Mapped[str | None] = mapped_column(String(200))

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan"
    )
    # Loaded when asked for: most reads of a person (an owner, a caller) never need them.
    names: Mapped[list[PersonName]] = relationship(
        back_populates="person", lazy="select", cascade="all, delete-orphan"
    )

    def identity(self, platform: Platform) -> Identity | None:
        """This person's account on `platform`, if any."""
        return next((i for i in self.identities if i.platform == platform), None)


#: The board a deployment had before it had boards; configured by the environment.
DEFAULT_BOARD_ID = 1


def _board_id(**kwargs: Any) -> Mapped[int]:
    return mapped_column(
        ForeignKey("boards.id"), server_default=text(str(DEFAULT_BOARD_ID)), **kwargs
    )


class Board(Base):
    """An improvement board: its name, its channels and the workspace they are in.

    The default board (id 1) has no name or channels of its own: they follow BOARD_NAME and
    BOARD_CHANNEL. A board's settings a chair changed are `board_settings` rows.
    """

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(80), unique=True)
    #: The Slack workspace (team id) its channel is in; None: the single workspace.
    slack_team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    slack_channel: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: The Teams tenant its channel is in; None: the single tenant.
    teams_tenant_id: Mapped[str | None] = mapped_column(String(100), index=True)
    teams_channel: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class BoardMember(Base):
    """A person's role on a board; what each role may do is bot/services/permissions.py."""

    __tablename__ = "board_members"

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role))


class Identity(Base):
    """One platform account (a Slack user id, a Teams user id, a console name) of a person."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_identities_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform))
    external_id: Mapped[str] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="identities")


class PersonName(Base):
    """A name a plan may give a person: their name, a job title or an alias ("HoS Front Door").

    `key` is the text folded for matching (case, spacing and punctuation ignored); the same key
    may belong to two people (two Heads of Service), which a look-up reports as ambiguous.
    """

    __tablename__ = "person_names"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "key", name="uq_person_names_entry"),
        Index("ix_person_names_key", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # name | title | alias
    text: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="names")


class Action(Base):
    """One action of the improvement plan."""

    __tablename__ = "actions"
    __table_args__ = (
        # A plan's reference is unique within its board ("1.1" on two boards).
        UniqueConstraint("board_id", "ref", name="uq_actions_board_ref"),
        Index("ix_actions_board_status_due", "board_id", "status", "due_date"),
        # "Overdue" and "due within N days" scan open statuses by date.
        Index("ix_actions_status_due", "status", "due_date"),
        # "Open for owner X" and the home tab.
        Index("ix_actions_owner_status_due", "owner_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = _board_id()
    ref: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.OPEN)
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag))
    workstream: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    success_measure: Mapped[str | None] = mapped_column(Text)
    # How often an action without a deadline is reported on ("monthly", "every board").
    cadence: Mapped[str | None] = mapped_column(String(50))
    # The owner as the plan wrote it, kept while nobody the bot knows answers to it.
    owner_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When its owner said it was done while the board signs off (status delivered); kept
    # once signed off, so the wait for sign-off can be told afterwards.
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The deadline first given (the plan's, or the first date set): kept when the deadline
    # moves, so slippage is measured from it (bot/domain/rebaseline.py; migration 0011).
    baseline_due: Mapped[dt.date | None] = mapped_column(Date)
    # How often the deadline moved: a request approved, or a chair moving it directly.
    # Only a server default: rows written by older code (and migrations' tests) get 0 too.
    rebaselines: Mapped[int] = mapped_column(Integer, server_default="0")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    owner: Mapped[Person | None] = relationship(lazy="joined")
    supporters: Mapped[list[Supporter]] = relationship(
        lazy="select", cascade="all, delete-orphan", order_by="Supporter.position"
    )

    # Optimistic locking: an UPDATE that finds another version raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @validates("due_date")
    def _first_date_is_the_baseline(self, _key: str, due: dt.date | None) -> dt.date | None:
        # Wherever a first deadline comes from (added, imported, set by a chair), it is the
        # baseline; later moves leave the baseline alone.
        if due is not None and self.baseline_due is None:
            self.baseline_due = due
        return due


class Supporter(Base):
    """A supporting owner of an action: told when assigned, reminded with the owner, may update."""

    __tablename__ = "action_supporters"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    person: Mapped[Person] = relationship(lazy="joined")


class HistoryEntry(Base):
    """One change to an action; append-only (the evidence trail inspectors ask for).

    Sealed on insert into a hash chain (storage.history_chain): `hash` covers the entry's
    content and `prev_hash`, the hash of the entry before it.
    """

    __tablename__ = "action_history"
    __table_args__ = (
        Index("ix_action_history_action_at", "action_id", "at"),
        # Unique: two entries linking to the same one would fork the chain.
        Index("ix_action_history_prev_hash", "prev_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    source: Mapped[str] = mapped_column(String(20))
    change: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Hex SHA-256. Nullable: SQLite adds a NOT NULL column only by rebuilding the table (and
    # its guard triggers); an entry without them fails `actionbot verify-history` instead.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[Person | None] = relationship(lazy="joined")
    action: Mapped[Action] = relationship()

    @classmethod
    def __declare_last__(cls) -> None:
        # Imported here: the chain module needs this class, and every insert must be sealed
        # whichever module first uses the model.
        from storage.history_chain import install

        install()


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: Withdrawn at its turn because it no longer applied (the action was done meanwhile…);
    #: `last_error` says why. Not FAILED: nothing went wrong and no chair needs telling.
    #: The column is a plain VARCHAR (see _enum), so this value needs no migration.
    CANCELLED = "cancelled"
    #: A reminder, nudge or escalation taken into one person's bundle (bot.outbox.bundles):
    #: it goes out with that message, and becomes SENT, CANCELLED or FAILED with it.
    BUNDLED = "bundled"


class OutboxMessage(Base):
    """A message to deliver, written before it is sent so none is lost or sent twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = _board_id(index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str | None] = mapped_column(String(200))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    platform: Mapped[str | None] = mapped_column(String(20))
    platform_channel: Mapped[str | None] = mapped_column(String(200))
    platform_ref: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    recipient: Mapped[Person | None] = relationship(lazy="joined")


# The scheduler asks "which of these keys exist?" by kind and age, in one query (migration 0002).
Index("ix_outbox_kind_created", OutboxMessage.kind, OutboxMessage.created_at)
# A button pressed on a delivered message finds the row it came from (bot.outbox.sent).
Index("ix_outbox_sent_ref", OutboxMessage.platform_channel, OutboxMessage.platform_ref)


class DigestSnapshot(Base):
    """The figures of one posted weekly digest, so the next one can say what changed."""

    __tablename__ = "digest_snapshots"
    __table_args__ = (Index("ix_digest_snapshots_channel_week", "channel", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = _board_id()
    # The digest's outbox key (`digest:{channel}:{ISO week}`): one snapshot per posted digest.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    week: Mapped[str] = mapped_column(String(10))  # `2026-W48`; sorts in time order
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, int]] = mapped_column(JSON)


class Evidence(Base):
    """Evidence that an action was delivered: a note, a link, or a file (append-only).

    A file is kept as the platform's reference to it (Slack's file id, Teams' content URL)
    with its name, size and SHA-256, never its bytes: the hash shows later that the file the
    platform still holds is the one that was signed off.
    """

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_action_added", "action_id", "added_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: `note`, `link` or `file`.
    kind: Mapped[str] = mapped_column(String(10))
    #: `slack`, `teams` or `console`: where it was added (and where a file reference points).
    platform: Mapped[str] = mapped_column(String(20))
    file_ref: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    added_by: Mapped[Person | None] = relationship(lazy="joined")


class BoardSetting(Base):
    """One setting of the board a chair can change in chat (`/board settings`): who and when.

    A setting without a row has its default (sign-off on).
    """

    __tablename__ = "board_settings"

    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id"), primary_key=True, default=DEFAULT_BOARD_ID
    )
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    changed_by: Mapped[Person | None] = relationship(lazy="joined")


class EscalationProgress(Base):
    """How far up the escalation ladder an action has gone, per trigger (bot/domain/ladder.py):
    the highest step sent for its current deadline (overdue) or blocking (blocked). A step is
    sent once; a new deadline or a new blocking starts the ladder again."""

    __tablename__ = "escalation_progress"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    #: `overdue` or `blocked`.
    trigger: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: The deadline (overdue) or the day it was blocked (blocked) the steps count from.
    anchor: Mapped[dt.date] = mapped_column(Date)
    #: The working days of the highest step sent.
    days: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DateRequest(Base):
    """An owner's request for a new deadline, its reason, and the decision on it (the history
    records each step too; this row is what a decision finds)."""

    __tablename__ = "date_requests"
    __table_args__ = (
        Index("ix_date_requests_action_state", "action_id", "state"),
        # One pending request per action: two asked at the same moment cannot both wait.
        Index(
            "ix_date_requests_one_pending",
            "action_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The deadline when it was asked (None: the action had none).
    old_due: Mapped[dt.date | None] = mapped_column(Date)
    new_due: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[RequestState] = mapped_column(_enum(RequestState), default=RequestState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)

    action: Mapped[Action] = relationship()
    requested_by: Mapped[Person | None] = relationship(
        foreign_keys=[requested_by_id], lazy="joined"
    )
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class RoleChange(Base):
    """One change of a person's role: who changed it, when, from what to what (append-only).

    Roles belong to no action, so they have their own trail beside `action_history`; a role
    is held on a board.
    """

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id"), server_default=text(str(DEFAULT_BOARD_ID))
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    #: `slack`, `teams`, `console` or `cli` (the command line names no actor).
    source: Mapped[str] = mapped_column(String(20))
    change: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[str | None] = mapped_column(String(20))
    new_value: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    actor: Mapped[Person | None] = relationship(foreign_keys=[actor_id], lazy="joined")


class TeamsReference(Base):
    """Where the bot can reach a Teams user or channel later (a "conversation reference").

    Teams only lets a bot post into a conversation it has been told about: the Bot Connector's
    regional `service_url`, the conversation id, the tenant and the bot's own id all come from
    an activity the bot received (its install, or a first message). One row per user (their
    personal chat with the bot) and per channel; `key` is `user:<Teams user id>` or
    `conversation:<conversation id>`. https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
    """

    __tablename__ = "teams_references"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    service_url: Mapped[str] = mapped_column(String(500))
    # Null for a user the bot saw only in a channel: a 1:1 chat is created on first send.
    conversation_id: Mapped[str | None] = mapped_column(String(500))
    conversation_type: Mapped[str | None] = mapped_column(String(30))
    tenant_id: Mapped[str | None] = mapped_column(String(100))
    bot_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    # From outside the tenant (a guest, or another organisation's user): Teams' roster says
    # so; None until the roster was asked.
    external: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Meeting(Base):
    """A board meeting: its update round opens, nudges and closes at the cut-off before it.

    Each step of the cycle stamps its column once done (round_opened_at, round_nudged_at,
    cut_off_at, pack_posted_at), so the worker runs each once per meeting and catches up.
    """

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_starts_at", "starts_at"),
        Index("ix_meetings_board_starts_at", "board_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = _board_id()
    title: Mapped[str] = mapped_column(Text, default="Board meeting")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    round_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    round_nudged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cut_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    pack_posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id], lazy="joined")
    cancelled_by: Mapped[Person | None] = relationship(
        foreign_keys=[cancelled_by_id], lazy="joined"
    )


class PlanSnapshot(Base):
    """One action as it stood at a meeting's cut-off (append-only: the database refuses
    UPDATE and DELETE); the trend and "since the last meeting" read these rows."""

    __tablename__ = "plan_snapshots"
    __table_args__ = (UniqueConstraint("meeting_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key, like action_id: the snapshot is kept as the board was shown it.
    board_id: Mapped[int] = mapped_column(Integer, server_default=text(str(DEFAULT_BOARD_ID)))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # No foreign key to actions: a snapshot outlives what happens to the action later.
    action_id: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(Integer)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[Status] = mapped_column(_enum(Status))
    rag_declared: Mapped[Rag | None] = mapped_column(_enum(Rag))
    rag_computed: Mapped[Rag | None] = mapped_column(_enum(Rag))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    baseline_due: Mapped[dt.date | None] = mapped_column(Date)
    rebaselines: Mapped[int] = mapped_column(Integer, default=0)
    workstream: Mapped[str | None] = mapped_column(String(200))


class BoardPack(Base):
    """A board pack built for a meeting: its files as circulated, and its link's hash.

    The files are kept as built (the pack is what the board read, not the plan as it is
    later); the link's token is never stored, only its SHA-256, so the table cannot give
    the link away. Served at /packs/<token> until `expires_at` (handlers/pack_web.py).
    """

    __tablename__ = "board_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = _board_id()
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    html: Mapped[bytes] = mapped_column(LargeBinary)
    #: The small BRAG trend chart (PNG) the weekly digest shows under the pack's link.
    trend_png: Mapped[bytes] = mapped_column(LargeBinary)

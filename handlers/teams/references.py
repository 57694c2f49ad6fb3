"""Conversation references: kept when the bot first sees a user or a channel, used to post later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.render.inline import channel_ids, with_channel_names
from bot.render.model import Message
from storage.models import TeamsReference


def user_key(user_id: str) -> str:
    """The reference key of a user's personal chat with the bot."""
    return f"user:{user_id}"


def conversation_key(conversation_id: str) -> str:
    """The reference key of a channel or group chat."""
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class Reference:
    """What a proactive send needs, detached from the session."""

    key: str
    service_url: str
    conversation_id: str | None
    tenant_id: str | None
    bot_id: str
    user_id: str | None = None
    name: str | None = None
    email: str | None = None
    conversation_type: str | None = None
    #: From outside the tenant (is_external_member); None while Teams was not asked.
    external: bool | None = None


def is_external_member(member: dict[str, Any], tenant_id: str | None) -> bool:
    """Whether a member Teams' roster describes is from outside the tenant: a guest
    (`userRole` "guest", or "anonymous" for a meeting's anonymous user), or a user whose
    home tenant differs from the conversation's (`tenantId`, shared channels).
    https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context
    """
    if str(member.get("userRole") or "").lower() in ("guest", "anonymous"):
        return True
    home = member.get("tenantId")
    return bool(home and tenant_id and str(home).lower() != tenant_id.lower())


def _detach(row: TeamsReference) -> Reference:
    return Reference(
        key=row.key,
        service_url=row.service_url,
        conversation_id=row.conversation_id,
        tenant_id=row.tenant_id,
        bot_id=row.bot_id,
        user_id=row.user_id,
        name=row.name,
        email=row.email,
        conversation_type=row.conversation_type,
        external=row.external,
    )


def get_reference(session: Session, *, key: str) -> Reference | None:
    """The stored reference with this key."""
    row = session.scalars(select(TeamsReference).where(TeamsReference.key == key)).first()
    return _detach(row) if row is not None else None


def find_conversation(session: Session, *, conversation_id: str) -> Reference | None:
    """A stored reference to this conversation (a channel, or someone's personal chat): where
    its service URL is, to reach a message the bot sent there."""
    query = select(TeamsReference).where(TeamsReference.conversation_id == conversation_id)
    row = session.scalars(query.order_by(TeamsReference.updated_at.desc())).first()
    return _detach(row) if row is not None else None


def name_channels(session: Session, message: Message) -> Message:
    """`message` with each channel it names given the name Teams gave that channel (a card
    cannot link a channel by its id); a channel never seen with a name keeps its id."""
    ids = channel_ids(message)
    if not ids:
        return message
    query = select(TeamsReference.conversation_id, TeamsReference.name).where(
        TeamsReference.conversation_id.in_(ids), TeamsReference.name.is_not(None)
    )
    names = {str(cid): str(name) for cid, name in session.execute(query) if cid and name}
    return with_channel_names(message, names)


def find_user_by_email(session: Session, *, email: str) -> Reference | None:
    """A user the bot has seen with this email."""
    query = select(TeamsReference).where(
        TeamsReference.email == email.strip().lower(), TeamsReference.user_id.is_not(None)
    )
    row = session.scalars(query.order_by(TeamsReference.id)).first()
    return _detach(row) if row is not None else None


def team_conversations(session: Session) -> list[Reference]:
    """The channels the bot has been used in, most recently seen first: their members are
    the board's team."""
    query = select(TeamsReference).where(
        TeamsReference.conversation_type == "channel", TeamsReference.conversation_id.is_not(None)
    )
    return [
        _detach(row) for row in session.scalars(query.order_by(TeamsReference.updated_at.desc()))
    ]


def save_reference(session: Session, ref: Reference, *, now: dt.datetime) -> None:
    """Insert or refresh a reference; a known conversation id is never replaced by None.

    Service URLs can change (Teams moves tenants between regions), so the newest wins.
    """
    for attempt in (1, 2):
        row = session.scalars(select(TeamsReference).where(TeamsReference.key == ref.key)).first()
        if row is None:
            row = TeamsReference(key=ref.key, updated_at=now)
            _fill(row, ref, now)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                if attempt == 2:
                    raise
                continue  # another request stored it at the same moment: update theirs
            return
        _fill(row, ref, now)
        return


def _fill(row: TeamsReference, ref: Reference, now: dt.datetime) -> None:
    row.service_url = ref.service_url
    row.tenant_id = ref.tenant_id or row.tenant_id
    row.bot_id = ref.bot_id
    if ref.conversation_id is not None:
        row.conversation_id = ref.conversation_id
        row.conversation_type = ref.conversation_type
    row.user_id = ref.user_id or row.user_id
    row.name = ref.name or row.name
    row.email = ref.email.strip().lower() if ref.email else row.email
    if ref.external is not None:
        row.external = ref.external
    row.updated_at = now


def drop_conversation(session: Session, *, key: str, conversation_id: str) -> bool:
    """Forget a conversation Teams says the bot can no longer post in (403 or 404).

    A user's reference keeps who they are (service URL, name, email): only the chat goes, so
    the next message opens a new one. A channel's reference goes whole: the bot was removed
    from it, and the directory must stop reading its members. Nothing changes when the stored
    conversation is no longer the one that failed (the user has come back meanwhile).
    """
    row = session.scalars(select(TeamsReference).where(TeamsReference.key == key)).first()
    if row is None or row.conversation_id != conversation_id:
        return False
    if key.startswith(user_key("")):
        row.conversation_id = None
        row.conversation_type = None
    else:
        session.delete(row)
    return True

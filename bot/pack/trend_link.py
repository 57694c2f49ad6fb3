"""The weekly digest's small BRAG trend chart: the one of the last pack posted to the board
channel, served under that pack's link (`/packs/<token>/trend.png`) while the link is valid.

The link's token is kept nowhere but in the post itself (the outbox keeps every message as
sent), so the chart is the one the channel was already given the link to.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.pack import PACK_POST
from bot.pack.collect import BRAG_ORDER, trend
from bot.render.model import Image
from storage.models import BoardPack, Meeting, OutboxMessage


def trend_image(session: Session, now: dt.datetime, *, board_id: int) -> Image | None:
    """The chart of the board's last posted pack whose link is still valid; None when there
    is none."""
    payload = session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.kind == PACK_POST, OutboxMessage.board_id == board_id)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    files = payload.get("files") if isinstance(payload, dict) else None
    if not isinstance(files, dict) or not files.get("url") or not files.get("pack_id"):
        return None
    pack = session.get(BoardPack, int(files["pack_id"]))
    if pack is None or pack.board_id != board_id or pack.expires_at <= now:
        return None
    meeting = session.get(Meeting, pack.meeting_id)
    columns = trend(session, meeting) if meeting is not None else []
    if not columns:
        return None
    words = "; ".join(
        f"{c.label}: " + ", ".join(f"{c.counts[r]} {r.value}" for r in BRAG_ORDER) for c in columns
    )
    return Image(
        url=f"{files['url']}/trend.png",
        alt=f"BRAG at each of the last {len(columns)} board meetings, oldest first: {words}.",
        title="BRAG at each board meeting",
    )

"""Build a meeting's board pack: its data, charts and three files, stored with a new link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.pack.collect import PackData, collect
from bot.pack.links import new_token, pack_url, public_base, token_hash
from bot.services.context import Core
from storage.models import BoardPack, Meeting, Person

#: The files of a pack, as served and uploaded.
PDF_NAME = "pack.pdf"
XLSX_NAME = "pack.xlsx"
HTML_NAME = "pack.html"


@dataclass(frozen=True)
class RenderedPack:
    """A pack's data and files, not yet stored."""

    data: PackData
    pdf: bytes
    xlsx: bytes
    html: bytes
    trend_png: bytes


@dataclass(frozen=True)
class BuiltPack:
    """A stored pack and its link (the token exists only here, never in the database)."""

    pack: BoardPack
    rendered: RenderedPack
    token: str
    url: str
    #: Where it is posted: BOARD_CHANNEL when it was built.
    channel: str | None = None

    @property
    def data(self) -> PackData:
        return self.rendered.data


def render_pack(session: Session, core: Core, meeting: Meeting, now: dt.datetime) -> RenderedPack:
    """Collect and draw the pack for `meeting` (nothing stored)."""
    # Imported when a pack is drawn: matplotlib, reportlab and Jinja cost every `serve` and
    # `worker` process some 60 MB at start, and most of them never draw one.
    from bot.pack.charts import brag_chart, trend_chart
    from bot.pack.html import render_html
    from bot.pack.pdf import render_pdf
    from bot.pack.xlsx import render_xlsx

    data = collect(session, core, meeting, now)
    brag_png = brag_chart(data)
    trend_png = trend_chart(data.trend)
    return RenderedPack(
        data=data,
        pdf=render_pdf(data, brag_png=brag_png, trend_png=trend_png),
        xlsx=render_xlsx(data),
        html=render_html(data, brag_png=brag_png, trend_png=trend_png),
        trend_png=trend_chart(data.trend, small=True, dpi=100),
    )


def build_pack(
    session: Session,
    core: Core,
    meeting: Meeting,
    now: dt.datetime,
    *,
    created_by: Person | None = None,
) -> BuiltPack:
    """Build and store the pack for `meeting` with a fresh link expiring after
    PACK_LINK_DAYS; a clear error when PUBLIC_URL is not set (checked before any work)."""
    public_base(core.settings)
    rendered = render_pack(session, core, meeting, now)
    token = new_token()
    pack = BoardPack(
        board_id=meeting.board_id,
        meeting_id=meeting.id,
        created_at=now,
        expires_at=now + dt.timedelta(days=core.settings.pack_link_days),
        token_hash=token_hash(token),
        created_by_id=created_by.id if created_by is not None else None,
        pdf=rendered.pdf,
        xlsx=rendered.xlsx,
        html=rendered.html,
        trend_png=rendered.trend_png,
    )
    session.add(pack)
    session.flush()
    return BuiltPack(
        pack=pack,
        rendered=rendered,
        token=token,
        url=pack_url(core.settings, token),
        channel=core.settings.board_channel,
    )


def pack_file(core: Core, pack_id: int, name: str) -> bytes | None:
    """One stored file of a pack by its name (pack.pdf, pack.xlsx), for uploads."""
    from storage.db import transaction

    with transaction(core.sessions) as session:
        pack = session.get(BoardPack, pack_id)
        if pack is None:
            return None
        return {PDF_NAME: pack.pdf, XLSX_NAME: pack.xlsx}.get(name)

"""The board pack as one accessible HTML page (WCAG 2.2 AA), readable on a phone.

Rendered by Jinja2 with autoescaping on: every title, note and name is escaped by the
template engine rather than by hand, and the template keeps the markup readable. The page
is self-contained (charts as data: URIs, styles inline) so it needs no other request and
can be served under a strict Content-Security-Policy. Each chart has a text alternative: the
same figures as a table beside it.
"""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.pack.collect import BRAG_ORDER, EXCEPTION_KINDS, PackData
from bot.pack.links import FILES_MARK
from bot.pack.style import (
    COLOURS,
    HATCHES,
    NAMES,
    day,
    meeting_words,
    rag_name,
    rag_words,
    status_words,
)

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=False,
)


def render_html(data: PackData, *, brag_png: bytes, trend_png: bytes) -> bytes:
    """The pack as a UTF-8 HTML page, links to its files starting with FILES_MARK."""
    kinds = [k for k in EXCEPTION_KINDS if any(e.kind == k for e in data.exceptions)]
    page = _ENV.get_template("pack.html").render(
        data=data,
        when=meeting_words(data),
        prepared=day(data.generated_at.date()),
        files=FILES_MARK,
        order=BRAG_ORDER,
        names=NAMES,
        colours=COLOURS,
        hatches=HATCHES,
        kinds=kinds,
        day=day,
        rag_name=rag_name,
        rag_words=rag_words,
        status_words=status_words,
        brag_png=base64.b64encode(brag_png).decode("ascii"),
        trend_png=base64.b64encode(trend_png).decode("ascii"),
    )
    return page.encode("utf-8")


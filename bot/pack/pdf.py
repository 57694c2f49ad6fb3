"""The board pack as a PDF, laid out by reportlab's platypus (flowing tables across pages).

reportlab: maintained for over twenty years, pure-Python wheels (no system libraries to
install, unlike the HTML-to-PDF engines), and its flowables split long tables over pages
with the header row repeated, which a register of a thousand actions needs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from bot.pack.charts import brag_chart, trend_chart
from bot.pack.collect import BRAG_ORDER, PackAction, PackData
from bot.pack.style import COLOURS, NAMES, day, meeting_words, rag_words, status_words

_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("cell", parent=_STYLES["BodyText"], fontSize=8, leading=10)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold")
_GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def render_pdf(
    data: PackData, *, brag_png: bytes | None = None, trend_png: bytes | None = None
) -> bytes:
    """The pack as PDF bytes: cover, figures, BRAG chart, trend, exceptions, workstreams."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=f"{data.board}: board pack, {meeting_words(data)}",
        author=data.board,
        subject="Board pack",
        lang="en-GB",
    )
    story: list[Flowable] = []
    story += _cover(data)
    story.append(PageBreak())
    story.append(Paragraph("Figures", _STYLES["Heading1"]))
    story.append(
        _table([["Figure", "Actions"], *[[k, str(v)] for k, v in data.figures]], [9 * cm, 3 * cm])
    )
    story.append(Spacer(1, 0.4 * cm))
    story.append(Paragraph("BRAG", _STYLES["Heading1"]))
    story.append(_brag_table(data))
    story.append(Spacer(1, 0.2 * cm))
    story.append(_image(brag_png or brag_chart(data), 16 * cm))
    story.append(Paragraph("Trend across the last meetings", _STYLES["Heading1"]))
    story.append(_image(trend_png or trend_chart(data.trend), 16 * cm))
    if data.trend:
        header = ["Meeting", *(NAMES[r] for r in BRAG_ORDER), "Unrated"]
        rows = [
            [c.label, *(str(c.counts[r]) for r in BRAG_ORDER), str(c.unrated)] for c in data.trend
        ]
        story.append(_table([header, *rows], None))
    else:
        story.append(Paragraph("No meeting has a snapshot yet.", _STYLES["BodyText"]))
    story.append(PageBreak())
    story.append(Paragraph("Exceptions", _STYLES["Heading1"]))
    if data.exceptions:
        rows = [
            [
                _p(e.kind) if len(e.kind) > 18 else e.kind,
                e.action.label,
                _p(e.action.title) if len(e.action.title) > 30 else e.action.title,
                _cut(e.action.owner or "Unassigned", 18),
                _p(e.detail) if len(e.detail) > 22 else e.detail,
            ]
            for e in data.exceptions
        ]
        story.append(
            _table(
                [["Exception", "Action", "Title", "Owner", "Why"], *rows],
                [3.2 * cm, 2.4 * cm, 5.6 * cm, 3 * cm, 3.8 * cm],
            )
        )
    else:
        story.append(Paragraph("No exceptions.", _STYLES["BodyText"]))
    story.append(PageBreak())
    story.append(Paragraph("Workstreams", _STYLES["Heading1"]))
    for name, actions in data.workstreams:
        story.append(Paragraph(escape(name), _STYLES["Heading2"]))
        story.append(_register(actions))
    doc.build(story)
    return out.getvalue()


def _cover(data: PackData) -> list[Flowable]:
    title = ParagraphStyle("cover", parent=_STYLES["Title"], fontSize=26, leading=32)
    return [
        Spacer(1, 6 * cm),
        Paragraph(escape(data.board), title),
        Paragraph("Board pack", _STYLES["Heading1"]),
        Paragraph(escape(data.meeting_title), _STYLES["Heading2"]),
        Paragraph(escape(meeting_words(data)), _STYLES["BodyText"]),
        Spacer(1, 1 * cm),
        Paragraph(f"Prepared {escape(day(data.generated_at.date()))}", _STYLES["BodyText"]),
    ]


def _brag_table(data: PackData) -> Table:
    header = ["", *(NAMES[r] for r in BRAG_ORDER)]
    rows = [
        header,
        ["Declared by owners", *(str(data.declared[r]) for r in BRAG_ORDER)],
        ["Computed from facts", *(str(data.computed[r]) for r in BRAG_ORDER)],
    ]
    table = _table(rows, [5 * cm, 2.5 * cm, 2.5 * cm, 2.5 * cm, 2.5 * cm])
    for column, rag in enumerate(BRAG_ORDER, start=1):
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (column, 0), (column, 0), colors.HexColor(COLOURS[rag])),
                    ("TEXTCOLOR", (column, 0), (column, 0), colors.white),
                ]
            )
        )
    return table


def _register(actions: list[PackAction]) -> Table:
    header: list[object] = [
        "Action",
        "Title",
        "Owner",
        "Baseline",
        "Due",
        "BRAG",
        "Latest update",
        "Evidence",
    ]
    rows: list[list[object]] = [header]
    for a in actions:
        latest = f"{day(a.latest_on)}: {a.latest}" if a.latest else ""
        # Only the long texts wrap as paragraphs: a cell of plain text costs a fraction of
        # one, which keeps a register of a thousand actions quick to lay out.
        rows.append(
            [
                a.label,
                _p(a.title) if len(a.title) > 24 else a.title,
                _cut(a.owner or "Unassigned", 14),
                day(a.baseline),
                day(a.due),
                _cut(rag_words(a), 12) + "\n" + _cut(status_words(a.status), 12),
                _p(latest[:400]) if latest else "",
                _p("; ".join(a.evidence)[:300]) if a.evidence else "",
            ]
        )
    widths = [1.9 * cm, 4 * cm, 2.2 * cm, 1.7 * cm, 1.7 * cm, 2 * cm, 3.2 * cm, 1.3 * cm]
    return _table(rows, widths)


def _cut(text: str, width: int) -> str:
    """Plain text cut to fit a narrow cell, with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(rows: Sequence[Sequence[object]], widths: list[float] | None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(_GRID)
    return table


def _p(text: str) -> Paragraph:
    return Paragraph(escape(text), _BODY)


def _image(png: bytes, width: float) -> Image:
    image = Image(io.BytesIO(png))
    scale = width / image.imageWidth
    image.drawWidth = width
    image.drawHeight = image.imageHeight * scale
    return image

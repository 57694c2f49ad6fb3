"""The board pack: built for a meeting from the plan and six meetings of snapshots, its PDF and
workbook read back, its chart checked as an image, its HTML view served at its link over real
HTTP (refused when expired or tampered with), opened in headless Chromium and checked by
axe-core for WCAG 2.2 AA."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from bot.clock import FixedClock
from bot.config import Settings
from bot.errors import CommandError
from bot.pack.build import BuiltPack, build_pack
from bot.pack.charts import COLOURS
from bot.pack.collect import BRAG_ORDER
from bot.services.context import Core
from handlers.web import create_web_app
from storage.db import transaction
from storage.models import BoardPack, Meeting
from tests.pack_seed import seed_plan
from tests.support.browser import PHONE_WIDTH, Browser, require_chromium
from tests.support.teams_server import running

AXE = Path(__file__).resolve().parent.parent / ".ci" / "node" / "node_modules" / "axe-core"


@pytest.fixture
def pack_core(core: Core) -> Core:
    core.settings = core.settings.model_copy(
        update={"public_url": "https://actionbot.example.org/", "board_name": "Northshire Board"}
    )
    return core


def built(core: Core) -> BuiltPack:
    upcoming = seed_plan(core, actions=12, meetings=6)
    with transaction(core.sessions) as session:
        meeting = session.get(Meeting, upcoming.id)
        assert meeting is not None
        pack = build_pack(session, core, meeting, core.now())
        session.expunge(pack.pack)
        return pack


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def _has_colour(image: Image.Image, colour: tuple[int, int, int], *, near: int = 12) -> bool:
    found = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(all(abs(p[i] - colour[i]) <= near for i in range(3)) for _, p in found)


def test_the_pdf_reads_back_with_each_section_the_figures_and_its_charts(pack_core: Core) -> None:
    pack = built(pack_core)
    reader = PdfReader(io.BytesIO(pack.rendered.pdf))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    flat = " ".join(text.split())
    assert len(reader.pages) >= 4
    cover = pages[0]
    assert "Northshire Board" in cover and "Board pack" in cover
    assert "Board meeting, January" in cover and "December 2026" in cover
    sections = ("Figures", "BRAG", "Trend across the last meetings", "Exceptions", "Workstreams")
    for section in sections:
        assert section in text
    figures = pack.data.figure
    assert figures == {
        "Open": 8,
        "Complete": 2,
        "Delivered, awaiting sign-off": 2,
        "Overdue": 2,
        "Blocked": 2,
        "Needs a date": 0,
        "Unassigned": 2,
    }
    for label, value in figures.items():
        assert f"{label}\n{value}" in text
    for kind in (
        "Red",
        "Overdue",
        "Blocked",
        "Re-baselined since the last meeting",
        "Declared greener than computed",
        "Awaiting sign-off",
        "No update this round",
    ):
        assert kind in flat, kind
    assert "Front door" in flat and "Quality assurance" in flat and "Workforce" in flat
    # A title is text, never markup: the `<b>` typed into it is printed as typed.
    assert "Action 5 <b>&amp; check</b>" in flat
    assert "Panel met; two cases left" in flat
    # The BRAG chart is drawn in BRAG's colours: each is found in the page's image.
    images = [image for page in reader.pages for image in page.images]
    assert len(images) >= 2
    chart = Image.open(io.BytesIO(images[0].data))
    for rag in BRAG_ORDER:
        assert _has_colour(chart, _rgb(COLOURS[rag])), rag


def test_the_trend_spans_the_last_six_meetings_and_the_workbook_reads_back(
    pack_core: Core,
) -> None:
    pack = built(pack_core)
    assert len(pack.data.trend) == 6
    assert all(sum(c.counts.values()) + c.unrated == 12 for c in pack.data.trend)
    book = load_workbook(io.BytesIO(pack.rendered.xlsx))
    assert book.sheetnames == ["Register", "Exceptions", "Trend", "Figures"]
    register = list(book["Register"].iter_rows(values_only=True))
    assert register[0][:6] == ("Action", "Reference", "Workstream", "Title", "Owner", "Status")
    assert len(register) == 13
    moved = next(r for r in register if r[1] == "WS3-06")
    assert moved[9] == 1 and moved[8] == 8  # moved two weeks, over Christmas's bank holidays
    exceptions = list(book["Exceptions"].iter_rows(values_only=True))
    assert exceptions[0] == ("Exception", "Action", "Reference", "Title", "Owner", "Why")
    assert any(r[0] == "Re-baselined since the last meeting" for r in exceptions)
    trend = list(book["Trend"].iter_rows(values_only=True))
    assert trend[0] == ("Meeting", "Red", "Amber", "Green", "Blue", "Unrated")
    assert len(trend) == 7


def test_the_link_needs_public_url_and_keeps_only_a_hash(core: Core) -> None:
    upcoming = seed_plan(core, actions=6, meetings=0)
    with transaction(core.sessions) as session:
        meeting = session.get(Meeting, upcoming.id)
        assert meeting is not None
        with pytest.raises(CommandError, match="PUBLIC_URL"):
            build_pack(session, core, meeting, core.now())


def test_the_view_is_served_at_its_link_and_refused_expired_or_tampered(
    pack_core: Core, clock: FixedClock
) -> None:
    pack = built(pack_core)
    assert pack.url.startswith("https://actionbot.example.org/packs/")
    with transaction(pack_core.sessions) as session:
        stored = session.get(BoardPack, pack.pack.id)
        assert stored is not None
        assert pack.token not in stored.token_hash
        assert stored.expires_at == pack_core.now() + dt.timedelta(days=30)
    app = create_web_app(pack_core)
    with running(app) as base, httpx.Client(base_url=base) as http:
        page = http.get(f"/packs/{pack.token}")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store, private"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "Board meeting, January" in page.text
        assert f'href="{pack.token}/pack.pdf"' in page.text
        assert "<b>&amp;" not in page.text and "&lt;b&gt;" in page.text
        pdf = http.get(f"/packs/{pack.token}/pack.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        xlsx = http.get(f"/packs/{pack.token}/pack.xlsx")
        assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
        assert http.get(f"/packs/{pack.token}/trend.png").content.startswith(b"\x89PNG")
        tampered = pack.token[:-1] + ("0" if pack.token[-1] != "0" else "1")
        for path in (
            f"/packs/{tampered}",
            f"/packs/{tampered}/pack.pdf",
            "/packs/short",
            f"/packs/{pack.token}/other.txt",
        ):
            refused = http.get(path)
            assert refused.status_code == 404, path
            assert refused.text == "Not found."
        clock.set(pack_core.now() + dt.timedelta(days=30))
        for path in (f"/packs/{pack.token}", f"/packs/{pack.token}/pack.pdf"):
            expired = http.get(path)
            assert expired.status_code == 410
            assert "expired" in expired.text and "Board meeting" not in expired.text


def test_the_view_on_a_phone_shows_the_chart_and_exceptions_and_passes_axe(
    pack_core: Core, tmp_path: Path
) -> None:
    require_chromium()
    if not (AXE / "axe.min.js").is_file():
        pytest.skip("axe-core is not installed (bash .ci/run installs it into .ci/node)")
    pack = built(pack_core)
    app = create_web_app(pack_core)
    with running(app) as base, Browser() as browser:
        page = browser.open(f"{base}/packs/{pack.token}", width=PHONE_WIDTH)
        assert page.evaluate("document.documentElement.lang") == "en-GB"
        headings = page.evaluate(
            "[...document.querySelectorAll('h1,h2,h3')].map(h => h.tagName + ' ' + h.textContent)"
        )
        assert headings[0] == "H1 Board meeting, January"
        assert "H2 Exceptions" in headings
        box = page.evaluate(
            "(() => { const r = document.querySelector('#exceptions-table')"
            ".getBoundingClientRect(); return [r.top + window.scrollY, r.height]; })()"
        )
        chart = page.evaluate(
            "(() => { const i = document.querySelector('#brag-chart');"
            " const r = i.getBoundingClientRect();"
            " return [r.top + window.scrollY, r.width, r.height,"
            " i.complete && i.naturalWidth]; })()"
        )
        assert chart[1] <= PHONE_WIDTH and chart[3] > 0
        shot = Image.open(page.screenshot(tmp_path / "pack.png")).convert("RGB")
        # The chart in the shot: BRAG's red is found within the chart's box.
        top, height = int(chart[0]), int(chart[2])
        region = shot.crop((0, top, shot.width, top + height))
        assert _has_colour(region, _rgb(COLOURS[BRAG_ORDER[0]]), near=20)
        # The exceptions table is drawn: its header row's shade where the table starts.
        table = shot.crop((0, int(box[0]), shot.width, int(box[0] + min(box[1], 200))))
        assert box[1] > 100 and _has_colour(table, (0xE8, 0xEE, 0xF5), near=3)
        page.add_script(AXE / "axe.min.js")
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values:"
            " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.length, help: v.help})))"
        )
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        assert serious == [], serious


def test_settings_default_link_days() -> None:
    assert Settings(_env_file=None).pack_link_days == 30  # type: ignore[call-arg]

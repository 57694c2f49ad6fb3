"""10. The board pack: 1,000 actions and six meetings of snapshots, built in under 5 s.

The plan is tests/pack_seed.py's (three workstreams; red, overdue, blocked, delivered,
complete and re-baselined actions; evidence and a note) at 1,000 actions. Timed: one whole
build (collect, the two charts and the digest's small one, the PDF, the workbook and the HTML
view, stored with its link), after a warm-up build so imports and font caches are not counted
(a worker builds many packs in one process). Printed beside the target: the time, the PDF's
size and pages, and each part's share.
"""

from __future__ import annotations

import datetime as dt
import io
import time

from bench.common import Table, build_bench_core, databases, fresh_database

ACTIONS = 1000
MEETINGS = 6
TARGET_SECONDS = 5.0
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def run(db: str = "both", quick: bool = False) -> list[Table]:
    from pypdf import PdfReader

    from bot.pack import build as pack_build
    from bot.pack.charts import brag_chart, trend_chart
    from bot.pack.collect import collect
    from bot.pack.html import render_html
    from bot.pack.pdf import render_pdf
    from bot.pack.xlsx import render_xlsx
    from storage.db import transaction
    from storage.models import Meeting
    from tests.pack_seed import seed_plan

    actions = 200 if quick else ACTIONS
    tables = []
    for label, url in databases(db):
        fresh_database(url)
        core = build_bench_core(url, now=NOW, public_url="https://actionbot.example.org")
        upcoming = seed_plan(core, actions=actions, meetings=MEETINGS)
        with transaction(core.sessions) as session:
            meeting = session.get(Meeting, upcoming.id)
            assert meeting is not None
            pack_build.build_pack(session, core, meeting, core.now())  # warm-up
            started = time.perf_counter()
            built = pack_build.build_pack(session, core, meeting, core.now())
            took = time.perf_counter() - started
            # Each part again, for where the time goes.
            parts: dict[str, float] = {}
            mark = time.perf_counter()
            data = collect(session, core, meeting, core.now())
            parts["collect"] = time.perf_counter() - mark
            mark = time.perf_counter()
            brag_png, trend_png = brag_chart(data), trend_chart(data.trend)
            trend_chart(data.trend, small=True, dpi=100)
            parts["charts"] = time.perf_counter() - mark
            mark = time.perf_counter()
            render_pdf(data, brag_png=brag_png, trend_png=trend_png)
            parts["pdf"] = time.perf_counter() - mark
            mark = time.perf_counter()
            render_xlsx(data)
            parts["xlsx"] = time.perf_counter() - mark
            mark = time.perf_counter()
            render_html(data, brag_png=brag_png, trend_png=trend_png)
            parts["html"] = time.perf_counter() - mark
        pdf = built.rendered.pdf
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        table = Table(f"10. Board pack ({label}, {actions} actions, {MEETINGS} meetings)")
        table.add(
            "build (PDF, xlsx, HTML, charts, stored)",
            f"{took:.2f} s",
            f"< {TARGET_SECONDS:.0f} s",
            ok=took < TARGET_SECONDS if not quick else None,
        )
        table.add("PDF size", f"{len(pdf) / 1024:.0f} KiB, {pages} pages")
        table.add("workbook size", f"{len(built.rendered.xlsx) / 1024:.0f} KiB")
        table.add("HTML view size", f"{len(built.rendered.html) / 1024:.0f} KiB")
        table.add(
            "parts",
            ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items()),
        )
        table.notes.append(
            f"{len(data.exceptions)} exceptions; {len(data.workstreams)} workstreams"
        )
        tables.append(table)
    return tables

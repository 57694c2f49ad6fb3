"""`actionbot board pack [--board NAME] [--meeting ID] [--out DIR]`: a board's pack written to
a folder.

With PUBLIC_URL set the pack is also stored with a new link, which is printed; without it
the three files are still written (the link is what needs the address).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.errors import CommandError
from bot.pack.build import HTML_NAME, PDF_NAME, XLSX_NAME, RenderedPack, build_pack, render_pack
from bot.pack.command import pack_meeting
from bot.pack.links import with_files_at
from bot.services.context import Core
from storage.db import transaction


def board_pack(
    core: Core, *, meeting_id: int | None, out_dir: Path, out: TextIO, err: TextIO
) -> int:
    """Write pack.pdf, pack.xlsx and pack.html into `out_dir`; the exit code."""
    now = core.now()
    url: str | None = None
    try:
        with transaction(core.sessions) as session:
            meeting = pack_meeting(session, meeting_id, now, board_id=core.board.id)
            rendered: RenderedPack
            if core.settings.public_url:
                built = build_pack(session, core, meeting, now)
                rendered, url = built.rendered, built.url
            else:
                rendered = render_pack(session, core, meeting, now)
    except CommandError as exc:
        err.write(exc.reason + "\n")
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / PDF_NAME).write_bytes(rendered.pdf)
    (out_dir / XLSX_NAME).write_bytes(rendered.xlsx)
    # Beside the page, its links to the PDF and the workbook are plain file names.
    (out_dir / HTML_NAME).write_bytes(with_files_at(rendered.html, ""))
    data = rendered.data
    out.write(
        f"Board pack for {data.meeting_title} (meeting {data.meeting_id}) written to"
        f" {out_dir}: {PDF_NAME}, {XLSX_NAME}, {HTML_NAME}.\n"
    )
    if url is not None:
        out.write(f"Link: {url}\n")
    else:
        out.write("No link made: set PUBLIC_URL to the address `actionbot serve` is reached at.\n")
    return 0

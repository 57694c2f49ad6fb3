"""The board pack served at its link: /packs/<token> (the HTML view), /packs/<token>/pack.pdf,
/pack.xlsx and /trend.png (the digest's small chart).

A token that opens nothing answers 404 and an expired one 410, both with one line and no
data. Answers are never cached or indexed and send no referrer, so the link does not leak
through a proxy, a search engine or the next site the reader opens.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.pack.links import find_pack, with_files_at
from bot.services.context import Core
from storage.db import transaction

_HEADERS = {
    "Cache-Control": "no-store, private",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none';"
        " form-action 'none'; frame-ancestors 'none'"
    ),
}
_TYPES = {
    "": "text/html; charset=utf-8",
    "pack.pdf": "application/pdf",
    "pack.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "trend.png": "image/png",
}


def pack_routes(core: Core) -> list[Route]:
    """The routes of the pack's link."""

    async def view(request: Request) -> Response:
        return await _serve(core, request.path_params["token"], "")

    async def file(request: Request) -> Response:
        return await _serve(core, request.path_params["token"], request.path_params["name"])

    return [
        Route("/packs/{token}", view, methods=["GET", "HEAD"]),
        Route("/packs/{token}/{name}", file, methods=["GET", "HEAD"]),
    ]


async def _serve(core: Core, token: str, name: str) -> Response:
    if name not in _TYPES:
        return _refusal(404, "Not found.")
    found = await run_in_threadpool(_load, core, token, name)
    if found is None:
        return _refusal(404, "Not found.")
    if found == b"":
        return _refusal(
            410, "This board pack link has expired. Ask the board's secretary for a new one."
        )
    headers = dict(_HEADERS)
    if name in ("pack.pdf", "pack.xlsx"):
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(found, media_type=_TYPES[name], headers=headers)


def _load(core: Core, token: str, name: str) -> bytes | None:
    """The file's bytes; b"" when the link expired; None when the token opens nothing."""
    with transaction(core.sessions) as session:
        pack, expired = find_pack(session, token, core.now())
        if pack is None:
            return None
        if expired:
            return b""
        if name == "":
            return with_files_at(pack.html, f"{token}/")
        return {"pack.pdf": pack.pdf, "pack.xlsx": pack.xlsx, "trend.png": pack.trend_png}[name]


def _refusal(status: int, words: str) -> Response:
    return Response(
        words, status_code=status, media_type="text/plain; charset=utf-8", headers=_HEADERS
    )

"""Reading a request body with a size cap, shared by the Slack and Teams routes."""

from __future__ import annotations

from starlette.requests import Request

#: Slack's payloads and Teams' activities are a few kilobytes; a card or form submitting a
#: long note stays far below this. Anything larger is not from either platform.
MAX_BODY = 512 * 1024


async def read_body(request: Request, *, limit: int = MAX_BODY) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` (answer 413 then)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

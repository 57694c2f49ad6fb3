"""A board pack's link: PUBLIC_URL + /packs/ + an unguessable token, of which only the
SHA-256 is stored. A link is looked up by its hash (an indexed equality on a digest the
caller cannot steer), so neither a wrong token nor a near miss tells anything by its timing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import CommandError
from storage.models import BoardPack

#: What new_token gives: 64 hexadecimal digits.
_TOKEN = re.compile(r"[0-9a-f]{64}")


def new_token() -> str:
    """A fresh token: 256 random bits, in hexadecimal rather than the URL-safe alphabet,
    whose `_` Slack's and Teams' markdown would take for emphasis and break the link."""
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def public_base(settings: Settings) -> str:
    """PUBLIC_URL without its trailing slash; a clear error when it is not set."""
    if not settings.public_url:
        raise CommandError(
            "Board pack links need PUBLIC_URL: set it to the address `actionbot serve` is"
            " reached at (for example https://actionbot.example.org)."
        )
    return settings.public_url.rstrip("/")


def pack_url(settings: Settings, token: str) -> str:
    """The pack's HTML view."""
    return f"{public_base(settings)}/packs/{token}"


def find_pack(session: Session, token: str, now: dt.datetime) -> tuple[BoardPack | None, bool]:
    """The pack a token opens and whether its link expired; (None, False) for a token that
    opens nothing (malformed, tampered with, unknown)."""
    if not _TOKEN.fullmatch(token):
        return None, False
    digest = token_hash(token)
    pack = session.scalars(select(BoardPack).where(BoardPack.token_hash == digest)).first()
    # The row was found by its hash; compared again in constant time so no code path
    # depends on how much of a stored hash a guess matches.
    if pack is None or not hmac.compare_digest(pack.token_hash, digest):
        return None, False
    return pack, pack.expires_at <= now


#: Where the HTML view's links to its files start; replaced when served (the link's token and
#: a slash) or written to a folder (nothing), with no template engine loaded. The view's
#: autoescaping turns any `<` in the pack's own text into `&lt;`: the marker is the template's.
FILES_MARK = "<PACK/>"


def with_files_at(page: bytes, base: str) -> bytes:
    """The page with its links to pack.pdf and pack.xlsx starting at `base`."""
    return page.replace(FILES_MARK.encode("ascii"), base.encode("utf-8"))

"""A file given as evidence, read once from its platform to learn its size and SHA-256.

The bytes are streamed through the hash and thrown away: the bot keeps the platform's
reference, the name, the size and the hash, never the file. A bearer token is sent only to
the hosts the platform serves its files from, and redirects are not followed (one could
carry the token elsewhere).
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The largest file hashed (a board's evidence is papers and spreadsheets, not films); a
#: larger one is refused with the advice to give a link to where it is kept.
MAX_EVIDENCE_BYTES = 200 * 1024 * 1024
_CHUNK = 64 * 1024
TIMEOUT = 30


class FileUnreadable(Exception):
    """The file could not be read (gone, refused, too large); the message says why."""


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def trusted(url: str, hosts: Collection[str]) -> bool:
    """Whether `url` is on one of `hosts` (`.slack.com` matches any host under it)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return False
    return any(host == h or (h.startswith(".") and host.endswith(h)) for h in hosts)


def digest(
    url: str,
    *,
    token: str | None = None,
    max_bytes: int = MAX_EVIDENCE_BYTES,
) -> Digest:
    """Size and SHA-256 of the file at `url`, read in chunks and never kept."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise FileUnreadable("the file's address is not a web address")
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - scheme checked above
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    too_large = (
        f"The file is larger than {max_bytes // (1024 * 1024)} MB; "
        "please give a link to where it is kept instead."
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            if response.status != 200:
                raise FileUnreadable(f"the file could not be read (HTTP {response.status})")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FileUnreadable(too_large)
            sha = hashlib.sha256()
            size = 0
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileUnreadable(too_large)
                sha.update(chunk)
    except urllib.error.HTTPError as exc:
        raise FileUnreadable(f"the file could not be read (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FileUnreadable(f"the file could not be read ({exc})") from None
    return Digest(size=size, sha256=sha.hexdigest())

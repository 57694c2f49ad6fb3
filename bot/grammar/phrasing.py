"""The ways people phrase a command besides the canonical one, and the nearest command to
words the grammar does not know.

`12 done`, `mark 12 done`, `mark #12 as blocked waiting for data` are the same commands as
`done 12` and `blocked 12 waiting for data`; an unknown verb gets a suggestion that keeps the
user's own words (`dne 12` → "Did you mean `/action done 12`?").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

#: An action number as people type it: `12`, `#12`, `12.`, `#12,`.
ID_TOKEN = re.compile(r"#?(\d+)[.,;:!)]*")
_RAG_WORDS = frozenset({"red", "amber", "green"})


def reorder(text: str, verbs: Collection[str]) -> str:
    """`12 done note` and `mark 12 [as] done note` as `done 12 note`; other text unchanged."""
    words = text.split(maxsplit=1)
    if len(words) < 2:
        return text
    first, rest = words
    if ID_TOKEN.fullmatch(first):
        verb, _, tail = rest.partition(" ")
        if verb.lower() in verbs and verb.lower() not in ("add", "list", "help"):
            return " ".join(part for part in (verb, first, tail.strip()) if part)
        return text
    if first.lower() != "mark":
        return text
    parts = rest.split(maxsplit=3)
    if len(parts) >= 2 and ID_TOKEN.fullmatch(parts[0]):
        # mark 12 [as] done …
        number, after = parts[0], parts[1:]
    elif len(parts) >= 2 and ID_TOKEN.fullmatch(parts[1]):
        # mark done 12 …
        number, after = parts[1], [parts[0], *parts[2:]]
    else:
        return text
    if after and after[0].lower() == "as":
        after = after[1:]
    if not after:
        return text
    verb, tail = after[0], " ".join(after[1:])
    if verb.lower() in _RAG_WORDS:
        return f"rag {number} {verb}"
    if verb.lower() not in verbs:
        return text
    return " ".join(part for part in (verb, number, tail) if part)


def nearest(word: str, known: Collection[str]) -> str | None:
    """The known word closest to a mistyped one (`dne` → `done`), if any is close enough."""
    found = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None

"""Mentions in what people write, turned into references to people before the text is stored.

Adapters hand the core a platform's mention as `<@platform-id|name>` (Slack's own form; Teams'
`<at>` mentions are translated to it). In titles, notes and reasons each becomes the neutral
token of bot/render/inline.py, naming the person by our id, so the text means the same on every
platform and in the export. A mention nobody can be found for is kept as the words `@name`, and
a special mention (`<!here>`, `<!channel>`) as the words it showed: stored text never notifies
a whole channel. The bot's own channel token (`<#channel:C0BOARD>`) typed by hand becomes the
words `#C0BOARD`: only the bot names a channel that way.
"""

from __future__ import annotations

import re
from typing import TypeVar

from bot.errors import CommandError
from bot.grammar.commands import Command, UserRef
from bot.render.inline import person_token
from bot.services.request import Request

C = TypeVar("C", bound=Command)

#: `<@U123>`, `<@U123|amira>`, `<@29:1abc|Amira Khan>`.
_PLATFORM_MENTION = re.compile(r"<@([^<>|\s]+)(?:\|([^<>]*))?>")
#: `<!here>`, `<!subteam^S1|@leads>`, `<!date^1700000000^{date}|1 Dec>`.
_SPECIAL_MENTION = re.compile(r"<!([^<>|\s]+)(?:\|([^<>]*))?>")
#: The bot's channel token, `<#channel:C0BOARD>` (with or without a name).
_CHANNEL_TOKEN = re.compile(r"<#channel:([^<>|\s]*)(?:\|([^<>]*))?>")
#: The fields of commands that hold text people wrote (and the history keeps).
FREE_TEXT = ("title", "note", "reason")


def neutral_command(request: Request, command: C) -> C:
    """`command` with the mentions in its free text resolved to people."""
    updates = {
        name: neutral_text(request, value)
        for name in FREE_TEXT
        if isinstance(value := getattr(command, name, None), str)
        and ("<@" in value or "<!" in value or "<#" in value)
    }
    return command.model_copy(update=updates) if updates else command


def neutral_text(request: Request, text: str) -> str:
    """`text` with each platform mention replaced by a reference to the person it names."""

    def replace(match: re.Match[str]) -> str:
        platform_id, name = match.group(1), (match.group(2) or "").strip()
        words = "@" + (name.lstrip("@") or platform_id)
        if platform_id.startswith("person:"):
            # Our own token typed by hand: kept as words, so nobody can forge a reference.
            return words
        try:
            person = request.person(UserRef(platform_id=platform_id, name=name or None))
        except CommandError:
            return words
        return person_token(person.id, person.display_name)

    # Until none is left: a token nested in another would otherwise leave one behind.
    while (unchannelled := _CHANNEL_TOKEN.sub(_channel_words, text)) != text:
        text = unchannelled
    text = _SPECIAL_MENTION.sub(lambda m: m.group(2) or "@" + m.group(1).split("^", 1)[0], text)
    return _PLATFORM_MENTION.sub(replace, text)


def _channel_words(match: re.Match[str]) -> str:
    return "#" + (match.group(2) or match.group(1)).strip().lstrip("#")

"""The neutral inline markup of stored user text (titles, notes, reasons), and reading it back.

Text is stored the same way whatever platform it was typed on:

- a mention is `<@person:42|Amira Khan>`: our Person id, and the name they had when it was
  written (shown only when the person is not at hand). Nobody types it by accident, and typed
  text cannot forge it: every `<@…>` in incoming text is resolved by the core or turned into
  plain words before it is stored (bot/people/mentions.py);
- a link is its URL, or `label (URL)`; a channel someone typed is `#name`; `@here` is just
  those words;
- a channel the bot itself names (the board channel in its own words) is `<#channel:C0BOARD>`,
  drawn as a real channel link where the platform has one. Like a mention it cannot be typed:
  bot/people/mentions.py turns one in incoming text into the words `#C0BOARD`.

Renderers split the text into segments (words, mentions, links, channels) and draw each their
platform's way. Rows written before this form held Slack's own markup (`<@U1|amira>`, `<https://…|label>`);
they are read as the readable words they stood for, never as mentions, and never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionView,
    HistoryView,
    Message,
    Paragraph,
    PersonView,
)

#: A mention as stored: `<@person:42|Amira Khan>` (the name part is optional when read).
_MENTION = r"<@person:(?P<person>\d{1,12})(?:\|(?P<name>[^<>|\n]*))?>"
# Slack's markup in rows stored before: user, channel and special mentions, links, emails.
_LEGACY = r"<(?P<sigil>[@#!])(?P<target>[^<>|\s]+)(?:\|(?P<label>[^<>\n]*))?>"
_LEGACY_LINK = r"<(?P<url>(?:https?|mailto):[^<>|\s]+)(?:\|(?P<link_label>[^<>\n]*))?>"
# A bare web address; parentheses end it, so `label (https://…)` reads back as stored.
_URL = r"(?P<bare>https?://[^\s<>()|\"']*[^\s<>()|\"'.,;:!?])"
#: A channel the bot names: `<#channel:C0BOARD>`, or `<#channel:19:…|Board>` with its name.
_CHANNEL = r"<#channel:(?P<channel>[^<>|\s]{1,500})(?:\|(?P<channel_name>[^<>|\n]*))?>"
_CHANNELS = re.compile(_CHANNEL)
# The channel token before Slack's legacy markup, which would read it as the words it showed.
_SCAN = re.compile("|".join((_MENTION, _CHANNEL, _LEGACY, _LEGACY_LINK, _URL)))
_MENTIONS = re.compile(_MENTION)
_NAME_UNSAFE = re.compile(r"[<>|\s]+")


@dataclass(frozen=True)
class Words:
    """Text shown as it is (each renderer escapes it its own way)."""

    text: str


@dataclass(frozen=True)
class Mention:
    """A person the text names: our Person id, and the name written with the token."""

    person_id: int
    name: str


@dataclass(frozen=True)
class Link:
    """A web address."""

    url: str


@dataclass(frozen=True)
class Channel:
    """A channel the bot names: its platform id, and its name when the renderer was told it."""

    channel_id: str
    name: str | None = None

    @property
    def text(self) -> str:
        """`#name`, else `#id`: how it reads where no real channel link can be drawn."""
        return "#" + (self.name or self.channel_id).lstrip("#")


Segment = Words | Mention | Link | Channel


def person_token(person_id: int, name: str) -> str:
    """How a mention of a person is stored."""
    return f"<@person:{person_id}|{_NAME_UNSAFE.sub(' ', name).strip()}>"


def channel_token(channel_id: str) -> str:
    """How the bot names a channel in its own words (a link to it where the platform can)."""
    return f"<#channel:{_NAME_UNSAFE.sub('', channel_id)}>"


def channel_ids(message: Message) -> set[str]:
    """The channels the paragraphs of `message` name."""
    return {
        m.group("channel")
        for block in message.blocks
        if isinstance(block, Paragraph)
        for m in _CHANNELS.finditer(block.text)
    }


def with_channel_names(message: Message, names: Mapping[str, str]) -> Message:
    """`message` with the names of the channels it names written into their tokens, for a
    platform whose cards cannot link a channel by its id (Teams)."""

    def named(match: re.Match[str]) -> str:
        name = names.get(match.group("channel"))
        if not name:
            return match.group(0)
        return f"<#channel:{match.group('channel')}|{_NAME_UNSAFE.sub(' ', name).strip()}>"

    blocks = [
        block.model_copy(update={"text": _CHANNELS.sub(named, block.text)})
        if isinstance(block, Paragraph)
        else block
        for block in message.blocks
    ]
    return message.model_copy(update={"blocks": blocks})


def link_text(url: str, label: str | None) -> str:
    """A link as stored: the URL alone when the label only repeats it, else `label (URL)`."""
    label = (label or "").strip()
    bare = url.split(":", 1)[1].removeprefix("//") if ":" in url else url
    if url.startswith("mailto:"):
        return label or bare
    if not label or label in (url, bare, bare.rstrip("/")):
        return url
    return f"{label} ({url})"


def person_ids(texts: Iterable[str | None]) -> set[int]:
    """The Person ids mentioned in `texts`."""
    return {int(m.group("person")) for text in texts if text for m in _MENTIONS.finditer(text)}


def segments(text: str) -> list[Segment]:
    """`text` as words, mentions and links; older Slack markup becomes the words it showed."""
    out: list[Segment] = []
    at = 0
    for match in _SCAN.finditer(text):
        if match.start() > at:
            out.append(Words(text[at : match.start()]))
        out.extend(_segment(match))
        at = match.end()
    if at < len(text):
        out.append(Words(text[at:]))
    return out


def _segment(match: re.Match[str]) -> list[Segment]:
    if match.group("person"):
        return [Mention(int(match.group("person")), (match.group("name") or "").strip())]
    if match.group("channel"):
        return [
            Channel(match.group("channel"), (match.group("channel_name") or "").strip() or None)
        ]
    if match.group("bare"):
        return [Link(match.group("bare"))]
    if match.group("url"):
        url, label = match.group("url"), match.group("link_label")
        if url.startswith("mailto:"):
            return [Words(link_text(url, label))]
        stored = link_text(url, label)
        if stored == url:
            return [Link(url)]
        return [Words(stored[: -len(url) - 1]), Link(url), Words(")")]
    sigil, target, label = match.group("sigil"), match.group("target"), match.group("label")
    if sigil == "!":
        # `<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>`: the words Slack showed.
        return [Words(label if label else "@" + target.split("^", 1)[0])]
    return [Words(sigil + (label.lstrip(sigil) if label else target))]


def plain(text: str, people: Mapping[int, PersonView] | None = None) -> str:
    """Readable text: a mention as `@Name` (the person's current name when known)."""
    return "".join(
        "@" + mention_name(s, people) if isinstance(s, Mention) else _text(s)
        for s in segments(text)
    )


def _text(segment: Words | Link | Channel) -> str:
    return segment.url if isinstance(segment, Link) else segment.text


def mention_name(mention: Mention, people: Mapping[int, PersonView] | None) -> str:
    """The name to show for a mention: the person's own now, else the one it was written with."""
    person = people.get(mention.person_id) if people else None
    return person.name if person else (mention.name or "someone")


def people_map(*groups: Sequence[PersonView]) -> dict[int, PersonView]:
    """People by id, from the `mentions` of views."""
    return {person.id: person for group in groups for person in group}


def people_in(message: Message) -> dict[int, PersonView]:
    """Everyone the actions and history entries shown in `message` mention."""
    groups: list[Sequence[PersonView]] = []
    for block in message.blocks:
        if isinstance(block, ActionList):
            groups.extend(item.mentions for item in block.items)
        elif isinstance(block, ActionDetail):
            groups.append(block.action.mentions)
            groups.extend(entry.mentions for entry in block.history)
    return people_map(*groups)


def view_people(view: ActionView | HistoryView) -> dict[int, PersonView]:
    """The people one view's text mentions."""
    return people_map(view.mentions)

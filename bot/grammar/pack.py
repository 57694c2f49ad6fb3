"""`/board pack [post] [meeting]`: the board pack, now (bot/pack/)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.errors import CommandError
from bot.grammar.commands import Command
from bot.grammar.usage import board_usage


class BuildPack(Command):
    """`/board pack [meeting]`: build the pack and answer privately with its link."""

    verb: Literal["board_pack"] = "board_pack"
    #: None: the next meeting (else the last one).
    meeting_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class PostPack(Command):
    """`/board pack post [meeting]`: build it and post it to the board channel at once."""

    verb: Literal["board_pack_post"] = "board_pack_post"
    meeting_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


def parse_pack(rest: str) -> BuildPack | PostPack:
    """Parse the text after `/board pack`."""
    words = rest.lower().split()
    post = bool(words) and words[0] == "post"
    if post:
        words = words[1:]
    meeting_id: int | None = None
    if words:
        number = words[0].removeprefix("#")
        if len(words) > 1 or not number.isdigit() or not 0 < int(number) < 2**31:
            usage = board_usage("pack post" if post else "pack")
            raise CommandError(f"`{rest[:40]}` is not a meeting number.", usage)
        meeting_id = int(number)
    return PostPack(meeting_id=meeting_id) if post else BuildPack(meeting_id=meeting_id)

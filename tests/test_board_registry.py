"""The per-process board registry: look-ups by channel and name, fresh after a change made
here, and a re-read that never holds up the commands asking meanwhile."""

from __future__ import annotations

import threading

from bot.boards.registry import TTL, Boards
from bot.boards.view import BoardView
from bot.services.context import Core
from storage.db import transaction
from storage.models import Board


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def add(core: Core, name: str, channel: str) -> None:
    with transaction(core.sessions) as session:
        session.add(Board(name=name, slack_channel=channel, created_at=core.now()))


def test_boards_are_found_by_channel_and_by_name_and_seen_at_once_after_a_change(
    core: Core,
) -> None:
    boards = Boards(core.sessions, core.settings, monotonic=Clock())
    assert boards.by_channel("CSEND") is None
    add(core, "SEND  Board", "CSEND")
    assert boards.by_channel("CSEND") is None  # what this process read stands for TTL
    boards.invalidate()
    found = boards.by_channel("CSEND")
    assert found is not None and found.name == "SEND  Board"
    assert boards.by_name("send board") == found
    assert boards.default().is_default


def test_a_re_read_never_holds_up_a_question_and_an_invalidation_is_never_lost(
    core: Core,
) -> None:
    clock = Clock()
    reading, release = threading.Event(), threading.Event()

    class Slow(Boards):
        def _read(self) -> dict[int, BoardView]:
            read = super()._read()
            if slow.is_set():
                reading.set()
                release.wait(10)
            return read

    slow = threading.Event()
    boards = Slow(core.sessions, core.settings, monotonic=clock)
    assert boards.by_channel("CSEND") is None
    clock.now += TTL + 1
    slow.set()
    worker = threading.Thread(target=boards.all)
    worker.start()
    assert reading.wait(10)
    # While one thread reads the boards again, another is answered from what was read.
    assert boards.by_channel("CSEND") is None
    # A board is added and this process says so while the slow read is under way: that read
    # began before it, so it is not kept.
    slow.clear()
    add(core, "SEND Board", "CSEND")
    boards.invalidate()
    release.set()
    worker.join(10)
    assert boards.by_channel("CSEND") is not None

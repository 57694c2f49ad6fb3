"""Lists in the core and the console: pages of a list, the typed command for each page, and
every "and N more" of the digest naming a chat command that shows the rest."""

from __future__ import annotations

import datetime as dt
import re

from bot.domain import Status
from bot.grammar.commands import StatusOverdue
from bot.grammar.paging import typed
from bot.render.model import ActionList, Pager
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import execute, run_command
from tests.scheduler_fakes import action, person
from tests.test_digest import BOARD, MONDAY, board, build, lists  # noqa: F401

board_core = board

# A row: its state and lateness, the plan's reference if any, then `#12 Title`.
_ROW = re.compile(r"^  [^#\n]* #(\d+) ", re.MULTILINE)


def shown(text: str) -> list[int]:
    return [int(n) for n in _ROW.findall(text)]


def test_the_console_pages_a_long_list_and_names_the_next_page(core: Core, chair: Caller) -> None:
    person(core, "amira")
    numbers = [
        action(core, f"Item {i}", owner="amira", due=MONDAY - dt.timedelta(days=50 - i))
        for i in range(45)
    ]
    first = render(run_command(core, chair, "/status", "overdue").message, today=MONDAY)
    assert "page 1 of 3 — type /status overdue page 2" in first
    assert shown(first) == numbers[:20]
    second = render(run_command(core, chair, "/status", "overdue page 2").message, today=MONDAY)
    last = render(run_command(core, chair, "/status", "overdue page 3").message, today=MONDAY)
    assert shown(second) == numbers[20:40] and shown(last) == numbers[40:]
    assert "page 3 of 3 — type /status overdue page 2 for the one before" in last
    # A page past the end (the list shrank since) shows the last page.
    assert shown(render(execute(core, chair, StatusOverdue(page=9)).message)) == numbers[40:]


def test_a_pager_holds_the_typed_command_of_each_page(core: Core, chair: Caller) -> None:
    person(core, "amira")
    for i in range(25):
        action(core, f"Item {i}", owner="amira", due=MONDAY - dt.timedelta(days=1))
    message = execute(core, chair, StatusOverdue()).message
    [pager] = [b for b in message.blocks if isinstance(b, Pager)]
    assert (pager.page, pager.pages, pager.total) == (1, 2, 25)
    assert pager.at(2) == StatusOverdue(page=2)
    assert typed(pager.at(2)) == "/status overdue page 2"
    [listed] = [b for b in message.blocks if isinstance(b, ActionList)]
    assert listed.source == StatusOverdue() and listed.more == 0


def test_every_and_n_more_of_the_digest_names_a_command_that_lists_them(
    board_core: Core, chair: Caller
) -> None:
    core = board_core
    person(core, "amira")
    for i in range(12):
        action(core, f"Late {i}", owner="amira", due=MONDAY - dt.timedelta(days=3 + i))
        action(core, f"Stuck {i}", owner="amira", due=None, status=Status.BLOCKED)
    message = build(core)
    for title, block in lists(message).items():
        if not block.more:
            continue
        assert block.more_hint is not None and "actionbot" not in block.more_hint, title
        command = block.more_hint.split(" lists")[0]
        name, _, rest = command.partition(" ")
        listed = run_command(core, chair, name, rest).message
        assert listed.tone != "error", (title, command)
        [pager] = [b for b in listed.blocks if isinstance(b, Pager)] or [None]
        total = pager.total if pager else len(listed.blocks[0].items)  # type: ignore[union-attr]
        assert total == block.more + len(block.items), title

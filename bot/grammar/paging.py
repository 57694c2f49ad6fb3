"""Pages of lists: `page N` after a list command, and a list command written back as typed.

Every list a person can ask for shows PAGE_SIZE actions at a time; the console (and every "and
N more") names the command that shows the next page, so nothing needs a terminal command.
"""

from __future__ import annotations

import re

from bot.grammar import commands as c

#: Actions on one page of a list. Twenty rows with buttons (two blocks each) leave room in a
#: Slack message (50 blocks) for the title, a summary line and the Previous/Next buttons.
PAGE_SIZE = 20
#: A list with the owner's buttons on every row (the heaviest rows: in Teams three buttons
#: and two note fields each) shows fewer, so a page of 300-character titles stays well within
#: a Teams card (about 28 KB).
BUTTONS_PAGE_SIZE = 10

_PAGE = re.compile(r"^(?P<rest>.*?)\s*\bpage\s*(?P<page>\d{1,5})$", re.IGNORECASE)


def split_page(text: str) -> tuple[str, int | None]:
    """`overdue page 2` → (`overdue`, 2); text without a trailing page number is left as is."""
    match = _PAGE.match(text.strip())
    if match is None or int(match.group("page")) < 1:
        return text, None
    return match.group("rest"), int(match.group("page"))


def pages(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages a list of `total` actions has (an empty list still has one)."""
    return max(1, -(-total // size))


def offset(page: int, size: int = PAGE_SIZE) -> int:
    """Index of the first action of `page`."""
    return (page - 1) * size


def typed(command: c.Paged, page: int | None = None) -> str:
    """The command as a person would type it to see `page` (default: the command's own)."""
    words = _words(command)
    shown = command.page if page is None else page
    return f"{words} page {shown}" if shown > 1 else words


def _user(ref: c.UserRef | None) -> str:
    if ref is None or ref.me:
        return "mine"
    if ref.platform_id:
        return f"<@{ref.platform_id}>"
    return ref.describe()


def _words(command: c.Paged) -> str:
    if isinstance(command, c.ListActions):
        scope = {"all": "", "mine": " mine"}.get(command.scope, f" {_user(command.user)}")
        kind = getattr(command, "filter", None)
        return f"/action list{scope}" + (f" {kind}" if isinstance(kind, str) and kind else "")
    if isinstance(command, c.StatusOverdue):
        user = command.user
        return "/status overdue" + (f" {_user(user)}" if user is not None else "")
    if isinstance(command, c.StatusPerson):
        return f"/status {_user(command.user)}"
    if isinstance(command, c.StatusDue):
        span = getattr(command, "span", None)
        if isinstance(span, str) and span:
            return f"/status due {span}"
        return f"/status due {command.days}"
    simple: dict[str, str] = {
        "unassigned": "/status unassigned",
        "nodate": "/status nodate",
        "blocked_list": "/status blocked",
        "done_list": "/action list done",
    }
    if command.verb in simple:
        return simple[command.verb]
    rag = getattr(command, "rag", None)
    if rag is not None:
        return f"/status {getattr(rag, 'value', rag)}"
    return f"/status {command.verb}"

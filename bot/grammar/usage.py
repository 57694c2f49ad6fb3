"""Usage lines: one per subcommand, shown after every error and by help."""

from __future__ import annotations

ACTION_USAGE: dict[str, str] = {
    "add": "/action add <title> [@owner] [due <date>]",
    "owners": "/action add <title> for @owner, @supporting … by <date>",
    "assign": "/action assign <id> [to] @user|me",
    "done": "/action done <id> [note]",
    "close": "/action close <id> [note]  ·  /action <id> done  ·  /action mark <id> done",
    "update": "/action update <id> <note>",
    "blocked": "/action blocked <id> <reason>",
    "reopen": "/action reopen <id>",
    "cancel": "/action cancel <id> <reason>",
    "due": "/action due <id> <date> [reason]",
    "rebaseline": "/action rebaseline <id> <date> <reason>  (ask the chairs for a new deadline)",
    "approve": "/action approve <id>  (a request for a new date)",
    "decline": "/action decline <id> <reason>",
    "nudge": "/action nudge <id>",
    "rag": "/action rag <id> red|amber|green",
    "accept": "/action accept <id> <reason>  (a chair keeps the owner's rating)",
    "evidence": "/action evidence <id> <note or link>  (a file: the Add evidence button)",
    "signoff": "/action signoff <id> [note]  (chair or secretary: delivered → complete)",
    "return": "/action return <id> <reason>  (chair or secretary: delivered → open again)",
    "show": "/action show <id>",
    "undo": "/action undo <n>[-<m>]  (the numbers the answer to a reply to a reminder gives)",
    "list": "/action list [mine|@user|all|overdue|blocked|done|due]",
    "help": "/action help",
}

STATUS_USAGE: dict[str, str] = {
    "": "/status",
    "overdue": "/status overdue [@user|mine]",
    "blocked": "/status blocked",
    "signoff": "/status signoff  (delivered, waiting for sign-off)",
    "rag": "/status red|amber|green",
    "mine": "/status mine  ·  /status @user",
    "due": "/status due [N days]",
    "window": "/status due this week|next week|N weeks|this month",
    "nodate": "/status nodate",
    "unassigned": "/status unassigned",
    "digest": "/status digest [post]",
    "rules": "/status rules",
    "help": "/status help",
}

ACTION_SUMMARY = (
    "/action add|assign|done|update|blocked|reopen|cancel|due|nudge|rag|evidence|signoff"
    "|return|show|list|help …"
)
STATUS_SUMMARY = (
    "/status [overdue|blocked|red|mine|@user|due [N days|this week]|nodate|unassigned|digest|rules"
    "|help]"
)

BOARD_USAGE: dict[str, str] = {
    "role": "/board role @user secretary|member|observer|none",
    "roles": "/board roles",
    "create": "/board create <name>  (a new board; you become its chair)",
    "link": "/board link [board]  (this channel becomes the board's channel)",
    "list": "/board list  (the boards you can see, their channels and your role)",
    "use": "/board use <name>  (the board your direct messages are about)",
    "settings": "/board settings [signoff on|off | <setting> <value>|default]",
    "meeting add": "/board meeting add <date> <time> [title]  (15 Jan 2027 14:00 Board)",
    "meetings": "/board meetings  (the meetings to come, their update rounds and cut-offs)",
    "meeting cancel": "/board meeting cancel <id>",
    "pack": "/board pack [meeting]  (the board pack now: its link, to you only)",
    "pack post": "/board pack post [meeting]  (build it and post it to the board channel)",
    "help": "/board help",
}

BOARD_SUMMARY = (
    "/board create|link|list|use …  ·  /board role @user <role>  ·  /board roles  ·  "
    "/board settings  ·  /board meetings  ·  /board meeting add|cancel …  ·  /board pack [post]"
    "  ·  /board help"
)

DATE_FORMS = "Dates: 2026-12-01, 1/12/2026, 1 Dec, today, tomorrow, friday, next week, in 10 days."


#: Other words for a verb, whose usage line is the verb's.
_ALIASES = {
    "closed": "close", "complete": "close", "completed": "close", "finished": "close",
    "new": "add", "note": "update", "block": "blocked", "mark": "close",
    "sign-off": "signoff",
}  # fmt: skip


def action_usage(verb: str | None) -> str:
    """The usage line of an /action subcommand, or the overview for an unknown one."""
    verb = _ALIASES.get(verb or "", verb)
    return ACTION_USAGE.get(verb or "", ACTION_SUMMARY)


def status_usage(verb: str | None) -> str:
    """The usage line of a /status form, or the overview for an unknown one."""
    return STATUS_USAGE.get(verb or "", STATUS_SUMMARY)


def board_usage(verb: str | None) -> str:
    """The usage line of a /board subcommand, or the overview for an unknown one."""
    if verb == "meeting":
        return "\n".join(BOARD_USAGE[v] for v in ("meeting add", "meetings", "meeting cancel"))
    return BOARD_USAGE.get(verb or "", BOARD_SUMMARY)


def help_lines() -> list[str]:
    """Every command, one line each, as /action help shows them."""
    return [*ACTION_USAGE.values(), *STATUS_USAGE.values(), *BOARD_USAGE.values(), DATE_FORMS]

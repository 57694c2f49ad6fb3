"""Usage lines: one per subcommand, shown after every error and by help."""

from __future__ import annotations

ACTION_USAGE: dict[str, str] = {
    "add": "/action add <title> [@owner] [due <date>]",
    "assign": "/action assign <id> @user",
    "done": "/action done <id> [note]",
    "update": "/action update <id> <note>",
    "blocked": "/action blocked <id> <reason>",
    "reopen": "/action reopen <id>",
    "due": "/action due <id> <date> [reason]",
    "rag": "/action rag <id> red|amber|green",
    "show": "/action show <id>",
    "list": "/action list [mine|@user|all]",
    "help": "/action help",
}

STATUS_USAGE: dict[str, str] = {
    "": "/status",
    "overdue": "/status overdue",
    "mine": "/status mine  ·  /status @user",
    "due": "/status due [N days]",
    "nodate": "/status nodate",
    "unassigned": "/status unassigned",
    "digest": "/status digest [post]",
}

ACTION_SUMMARY = "/action add|assign|done|update|blocked|reopen|due|rag|show|list|help …"
STATUS_SUMMARY = "/status [overdue|mine|@user|due [N days]|nodate|unassigned|digest [post]]"

DATE_FORMS = "Dates: 2026-12-01, 1/12/2026, 1 Dec, today, tomorrow, friday, next week, in 10 days."


def action_usage(verb: str | None) -> str:
    """The usage line of an /action subcommand, or the overview for an unknown one."""
    return ACTION_USAGE.get(verb or "", ACTION_SUMMARY)


def status_usage(verb: str | None) -> str:
    """The usage line of a /status form, or the overview for an unknown one."""
    return STATUS_USAGE.get(verb or "", STATUS_SUMMARY)


def help_lines() -> list[str]:
    """Every command, one line each, as /action help shows them."""
    return [*ACTION_USAGE.values(), *STATUS_USAGE.values(), DATE_FORMS]

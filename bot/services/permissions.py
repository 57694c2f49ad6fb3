"""Who may do what: one table of permissions by role, read by every command.

A person's standing is their role on the board (chair, secretary, member, observer, none);
`CHAIR_USER_IDS` makes chairs whatever the stored role says. Someone from outside the
workspace (a Slack Connect user of a partner organisation, a Teams guest) without a role
stands as an outsider: they may use the bot only on the actions they own or support.
Owners and supporting owners may update their actions whatever their role, except observers,
who see the plan and change nothing.

The README's "Who may do what" table is `readme_table()` of this one (a test compares them),
so the documentation cannot drift from what the bot does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.domain import Role
from bot.errors import CommandError
from bot.grammar.commands import Command
from bot.grammar.usage import ACTION_USAGE, board_usage, status_usage
from bot.people.resolve import OUTSIDER_REFUSAL
from bot.services.request import Request
from storage.models import Action


class Standing(enum.StrEnum):
    """A column of the table: a role, or an outsider without one."""

    CHAIR = Role.CHAIR.value
    SECRETARY = Role.SECRETARY.value
    MEMBER = Role.MEMBER.value
    OBSERVER = Role.OBSERVER.value
    NONE = Role.NONE.value
    #: From outside the workspace, with no role.
    OUTSIDER = "outsider"


class Also(enum.StrEnum):
    """Who else a permission reaches, beside the roles it names."""

    NOBODY = ""
    #: The owner and supporting owners of the action (not as observers).
    OWNERS = "owners"
    #: Whoever replied to the reminder (undo of that reply).
    REPLIER = "who replied"
    #: Anyone, in a workspace that has no board yet (its first board).
    FIRST_BOARD = "anyone, while the workspace has no board"


class Permission(enum.StrEnum):
    """One line of the table. Sign-off, re-baselining and meetings become lines here."""

    HELP = "help"
    OWN_VIEWS = "own_views"
    SHOW = "show"
    VIEWS = "views"
    ADD = "add"
    ASSIGN = "assign"
    MOVE_DUE = "due"
    REQUEST_DATE = "rebaseline"
    DECIDE_DATE = "decide_date"
    CANCEL = "cancel"
    SIGN_OFF = "sign_off"
    EVIDENCE = "evidence"
    UPDATE = "update"
    UNDO = "undo"
    NUDGE = "nudge"
    ACCEPT_RAG = "accept_rag"
    DIGEST_PREVIEW = "digest_preview"
    DIGEST_POST = "digest_post"
    LIST_ROLES = "list_roles"
    SET_ROLE = "set_role"
    SETTINGS = "settings"
    MEETINGS = "meetings"
    MANAGE_MEETINGS = "manage_meetings"
    BOARD_PACK = "board_pack"
    POST_PACK = "post_pack"
    LIST_BOARDS = "list_boards"
    CREATE_BOARD = "create_board"
    LINK_BOARD = "link_board"


@dataclass(frozen=True)
class Rule:
    """Which standings may use a permission, and the words its refusal and the README use."""

    commands: str
    doing: str
    who: frozenset[Standing]
    also: Also = Also.NOBODY


_S = Standing
_RUN = frozenset({_S.CHAIR, _S.SECRETARY})
_BOARD = frozenset({_S.CHAIR, _S.SECRETARY, _S.MEMBER, _S.OBSERVER, _S.NONE})
_ALL = _BOARD | {_S.OUTSIDER}

#: The table. Order is the README's.
RULES: dict[Permission, Rule] = {
    Permission.HELP: Rule("`/action help` · `/status help` · `/board help`", "read help", _ALL),
    Permission.OWN_VIEWS: Rule(
        "`/status mine` · `/action list mine`", "list your own actions", _ALL
    ),
    Permission.SHOW: Rule("`/action show <id>`", "see that action", _BOARD, Also.OWNERS),
    Permission.VIEWS: Rule(
        "`/status …` · `/action list …` (the plan, anyone's actions)", "see the plan", _BOARD
    ),
    Permission.ADD: Rule("`/action add …`", "add actions", _RUN),
    Permission.ASSIGN: Rule("`/action assign <id> @user`", "assign actions", _RUN),
    Permission.MOVE_DUE: Rule("`/action due <id> <date>`", "move deadlines", _RUN),
    Permission.REQUEST_DATE: Rule(
        "`/action rebaseline <id> <date> <reason>` (and Request new date; a chair or the "
        "secretary moves the date at once)",
        "ask for a new date",
        _RUN,
        Also.OWNERS,
    ),
    Permission.DECIDE_DATE: Rule(
        "`/action approve <id>` · `/action decline <id> <reason>` (and their buttons)",
        "decide on a new date",
        _RUN,
    ),
    Permission.CANCEL: Rule("`/action cancel <id> <reason>`", "cancel actions", _RUN),
    Permission.SIGN_OFF: Rule(
        "`/action signoff <id> [note]` · `/action return <id> <reason>` (and their buttons)",
        "sign actions off or return them",
        _RUN,
    ),
    Permission.EVIDENCE: Rule(
        "`/action evidence <id> <note or link>`", "add evidence to it", _RUN, Also.OWNERS
    ),
    Permission.UPDATE: Rule(
        "`/action done` · `update` · `blocked` · `reopen` · `rag` (and their buttons)",
        "update it",
        _RUN,
        Also.OWNERS,
    ),
    Permission.UNDO: Rule("`/action undo <n>[-<m>]`", "undo that reply", _RUN, Also.REPLIER),
    Permission.NUDGE: Rule("`/action nudge <id>`", "nudge owners", _RUN),
    Permission.ACCEPT_RAG: Rule(
        "`/action accept <id> <reason>`", "accept a declared rating", frozenset({_S.CHAIR})
    ),
    Permission.DIGEST_PREVIEW: Rule("`/status digest`", "preview the digest", _RUN),
    Permission.DIGEST_POST: Rule("`/status digest post`", "post the digest", _RUN),
    Permission.LIST_ROLES: Rule(
        "`/board roles` · `/board settings`", "see the board's roles and settings", _BOARD
    ),
    Permission.SET_ROLE: Rule(
        "`/board role @user <role>` · `actionbot people role`",
        "change roles",
        frozenset({_S.CHAIR}),
    ),
    Permission.SETTINGS: Rule(
        "`/board settings signoff on|off` · `/board settings <setting> <value>|default` · "
        "`actionbot board settings`",
        "change the board's settings",
        frozenset({_S.CHAIR}),
    ),
    Permission.MEETINGS: Rule("`/board meetings`", "see the board's meetings", _BOARD),
    Permission.MANAGE_MEETINGS: Rule(
        "`/board meeting add <date> <time> [title]` · `/board meeting cancel <id>` · "
        "`actionbot board meeting`",
        "manage meetings",
        _RUN,
    ),
    # Members see the whole plan and sit at the meeting: the pack is a read of it, in one
    # place. Posting it speaks for the board, so it stays with those who run it.
    Permission.BOARD_PACK: Rule(
        "`/board pack [meeting]` · `actionbot board pack`",
        "build the board pack",
        frozenset({_S.CHAIR, _S.SECRETARY, _S.MEMBER}),
    ),
    Permission.POST_PACK: Rule(
        "`/board pack post [meeting]`", "post the board pack to the board channel", _RUN
    ),
    Permission.LIST_BOARDS: Rule(
        "`/board list`", "see the workspace's boards", _BOARD
    ),
    # A chair of any board of the workspace starts another; the command line (which
    # administers the deployment) any board, in any workspace.
    Permission.CREATE_BOARD: Rule(
        "`/board create <name>` (a chair of any board) · `actionbot board create`",
        "create boards",
        frozenset({_S.CHAIR}),
        Also.FIRST_BOARD,
    ),
    Permission.LINK_BOARD: Rule(
        "`/board link [board]` (a chair of that board)",
        "link a channel to the board",
        frozenset({_S.CHAIR}),
    ),
}

#: The permission each command needs, by the command's `verb` (bot/grammar/commands.py).
COMMANDS: dict[str, Permission] = {
    "help": Permission.HELP,
    "add": Permission.ADD,
    "assign": Permission.ASSIGN,
    "done": Permission.UPDATE,
    "update": Permission.UPDATE,
    "blocked": Permission.UPDATE,
    "reopen": Permission.UPDATE,
    "rag": Permission.UPDATE,
    "round_update": Permission.UPDATE,
    "cancel": Permission.CANCEL,
    "due": Permission.MOVE_DUE,
    "rebaseline": Permission.REQUEST_DATE,
    "approve": Permission.DECIDE_DATE,
    "decline": Permission.DECIDE_DATE,
    "nudge": Permission.NUDGE,
    "accept": Permission.ACCEPT_RAG,
    "rules": Permission.VIEWS,
    "undo": Permission.UNDO,
    "show": Permission.SHOW,
    "list": Permission.VIEWS,
    "status": Permission.VIEWS,
    "overdue": Permission.VIEWS,
    "person": Permission.VIEWS,
    "due_soon": Permission.VIEWS,
    "blocked_list": Permission.VIEWS,
    "rag_list": Permission.VIEWS,
    "done_list": Permission.VIEWS,
    "unassigned": Permission.VIEWS,
    "nodate": Permission.VIEWS,
    "digest": Permission.DIGEST_PREVIEW,
    "signoff": Permission.SIGN_OFF,
    "return": Permission.SIGN_OFF,
    "evidence": Permission.EVIDENCE,
    "signoff_list": Permission.VIEWS,
    "board_roles": Permission.LIST_ROLES,
    "board_settings": Permission.LIST_ROLES,
    "board_role": Permission.SET_ROLE,
    "board_meetings": Permission.MEETINGS,
    "board_meeting_add": Permission.MANAGE_MEETINGS,
    "board_meeting_cancel": Permission.MANAGE_MEETINGS,
    "board_pack": Permission.BOARD_PACK,
    "board_pack_post": Permission.POST_PACK,
    "board_list": Permission.LIST_BOARDS,
    "board_create": Permission.CREATE_BOARD,
    "board_link": Permission.LINK_BOARD,
}

#: Lines about a board other than the one the command runs on (any board of the workspace,
#: the board it names): their use cases check them, on that board (bot/services/boards.py).
CHECKED_ON_THEIR_BOARD = frozenset({Permission.CREATE_BOARD, Permission.LINK_BOARD})


def standing(request: Request) -> Standing:
    """The caller's column of the table."""
    if request.actor_is_chair:
        return Standing.CHAIR
    role = request.actor_role
    if role == Role.NONE and request.caller.external:
        return Standing.OUTSIDER
    return Standing(role.value)


def owns(request: Request, action: Action) -> bool:
    """Whether the caller is the owner or a supporting owner of `action`."""
    if action.owner_id == request.actor.id:
        return True
    return any(supporter.person_id == request.actor.id for supporter in action.supporters)


def allowed(
    request: Request,
    permission: Permission,
    *,
    action: Action | None = None,
    replied: bool = False,
) -> bool:
    """Whether the caller may use `permission` (on `action`, or a reply they made)."""
    rule = RULES[permission]
    mine = standing(request)
    if mine in rule.who:
        return True
    if rule.also == Also.OWNERS and action is not None and mine != Standing.OBSERVER:
        return owns(request, action)
    return rule.also == Also.REPLIER and replied and mine != Standing.OBSERVER


def may_update(request: Request, action: Action) -> bool:
    """Whether the caller may change `action` (its buttons stay for them)."""
    return allowed(request, Permission.UPDATE, action=action)


def require(
    request: Request,
    permission: Permission,
    *,
    action: Action | None = None,
    replied: bool = False,
    replier: str | None = None,
    usage: str | None = None,
    doing: str | None = None,
) -> None:
    """Refuse, with the reason, unless `allowed`; `replier` names who made the reply an undo
    would take back, `doing` words the refusal when the table's words do not fit."""
    if allowed(request, permission, action=action, replied=replied):
        return
    rule = RULES[permission]
    doing = doing or rule.doing
    mine = standing(request)
    if mine == Standing.OUTSIDER:
        raise CommandError(OUTSIDER_REFUSAL, None)
    if mine == Standing.OBSERVER:
        raise CommandError(
            f"You are an observer: you see the plan but cannot {doing}. "
            "A chair can give you another role.",
            None,
        )
    if rule.also == Also.OWNERS and action is not None:
        owner = action.owner.display_name if action.owner else "nobody yet"
        raise CommandError(
            f"Only the owner of #{action.id} ({owner}) or a chair can {doing}.",
            f"/action show {action.id}",
        )
    if rule.also == Also.REPLIER and replier is not None:
        raise CommandError(
            f"Only {replier}, who replied, or a chair can {doing}; nothing was changed.", usage
        )
    raise CommandError(f"Only {_who_words(rule.who)} can {doing}.", usage)


def require_chair(request: Request, doing: str, usage: str | None = None) -> None:
    """Refuse unless the caller runs the plan (a chair or the secretary), in the table's words
    for `doing`: for a use case whose command has no line of its own."""
    if standing(request) not in _RUN:
        require(request, Permission.ADD, usage=usage, doing=doing)


def require_owner_or_chair(request: Request, action: Action, doing: str) -> None:
    """Refuse unless the caller may update `action` (Permission.UPDATE), saying `doing`."""
    require(request, Permission.UPDATE, action=action, doing=doing)


def permission_of(command: Command) -> Permission | None:
    """The table's line for `command` (None for a command without one, which the completeness
    test refuses); a list of the caller's own actions is their own view."""
    verb = str(getattr(command, "verb", ""))
    user = getattr(command, "user", None)
    me = bool(getattr(user, "me", False))
    if (verb == "person" and (user is None or me)) or (verb == "overdue" and me):
        return Permission.OWN_VIEWS
    if verb == "list" and getattr(command, "scope", None) == "mine":
        return Permission.OWN_VIEWS
    if verb == "digest" and getattr(command, "post", False):
        return Permission.DIGEST_POST
    if verb == "board_settings" and bool(getattr(command, "changes", False)):
        return Permission.SETTINGS
    return COMMANDS.get(verb)


def check(request: Request, command: Command) -> None:
    """The table's check of a command, made by the dispatcher before its use case runs.

    An undo is checked by its use case, which knows who made the reply; so are the lines
    about another board (CHECKED_ON_THEIR_BOARD).
    """
    permission = permission_of(command)
    if permission is None or RULES[permission].also == Also.REPLIER:
        return
    if permission in CHECKED_ON_THEIR_BOARD:
        return
    action_id = getattr(command, "action_id", None)
    action = None
    if RULES[permission].also == Also.OWNERS and isinstance(action_id, int):
        if allowed(request, permission):
            return  # a role that needs no action to look at
        action = request.action(action_id)
    verb = str(getattr(command, "verb", ""))
    require(
        request,
        permission,
        action=action,
        usage=_usage_of(command, permission),
        doing=_DOING.get(verb),
    )


#: What a refusal says the caller cannot do, where the line's own words are too general.
_DOING = {
    "done": "mark it done",
    "update": "add updates to it",
    "blocked": "mark it blocked",
    "reopen": "reopen it",
    "rag": "set its RAG",
}


def _usage_of(command: Command, permission: Permission) -> str | None:
    verb = str(getattr(command, "verb", ""))
    if permission in (Permission.DIGEST_PREVIEW, Permission.DIGEST_POST):
        return status_usage("digest")
    if verb.startswith("board_"):
        return board_usage(verb.removeprefix("board_").replace("_", " "))
    return ACTION_USAGE.get(verb)


def _who_words(who: frozenset[Standing]) -> str:
    if who == frozenset({Standing.CHAIR}):
        return "a chair"
    if who == _RUN:
        return "a chair or the secretary"
    return " or ".join(f"a {s.value}" for s in Standing if s in who)


#: The README table's columns, in order.
_COLUMNS = (
    (Standing.CHAIR, "chair"),
    (Standing.SECRETARY, "secretary"),
    (Standing.MEMBER, "member"),
    (Standing.OBSERVER, "observer"),
    (Standing.NONE, "no role"),
    (Standing.OUTSIDER, "outside, no role"),
)


def readme_table() -> str:
    """The "Who may do what" table of the README, as Markdown."""
    head = "| command | " + " | ".join(name for _, name in _COLUMNS) + " | also |"
    rule = "|---|" + "---|" * len(_COLUMNS) + "---|"
    lines = [head, rule]
    for permission in Permission:
        entry = RULES[permission]
        marks = " | ".join("✓" if s in entry.who else "" for s, _ in _COLUMNS)
        also = entry.also.value
        commands = entry.commands.replace("|", "\\|")  # a bare | would end the cell
        lines.append(f"| {commands} | {marks} | {also} |")
    return "\n".join(lines)

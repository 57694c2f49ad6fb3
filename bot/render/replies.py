"""Every reply and notification the bot sends, built as platform-neutral messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.grammar.commands import Paged
from bot.grammar.paging import BUTTONS_PAGE_SIZE, PAGE_SIZE, pages
from bot.grammar.usage import ACTION_USAGE, BOARD_USAGE, DATE_FORMS, STATUS_USAGE, help_lines
from bot.render.model import (
    ActionDetail,
    ActionList,
    ActionView,
    Block,
    Count,
    Counts,
    CountTone,
    Heading,
    HistoryView,
    LatestNote,
    Message,
    Pager,
    Paragraph,
    Tone,
    Usage,
)

#: How many actions a list shows before "and N more" (or on one page); keeps every platform
#: within its limits.
LIST_LIMIT = PAGE_SIZE

#: What a form says when its note is left empty.
NOTE_REQUIRED = "Please write a few words."

SORRY = (
    "Sorry, something went wrong on my side and I could not finish that. "
    "Please try again in a minute; if it keeps happening, tell whoever runs the bot."
)


def error(reason: str, usage: str | None) -> Message:
    """A refused command: the one-line reason, then the usage line."""
    blocks: list[Block] = [Paragraph(text=reason)]
    if usage:
        blocks.append(Usage(lines=[usage]))
    return Message(text=reason, blocks=blocks, tone="error")


def sorry() -> Message:
    """The answer to a failure of ours: an apology to the user; the details go to the log."""
    return Message(text=SORRY, blocks=[Paragraph(text=SORRY)], tone="error")


def help_message(topic: str | None = None) -> Message:
    """Usage of every command, or of one (`/action help done`)."""
    if topic and topic in ACTION_USAGE:
        line = ACTION_USAGE[topic]
        return Message(text=line, blocks=[Usage(lines=[line, DATE_FORMS])])
    if topic == "status":
        return Message(
            text="The /status views",
            blocks=[
                Heading(text="/status: the plan at a glance"),
                Usage(lines=[*STATUS_USAGE.values()]),
            ],
        )
    if topic == "board":
        return Message(
            text="The /board commands",
            blocks=[
                Heading(text="/board: the boards, their roles, settings, meetings and packs"),
                Usage(lines=[*BOARD_USAGE.values()]),
            ],
        )
    return Message(
        text="Commands of the action follow-up bot",
        blocks=[Heading(text="Action follow-up bot: commands"), Usage(lines=help_lines())],
    )


def label(action: ActionView) -> str:
    """`#12 Title`, the way a one-line confirmation names an action."""
    return f"#{action.id} {action.title}"


def changed(summary: str, action: ActionView, *, tone: Tone = "success") -> Message:
    """Confirmation of a change, with the action as it now stands."""
    return Message(
        text=summary, blocks=[Paragraph(text=summary), ActionDetail(action=action)], tone=tone
    )


def unchanged(text: str, action: ActionView) -> Message:
    """A command that found the action already as asked: said plainly, not as an error."""
    return Message(text=text, blocks=[Paragraph(text=text), ActionDetail(action=action)])


@dataclass(frozen=True)
class People:
    """Who else `/action show` names: supporting owners, the plan's unresolved owner text, and
    those of them who are known only by email (no chat account yet)."""

    supporters: Sequence[str] = ()
    owner_text: str | None = None
    unreachable: Sequence[str] = ()
    #: The deadline's baseline, slippage and each re-baseline with its reason.
    deadline: Sequence[str] = ()


def detail(
    action: ActionView,
    history: Sequence[HistoryView],
    *,
    more: int,
    people: People | None = None,
    latest: LatestNote | None = None,
    chair: bool = False,
) -> Message:
    """`/action show`: the action, who supports it, its latest update, and its history as a
    timeline, newest first; a chair gets Nudge owner, Move deadline and Reassign."""
    blocks: list[Block] = [
        ActionDetail(
            action=action, history=list(history), history_more=more, latest=latest, chair=chair
        )
    ]
    lines = []
    if people is not None and people.owner_text:
        lines.append(f"Unassigned; the plan names the owner as “{people.owner_text}”.")
    if people is not None and people.supporters:
        lines.append("Supporting: " + ", ".join(people.supporters))
    if people is not None and people.unreachable:
        lines.append("Not reachable in chat yet: " + ", ".join(people.unreachable))
    if people is not None:
        lines += people.deadline
    if lines:
        blocks.insert(1, Paragraph(text="\n".join(lines)))
    return Message(text=label(action), blocks=blocks)


def unassigned_list(
    items: Sequence[ActionView],
    owner_texts: Sequence[str | None],
    *,
    total: int,
    command: Paged | None = None,
) -> Message:
    """`/status unassigned`: open actions without an owner, with the plan's words for one."""
    message = action_list(
        "Unassigned actions",
        items,
        total=total,
        empty="Every open action has an owner.",
        more_hint="/status unassigned lists them all",
        command=command,
    )
    named = [f"#{item.id}: “{text}”" for item, text in zip(items, owner_texts, strict=True) if text]
    if not named:
        return message
    hint = "The plan names them as " + "; ".join(named) + ". Assign one with /action assign."
    return message.model_copy(update={"blocks": [*message.blocks, Paragraph(text=hint)]})


def action_list(
    title: str,
    items: Sequence[ActionView],
    *,
    total: int,
    empty: str,
    more_hint: str | None = None,
    buttons: bool = False,
    command: Paged | None = None,
    chair: bool = False,
) -> Message:
    """A titled list of actions: one page of `command` (with a pager when there are more
    pages), or, without a command, cut at LIST_LIMIT with a count of the rest. `chair`: each
    open item carries the chair's buttons."""
    if command is not None:
        page = _page(title, items, total=total, empty=empty, buttons=buttons, command=command)
        return _with_chair(page) if chair else page
    shown = list(items[:LIST_LIMIT])
    return Message(
        text=f"{title}: {total}" if total else empty,
        blocks=[
            ActionList(
                title=title,
                items=shown,
                more=max(0, total - len(shown)),
                more_hint=more_hint,
                empty=empty,
                buttons=buttons,
                chair=chair,
            )
        ],
    )


def _with_chair(message: Message) -> Message:
    blocks = [
        block.model_copy(update={"chair": True}) if isinstance(block, ActionList) else block
        for block in message.blocks
    ]
    return message.model_copy(update={"blocks": blocks})


def _page(
    title: str,
    items: Sequence[ActionView],
    *,
    total: int,
    empty: str,
    buttons: bool,
    command: Paged,
) -> Message:
    count = pages(total, BUTTONS_PAGE_SIZE if buttons else PAGE_SIZE)
    text = f"{title}: {total}" if total else empty
    blocks: list[Block] = [
        ActionList(title=title, items=list(items), empty=empty, buttons=buttons, source=command)
    ]
    if count > 1:
        text += f" (page {command.page} of {count})"
        blocks.append(Pager(command=command, page=command.page, pages=count, total=total))
    return Message(text=text, blocks=blocks)


def summary(counts: Sequence[Count], rag: Sequence[Count], *, title: str) -> Message:
    """`/status`: the plan in figures."""
    text = ", ".join(f"{c.label} {c.value}" for c in counts)
    # Each RAG count in its colour, as the digest shows them.
    coloured = [
        c.model_copy(update={"tone": _RAG_TONE[c.label]}) if c.label in _RAG_TONE else c
        for c in rag
    ]
    return Message(
        text=f"{title}: {text}",
        blocks=[
            Heading(text=title),
            Counts(items=list(counts)),
            Counts(title="RAG of open actions", items=coloured),
        ],
    )


_RAG_TONE: dict[str, CountTone] = {
    "red": "attention",
    "amber": "warning",
    "green": "good",
    "blue": "accent",
}


def assigned_to_you(action: ActionView, *, by: str) -> Message:
    """DM to a new owner."""
    text = f"{by} assigned you action {label(action)}"
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action, buttons=True)],
        ephemeral=False,
    )


def supporting_you(action: ActionView, *, by: str) -> Message:
    """DM to a supporting owner named when an action is added."""
    text = f"{by} made you a supporting owner of action {label(action)}"
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action, buttons=True)],
        ephemeral=False,
    )


def cancelled_notice(action: ActionView, *, by: str, reason: str) -> Message:
    """DM to the owner and supporting owners when a chair cancels their action."""
    text = f"{by} cancelled action {label(action)}: {reason}. Nothing more is needed."
    return Message(text=text, blocks=[Paragraph(text=text)], ephemeral=False)


def reassigned_away(action: ActionView, *, by: str, new_owner: str) -> Message:
    """DM to the previous owner when an action moves to someone else."""
    text = f"{by} reassigned action {label(action)} to {new_owner}; you no longer own it."
    return Message(text=text, blocks=[Paragraph(text=text)], ephemeral=False)


def blocked_alert(action: ActionView, *, by: str, reason: str) -> Message:
    """DM to chairs when an action is blocked."""
    text = f"{by} marked action {label(action)} as blocked: {reason}"
    return Message(
        text=text,
        blocks=[Paragraph(text=text), ActionDetail(action=action)],
        tone="warning",
        ephemeral=False,
    )

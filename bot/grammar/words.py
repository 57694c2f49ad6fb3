"""The words people write for a status or a RAG rating, in commands and in plan files alike."""

from __future__ import annotations

from bot.domain import Rag, Status

STATUS_WORDS: dict[str, Status] = {
    "open": Status.OPEN,
    "not started": Status.OPEN,
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "blocked": Status.BLOCKED,
    "done": Status.DONE,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
}
#: How a refusal lists the statuses.
STATUS_CHOICES = "open, in progress, blocked, done, cancelled"

RAG_WORDS: dict[str, Rag] = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}
#: How a refusal lists the ratings.
RAG_CHOICES = "red, amber, green (or r, a, g)"


def read_status(text: str) -> Status | None:
    """The status `text` names (any case and spacing), or None."""
    return STATUS_WORDS.get(_key(text))


def read_rag(text: str) -> Rag | None:
    """The RAG rating `text` names (any case and spacing), or None."""
    return RAG_WORDS.get(_key(text))


def _key(text: str) -> str:
    return " ".join(text.lower().split())

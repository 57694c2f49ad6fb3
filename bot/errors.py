"""Errors that reach users as a one-line reason and the usage line, never as a trace."""

from __future__ import annotations


class CommandError(Exception):
    """A command that cannot be done as asked; nothing was changed."""

    def __init__(self, reason: str, usage: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage

"""The bot in a terminal: type `/action …`, `/status …` and `/board …` as any user, no Slack
needed."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterable
from typing import TextIO

from bot.domain import Platform
from bot.outbox.delivery import deliver_queued
from bot.outbox.sender import Delivered
from bot.render.model import Message
from bot.render.text import render
from bot.services.context import Caller, Core
from bot.services.dispatch import run_command

PROMPT = "> "
BANNER = (
    "Action follow-up bot (console). Type /action help, /status overdue, …\n"
    ":as NAME switches user, :quit leaves."
)


class ConsoleSender:
    """Delivers direct messages and channel posts by printing them in the terminal."""

    platform = Platform.CONSOLE

    def __init__(self, core: Core, out: TextIO) -> None:
        self._core = core
        self._out = out

    def send_to_account(
        self, external_id: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        self._print(f"DM to {external_id}", message)
        return Delivered(channel=f"dm:{external_id}")

    def send_to_channel(
        self, channel: str, message: Message, *, workspace: str | None = None
    ) -> Delivered:
        self._print(f"post to {channel}", message)
        return Delivered(channel=channel)

    def owns_channel(self, channel: str) -> bool:
        return True

    def _print(self, where: str, message: Message) -> None:
        body = render(message, today=self._core.today(), tz=self._core.settings.tz)
        indented = "\n".join("    " + line for line in body.splitlines())
        self._out.write(f"  → {where}:\n{indented}\n")


class ConsoleSession:
    """One terminal session: the current user, and the loop over typed lines."""

    def __init__(self, core: Core, *, user: str, out: TextIO) -> None:
        self.core = core
        self.user = user.strip().lower()
        self.out = out
        self.sender = ConsoleSender(core, out)

    def handle(self, line: str) -> bool:
        """Carry out one typed line; False when the user asked to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in (":quit", ":q", "quit", "exit"):
            return False
        if line.startswith(":as"):
            return self._switch(line)
        if line in (":help", "help", "?"):
            line = "/action help"
        command, _, text = line.partition(" ")
        if command.lstrip("/").lower() not in ("action", "status", "board"):
            self.out.write("Commands start with /action, /status or /board (try /action help).\n")
            return True
        caller = Caller(Platform.CONSOLE, self.user, display_name=self.user.capitalize())
        outcome = run_command(self.core, caller, command, text)
        self.out.write(render(outcome.message, today=self.core.today(), tz=self.core.settings.tz))
        self.out.write("\n")
        deliver_queued(self.core, [self.sender], outcome.outbox_ids)
        return True

    def _switch(self, line: str) -> bool:
        parts = shlex.split(line)
        if len(parts) != 2:
            self.out.write("Usage: :as NAME\n")
        else:
            self.user = parts[1].lower()
            self.out.write(f"You are now {self.user}.\n")
        return True

    def run(self, lines: Iterable[str]) -> None:
        """Read lines until they end or the user quits."""
        for line in lines:
            if not self.handle(line):
                break


def interactive_lines(session: ConsoleSession) -> Iterable[str]:
    """Lines typed at a prompt with editing and history (readline), until end of input."""
    # Importing readline gives input() line editing and history; Windows has none.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401
    while True:
        try:
            yield input(f"{session.user}{PROMPT}")
        except EOFError:
            session.out.write("\n")
            return
        except KeyboardInterrupt:
            session.out.write("\n")
            return

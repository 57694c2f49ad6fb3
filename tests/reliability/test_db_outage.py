"""4. Database faults (PostgreSQL): a TCP proxy between the bot and the server is cut and
restored while commands arrive. The shared server itself is never stopped."""

from __future__ import annotations

import contextlib
import datetime as dt
import select as selectmod
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.config import Settings
from bot.domain import Platform
from bot.errors import CommandError
from bot.people.directory import ConsoleDirectory
from bot.services.context import Caller, Core
from bot.services.dispatch import TRY_AGAIN
from bot.services.lookup import current_action
from bot.services.request import Request
from scheduler.worker import _logged
from storage.db import make_engine, make_session_factory
from tests.conftest import MONDAY
from tests.reliability.conftest import Tally, postgres_url
from tests.reliability.helpers import added_id, command, history_rows, ok, snapshot

pytestmark = pytest.mark.skipif(
    postgres_url() is None, reason="needs TEST_DATABASE_URL (PostgreSQL)"
)


class Proxy:
    """127.0.0.1:<port> → the database; `cut()` kills every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.cuts = 0
        self.open()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self.cuts += 1
        with self.lock:
            listener, self.listener = self.listener, None
            conns, self.conns = self.conns, []
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accept() thread on Linux
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()  # new connections are refused
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = selectmod.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        raise OSError
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


@pytest.fixture
def proxied(database_url: str) -> Iterator[tuple[Core, Proxy]]:
    parts = urlsplit(database_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = parts.netloc.rsplit("@", 1)
    url = urlunsplit(parts._replace(
        netloc=(netloc[0] + "@" if len(netloc) == 2 else "") + f"127.0.0.1:{proxy.port}"))
    settings = Settings(_env_file=None, database_url=url, chair_user_ids=("chair",))  # type: ignore[call-arg]
    from bot.clock import FixedClock

    engine = make_engine(url, connect_args={"connect_timeout": 3})
    core = Core(settings=settings, sessions=make_session_factory(engine),
                clock=FixedClock(MONDAY), directories={Platform.CONSOLE: ConsoleDirectory()})
    yield core, proxy
    proxy.cut()
    engine.dispose()


def test_commands_during_an_outage_get_try_again_and_the_bot_recovers(
    proxied: tuple[Core, Proxy], chair: Caller, amira: Caller, tally: Tally
) -> None:
    core, proxy = proxied
    number = added_id(ok(core, chair, "/action add Survive the outage @amira due 2026-12-04"))
    ok(core, amira, f"/action update {number} before the outage")
    before = snapshot(core)
    for cycle in range(3):
        proxy.cut()
        for line in [f"/action done {number} during", f"/action rag {number} red",
                     f"/action update {number} lost?", "/status", f"/action show {number}"]:
            outcome = command(core, amira, line)  # must not raise
            tally.add("4 database faults", inputs=1)
            assert outcome.message.tone == "error" and outcome.message.text == TRY_AGAIN, (
                cycle, line, outcome.message.text)
            assert "Traceback" not in outcome.message.text and len(outcome.message.text) < 200
        proxy.open()
        assert snapshot(core) == before  # nothing of the outage was half-written
        ok(core, amira, "/status")  # served again, same engine, no restart (pool pre-ping)
    tally.add("4 database faults", faults=3, note="3 outages: every command answered TRY_AGAIN")
    ok(core, amira, f"/action rag {number} amber")
    assert [h.new_value for h in history_rows(core, number)][-1] == "amber"


def test_a_form_opened_during_an_outage_gets_try_again(
    proxied: tuple[Core, Proxy], chair: Caller, tally: Tally
) -> None:
    core, proxy = proxied
    number = added_id(ok(core, chair, "/action add Note it in the outage @amira"))
    proxy.cut()
    with pytest.raises(CommandError) as refused:
        current_action(core, number)  # what a button reads before it opens the note form
    proxy.open()
    tally.add("4 database faults", faults=1, inputs=1)
    assert refused.value.reason == TRY_AGAIN
    assert current_action(core, number).title == "Note it in the outage"


def test_a_connection_cut_mid_command_leaves_no_half_written_change(
    proxied: tuple[Core, Proxy], chair: Caller, amira: Caller, monkeypatch: pytest.MonkeyPatch,
    tally: Tally,
) -> None:
    core, proxy = proxied
    number = added_id(ok(core, chair, "/action add Half written? @amira due 2026-12-04"))
    before = snapshot(core)
    original = Request.action

    def cut_after_reading(self: Request, action_id: int):  # type: ignore[no-untyped-def]
        found = original(self, action_id)
        proxy.cut()  # the read succeeded; the writes and the commit will not
        return found

    monkeypatch.setattr(Request, "action", cut_after_reading)
    outcome = command(core, amira, f"/action done {number} in the middle")
    monkeypatch.setattr(Request, "action", original)
    proxy.open()
    tally.add("4 database faults", faults=1, inputs=1)
    assert outcome.message.text == TRY_AGAIN
    assert snapshot(core) == before
    ok(core, amira, f"/action done {number} after")
    assert history_rows(core, number)[-1].note == "after"


def test_the_worker_survives_an_outage_and_resumes(
    proxied: tuple[Core, Proxy], chair: Caller, tally: Tally, database_url: str
) -> None:
    from bot.domain.workdays import WorkingCalendar
    from bot.outbox.sender import Delivered
    from scheduler.jobs import Ticker

    core, proxy = proxied
    sent: list[str] = []

    class Recorder:
        platform = Platform.CONSOLE

        def send_to_account(
            self, external_id: str, message: object, *, workspace: str | None = None
        ) -> Delivered:
            sent.append(external_id)
            return Delivered(channel=external_id)

        def send_to_channel(
            self, channel: str, message: object, *, workspace: str | None = None
        ) -> Delivered:
            sent.append(channel)
            return Delivered(channel=channel)

        def owns_channel(self, channel: str) -> bool:
            return True

    ticker = Ticker(core, [Recorder()], WorkingCalendar.from_settings(core.settings))
    tick = _logged(ticker.tick)
    ok(core, chair, "/action add First @amira due 2026-11-23")
    proxy.cut()
    tick()  # logs the failure; must not raise
    tick()
    proxy.open()
    ok(core, chair, "/action add Second @ben due 2026-11-23")
    core.clock.advance(dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    tick()
    tally.add("4 database faults", faults=1, sent=len(sent))
    assert sent.count("amira") >= 1 and sent.count("ben") >= 1

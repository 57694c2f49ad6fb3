"""Engines and sessions; built by the composition root, never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

#: Connections kept open per process: as many as the web server's threads that can be inside
#: a transaction at once (16 command threads). A smaller pool makes every busy moment open
#: and close "overflow" connections, which costs more than the command itself.
POOL_SIZE = 16
POOL_OVERFLOW = 8


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, tuned for SQLite and PostgreSQL alike."""
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    if url.startswith("sqlite"):
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            # An in-memory database uses one shared connection (SingletonThreadPool).
            kwargs.pop("pool_size", None)
            kwargs.pop("max_overflow", None)
        # Threads of the web server share the file; wait for locks rather than fail at once.
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
                # With WAL, NORMAL stays durable across application crashes and skips an fsync
                # per commit (https://www.sqlite.org/pragma.html#pragma_synchronous).
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # pre-ping: after a database restart the pool hands out live connections, no bot restart.
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so replies can be rendered afterwards."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session

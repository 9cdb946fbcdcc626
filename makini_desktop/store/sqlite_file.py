"""One open SQLite file of a connection's cache: its connection, lock and closing.

:class:`SqliteFile` is what :class:`~makini_desktop.store.cache.Cache` (the cached lists) and
:class:`~makini_desktop.store.outbox.OutboxStore` (the changes on their way) have in common:
one ``sqlite3`` connection used under one re-entrant lock, closed once (twice is fine), a
:class:`CacheError` in words for the user when it is used after closing, ``with``, and one
write transaction that rolls back and says what failed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from makini_desktop.store.cache_errors import CacheError, cache_error

__all__ = ["SqliteFile"]


class SqliteFile:
    """A connection to one cache file, under one lock.

    Args:
        conn: the open connection.
        path: the file.

    Attributes:
        path: the file.
    """

    CLOSED_MESSAGE: ClassVar[str] = "The offline cache is closed."
    """What using the file after :meth:`close` says."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the file. Further use raises :class:`CacheError`; closing twice is fine."""
        with self._lock:
            conn, self._conn = self._conn, None
            self._closing()
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _closing(self) -> None:
        """What a subclass forgets when it closes (under the lock)."""

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._conn is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path.name}{' closed' if self.closed else ''}>"

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls back and becomes a CacheError that says
        what was being ``doing``."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise cache_error(exc, doing, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise cache_error(exc, doing, self.path) from exc
                raise

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CacheError(self.CLOSED_MESSAGE, reason="closed")
        return self._conn

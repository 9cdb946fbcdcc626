"""The outbox: the user's changes kept in the connection's cache file until the server confirms.

Every write the user makes (check a visitor in, approve a move, register a walk-in) is first
stored here and only then sent; it leaves the outbox only when the server has confirmed it
(:meth:`OutboxStore.confirm`, which also puts the server's record into the cached rows, in
the same transaction) or when the user discards it. A process killed at any moment
therefore loses no change, and a change sent again after the restart carries the same
``Idempotency-Key`` and ``occurredAt`` (contract §6.1): the server applies it once.

The table lives in the same SQLite file as the cached rows (schema version 2, see
:mod:`~makini_desktop.store.schema`), read and written through a connection of its own with
``synchronous = FULL``: the cache's rows may be lost on a power cut (they are downloaded
again), a change the user made may not. The sender's :meth:`OutboxStore.add` may commit
without waiting for the disk (``durable=False``: the change survives the app's crash at
once) and then syncs it with :meth:`OutboxStore.sync`, in a worker thread and outside the
lock, before the change is sent: the fsync of a cache file the downloads have just filled
can take a few hundred milliseconds, which the user's click must not wait for. Notes on a
stored change (an attempt, a refusal, a confirmation, a discard) commit without waiting for
the disk too, and are synced soon after: a power cut may lose them, and the change is then
sent again with the same ``Idempotency-Key`` (the server answers as before, nothing is
applied twice) or, discarded, shows again.

This module is storage only; when to send, retry and give up is decided in
:mod:`makini_desktop.sync.outbox`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from makini_desktop import jsontext
from makini_desktop.api.values import parse_datetime
from makini_desktop.store import cache_files
from makini_desktop.store.cache_errors import CacheError, cache_error
from makini_desktop.store.records import (
    dumps_row,
    escape_surrogates,
    row_key,
    timestamp_text,
    updated_text,
)
from makini_desktop.store.sqlite_file import SqliteFile

__all__ = [
    "KIND_CREATE",
    "KIND_STATUS",
    "LOCAL_KEY_PREFIX",
    "Change",
    "ChangeState",
    "OutboxStore",
    "new_local_key",
    "unsent_count",
    "unsent_in_connection",
]

log = logging.getLogger(__name__)

KIND_STATUS = "status"
"""A status change: ``PUT <dataset>/<key>`` (contract §6.2)."""
KIND_CREATE = "create"
"""A new record: ``POST <dataset>`` (contract §6.3); its key is local until confirmed."""
LOCAL_KEY_PREFIX = "local-"
"""The key of a record created while its creation is not yet confirmed."""


def new_local_key() -> str:
    """A key for a record the server has not created yet (``local-<hex>``)."""
    return LOCAL_KEY_PREFIX + uuid.uuid4().hex


class ChangeState(StrEnum):
    """Where a change is on its way."""

    WAITING = "waiting"
    """Stored, to be sent (again, after a network drop, a 5xx or a 429)."""
    SENDING = "sending"
    """Sent, no answer yet. After a restart it is sent again with the same key."""
    FAILED = "failed"
    """Refused (405, 422, other 4xx): kept with the reason until Retry or Discard."""
    CONFLICT = "conflict"
    """Refused with 409: the server's current record is kept for the user to see."""

    @property
    def pending(self) -> bool:
        """Still on its way (waiting or sending): the overlay shows it."""
        return self in (ChangeState.WAITING, ChangeState.SENDING)


@dataclass(frozen=True)
class Change:
    """One change in the outbox.

    Attributes:
        seq: its number; later changes have larger numbers (the created order).
        dataset: the dataset name (``visits``, ``moves``).
        record_key: the record's key (``local-...`` for a creation not yet confirmed).
        action: what the user did, a verb name (``check_in``, ``approve``, ``register``).
        kind: :data:`KIND_STATUS` or :data:`KIND_CREATE`.
        body: the JSON body sent, exactly the same on every attempt (occurredAt included).
        idempotency_key: the ``Idempotency-Key`` (uuid4), the same on every attempt.
        occurred_at: when the user acted (UTC).
        before: the record as the user saw it before acting (None for a creation): what
            the row goes back to when the change is refused or discarded.
        state: where it is.
        reason: why it failed or waits again, in words for the user ("" when none).
        request_id: the request ID of the last answer ("" when none).
        http_status: the HTTP status of the last refusal (None when none).
        error_code: the error code of the last refusal ("" when none).
        server_record: for a conflict, the record as the server has it.
        attempts: how many times it was sent.
        created_at: when it was stored.
        last_attempt_at: when it was last sent.
    """

    seq: int
    dataset: str
    record_key: str
    action: str
    kind: str
    body: Mapping[str, Any]
    idempotency_key: str
    occurred_at: datetime
    before: Mapping[str, Any] | None
    state: ChangeState
    reason: str = ""
    request_id: str = ""
    http_status: int | None = None
    error_code: str = ""
    server_record: Mapping[str, Any] | None = None
    attempts: int = 0
    created_at: datetime | None = None
    last_attempt_at: datetime | None = None

    @property
    def record(self) -> tuple[str, str]:
        """(dataset, key): the changes of one record are sent in order, one at a time."""
        return (self.dataset, self.record_key)

    @property
    def pending(self) -> bool:
        return self.state.pending


_COLUMNS = (
    "seq, dataset, record_key, action, kind, body, idempotency_key, occurred_at, before,"
    " state, reason, request_id, http_status, error_code, server_record, attempts,"
    " created_at, last_attempt_at"
)


def _json_text(value: Any) -> str:
    # jsontext: a deep record still stores; escape: lone surrogates bind as text.
    return escape_surrogates(jsontext.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _json_value(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return jsontext.loads(text)
    except (ValueError, TypeError):
        log.warning("An outbox entry holds unreadable JSON")
        return None


def _mapping(text: Any) -> dict[str, Any] | None:
    value = _json_value(text)
    return value if isinstance(value, dict) else None


def _change(row: Sequence[Any]) -> Change:
    (seq, dataset, key, action, kind, body, ikey, occurred, before, state, reason, rid,
     status, code, server, attempts, created, last) = row
    try:
        parsed_state = ChangeState(state)
    except ValueError:
        parsed_state = ChangeState.WAITING
    return Change(
        seq=int(seq),
        dataset=str(dataset),
        record_key=str(key),
        action=str(action),
        kind=str(kind),
        body=_mapping(body) or {},
        idempotency_key=str(ikey),
        occurred_at=parse_datetime(occurred) or datetime.now(UTC),
        before=_mapping(before),
        state=parsed_state,
        reason=str(reason or ""),
        request_id=str(rid or ""),
        http_status=int(status) if isinstance(status, int) else None,
        error_code=str(code or ""),
        server_record=_mapping(server),
        attempts=int(attempts or 0),
        created_at=parse_datetime(created),
        last_attempt_at=parse_datetime(last),
    )


def _now_text() -> str:
    return timestamp_text(datetime.now(UTC))


class OutboxStore(SqliteFile):
    """The outbox table of one connection's cache file. Create it with :meth:`open`.

    Thread-safe (one lock); the sender calls it from the event loop, each call a short
    transaction (a few milliseconds with the sync to disk).

    Attributes:
        path: the cache file.
        read_only: nothing can be stored (the file is read-only or the disk is full):
            :meth:`add` raises :class:`CacheError`, the stored changes are still listed.
    """

    CLOSED_MESSAGE = "The outbox is closed."

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
        super().__init__(conn, path)
        self.read_only = read_only

    # -- opening and closing --------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> OutboxStore:
        """Open the outbox of the cache file at ``path``.

        Open the :class:`~makini_desktop.store.cache.Cache` first: it creates, checks and
        migrates the file. A change left ``sending`` by a process that stopped mid-send is
        set back to ``waiting`` (it is sent again, with its same key).

        Args:
            path: the cache file.
            read_only: open for reading only (``outbox list`` beside a running app, a
                cache that cannot be written). A file without an outbox table (a
                version-1 cache read as it is) lists no change.

        Raises:
            CacheError: the file cannot be opened.
        """
        path = Path(path)
        try:
            if read_only:
                conn = sqlite3.connect(
                    f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None,
                    timeout=cache_files.BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                )
            else:
                conn = cache_files.connect(path)
                # A stored change is on disk when add() returns (durable=False: when
                # sync() returns), power cut included.
                conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise cache_error(exc, "opening the outbox", path) from exc
        store = cls(conn, path, read_only=read_only)
        if not read_only and any(c.state is ChangeState.SENDING for c in store.changes()):
            with store._transaction("opening the outbox") as tx:
                tx.execute(
                    "UPDATE outbox SET state = ? WHERE state = ?",
                    (ChangeState.WAITING.value, ChangeState.SENDING.value),
                )
        return store

    def close(self) -> None:
        """Close the outbox's connection; closed last, it stamps the file a clean close
        (see :meth:`Cache.close <makini_desktop.store.cache.Cache.close>`)."""
        was_open = not self.closed
        super().close()
        if was_open and not self.read_only:
            cache_files.note_clean_close(self.path)

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, doing: str, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (see :class:`SqliteFile`), refused on a read-only file.
        ``durable=False`` for what a power cut may lose without harm (an attempt noted, a
        confirmation: the change is then sent again with the same Idempotency-Key and the
        server answers as before): its commit waits for no disk sync, so it does not hold
        the lock, and the user's next action, behind an fsync."""
        with self._lock:
            conn = self._require()
            if self.read_only:
                raise CacheError(
                    f"The offline cache file {self.path} cannot be written: {doing} failed.",
                    reason="read_only",
                )
            if not durable:
                try:
                    conn.execute("PRAGMA synchronous = NORMAL")
                except sqlite3.Error as exc:
                    raise cache_error(exc, doing, self.path) from exc
            try:
                with super()._transaction(doing) as written:
                    yield written
            finally:
                if not durable:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA synchronous = FULL")

    def _select(self, where: str = "", params: Sequence[Any] = ()) -> list[Change]:
        with self._lock:
            conn = self._require()
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY seq", tuple(params)
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []  # a version-1 cache opened read-only: it has no outbox yet
                raise cache_error(exc, "reading the outbox", self.path) from exc
            except sqlite3.Error as exc:
                raise cache_error(exc, "reading the outbox", self.path) from exc
        return [_change(row) for row in rows]

    # -- reading --------------------------------------------------------------------------

    def changes(self, *, dataset: str | None = None) -> list[Change]:
        """Every change, in created order (optionally of one dataset)."""
        if dataset is None:
            return self._select()
        return self._select("WHERE dataset = ?", (dataset,))

    def get(self, seq: int) -> Change | None:
        """The change with that number, or None when it is gone (confirmed, discarded)."""
        found = self._select("WHERE seq = ?", (seq,))
        return found[0] if found else None

    def pending_count(self) -> int:
        """How many changes are waiting or being sent."""
        return sum(1 for c in self._select() if c.pending)

    # -- writing --------------------------------------------------------------------------

    def add(
        self,
        dataset: str,
        record_key: str,
        action: str,
        body: Mapping[str, Any],
        *,
        kind: str = KIND_STATUS,
        before: Mapping[str, Any] | None = None,
        occurred_at: datetime,
        idempotency_key: str | None = None,
        durable: bool = True,
    ) -> Change:
        """Store a change, committed (and synced to disk, if ``durable``) before anything
        is sent.

        Args:
            dataset: the dataset name.
            record_key: the record's key (a :func:`new_local_key` for a creation).
            action: what the user did (a verb name).
            body: the request body exactly as it will be sent every time.
            kind: :data:`KIND_STATUS` or :data:`KIND_CREATE`.
            before: the record as the user saw it (None for a creation).
            occurred_at: when the user acted (timezone-aware).
            idempotency_key: the key to send (default: a new uuid4).
            durable: wait for the disk before returning. False: committed (it survives the
                app's crash), on disk after the next :meth:`sync`.

        Raises:
            CacheError: the change could not be stored (disk full, read-only file): the
                user's action did not happen, and nothing was sent.
            ValueError: ``occurred_at`` is naive.
        """
        values = (
            dataset, record_key, action, kind, _json_text(dict(body)),
            idempotency_key or str(uuid.uuid4()), timestamp_text(occurred_at),
            None if before is None else _json_text(dict(before)),
            ChangeState.WAITING.value, _now_text(),
        )
        with self._transaction("saving the change", durable=durable) as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (dataset, record_key, action, kind, body, idempotency_key,"
                " occurred_at, before, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            seq = int(cursor.lastrowid or 0)
        change = self.get(seq)
        assert change is not None
        return change

    def sync(self) -> None:
        """Put every change committed so far on the disk (those :meth:`add` stored with
        ``durable=False``): an fsync of the file SQLite commits to (the ``-wal`` file in WAL
        mode, else the file itself), outside the lock, so neither the user's next change
        nor a reader waits behind the disk.

        Raises:
            CacheError: the file could not be synced (the changes stay committed).
        """
        wal = self.path.with_name(self.path.name + "-wal")
        target = wal if wal.exists() else self.path
        # Windows syncs only what is open for writing; POSIX syncs a read-only handle.
        flags = os.O_RDWR | getattr(os, "O_BINARY", 0) if os.name == "nt" else os.O_RDONLY
        try:
            fd = os.open(target, flags)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except FileNotFoundError:
            return  # checkpointed and removed meanwhile: on disk already
        except OSError as exc:
            raise CacheError(
                f"The offline cache file {self.path} could not be synced to disk"
                f" ({exc.strerror or exc}); the changes are kept.", reason="io",
            ) from exc

    def _update(self, seq: int, doing: str, assignments: str, params: Sequence[Any],
                *, durable: bool = False) -> bool:
        # A note on a stored change commits without waiting for the disk (the sender syncs
        # it soon after, see sync()): a power cut may lose the note, and the change then
        # waits as it was, to be sent again with its key (the server answers as before).
        with self._transaction(doing, durable=durable) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET {assignments} WHERE seq = ?", (*params, seq)
            )
            return cursor.rowcount > 0

    def mark_sending(self, seq: int) -> bool:
        """The change is being sent: one more attempt. False when it is gone."""
        return self._update(
            seq, "noting a change as sent",
            "state = ?, attempts = attempts + 1, last_attempt_at = ?",
            (ChangeState.SENDING.value, _now_text()),
        )

    def mark_waiting(self, seq: int, *, reason: str = "", request_id: str = "") -> bool:
        """Back to waiting (a network drop, a 5xx, a 429, a retry): sent again later."""
        return self._update(
            seq, "noting a change as waiting",
            "state = ?, reason = ?, request_id = ?",
            (ChangeState.WAITING.value, reason, request_id),
        )

    def retry(self, seq: int) -> bool:
        """The user retries a refused change: waiting again, under a new Idempotency-Key
        (the server keeps answering the old one with its refusal), the refusal forgotten."""
        return self._update(
            seq, "noting a change to retry",
            "state = ?, reason = '', request_id = '', http_status = NULL, error_code = '',"
            " server_record = NULL, idempotency_key = ?",
            (ChangeState.WAITING.value, str(uuid.uuid4())),
        )

    def mark_failed(
        self, seq: int, *, reason: str, request_id: str = "", http_status: int | None = None,
        error_code: str = "",
    ) -> bool:
        """Refused by the server: kept, with why, until the user retries or discards it."""
        return self._update(
            seq, "noting a refused change",
            "state = ?, reason = ?, request_id = ?, http_status = ?, error_code = ?",
            (ChangeState.FAILED.value, reason, request_id, http_status, error_code),
        )

    def mark_conflict(
        self, seq: int, *, reason: str, request_id: str = "",
        server_record: Mapping[str, Any] | None = None,
    ) -> bool:
        """Refused with 409: kept with the server's current record."""
        return self._update(
            seq, "noting a conflicting change",
            "state = ?, reason = ?, request_id = ?, http_status = 409, error_code = ?,"
            " server_record = ?",
            (ChangeState.CONFLICT.value, reason, request_id, "CONFLICT",
             None if server_record is None else _json_text(dict(server_record))),
        )

    def discard(self, seq: int) -> Change | None:
        """Remove a change the user gave up (it is never sent again); None if gone."""
        change = self.get(seq)
        if change is None:
            return None
        with self._transaction("discarding a change", durable=False) as conn:
            conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        return change

    def confirm(self, seq: int, server_row: Mapping[str, Any] | None) -> str | None:
        """The server confirmed the change: remove it and cache the server's record.

        In one transaction: the change leaves the outbox, the server's record replaces the
        cached row (a new record is appended), and for a confirmed creation the later
        changes of the same record take the record's new key.

        Returns:
            The record's key as the server has it (the new key of a creation), or None when
            the change was already gone.
        """
        change = self.get(seq)
        if change is None:
            return None
        key = row_key(server_row) if server_row else None
        with self._transaction("saving the confirmed change", durable=False) as conn:
            conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if server_row and key is not None:
                conn.execute(
                    "INSERT INTO rows (dataset, key, updated_at, data) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (dataset, key) DO UPDATE SET"
                    " updated_at = excluded.updated_at, data = excluded.data",
                    (change.dataset, escape_surrogates(key),
                     updated_text(server_row), escape_surrogates(dumps_row(server_row))),
                )
                conn.execute(
                    "UPDATE datasets SET row_count ="
                    " (SELECT count(*) FROM rows WHERE dataset = ?) WHERE dataset = ?",
                    (change.dataset, change.dataset),
                )
                if key != change.record_key:
                    conn.execute(
                        "UPDATE outbox SET record_key = ? WHERE dataset = ? AND record_key = ?",
                        (key, change.dataset, change.record_key),
                    )
        return key or change.record_key


def unsent_count(path: Path) -> int:
    """How many changes in the cache file at ``path`` the server has not confirmed (any
    state), read without disturbing a running app; 0 when there is no file.

    For the warning before a connection (and with it this file) is removed.

    Raises:
        CacheError: the file exists but cannot be read.
    """
    if not Path(path).is_file():
        return 0
    with OutboxStore.open(path, read_only=True) as store:
        return len(store.changes())


def unsent_in_connection(profile_id: str) -> int:
    """Changes not yet confirmed in every cache file of a saved connection (whichever
    server it pointed at): what removing the connection would throw away. Files that
    cannot be read count as 0 (removing them loses nothing readable)."""
    from makini_desktop.store.cache_files import connection_cache_paths

    total = 0
    for path in connection_cache_paths(profile_id):
        try:
            total += unsent_count(path)
        except CacheError as exc:
            log.info("outbox of %s unreadable: %s", path.name, exc)
    return total

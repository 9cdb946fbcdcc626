"""The offline cache: one SQLite file per connection, holding the last synced rows.

This module is storage only. When to sync, what counts as stale and how to fall back
when offline is decided in ``sync/``; here is where the rows are kept and how they are
replaced without ever losing the previous copy.

The promises:

* **Atomic snapshots.** A full sync stages its pages with :meth:`SnapshotWriter.add` (each
  page in its own short transaction, so memory stays bounded) and swaps them in with
  :meth:`SnapshotWriter.commit` in ONE transaction. Until that commit, readers see the
  previous snapshot and its timestamps, whatever happens: an exception, a cancelled sync, a
  killed process or a full disk. Leftover staging rows are discarded on the next
  :meth:`Cache.begin_snapshot` for the dataset and when the file is opened.
* **Incremental changes** (:meth:`Cache.apply_changes`) upsert and delete in one transaction.
* **Order.** Rows come back in the order they were stored: a snapshot in the server's order,
  rows added later by incremental syncs after them. The ``ord`` column is the table's rowid,
  so a snapshot occupies consecutive rowids and a dataset is read in one sequential pass.
* **Whole records.** Each row is stored as the record's full JSON, unknown fields included.
* **No crash on a bad file.** A file that is not SQLite, fails ``PRAGMA quick_check`` or was
  written by a newer schema is moved aside (``<name>.corrupt-<UTC time>`` or
  ``<name>.newer-<UTC time>``, with its ``-wal``/``-shm``) and replaced by an empty cache;
  :attr:`Cache.recovered` says what happened in a sentence for the user.
* **Environmental errors are typed.** Disk full, read-only files, locks and I/O errors raise
  :class:`CacheError` with a human message; the previous data stays as it was.

Schema changes are appended to :data:`MIGRATIONS`; ``PRAGMA user_version`` records the last
one applied, each applied in its own transaction.

A :class:`Cache` is meant to be used by one thread at a time, but it may be handed to a worker
thread (loading in the background): its connection is opened with ``check_same_thread=False``
and every use is serialised by a lock. :meth:`Cache.iter_load` reads through a connection of
its own, so a background load sees one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from makini_desktop import jsontext
from makini_desktop.api.urls import validate_base_url
from makini_desktop.api.values import parse_datetime
from makini_desktop.store import paths

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Cache",
    "CacheError",
    "CachedList",
    "DatasetInfo",
    "RecoveryInfo",
    "SnapshotWriter",
    "adhoc_key",
    "cache_path_for",
    "delete_files",
    "max_updated_at",
]

log = logging.getLogger(__name__)

Migration = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: list[tuple[int, Migration]] = [
    (
        1,
        """
        CREATE TABLE datasets (
            dataset        TEXT PRIMARY KEY,
            last_full_sync TEXT,
            last_sync      TEXT,
            watermark      TEXT,
            server_total   INTEGER,
            row_count      INTEGER NOT NULL DEFAULT 0
        );
        -- ord is the rowid: consecutive for a snapshot, so reading a dataset in order is a
        -- sequential scan. A rowid table (not WITHOUT ROWID) because records of ~600 bytes
        -- are far above the size WITHOUT ROWID tables handle well.
        CREATE TABLE rows (
            ord        INTEGER PRIMARY KEY,
            dataset    TEXT NOT NULL,
            key        TEXT NOT NULL,
            updated_at TEXT,
            data       TEXT NOT NULL
        );
        CREATE UNIQUE INDEX rows_key ON rows (dataset, key);
        CREATE INDEX rows_ord ON rows (dataset, ord);
        CREATE TABLE staging (
            seq        INTEGER PRIMARY KEY,
            snapshot   TEXT NOT NULL,
            dataset    TEXT NOT NULL,
            key        TEXT NOT NULL,
            updated_at TEXT,
            data       TEXT NOT NULL
        );
        CREATE INDEX staging_snapshot ON staging (snapshot, seq);
        """,
    ),
]
"""Schema migrations in order: (version, SQL script or callable taking the connection)."""

SCHEMA_VERSION: Final = MIGRATIONS[-1][0]

FILE_SUFFIX = ".sqlite3"
BUSY_TIMEOUT_MS = 5000
# A snapshot swap of 100k rows makes the WAL grow to ~2x the dataset; without a limit the
# file keeps that size forever after the checkpoint.
JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024
MOVED_ASIDE_KEEP = 3
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm")
_DELETED = "deletedAt"
_UPDATED = "updatedAt"
_KEY = "key"

# Primary SQLite result codes (extended codes carry them in the low byte).
_SQLITE_ERROR = 1
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_FORMAT = 24
_SQLITE_NOTADB = 26


# ---------------------------------------------------------------------------------------
# Public value types


class CacheError(Exception):
    """The offline cache could not be read or written, for a reason outside the program.

    The message is written for the user (status bar, banner) and says whether the data
    already cached is still there. It never contains row data.

    Attributes:
        message: the human message (also ``str(error)``).
        reason: a short code: ``disk_full``, ``read_only``, ``busy``, ``io``, ``corrupt``,
            ``superseded``, ``closed`` or ``other``.
    """

    def __init__(self, message: str, *, reason: str = "other") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class RecoveryInfo:
    """What :meth:`Cache.open` set aside instead of crashing.

    Attributes:
        kind: ``corrupt`` (damaged or not a database) or ``newer`` (a newer schema).
        moved_to: where the old file now is.
        message: a sentence for the user.
    """

    kind: str
    moved_to: Path
    message: str


@dataclass
class CachedList:
    """A dataset as cached: its rows in stored order and how fresh they are.

    Attributes:
        rows: the records, each the full JSON object as received.
        last_full_sync: when the last full snapshot was committed (None: never).
        last_sync: when the dataset was last brought up to date, fully or incrementally.
        watermark: the incremental-sync watermark (the largest ``updatedAt`` seen).
        server_total: the row count the server reported at the last sync that gave one.
    """

    rows: list[dict[str, Any]]
    last_full_sync: datetime | None
    last_sync: datetime | None
    watermark: str | None
    server_total: int | None


@dataclass(frozen=True)
class DatasetInfo:
    """Summary of one cached dataset.

    Attributes:
        dataset: the dataset name (``assets``).
        row_count: rows in the cache.
        last_sync: when it was last brought up to date.
        last_full_sync: when the last full snapshot was committed.
        watermark: the incremental-sync watermark.
        server_total: the row count the server reported.
    """

    dataset: str
    row_count: int
    last_sync: datetime | None
    last_full_sync: datetime | None
    watermark: str | None = None
    server_total: int | None = None


# ---------------------------------------------------------------------------------------
# Paths


_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def cache_path_for(connection_key: str) -> Path:
    """The cache file of a connection: ``<cache_dir>/<safe name>.sqlite3``.

    Keys that are already safe file names (profile ids, :func:`adhoc_key` values) are used
    as they are; anything else is replaced by a hash, so no key can reach outside the cache
    directory or collide on a case-insensitive file system.

    Args:
        connection_key: a profile id, or an :func:`adhoc_key`.

    Raises:
        ValueError: the key is empty.
    """
    if not connection_key:
        raise ValueError("A connection key is required.")
    if _SAFE_NAME.match(connection_key) and connection_key not in _WINDOWS_RESERVED:
        name = connection_key
    else:
        name = "key-" + hashlib.sha256(connection_key.encode("utf-8")).hexdigest()[:32]
    return paths.cache_dir() / f"{name}{FILE_SUFFIX}"


def adhoc_key(base_url: str, identity: str | None = None) -> str:
    """The cache key of a connection that has no saved profile: ``adhoc-<16 hex>``.

    Args:
        base_url: the connection's base URL (normalised first, so ``https://x/`` and
            ``https://x`` share a cache).
        identity: what tells two systems behind the same base URL apart, such as the
            Integration ``id`` from ``/api/integrations/current``. Every Makini customer
            uses the same default base URL, so without it two ad-hoc connections with
            different tokens would share one cache.
    """
    try:
        url = validate_base_url(base_url)
    except ValueError:
        url = base_url.strip().rstrip("/")
    material = url if identity is None else f"{url}\n{identity}"
    return "adhoc-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _moved_aside(path: Path) -> list[Path]:
    """Earlier moved-aside copies of ``path`` (without their -wal/-shm), oldest first."""
    prefixes = (f"{path.name}.corrupt-", f"{path.name}.newer-")
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return []
    found = [
        p for p in siblings if p.name.startswith(prefixes) and not p.name.endswith(_SIDE_FILES)
    ]
    return sorted(found, key=_aside_age)


def _aside_age(path: Path) -> tuple[str, int]:
    """Sort key of a moved-aside copy: (UTC stamp, counter), whatever its kind."""
    stamp, _, counter = path.name.rsplit(".", 1)[-1].split("-", 1)[-1].partition("-")
    return stamp, int(counter) if counter.isdigit() else 1


def delete_files(path: Path) -> None:
    """Delete a cache file with its ``-wal``/``-shm`` and any moved-aside copies.

    Used when a connection is deleted: every file holding its data goes. Missing files are
    fine. Close the :class:`Cache` first.

    Raises:
        CacheError: a file could not be deleted (in use, permissions).
    """
    targets = [path, *(_side(path, s) for s in _SIDE_FILES)]
    for old in _moved_aside(path):
        targets += [old, *(_side(old, s) for s in _SIDE_FILES)]
    for target in targets:
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise CacheError(
                f"The offline cache file {target} could not be deleted "
                f"({exc.strerror or exc}). Close other makini-desktop windows and try again.",
                reason="busy" if isinstance(exc, PermissionError) else "io",
            ) from exc


def profile_cache_key(profile_id: str, base_url: str) -> str:
    """The cache key of a saved connection: its id and a fingerprint of its server.

    Pointing a saved connection at another server then starts another cache, so the old
    server's rows are never shown offline as the new one's.
    """
    try:
        url = validate_base_url(base_url)
    except ValueError:
        url = base_url.strip().rstrip("/")
    return f"{profile_id}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}"


def connection_cache_paths(profile_id: str) -> list[Path]:
    """Every cache file of a saved connection, whichever server it was pointed at."""
    directory = paths.cache_dir()
    return sorted(
        p for p in directory.glob(f"{profile_id}*{FILE_SUFFIX}")
        if p.name == f"{profile_id}{FILE_SUFFIX}" or p.name.startswith(f"{profile_id}-")
    )


def delete_connection_caches(profile_id: str) -> None:
    """Delete every cache of a saved connection (it is being removed).

    Raises:
        CacheError: a file could not be deleted (in use, permissions).
    """
    for path in connection_cache_paths(profile_id):
        delete_files(path)


# ---------------------------------------------------------------------------------------
# Helpers


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("synced_at must be a timezone-aware datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_timestamp(value: object) -> datetime | None:
    return parse_datetime(value)


def max_updated_at(rows: Sequence[Mapping[str, Any]], current: str | None = None) -> str | None:
    """The largest ``updatedAt`` among ``rows`` and ``current``, as its original string.

    Compared as instants, not as text: ``...09:30:00.5Z`` sorts before ``...09:30:00Z`` as
    text but is later. Values that are not ISO timestamps are ignored.

    Args:
        rows: records.
        current: the watermark so far.
    """
    best = current
    best_at = _parse_timestamp(current)
    for row in rows:
        value = row.get(_UPDATED)
        at = _parse_timestamp(value)
        if at is not None and (best_at is None or at > best_at):
            best, best_at = str(value), at
    return best


def _is_tombstone(row: Mapping[str, Any]) -> bool:
    return row.get(_DELETED) not in (None, "")


def _row_key(row: Mapping[str, Any]) -> str | None:
    key = row.get(_KEY)
    if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
        return None
    return str(key)


def _dumps(row: Mapping[str, Any]) -> str:
    # jsontext: a record nested deeper than json's recursion limit is still stored.
    return jsontext.dumps(row, ensure_ascii=False, separators=(",", ":"))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    """Text SQLite can store: each lone surrogate written as its JSON escape ``\\udXXX``.

    JSON may carry lone surrogates (``"\\ud800"`` is legal), and json.loads turns them into
    code points UTF-8 cannot encode, so binding such text fails with UnicodeEncodeError.
    The escape keeps the record exactly: in stored JSON it decodes back to the same code
    point, and in the key column it is a stable, unique spelling of the key. (Replacing
    them with U+FFFD here would make two keys one and change what the user had; the
    exports replace them, and count it, where a file format cannot carry them.)
    """
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _storable(values: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Bound values with every text made encodable (see :func:`_escape_surrogates`)."""
    return [
        tuple(_escape_surrogates(v) if isinstance(v, str) else v for v in row)
        for row in values
    ]


# The C scanner behind json.loads, called directly: json.loads spends a quarter of its time
# per call on type checks and two whitespace regex matches that compact JSON we wrote
# ourselves does not need (measured: 0.30 s instead of 0.39 s for 100k 650-byte rows).
# typeshed does not declare scan_once, which every JSONDecoder has had since Python 2.6.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _parse_rows(texts: Sequence[tuple[str]]) -> list[dict[str, Any]]:
    """Decode stored rows; a row that is not a JSON object is skipped, never a crash."""
    scan = _scan_json
    try:
        rows = [scan(text, 0)[0] for (text,) in texts]
    # The scanner raises StopIteration on junk, RecursionError on a very deep record.
    except (ValueError, TypeError, StopIteration, RecursionError):
        rows = []
        for (text,) in texts:
            try:
                rows.append(jsontext.loads(text))
            except (ValueError, TypeError):
                log.warning("Skipping an unreadable cached row")
    if not all(type(row) is dict for row in rows):
        rows = [row for row in rows if isinstance(row, dict)]
    return rows


def _error_code(exc: sqlite3.Error) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else 0


def _cache_error(exc: sqlite3.Error, doing: str, path: Path) -> CacheError:
    """A :class:`CacheError` with a message for the user, for a SQLite failure."""
    code = _error_code(exc)
    kept = "The data already in the offline cache is unchanged."
    if code == _SQLITE_FULL or "full" in str(exc).lower():
        return CacheError(f"The disk is full: {doing} failed. {kept}", reason="disk_full")
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
        return CacheError(
            f"The offline cache file {path} cannot be written: {doing} failed. {kept}",
            reason="read_only",
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return CacheError(
            f"The offline cache is busy (another makini-desktop window may be syncing): "
            f"{doing} failed. {kept}",
            reason="busy",
        )
    if code == _SQLITE_IOERR:
        return CacheError(f"A disk error stopped {doing}. {kept}", reason="io")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return CacheError(
            "The offline cache is damaged; it will be rebuilt the next time this "
            "connection is opened.",
            reason="corrupt",
        )
    return CacheError(f"The offline cache failed while {doing} ({exc}).", reason="other")


class _UnusableFileError(Exception):
    """The file at the path cannot serve as our cache and must be moved aside."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _split_sql(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            body = "\n".join(
                line for line in pending.splitlines() if not line.strip().startswith("--")
            ).strip()
            if body.strip(";").strip():
                statements.append(body)
            pending = ""
    return statements


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply every migration newer than ``version``, each in its own transaction."""
    for target, step in MIGRATIONS:
        if target <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if callable(step):
                step(conn)
            else:
                for statement in _split_sql(step):
                    conn.execute(statement)
            # user_version lives in the file header and is written by this same transaction.
            conn.execute(f"PRAGMA user_version = {int(target)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("Offline cache migrated to schema %d", target)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # explicit BEGIN/COMMIT: we decide what one transaction is
        check_same_thread=False,  # a worker thread may load; the Cache's lock serialises use
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _open_checked(path: Path) -> sqlite3.Connection:
    """Open, check, configure and migrate the file at ``path``.

    Raises:
        _UnusableFileError: the file must be moved aside.
        CacheError: an environmental problem (locked, read-only, disk full).
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        head = b""
    except IsADirectoryError as exc:
        raise CacheError(f"The offline cache path {path} is a folder.", reason="io") from exc
    except OSError as exc:
        raise CacheError(
            f"The offline cache file {path} cannot be read ({exc.strerror or exc}).",
            reason="read_only" if isinstance(exc, PermissionError) else "io",
        ) from exc
    if head and head != _SQLITE_MAGIC:
        raise _UnusableFileError("corrupt", "not a SQLite database")

    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise _cache_error(exc, "opening the offline cache", path) from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _UnusableFileError("newer", f"schema version {version} > {SCHEMA_VERSION}")
        check = conn.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise _UnusableFileError("corrupt", str(check[0][0]) if check else "quick_check failed")
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if mode.lower() != "wal":
            # Some network file systems cannot share memory: rollback journal still works.
            log.info("Offline cache uses journal mode %s", mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        _migrate(conn, version)
        # Staging left by a sync that never committed (crash, kill) is discarded here.
        _discard_staging(conn)
    except _UnusableFileError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        if _error_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB, _SQLITE_FORMAT, _SQLITE_ERROR):
            # SQLITE_ERROR here means content we did not write (a missing or clashing table).
            raise _UnusableFileError("corrupt", str(exc)) from exc
        raise _cache_error(exc, "opening the offline cache", path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _discard_staging(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("DELETE FROM staging")
    except sqlite3.OperationalError as exc:
        if _error_code(exc) not in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL, _SQLITE_READONLY):
            raise
        # Another process is writing, or the disk is full or read-only: the rows are still
        # readable, and the leftovers go at the next begin_snapshot instead.
        log.info("Offline cache staging not discarded on open (%s)", exc)


def _move_aside(path: Path, kind: str) -> Path:
    """Rename the file and its -wal/-shm to ``<name>.<kind>-<UTC time>``; return the new path.

    The -wal must go with it: left behind, SQLite would replay it into the new empty file.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{path.name}.{kind}-{stamp}"
    # Within one second, count on from the newest copy (never reuse a pruned name, which
    # would then sort as the oldest and be pruned at once).
    same_second = [_aside_age(p)[1] for p in _moved_aside(path) if _aside_age(p)[0] == stamp]
    counter = max(same_second, default=0) + 1
    target = path.with_name(base if counter == 1 else f"{base}-{counter}")
    while any(_side(target, s).exists() for s in ("", *_SIDE_FILES)):
        counter += 1
        target = path.with_name(f"{base}-{counter}")
    try:
        for suffix in _SIDE_FILES:
            side = _side(path, suffix)
            if side.exists():
                os.replace(side, _side(target, suffix))
        if path.exists():
            os.replace(path, target)
    except OSError as exc:
        raise CacheError(
            f"The offline cache file {path} is unusable and could not be set aside "
            f"({exc.strerror or exc}). Close other makini-desktop windows and try again.",
            reason="busy" if isinstance(exc, PermissionError) else "io",
        ) from exc
    for old in _moved_aside(path)[:-MOVED_ASIDE_KEEP]:
        for victim in (old, *(_side(old, s) for s in _SIDE_FILES)):
            with contextlib.suppress(OSError):
                victim.unlink(missing_ok=True)
    return target


def _recovery_message(kind: str, moved_to: Path) -> str:
    if kind == "newer":
        why = "was written by a newer version of makini-desktop"
    else:
        why = "was damaged"
    return (
        f"The offline cache {why}, so it was set aside as {moved_to.name} and an empty one "
        "was started; the next sync downloads the data again."
    )


# ---------------------------------------------------------------------------------------
# The cache


class Cache:
    """One connection's offline cache (one SQLite file). Create it with :meth:`open`.

    Attributes:
        path: the SQLite file.
        recovered: what :meth:`open` had to set aside, or None.
        read_only: opened for reading only (:meth:`open_readonly`, or a full disk or
            read-only folder found by :meth:`open`): writes raise :class:`CacheError`.
        problem: why :meth:`open` fell back to reading only, in words for the user.
    """

    delete_files = staticmethod(delete_files)

    def __init__(
        self, conn: sqlite3.Connection, path: Path, recovered: RecoveryInfo | None = None
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self.recovered = recovered
        self.read_only = False
        self.problem: str | None = None  # why it is read-only, for the user
        self._lock = threading.RLock()
        self._snapshots: dict[str, str] = {}  # dataset -> id of its current SnapshotWriter

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Cache:
        """Open (creating or migrating) the cache file at ``path``.

        A file that is not a database, is damaged, or has a newer schema is moved aside and
        an empty cache is returned with :attr:`recovered` set.

        Raises:
            CacheError: the file cannot be opened or created at all (read-only folder, in
                use by another process while it had to be moved aside, disk full).
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"The offline cache folder {path.parent} cannot be created "
                f"({exc.strerror or exc}).",
                reason="read_only",
            ) from exc
        recovered: RecoveryInfo | None = None
        try:
            conn = _open_checked(path)
        except CacheError as exc:
            if exc.reason not in ("read_only", "disk_full") or not path.is_file():
                raise
            # The rows are still readable: show them, and say that nothing new is kept.
            log.warning("Offline cache %s opened read-only: %s", path, exc)
            cache = cls.open_readonly(path)
            cache.problem = f"{exc.message} The cached data is shown, but nothing new is saved."
            return cache
        except _UnusableFileError as why:
            moved_to = _move_aside(path, why.kind)
            recovered = RecoveryInfo(why.kind, moved_to, _recovery_message(why.kind, moved_to))
            log.warning("Offline cache %s set aside as %s (%s)", path, moved_to, why.detail)
            try:
                conn = _open_checked(path)
            except _UnusableFileError as again:
                raise CacheError(
                    f"A new offline cache could not be created at {path} ({again.detail}).",
                    reason="io",
                ) from again
        return cls(conn, path, recovered)

    @classmethod
    def open_readonly(cls, path: Path) -> Cache:
        """Open an existing cache for reading only: no migration, no clean-up, no write.

        For readers beside a running app (``cache info``, ``export --offline``: opening for
        writing would discard the staging of a sync in progress), and for a cache that can
        no longer be written (a full disk, a read-only folder).

        Raises:
            CacheError: the file is missing, of another schema version, or unreadable.
        """
        path = Path(path)
        if not path.is_file():
            raise CacheError(f"There is no offline cache at {path}.", reason="io")
        conn: sqlite3.Connection | None = None
        try:
            for query in ("mode=ro", "immutable=1"):  # immutable: no -shm can be created
                try:
                    conn = sqlite3.connect(
                        f"{path.as_uri()}?{query}", uri=True, isolation_level=None,
                        timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                    )
                    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                    break
                except sqlite3.OperationalError:
                    if conn is not None:
                        conn.close()
                        conn = None
                    if query == "immutable=1":
                        raise
            assert conn is not None
            if version != SCHEMA_VERSION:
                conn.close()
                raise CacheError(
                    f"The offline cache {path.name} has schema version {version}; this "
                    f"version of the app reads {SCHEMA_VERSION}.",
                    reason="superseded" if version > SCHEMA_VERSION else "other",
                )
        except sqlite3.Error as exc:
            raise _cache_error(exc, "reading the offline cache", path) from exc
        cache = cls(conn, path)
        cache.read_only = True
        return cache

    @classmethod
    def open_for(cls, connection_key: str) -> Cache:
        """Open the cache of a connection: ``Cache.open(cache_path_for(connection_key))``."""
        return cls.open(cache_path_for(connection_key))

    def close(self) -> None:
        """Close the file. Further use raises :class:`CacheError`; closing twice is fine."""
        with self._lock:
            conn, self._conn = self._conn, None
            self._snapshots.clear()
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._conn is None

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Cache {self.path.name}{' closed' if self.closed else ''}>"

    # -- plumbing ----------------------------------------------------------------------------

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CacheError("The offline cache is closed.", reason="closed")
        return self._conn

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls back and becomes a CacheError."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _cache_error(exc, doing, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _cache_error(exc, doing, self.path) from exc
                raise

    @contextlib.contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One read transaction, so rows and their timestamps come from the same commit."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _cache_error(exc, doing, self.path) from exc

    @staticmethod
    def _update_meta(
        conn: sqlite3.Connection,
        dataset: str,
        *,
        full: bool,
        synced_at: str,
        watermark: str | None,
        server_total: int | None,
    ) -> int:
        count = int(
            conn.execute("SELECT count(*) FROM rows WHERE dataset = ?", (dataset,)).fetchone()[0]
        )
        conn.execute(
            "INSERT INTO datasets (dataset, last_full_sync, last_sync, watermark, server_total,"
            " row_count) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dataset) DO UPDATE SET"
            "  last_full_sync = CASE WHEN ? THEN excluded.last_full_sync ELSE last_full_sync END,"
            "  last_sync = excluded.last_sync,"
            "  watermark = CASE WHEN ? THEN excluded.watermark"
            "                   ELSE coalesce(excluded.watermark, watermark) END,"
            "  server_total = CASE WHEN ? THEN excluded.server_total"
            "                      ELSE coalesce(excluded.server_total, server_total) END,"
            "  row_count = excluded.row_count",
            (
                dataset,
                synced_at if full else None,
                synced_at,
                watermark,
                server_total,
                count,
                full,
                full,
                full,
            ),
        )
        return count

    # -- reading -----------------------------------------------------------------------------

    def load(self, dataset: str) -> CachedList:
        """Every cached row of a dataset, in stored order, with its freshness.

        A dataset never synced gives no rows and None timestamps.

        Raises:
            CacheError: the file cannot be read.
        """
        with self._read(f"reading the cached {dataset}") as conn:
            meta = conn.execute(
                "SELECT last_full_sync, last_sync, watermark, server_total"
                " FROM datasets WHERE dataset = ?",
                (dataset,),
            ).fetchone()
            texts = conn.execute(
                "SELECT data FROM rows WHERE dataset = ? ORDER BY ord", (dataset,)
            ).fetchall()
        # Decoding happens outside the lock: it is most of the time and touches no SQLite.
        rows = _parse_rows(texts)
        if meta is None:
            return CachedList(rows, None, None, None, None)
        full, last, watermark, total = meta
        return CachedList(
            rows=rows,
            last_full_sync=_parse_timestamp(full),
            last_sync=_parse_timestamp(last),
            watermark=watermark if isinstance(watermark, str) else None,
            server_total=total if isinstance(total, int) else None,
        )

    def iter_load(self, dataset: str, chunk: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """The cached rows of a dataset in stored order, ``chunk`` rows at a time.

        The first chunk arrives after decoding only ``chunk`` rows, so a table can paint
        before the rest is parsed. The iteration reads through its own connection in one
        read transaction: it sees one consistent snapshot even if a sync commits meanwhile,
        and holds no lock between chunks. Use :meth:`dataset_info` for the timestamps.

        Raises:
            ValueError: ``chunk`` is less than 1.
            CacheError: the cache is closed or the file cannot be read (also raised from
                the iteration itself).
        """
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self._require()
        return self._iter_rows(self.path, dataset, chunk)

    @staticmethod
    def _iter_rows(path: Path, dataset: str, chunk: int) -> Iterator[list[dict[str, Any]]]:
        doing = f"reading the cached {dataset}"
        try:
            conn = _connect(path)
        except sqlite3.Error as exc:
            raise _cache_error(exc, doing, path) from exc
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            cursor = conn.execute(
                "SELECT data FROM rows WHERE dataset = ? ORDER BY ord", (dataset,)
            )
            while True:
                texts = cursor.fetchmany(chunk)
                if not texts:
                    break
                yield _parse_rows(texts)
        except sqlite3.Error as exc:
            raise _cache_error(exc, doing, path) from exc
        finally:
            # Also runs when the consumer stops early (generator close): ends the read.
            conn.close()

    def info(self) -> list[DatasetInfo]:
        """A summary of every dataset in the cache, by name."""
        with self._read("reading the offline cache summary") as conn:
            rows = conn.execute(
                "SELECT dataset, row_count, last_sync, last_full_sync, watermark, server_total"
                " FROM datasets ORDER BY dataset"
            ).fetchall()
        return [self._info(row) for row in rows]

    def dataset_info(self, dataset: str) -> DatasetInfo | None:
        """The summary of one dataset, or None if it was never synced."""
        with self._read("reading the offline cache summary") as conn:
            row = conn.execute(
                "SELECT dataset, row_count, last_sync, last_full_sync, watermark, server_total"
                " FROM datasets WHERE dataset = ?",
                (dataset,),
            ).fetchone()
        return self._info(row) if row is not None else None

    @staticmethod
    def _info(row: tuple[Any, ...]) -> DatasetInfo:
        dataset, count, last, full, watermark, total = row
        return DatasetInfo(
            dataset=str(dataset),
            row_count=int(count or 0),
            last_sync=_parse_timestamp(last),
            last_full_sync=_parse_timestamp(full),
            watermark=watermark if isinstance(watermark, str) else None,
            server_total=total if isinstance(total, int) else None,
        )

    # -- writing -----------------------------------------------------------------------------

    def begin_snapshot(self, dataset: str) -> SnapshotWriter:
        """Start replacing a dataset's rows with a full snapshot.

        Staging left by an earlier writer for this dataset (aborted, crashed, or still
        running and now superseded) is discarded first.

        Raises:
            CacheError: the staging area cannot be cleared (disk, lock).
        """
        snapshot_id = uuid.uuid4().hex
        with self._transaction(f"starting to save the synced {dataset}") as conn:
            conn.execute("DELETE FROM staging WHERE dataset = ?", (dataset,))
            self._snapshots[dataset] = snapshot_id
        return SnapshotWriter(self, dataset, snapshot_id)

    def apply_changes(
        self,
        dataset: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        watermark: str | None,
        synced_at: datetime,
        server_total: int | None,
    ) -> int:
        """Apply an incremental sync's changes in one transaction.

        Rows with a non-null ``deletedAt`` are tombstones: the cached row with that key is
        deleted. Other rows replace the cached row with the same key in place, or are
        appended after the existing rows, in the order given. ``last_sync`` is set,
        ``last_full_sync`` is not.

        Args:
            dataset: the dataset name.
            rows: changed records as received (tombstones included).
            watermark: the new watermark; None keeps the stored one.
            synced_at: when the changes were fetched (timezone-aware).
            server_total: the dataset's total on the server if known; None keeps the stored
                one (an incremental response's total counts the changes, not the dataset).

        Returns:
            The dataset's row count afterwards.

        Raises:
            CacheError: the change could not be written; the cache is as before.
            ValueError: ``synced_at`` is naive.
        """
        synced = _timestamp(synced_at)
        upserts: list[tuple[str, str, str | None, str]] = []
        deletes: list[tuple[str, str]] = []
        plan: list[tuple[bool, int]] = []  # (is_delete, index) keeps the original order
        skipped = 0
        for row in rows:
            key = _row_key(row)
            if key is None:
                skipped += 1
                continue
            if _is_tombstone(row):
                plan.append((True, len(deletes)))
                deletes.append((dataset, key))
            else:
                updated = row.get(_UPDATED)
                plan.append((False, len(upserts)))
                upserts.append(
                    (dataset, key, updated if isinstance(updated, str) else None, _dumps(row))
                )
        if skipped:
            log.warning("Ignored %d %s change(s) without a key", skipped, dataset)
        def apply(
            upserts: Sequence[tuple[Any, ...]], deletes: Sequence[tuple[Any, ...]]
        ) -> int:
            with self._transaction(f"saving the changes to {dataset}") as conn:
                for is_delete, index in plan:
                    if is_delete:
                        conn.execute(
                            "DELETE FROM rows WHERE dataset = ? AND key = ?", deletes[index]
                        )
                    else:
                        conn.execute(_UPSERT_ROW, upserts[index])
                return self._update_meta(
                    conn,
                    dataset,
                    full=False,
                    synced_at=synced,
                    watermark=watermark,
                    server_total=server_total,
                )

        try:
            return apply(upserts, deletes)
        except UnicodeEncodeError:  # lone surrogates: rolled back, apply escaped
            return apply(_storable(upserts), _storable(deletes))

    def clear(self) -> None:
        """Delete every cached row and timestamp, then give the space back to the disk.

        Raises:
            CacheError: the cache could not be cleared; it is as before.
        """
        with self._transaction("clearing the offline cache") as conn:
            conn.execute("DELETE FROM rows")
            conn.execute("DELETE FROM datasets")
            conn.execute("DELETE FROM staging")
            self._snapshots.clear()
        with self._lock:
            conn = self._require()
            try:
                conn.execute("VACUUM")
            except sqlite3.Error as exc:  # the data is gone already; shrinking is a bonus
                log.info("VACUUM after clearing the cache failed: %s", exc)


# Later copy wins (a record that moved between pages during a sync was fetched again, later);
# the position of the first copy is kept.
_UPSERT_ROW = (
    "INSERT INTO rows (dataset, key, updated_at, data) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (dataset, key) DO UPDATE SET"
    " updated_at = excluded.updated_at, data = excluded.data"
)


class SnapshotWriter:
    """Stages a full snapshot of one dataset, page by page, and swaps it in atomically.

    Create with :meth:`Cache.begin_snapshot`. Usable as a context manager: leaving the block
    without :meth:`commit` aborts.

    Attributes:
        dataset: the dataset being replaced.
        staged: rows staged so far.
        max_updated_at: the largest ``updatedAt`` staged so far (the natural watermark).
    """

    def __init__(self, cache: Cache, dataset: str, snapshot_id: str) -> None:
        self._cache = cache
        self.dataset = dataset
        self._id = snapshot_id
        self._done = False
        self.staged = 0
        self.max_updated_at: str | None = None

    @property
    def done(self) -> bool:
        """True after :meth:`commit` or :meth:`abort`."""
        return self._done

    def _check(self) -> None:
        if self._done:
            raise CacheError("This snapshot was already committed or aborted.", reason="closed")
        if self._cache._snapshots.get(self.dataset) != self._id:
            self._done = True
            raise CacheError(
                f"A newer sync of {self.dataset} replaced this one.", reason="superseded"
            )

    def add(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Stage one page of rows, in its own transaction.

        Rows without a ``key`` and tombstones (non-null ``deletedAt``) are not staged.

        Returns:
            How many of the rows were staged.

        Raises:
            CacheError: the page could not be written (the previous snapshot is untouched),
                or this writer was committed, aborted or superseded.
        """
        values: list[tuple[str, str, str, str | None, str]] = []
        for row in rows:
            key = _row_key(row)
            if key is None or _is_tombstone(row):
                continue
            updated = row.get(_UPDATED)
            values.append(
                (
                    self._id,
                    self.dataset,
                    key,
                    updated if isinstance(updated, str) else None,
                    _dumps(row),
                )
            )
        if len(values) != len(rows):
            log.info("Did not stage %d %s row(s)", len(rows) - len(values), self.dataset)
        with self._cache._lock:
            self._check()
            if values:
                try:
                    self._stage(values)
                except UnicodeEncodeError:  # lone surrogates: rolled back, stage escaped
                    self._stage(_storable(values))
        self.staged += len(values)
        self.max_updated_at = max_updated_at(rows, self.max_updated_at)
        return len(values)

    def _stage(self, values: Sequence[tuple[Any, ...]]) -> None:
        with self._cache._transaction(f"saving the synced {self.dataset}") as conn:
            conn.executemany(
                "INSERT INTO staging (snapshot, dataset, key, updated_at, data)"
                " VALUES (?, ?, ?, ?, ?)",
                values,
            )

    def commit(
        self, *, server_total: int | None, watermark: str | None, synced_at: datetime
    ) -> int:
        """Replace the dataset's rows with the staged ones, in ONE transaction.

        Sets ``last_full_sync`` and ``last_sync`` to ``synced_at``, and the watermark and
        server total to the values given (None stores None).

        Returns:
            The dataset's row count afterwards.

        Raises:
            CacheError: the swap could not be written; the previous snapshot and its
                timestamps are unchanged and the staging is discarded.
            ValueError: ``synced_at`` is naive.
        """
        synced = _timestamp(synced_at)
        doing = f"saving the synced {self.dataset}"
        with self._cache._lock:
            self._check()
            try:
                with self._cache._transaction(doing) as conn:
                    # Another process on the same file (a second app window opening it, or
                    # starting its own sync of this dataset) discards our staging. Swapping
                    # in what is left would replace the dataset with a partial or empty one.
                    present = conn.execute(
                        "SELECT count(*) FROM staging WHERE snapshot = ?", (self._id,)
                    ).fetchone()[0]
                    if present != self.staged:
                        raise CacheError(
                            f"Another makini-desktop window discarded this sync of "
                            f"{self.dataset}; the cached data is unchanged.",
                            reason="superseded",
                        )
                    conn.execute("DELETE FROM rows WHERE dataset = ?", (self.dataset,))
                    # Rowids are handed out in SELECT order: the server's order is kept.
                    conn.execute(
                        "INSERT INTO rows (dataset, key, updated_at, data)"
                        " SELECT dataset, key, updated_at, data FROM staging"
                        " WHERE snapshot = ? ORDER BY seq"
                        " ON CONFLICT (dataset, key) DO UPDATE SET"
                        " updated_at = excluded.updated_at, data = excluded.data",
                        (self._id,),
                    )
                    conn.execute("DELETE FROM staging WHERE snapshot = ?", (self._id,))
                    count = self._cache._update_meta(
                        conn,
                        self.dataset,
                        full=True,
                        synced_at=synced,
                        watermark=watermark,
                        server_total=server_total,
                    )
            except CacheError:
                self._discard()
                raise
            self._finish()
        log.info("Saved a snapshot of %d %s row(s)", count, self.dataset)
        return count

    def abort(self) -> None:
        """Discard the staged rows; the cached snapshot stays as it was. Safe to repeat."""
        with self._cache._lock:
            if self._done:
                return
            self._discard()

    def _finish(self) -> None:
        self._done = True
        if self._cache._snapshots.get(self.dataset) == self._id:
            del self._cache._snapshots[self.dataset]

    def _discard(self) -> None:
        self._finish()
        if self._cache.closed:
            return
        try:
            with self._cache._transaction(f"discarding the unsaved {self.dataset}") as conn:
                conn.execute("DELETE FROM staging WHERE snapshot = ?", (self._id,))
        except CacheError as exc:
            # Harmless: leftover staging is discarded on the next begin_snapshot or open.
            log.info("Could not discard staging for %s: %s", self.dataset, exc.reason)

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.abort()

"""Where an offline cache file lives and how it is opened, checked, set aside or deleted.

* **Where.** One SQLite file per connection in :func:`~makini_desktop.store.paths.cache_dir`,
  named from the connection's key (:func:`cache_path_for`, :func:`adhoc_key`,
  :func:`profile_cache_key`).
* **No crash on a bad file.** A file that is not SQLite, fails ``PRAGMA quick_check`` or was
  written by a newer schema is moved aside (``<name>.corrupt-<UTC time>`` or
  ``<name>.newer-<UTC time>``, with its ``-wal``/``-shm``) and replaced by an empty cache;
  :attr:`OpenedFile.recovered` says what happened in a sentence for the user. Only the
  newest :data:`MOVED_ASIDE_KEEP` such copies are kept.
* **Checked once per clean close.** ``PRAGMA quick_check`` reads the whole file (a few
  hundred milliseconds for a large portfolio, before the first cached row can show). A
  cache closed cleanly by this app leaves a stamp beside it (``<name>-checked``: the file's
  device, inode, size and modification and change times, :func:`note_clean_close`); the
  next open skips the check when the file is exactly as stamped and no ``-wal`` is left.
  A file written, copied, truncated or touched since (a crash, another program, a damaged
  copy) no longer matches and is checked. The stamp is used up by the open that reads it.
* **Read-only fallback.** A file that can no longer be written (a full disk, a read-only
  folder) is opened for reading only, with a sentence saying nothing new is saved.

:class:`~makini_desktop.store.cache.Cache` opens its file through :func:`open_file` and
:func:`open_readonly_file`; deleting a connection deletes its files with
:func:`delete_connection_caches`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from makini_desktop.api.urls import validate_base_url
from makini_desktop.store import paths, schema
from makini_desktop.store.cache_errors import (
    SQLITE_BUSY,
    SQLITE_CORRUPT,
    SQLITE_ERROR,
    SQLITE_FORMAT,
    SQLITE_FULL,
    SQLITE_LOCKED,
    SQLITE_NOTADB,
    SQLITE_READONLY,
    CacheError,
    cache_error,
    sqlite_error_code,
)

__all__ = [
    "FILE_SUFFIX",
    "MOVED_ASIDE_KEEP",
    "OpenedFile",
    "RecoveryInfo",
    "adhoc_key",
    "cache_path_for",
    "connect",
    "connection_cache_paths",
    "delete_connection_caches",
    "delete_files",
    "note_clean_close",
    "open_file",
    "open_readonly_file",
    "profile_cache_key",
]

log = logging.getLogger(__name__)

FILE_SUFFIX = ".sqlite3"
BUSY_TIMEOUT_MS = 5000
# A snapshot swap of 100k rows makes the WAL grow to ~2x the dataset; without a limit the
# file keeps that size forever after the checkpoint.
JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024
MOVED_ASIDE_KEEP = 3
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm", "-checked")
_STAMP = "-checked"
_VERIFIED: set[Path] = set()
"""Files opened (and checked, or found as stamped) by :func:`open_file` in this process:
only their clean close is stamped."""


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
class OpenedFile:
    """An open cache file and what opening it found.

    Attributes:
        conn: the SQLite connection (autocommit: the cache runs its own transactions).
        path: the file.
        recovered: what had to be set aside, or None.
        read_only: writes are refused (opened for reading, or found unwritable).
        problem: why it fell back to reading only, in words for the user.
    """

    conn: sqlite3.Connection
    path: Path
    recovered: RecoveryInfo | None = None
    read_only: bool = False
    problem: str | None = None


# ---------------------------------------------------------------------------------------
# Where the file lives


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
# Opening


class _UnusableFileError(Exception):
    """The file at the path cannot serve as our cache and must be moved aside."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the file in autocommit mode, usable from a worker thread."""
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

    unchanged = bool(head) and _closed_cleanly(path)  # read before SQLite opens a -wal
    try:
        conn = connect(path)
    except sqlite3.Error as exc:
        raise cache_error(exc, "opening the offline cache", path) from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > schema.SCHEMA_VERSION:
            raise _UnusableFileError(
                "newer", f"schema version {version} > {schema.SCHEMA_VERSION}"
            )
        if not unchanged:
            check = quick_check(conn)
            if check != [("ok",)]:
                raise _UnusableFileError(
                    "corrupt", str(check[0][0]) if check else "quick_check failed"
                )
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if mode.lower() != "wal":
            # Some network file systems cannot share memory: rollback journal still works.
            log.info("Offline cache uses journal mode %s", mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        schema.migrate(conn, version)
        # Staging left by a sync that never committed (crash, kill) is discarded here.
        _discard_staging(conn)
        _VERIFIED.add(path.absolute())
    except _UnusableFileError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        if sqlite_error_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_FORMAT, SQLITE_ERROR):
            # SQLITE_ERROR here means content we did not write (a missing or clashing table).
            raise _UnusableFileError("corrupt", str(exc)) from exc
        raise cache_error(exc, "opening the offline cache", path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def quick_check(conn: sqlite3.Connection) -> list[tuple[str]]:
    """``PRAGMA quick_check``: ``[("ok",)]`` for a sound file (reads every page)."""
    return conn.execute("PRAGMA quick_check").fetchall()


def _file_state(path: Path) -> str | None:
    """What a stamp holds: the file's device, inode, size, mtime and ctime (ns); None when
    it cannot be read. Writing, truncating, copying or touching the file changes it (the
    change time follows even a modification time set back by hand)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def _closed_cleanly(path: Path) -> bool:
    """True when this app closed ``path`` cleanly and nothing touched it since (its stamp
    matches and no ``-wal`` is left); the stamp is used up either way."""
    stamp = _side(path, _STAMP)
    try:
        text = stamp.read_text(encoding="ascii")
    except (OSError, ValueError):
        return False
    with contextlib.suppress(OSError):
        stamp.unlink()
    state = _file_state(path)
    return state is not None and text.strip() == state and not _side(path, "-wal").exists()


def note_clean_close(path: Path) -> None:
    """Stamp a file just closed (see the module's "Checked once per clean close"): when
    its ``-wal`` is gone, every connection is closed and the file is whole on disk.
    Best effort: a stamp that cannot be written only means the next open checks. Only a
    file :func:`open_file` checked in this process is stamped."""
    if Path(path).absolute() not in _VERIFIED or _side(path, "-wal").exists():
        return  # another connection (a reader, another window) still has it open
    state = _file_state(path)
    if state is None:
        return
    stamp = _side(path, _STAMP)
    temp = _side(path, _STAMP + ".tmp")
    with contextlib.suppress(OSError):
        temp.write_text(state, encoding="ascii")
        os.replace(temp, stamp)


def _discard_staging(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("DELETE FROM staging")
    except sqlite3.OperationalError as exc:
        if sqlite_error_code(exc) not in (SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_READONLY):
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


def open_file(path: Path) -> OpenedFile:
    """Open (creating or migrating) the cache file at ``path``.

    A file that is not a database, is damaged, or has a newer schema is moved aside and an
    empty one is opened, with :attr:`OpenedFile.recovered` set. A file that cannot be
    written is opened for reading only, with :attr:`OpenedFile.problem` set.

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
        opened = open_readonly_file(path)
        opened.problem = f"{exc.message} The cached data is shown, but nothing new is saved."
        return opened
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
    return OpenedFile(conn, path, recovered)


def open_readonly_file(path: Path) -> OpenedFile:
    """Open an existing cache for reading only: no migration, no clean-up, no write.

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
        # An older schema is read as it is (every migration only adds: the rows of a
        # version-1 file read the same); a newer or unknown one is not guessed at.
        if not 1 <= version <= schema.SCHEMA_VERSION:
            conn.close()
            raise CacheError(
                f"The offline cache {path.name} has schema version {version}; this "
                f"version of the app reads {schema.SCHEMA_VERSION}.",
                reason="superseded" if version > schema.SCHEMA_VERSION else "other",
            )
    except sqlite3.Error as exc:
        raise cache_error(exc, "reading the offline cache", path) from exc
    return OpenedFile(conn, path, read_only=True)

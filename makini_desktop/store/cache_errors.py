"""How the offline cache fails: :class:`CacheError`, and SQLite failures turned into it.

Disk full, read-only files, locks and I/O errors are environmental: they become a
:class:`CacheError` with a message for the user that says the data already cached is
unchanged. Everything under ``store/`` that touches SQLite reports through here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["CacheError", "cache_error", "sqlite_error_code"]

# Primary SQLite result codes (extended codes carry them in the low byte).
SQLITE_ERROR = 1
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_FORMAT = 24
SQLITE_NOTADB = 26


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


def sqlite_error_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of a failure (0 when sqlite3 does not say)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else 0


def cache_error(exc: sqlite3.Error, doing: str, path: Path) -> CacheError:
    """A :class:`CacheError` with a message for the user, for a SQLite failure."""
    code = sqlite_error_code(exc)
    kept = "The data already in the offline cache is unchanged."
    if code == SQLITE_FULL or "full" in str(exc).lower():
        return CacheError(f"The disk is full: {doing} failed. {kept}", reason="disk_full")
    if code in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN):
        return CacheError(
            f"The offline cache file {path} cannot be written: {doing} failed. {kept}",
            reason="read_only",
        )
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return CacheError(
            f"The offline cache is busy (another makini-desktop window may be syncing): "
            f"{doing} failed. {kept}",
            reason="busy",
        )
    if code == SQLITE_IOERR:
        return CacheError(f"A disk error stopped {doing}. {kept}", reason="io")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return CacheError(
            "The offline cache is damaged; it will be rebuilt the next time this "
            "connection is opened.",
            reason="corrupt",
        )
    return CacheError(f"The offline cache failed while {doing} ({exc}).", reason="other")


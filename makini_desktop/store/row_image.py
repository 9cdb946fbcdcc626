"""A dataset's rows as Python last read them, kept beside their JSON for the next start.

Decoding the cached JSON is most of a start from the cache: 100k assets take 0.6 s of
the interpreter's lock to scan and share, while Python's own object format (``marshal``)
gives the same rows back in a quarter of that. So a whole read of a dataset's JSON also
writes the decoded rows, in pieces, to ``row_images``; the next read of the unchanged
dataset takes the pieces instead. The JSON stays the record: an image is only ever a
faster way to the same rows.

The promises:

* **Never stale.** Triggers on ``rows`` (schema 3) delete a dataset's image in the same
  transaction as any change to its rows, whoever writes them (a sync, a confirmed change,
  clearing the cache). An image is written only when the rows did not change between the
  start of the read it comes from and its last piece: the read first leaves a
  placeholder (piece :data:`BUILDING`), which any change deletes with the rest, and the
  image is declared whole (its header, piece :data:`HEADER`) only if the placeholder is
  still there.
* **Never trusted blindly.** A header names the format (this interpreter's ``marshal``
  version and cache tag: another Python reads the JSON and writes its own) and the row
  count; each piece carries its CRC-32. A piece whose checksum, format or content is not
  right (not a list of JSON-like objects) ends the image: the read goes on from the JSON
  at that row, and the image is dropped. ``marshal`` executes nothing it reads; the
  checksum keeps a damaged file's bytes from reaching it.
* **Best effort.** Writing an image never fails a read: a locked or full disk only means
  no image this time (logged).

Pieces are written by one worker thread (:class:`ImageWriter`) through a connection of its
own, so the reader's thread only pays for ``marshal.dumps`` (about 1 ms per 1,000 rows).
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import queue
import secrets
import sqlite3
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

__all__ = [
    "BUILDING",
    "FORMAT",
    "HEADER",
    "ImageWriter",
    "connector",
    "dump_piece",
    "image_rows",
    "load_piece",
    "read_header",
    "rechunk",
]

log = logging.getLogger(__name__)

FORMAT: Final = f"marshal{marshal.version}-{sys.implementation.cache_tag}"
"""The format of the pieces this interpreter writes and reads."""
HEADER: Final = -1
"""The piece number of an image's header: present only when the image is whole."""
BUILDING: Final = -2
"""The piece number of the placeholder a read leaves while it writes an image."""

Row = dict[str, Any]


def dump_piece(rows: list[Row]) -> tuple[bytes, int]:
    """A piece of rows in the image format, and its CRC-32."""
    blob = marshal.dumps(rows)
    return blob, zlib.crc32(blob)


def load_piece(blob: Any, crc: Any, count: Any) -> list[Row] | None:
    """The rows of a stored piece, or None when it is not exactly what was written:
    ``count`` rows, each a dict, bytes whose CRC-32 is ``crc``."""
    if not isinstance(blob, bytes) or zlib.crc32(blob) != crc:
        return None
    try:
        rows = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    if type(rows) is not list or len(rows) != count or not all(
        type(row) is dict for row in rows
    ):
        return None
    return rows


def read_header(conn: sqlite3.Connection, dataset: str) -> int | None:
    """The row count of the dataset's whole image in this format, or None (no image, or
    one another interpreter wrote)."""
    found = conn.execute(
        "SELECT rows FROM row_images WHERE dataset = ? AND piece = ? AND fmt = ?",
        (dataset, HEADER, FORMAT),
    ).fetchone()
    return int(found[0]) if found is not None and isinstance(found[0], int) else None


class ImageWriter:
    """Writes images in a worker thread, a queue of small transactions.

    Args:
        connect: opens a connection to the cache file (called in the worker thread).
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def begin(self, conn: sqlite3.Connection, dataset: str) -> int | None:
        """Leave the placeholder of a new image of ``dataset``, on the reader's connection
        and before its read begins (so a change after this point drops the image).

        Returns:
            The read's token (its pieces are kept only while its placeholder is there:
            another read of the same dataset replaces it), or None when the file is busy
            or cannot be written: no image this time.
        """
        token = secrets.randbits(31)
        try:
            conn.execute("PRAGMA busy_timeout = 0")  # never wait here: this is a read
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM row_images WHERE dataset = ?", (dataset,))
                conn.execute(
                    "INSERT INTO row_images (dataset, piece, rows, crc, fmt, blob)"
                    " VALUES (?, ?, 0, ?, ?, NULL)", (dataset, BUILDING, token, FORMAT))
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.info("no row image of %s this time: %s", dataset, exc)
            return None
        return token

    def piece(self, dataset: str, token: int, start: int, rows: list[Row]) -> None:
        """Queue the piece of rows from row ``start`` on (dumped here, in the caller's
        thread) for the read of ``token``."""
        blob, crc = dump_piece(rows)
        self._put(("piece", dataset, token, start, len(rows), crc, blob))

    def finish(self, dataset: str, token: int, total: int) -> None:
        """Queue the header: the image holds ``total`` rows, if nothing changed meanwhile."""
        self._put(("finish", dataset, token, total))

    def abandon(self, dataset: str, token: int) -> None:
        """Queue the removal of an image left unfinished (the read stopped early)."""
        self._put(("abandon", dataset, token))

    def drop(self, dataset: str) -> None:
        """Queue the removal of a dataset's image (a piece of it was damaged)."""
        self._put(("drop", dataset, None))

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (at most ``timeout`` seconds), then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)

    def _put(self, job: tuple[Any, ...]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="makini-row-images", daemon=True)
                self._thread.start()
            self._jobs.put(job)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while (job := self._jobs.get()) is not None:
                kind, dataset = job[0], job[1]
                try:
                    if conn is None:
                        conn = self._connect()
                    self._do(conn, kind, dataset, job[2:])
                except sqlite3.Error as exc:
                    # A lost piece leaves a gap: the image is never declared whole.
                    log.info("row image of %s not written: %s", dataset, exc)
        finally:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    @staticmethod
    def _do(
        conn: sqlite3.Connection, kind: str, dataset: str, args: tuple[Any, ...]
    ) -> None:
        token = args[0]
        if kind == "piece":
            start, count, crc, blob = args[1:]
            # Only beside its read's placeholder: a change since the read began deleted it,
            # and another read of the dataset replaced it.
            conn.execute(
                "INSERT OR REPLACE INTO row_images (dataset, piece, rows, crc, fmt, blob)"
                " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM row_images"
                " WHERE dataset = ? AND piece = ? AND crc = ?)",
                (dataset, start, count, crc, FORMAT, blob, dataset, BUILDING, token))
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            mine = token is None or conn.execute(
                "SELECT 1 FROM row_images WHERE dataset = ? AND piece = ? AND crc = ?",
                (dataset, BUILDING, token)).fetchone() is not None
            if not mine:  # changed meanwhile (nothing is left), or another read's image
                return
            if kind == "finish" and _whole(conn, dataset, args[1]):
                conn.execute("DELETE FROM row_images WHERE dataset = ? AND piece = ?",
                             (dataset, BUILDING))
                conn.execute(
                    "INSERT INTO row_images (dataset, piece, rows, crc, fmt, blob)"
                    " VALUES (?, ?, ?, 0, ?, NULL)", (dataset, HEADER, args[1], FORMAT))
            else:
                conn.execute("DELETE FROM row_images WHERE dataset = ?", (dataset,))
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:  # failed, or nothing to do
                conn.execute("ROLLBACK")


def _whole(conn: sqlite3.Connection, dataset: str, total: int) -> bool:
    """True when the stored pieces follow each other from row 0 to row ``total``."""
    at = 0
    for start, count in conn.execute(
        "SELECT piece, rows FROM row_images WHERE dataset = ? AND piece >= 0 ORDER BY piece",
        (dataset,),
    ):
        if start != at:
            return False
        at += count
    return at == total


def image_rows(conn: sqlite3.Connection, dataset: str, total: int) -> Iterator[list[Row]]:
    """The rows of the dataset's image, piece by piece, in order, up to the first piece
    that is not right (a gap, another format, a damaged or short piece) or to ``total``
    rows (read in the caller's transaction)."""
    at = 0
    pieces = conn.execute(
        "SELECT piece, rows, crc, fmt, blob FROM row_images"
        " WHERE dataset = ? AND piece >= 0 ORDER BY piece", (dataset,))
    for start, count, crc, fmt, blob in pieces:
        if start != at or fmt != FORMAT or at + count > total:
            return
        rows = load_piece(blob, crc, count)
        if rows is None:
            return
        at += count
        yield rows


def rechunk(pieces: Iterator[list[Row]], first: int, chunk: int) -> Iterator[list[Row]]:
    """The rows of ``pieces`` again, ``first`` rows, then ``chunk`` at a time (the last
    chunk shorter)."""
    size, pending = first, list[Row]()
    for rows in pieces:
        pending += rows
        while len(pending) >= size:
            yield pending[:size]
            del pending[:size]
            size = chunk
    if pending:
        yield pending


def connector(path: Path) -> Callable[[], sqlite3.Connection]:
    """What :class:`ImageWriter` calls to open its connection to the cache at ``path``."""
    from makini_desktop.store import cache_files

    return lambda: cache_files.connect(path)

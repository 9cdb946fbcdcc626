"""A dataset's rows as Python last read them, kept beside their JSON for the next start.

Decoding the cached JSON is most of a start from the cache: 100k assets take 0.6 s of
the interpreter's lock to scan and share, while Python's own object format (``marshal``)
gives the same rows back in a quarter of that. So a whole read of a dataset's JSON also
writes the decoded rows, in pieces, to ``row_images``; the next read of the unchanged
dataset takes the pieces instead. The JSON stays the record: an image is only ever a
faster way to the same rows.

The promises:

* **Never stale.** Triggers on ``rows`` (schema 3) count every change to a dataset's rows,
  whoever writes them (a sync, a confirmed change, clearing the cache), in
  ``row_generations``. A read notes the dataset's generation in its own read transaction;
  the image it writes is declared whole (its header, piece :data:`HEADER`) only if the
  generation is still that one, and a header is read only with the generation it names.
  The reader writes nothing: its thread never waits for the file's write lock.
* **Never trusted blindly.** A header names the format (this interpreter's ``marshal``
  version and cache tag: another Python reads the JSON and writes its own) and the row
  count; each piece carries its CRC-32. A piece whose checksum, format or content is not
  right (not a list of dicts) ends the image: the read goes on from the JSON at that row,
  and the image is dropped. ``marshal`` executes nothing it reads; the checksum keeps a
  damaged file's bytes from reaching it.
* **Best effort.** Writing an image never fails a read: a locked or full disk only means
  no image this time (logged).

Beside an image's rows, a table may keep the order it sorted them into and their sort keys
(:class:`ImageRead`, :meth:`ImageWriter.index`): one piece per view, in the image's build,
so it goes when the image goes. The next start of the unchanged dataset takes them instead
of computing 100k keys and sorting them. The table checks what it takes (every row once,
the keys of a sample of rows as it computes them, the order by the keys) and computes
what does not fit.

Each read that writes an image has a build number of its own, so two reads of the same
dataset at once never mix their pieces. Pieces are written by one worker thread
(:class:`ImageWriter`) through a connection of its own, so the reader's thread only pays
for ``marshal.dumps`` (about 1 ms per 1,000 rows).
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
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from makini_desktop import __version__
from makini_desktop.store import records

__all__ = [
    "FORMAT",
    "HEADER",
    "NONE",
    "ImageRead",
    "ImageState",
    "ImageWriter",
    "connector",
    "dump_piece",
    "image_rows",
    "load_piece",
    "read_header",
    "read_state",
    "read_rows",
    "rechunk",
    "usable",
]

log = logging.getLogger(__name__)

ROWS_VERSION: Final = 1
"""What decoding a stored record gives (``records.decode_rows``): raise it when that
changes, so no image of the old rows is read."""
FORMAT: Final = (f"marshal{marshal.version}-{sys.implementation.cache_tag}"
                 f"-app{__version__}-rows{ROWS_VERSION}")
"""The format of the pieces this interpreter and app write and read: an image another
Python or another version of the app wrote is not read (its JSON is, and the image is
written again)."""
MAX_QUEUED_BYTES: Final = 64 * 1024 * 1024
"""Pieces waiting for the writer thread, at most (a piece past it is dropped, and so is
its image: a gap is never declared whole)."""
HEADER: Final = -1
"""The piece number of an image's header: present only when the image is whole."""

REBUILD_SLICE_ROWS: Final = 500
"""Rows a rebuild decodes per step (about 1.5 ms of the interpreter's lock)."""

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


@dataclass(frozen=True)
class ImageState:
    """What a read transaction found of a dataset's image.

    Attributes:
        generation: the count of changes to the dataset's rows, as this read sees it.
        build: the build number of the whole image of this generation, or None.
        total: that image's row count (0 without one).
    """

    generation: int
    build: int | None
    total: int


def read_state(conn: sqlite3.Connection, dataset: str) -> ImageState:
    """The dataset's generation and its whole image in this format, if there is one (read
    in the caller's transaction, so it matches the rows that transaction reads)."""
    generation = _generation(conn, dataset)
    header = conn.execute(
        "SELECT build, rows FROM row_images"
        " WHERE dataset = ? AND piece = ? AND fmt = ? AND gen = ?",
        (dataset, HEADER, FORMAT, generation),
    ).fetchone()
    if header is None or not all(type(v) is int for v in header):
        return ImageState(generation, None, 0)
    return ImageState(generation, header[0], header[1])


@dataclass
class ImageRead:
    """A read of a dataset's rows that may take, and keep, a table's sort beside them.

    Args:
        spec: what the sort is (``slot|column|direction|key format``), its slot first
            (a view's name): one sort is kept per slot in an image, and one kept under
            another spec is not taken.

    Filled by the read (:func:`read_rows`):
        index: the sort kept under ``slot`` and ``spec`` in the image read, or None.
        build, generation: the image the rows are (or are being written as), or None.
        whole: every row was read, from that image or into it.
    """

    spec: str
    index: Any = None
    build: int | None = None
    generation: int = 0
    whole: bool = False

    @property
    def slot(self) -> str:
        return self.spec.partition("|")[0]

    @property
    def piece(self) -> int:
        """The piece number of this slot's sort: below :data:`HEADER`, one per slot."""
        return HEADER - 1 - (zlib.crc32(self.slot.encode()) & 0x3FFF_FFFF)

    @property
    def fmt(self) -> str:
        return f"{FORMAT}|sort|{self.spec}"


def read_index(conn: sqlite3.Connection, dataset: str, build: int, read: ImageRead) -> Any:
    """The sort kept for ``read`` in the image ``build``, or None (none, or its bytes are
    not what was written)."""
    found = conn.execute(
        "SELECT crc, blob FROM row_images"
        " WHERE dataset = ? AND build = ? AND piece = ? AND fmt = ?",
        (dataset, build, read.piece, read.fmt)).fetchone()
    if found is None or not isinstance(found[1], bytes) or zlib.crc32(found[1]) != found[0]:
        return None
    try:
        return marshal.loads(found[1])
    except (ValueError, EOFError, TypeError):
        return None


NONE: Final = ImageState(0, None, 0)
"""No image (a file without the row images' tables)."""


def usable(conn: sqlite3.Connection) -> tuple[bool, bool]:
    """Whether images can be read from the file of ``conn`` (it has schema 3's tables), and
    written to it (also in WAL mode: with a rollback journal, a piece written beside an
    open read would wait for it and keep every other reader out meanwhile)."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        wal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
    except (sqlite3.Error, TypeError, ValueError):
        return False, False
    readable = version >= 3
    return readable, readable and wal


def _generation(conn: sqlite3.Connection, dataset: str) -> int:
    found = conn.execute(
        "SELECT gen FROM row_generations WHERE dataset = ?", (dataset,)).fetchone()
    return found[0] if found is not None and type(found[0]) is int else 0


def read_header(conn: sqlite3.Connection, dataset: str) -> int | None:
    """The row count of the dataset's whole, current image in this format, or None."""
    state = read_state(conn, dataset)
    return state.total if state.build is not None else None


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
        self._stopping = False
        self._queued_bytes = 0
        self._failed: set[int] = set()  # builds that lost a piece: the rest is skipped

    @staticmethod
    def new_build() -> int:
        """A build number for a read that writes an image."""
        return secrets.randbits(62) + 1

    def piece(self, dataset: str, build: int, start: int, rows: list[Row]) -> None:
        """Queue the piece of rows from row ``start`` on (dumped here, in the caller's
        thread)."""
        blob, crc = dump_piece(rows)
        with self._lock:
            if self._queued_bytes + len(blob) > MAX_QUEUED_BYTES:
                self._failed.add(build)  # the writer is held up: no image this time
                return
            self._queued_bytes += len(blob)
        self._put(("piece", dataset, build, start, len(rows), crc, blob))

    def finish(self, dataset: str, build: int, generation: int, total: int) -> None:
        """Queue the header: the build holds the ``total`` rows of ``generation``, declared
        whole if the rows are still of that generation."""
        self._put(("finish", dataset, build, generation, total))

    def abandon(self, dataset: str, build: int) -> None:
        """Queue the removal of a build left unfinished (the read stopped early)."""
        self._put(("abandon", dataset, build))

    def index(self, dataset: str, read: ImageRead, payload: Any) -> None:
        """Queue a table's sort of the rows ``read`` read, kept in their image if it is
        still whole and current (dumped in the worker thread: ``payload`` must not change)."""
        if read.whole and read.build is not None:
            self._put(("index", dataset, read.build, read.generation, read.piece, read.fmt,
                       payload))

    def rebuild_all(self) -> None:
        """Queue an image of every dataset that has rows and no current image, made in
        the worker thread from the stored JSON (a slice of :data:`REBUILD_SLICE_ROWS`
        rows per step: the interpreter's lock is held a few ms at a time)."""
        self._put(("rebuild", "", None))

    def drop(self, dataset: str) -> None:
        """Queue the removal of a dataset's images (a piece was damaged)."""
        self._put(("drop", dataset, None))

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (at most ``timeout`` seconds), then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping = True  # a rebuild under way stops at its next slice
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)

    def _put(self, job: tuple[Any, ...]) -> None:
        with self._lock:
            if self._stopping:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="makini-row-images", daemon=True)
                self._thread.start()
            self._jobs.put(job)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while (job := self._jobs.get()) is not None:
                kind, dataset, build = job[0], job[1], job[2]
                if kind == "piece":
                    with self._lock:
                        self._queued_bytes -= len(job[-1])
                    if build in self._failed:
                        continue
                try:
                    if conn is None:
                        conn = self._connect()
                    if kind == "rebuild":
                        self._rebuild_all(conn)
                    else:
                        self._do(conn, kind, dataset, job[2:])
                except Exception as exc:  # never the end of the thread: a queue nobody reads
                    # A lost piece leaves a gap: the image is never declared whole.
                    log.info("row image of %s not written: %s", dataset or "a list", exc)
                    if build is not None:
                        self._failed.add(build)
        finally:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _rebuild_all(self, conn: sqlite3.Connection) -> None:
        datasets = [str(d) for (d,) in conn.execute(
            "SELECT dataset FROM datasets WHERE row_count > 0 ORDER BY dataset")]
        for dataset in datasets:
            if self._stopping:
                return
            self._rebuild(conn, dataset)

    def _rebuild(self, conn: sqlite3.Connection, dataset: str) -> None:
        """An image of ``dataset`` from its stored JSON, unless it has a current one."""
        reader = self._connect()  # a read transaction of its own: pieces are written aside
        build = 0
        try:
            reader.execute("PRAGMA query_only = ON")
            reader.execute("PRAGMA cache_size = -256")  # one pass in order: 256 KiB will do
            reader.execute("BEGIN")
            state = read_state(reader, dataset)
            if state.build is not None:
                return
            build, done = self.new_build(), 0
            cursor = reader.execute(
                "SELECT data FROM rows WHERE dataset = ? ORDER BY ord", (dataset,))
            while texts := cursor.fetchmany(REBUILD_SLICE_ROWS):
                rows = records.decode_rows(texts)
                if self._stopping or len(rows) != len(texts):  # quitting; a row skipped
                    self._do(conn, "abandon", dataset, (build,))
                    return
                blob, crc = dump_piece(rows)
                self._do(conn, "piece", dataset, (build, done, len(rows), crc, blob))
                done += len(rows)
            self._do(conn, "finish", dataset, (build, state.generation, done))
        except sqlite3.Error:
            if build:
                with contextlib.suppress(sqlite3.Error):
                    self._do(conn, "abandon", dataset, (build,))
            raise
        finally:
            reader.close()

    @staticmethod
    def _do(
        conn: sqlite3.Connection, kind: str, dataset: str, args: tuple[Any, ...]
    ) -> None:
        build = args[0]
        if kind == "piece":
            start, count, crc, blob = args[1:]
            conn.execute(
                "INSERT OR REPLACE INTO row_images"
                " (dataset, build, piece, rows, crc, fmt, gen, blob)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (dataset, build, start, count, crc, FORMAT, blob))
            return
        if kind == "index":
            ImageWriter._keep_index(conn, dataset, *args)
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if kind == "finish" and _current(conn, dataset, args[1]) and _whole(
                conn, dataset, build, args[2]
            ):
                conn.execute("DELETE FROM row_images WHERE dataset = ? AND build != ?",
                             (dataset, build))
                conn.execute(
                    "INSERT INTO row_images (dataset, build, piece, rows, crc, fmt, gen, blob)"
                    " VALUES (?, ?, ?, ?, 0, ?, ?, NULL)",
                    (dataset, build, HEADER, args[2], FORMAT, args[1]))
            elif build is None:
                conn.execute("DELETE FROM row_images WHERE dataset = ?", (dataset,))
            else:  # changed meanwhile, stopped early, or a piece lost
                conn.execute("DELETE FROM row_images WHERE dataset = ? AND build = ?",
                             (dataset, build))
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:  # failed
                conn.execute("ROLLBACK")


    @staticmethod
    def _keep_index(conn: sqlite3.Connection, dataset: str, build: int, generation: int,
                    piece: int, fmt: str, payload: Any) -> None:
        blob = marshal.dumps(payload)
        conn.execute("BEGIN IMMEDIATE")
        try:
            whole = conn.execute(
                "SELECT 1 FROM row_images WHERE dataset = ? AND build = ? AND piece = ?"
                " AND fmt = ? AND gen = ?", (dataset, build, HEADER, FORMAT, generation),
            ).fetchone()
            if whole is not None and _current(conn, dataset, generation):
                conn.execute(
                    "INSERT OR REPLACE INTO row_images"
                    " (dataset, build, piece, rows, crc, fmt, gen, blob)"
                    " VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
                    (dataset, build, piece, zlib.crc32(blob), fmt, generation, blob))
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:  # failed
                conn.execute("ROLLBACK")


def _current(conn: sqlite3.Connection, dataset: str, generation: int) -> bool:
    """True when the dataset's rows are still of ``generation``."""
    return _generation(conn, dataset) == generation


def _whole(conn: sqlite3.Connection, dataset: str, build: int, total: int) -> bool:
    """True when the build's pieces follow each other from row 0 to row ``total``."""
    at = 0
    for start, count in conn.execute(
        "SELECT piece, rows FROM row_images WHERE dataset = ? AND build = ? AND piece >= 0"
        " ORDER BY piece", (dataset, build),
    ):
        if start != at:
            return False
        at += count
    return at == total


def image_rows(conn: sqlite3.Connection, dataset: str, state: ImageState) -> Iterator[list[Row]]:
    """The rows of the dataset's image, piece by piece, in order, up to the first piece
    that is not right (a gap, another format, a damaged or short piece) or to ``total``
    rows of its header (read in the caller's transaction)."""
    at, total = 0, state.total
    pieces = conn.execute(
        "SELECT piece, rows, crc, fmt, blob FROM row_images"
        " WHERE dataset = ? AND build = ? AND piece >= 0 ORDER BY piece",
        (dataset, state.build))
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


def read_rows(
    conn: sqlite3.Connection,
    dataset: str,
    first: int,
    chunk: int,
    shared: Collection[str],
    *,
    images: ImageWriter | None,
    image_reads: bool,
    read: ImageRead | None = None,
) -> Iterator[list[Row]]:
    """A dataset's rows in stored order, ``first`` rows then ``chunk`` at a time, in the
    read transaction open on ``conn``: from its current image when there is one (then from
    the JSON at the first row a damaged piece could not give), else decoded from the JSON,
    each chunk also queued to ``images`` as a piece of the next image (none when a row
    could not be decoded: an image's rows are always the stored rows, one for one).

    Args:
        shared: fields whose strings are interned (see ``records.decode_rows``).
        images: the writer of new images, or None (the file cannot take them).
        image_reads: the file has the images' tables (schema 3).
        read: filled as the read goes (see :class:`ImageRead`): the sort kept in the image
            read from, once the first rows are given (a screenful paints without waiting
            for a 100k-row sort to be read).
    """
    writer: ImageWriter | None = None  # set while this read makes an image
    build = done = 0  # done: rows yielded
    try:
        state = read_state(conn, dataset) if image_reads else NONE
        if state.build is not None:
            for rows in rechunk(image_rows(conn, dataset, state), first, chunk):
                if shared:  # as decode_rows does with them
                    records.intern_fields(rows, shared)
                done += len(rows)
                yield rows
                if read is not None and read.build is None:  # after the first rows, which
                    read.build, read.generation = state.build, state.generation  # paint now
                    read.index = read_index(conn, dataset, state.build, read)
            if done == state.total:
                if read is not None:
                    read.whole = True
                return
            if read is not None:
                read.index, read.build = None, None
            log.warning("the row image of %s is damaged: reading its JSON", dataset)
            if images is not None:
                images.drop(dataset)
        elif images is not None:
            writer, build = images, images.new_build()
            if read is not None:
                read.build, read.generation = build, state.generation
        cursor = conn.execute(
            "SELECT data FROM rows WHERE dataset = ? ORDER BY ord LIMIT -1 OFFSET ?",
            (dataset, done),
        )
        size = first if done == 0 else chunk
        while texts := cursor.fetchmany(size):
            rows = records.decode_rows(texts, shared)
            if writer is not None and len(rows) != len(texts):
                writer.abandon(dataset, build)
                writer = None
                if read is not None:
                    read.build = None
            if writer is not None:
                writer.piece(dataset, build, done, rows)
            done += len(rows)
            yield rows
            size = chunk
        if writer is not None:
            writer.finish(dataset, build, state.generation, done)
            writer = None
            if read is not None:
                read.whole = True
    finally:  # also when the reader stops early
        if writer is not None:
            writer.abandon(dataset, build)


def connector(path: Path) -> Callable[[], sqlite3.Connection]:
    """What :class:`ImageWriter` calls to open its connection to the cache at ``path``."""
    from makini_desktop.store import cache_files

    return lambda: cache_files.connect(path)

"""Row images: the next start of an unchanged cache reads the rows it had, never stale ones."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.store import records, row_image
from makini_desktop.store.cache import Cache
from tests.unit.store.cache_rows import T1, keys, rec, snapshot

ROWS = 23  # chunks of 5 after a first of 3: several pieces, the last one short


def read_all(cache: Cache, dataset: str = "assets") -> list[dict[str, Any]]:
    """A whole read, as a tab's start from the cache does it."""
    return [row for chunk in cache.iter_load(dataset, chunk=5, first=3) for row in chunk]


def restarted(path: Path, cache: Cache) -> Cache:
    """The cache closed (its images written) and opened again: the next start."""
    cache.close()
    return Cache.open(path)


def has_image(path: Path, dataset: str = "assets") -> bool:
    with sqlite3.connect(path) as conn:
        return row_image.read_header(conn, dataset) is not None


@pytest.fixture
def filled(db_path: Path) -> Iterator[Cache]:
    """A cache holding ROWS assets, read once whole and reopened: it has their image."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}", tags=["a", i], size=i / 3) for i in range(ROWS)])
    read_all(c)
    c = restarted(db_path, c)
    yield c
    c.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll for a side effect of the worker thread (as qtbot.waitUntil does)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def no_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any decoding of the stored JSON fail the test."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the JSON was decoded")

    monkeypatch.setattr(records, "decode_rows", refuse)


def test_second_read_gives_the_same_rows_from_the_image(
    filled: Cache, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After one whole read, the next gives the very same rows without decoding JSON."""
    expected = [rec(f"{i:03d}", tags=["a", i], size=i / 3) for i in range(ROWS)]
    assert has_image(db_path)
    no_json(monkeypatch)
    chunks = list(filled.iter_load("assets", chunk=5, first=3))
    assert [len(c) for c in chunks] == [3, 5, 5, 5, 5]
    assert [row for c in chunks for row in c] == expected


def test_image_is_rechunked_to_what_the_reader_asks(
    filled: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader asking for other chunk sizes gets them, in order."""
    no_json(monkeypatch)
    chunks = list(filled.iter_load("assets", chunk=10))
    assert [len(c) for c in chunks] == [10, 10, 3]
    assert keys([r for c in chunks for r in c]) == [f"{i:03d}" for i in range(ROWS)]


@pytest.mark.parametrize("change", ["apply_changes", "snapshot", "any_writer", "clear"])
def test_a_change_to_the_rows_is_never_hidden_by_the_image(
    filled: Cache, db_path: Path, change: str
) -> None:
    """Whoever changes a dataset's rows, the next read shows the change, not the image."""
    if change == "apply_changes":
        filled.apply_changes("assets", [rec("001", name="renamed")], watermark=None,
                             synced_at=T1, server_total=None)
    elif change == "snapshot":
        snapshot(filled, "assets", [rec("001", name="renamed")], at=T1)
    elif change == "any_writer":  # another connection, as a confirmed change writes its row
        with sqlite3.connect(db_path) as conn:
            conn.execute("""UPDATE rows SET data = json_set(data, '$.name', 'renamed')
                            WHERE key = '001'""")
    else:
        filled.clear()
    assert not has_image(db_path)
    rows = read_all(filled)
    if change == "clear":
        assert rows == []
    else:
        assert [r["name"] for r in rows if r["key"] == "001"] == ["renamed"]


def test_no_image_of_rows_that_changed_during_the_read(db_path: Path) -> None:
    """A sync committing while a read is under way leaves no image of the old rows."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"old{i}") for i in range(ROWS)])
    reading = c.iter_load("assets", chunk=5, first=3)
    next(reading)
    snapshot(c, "assets", [rec(f"new{i}") for i in range(ROWS)], at=T1)
    assert all(r["key"].startswith("old") for chunk in reading for r in chunk)  # one snapshot
    c = restarted(db_path, c)
    assert not has_image(db_path)
    assert all(r["key"].startswith("new") for r in read_all(c))
    c.close()


def test_a_read_stopped_early_leaves_no_image(db_path: Path) -> None:
    """Only a whole read writes an image: the rows it did not read are not in one."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    reading = c.iter_load("assets", chunk=5, first=3)
    next(reading)
    reading.close()
    c = restarted(db_path, c)
    assert not has_image(db_path)
    assert len(read_all(c)) == ROWS
    c.close()


def test_damaged_piece_falls_back_to_the_json(
    filled: Cache, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A piece whose bytes changed is never loaded: the rows from there on come from the
    JSON, the user gets every row, and the damaged image is dropped."""
    with sqlite3.connect(db_path) as conn:
        piece = conn.execute("SELECT piece, blob FROM row_images WHERE dataset = 'assets'"
                             " AND piece > 0 ORDER BY piece LIMIT 1").fetchone()
        damaged = bytes([piece[1][0] ^ 0xFF]) + piece[1][1:]
        conn.execute("UPDATE row_images SET blob = ? WHERE dataset = 'assets' AND piece = ?",
                     (damaged, piece[0]))
    with caplog.at_level(logging.WARNING):
        rows = read_all(filled)
    assert keys(rows) == [f"{i:03d}" for i in range(ROWS)]
    assert "damaged" in caplog.text
    filled = restarted(db_path, filled)
    assert not has_image(db_path)


@pytest.mark.parametrize("junk", [b"", b"\x00" * 40, b"not marshal at all"])
def test_hostile_piece_is_never_trusted(
    filled: Cache, db_path: Path, junk: bytes
) -> None:
    """Bytes that are not a list of rows, even with a matching checksum, give JSON rows."""
    import zlib

    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE row_images SET blob = ?, crc = ? WHERE dataset = 'assets'"
                     " AND piece = 0", (junk, zlib.crc32(junk)))
    assert keys(read_all(filled)) == [f"{i:03d}" for i in range(ROWS)]


def test_other_interpreters_image_is_not_read(
    filled: Cache, db_path: Path
) -> None:
    """An image written by another Python (another marshal format) is replaced."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE row_images SET fmt = 'marshal9-otherpython' WHERE dataset = 'assets'")
    assert not has_image(db_path)
    assert len(read_all(filled)) == ROWS
    filled = restarted(db_path, filled)
    assert has_image(db_path)  # this interpreter's own, written by that read


def test_read_only_cache_writes_no_image(db_path: Path) -> None:
    """A cache opened for reading only (beside a running app) never writes."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    c.close()
    reader = Cache.open_readonly(db_path)
    assert len(read_all(reader)) == ROWS
    reader.close()
    assert not has_image(db_path)


def test_two_reads_at_once_leave_one_consistent_image(db_path: Path) -> None:
    """Two tabs or windows reading the same dataset at once: the image, if any, is whole."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    first = c.iter_load("assets", chunk=5, first=3)
    next(first)
    second = [r for chunk in c.iter_load("assets", chunk=4) for r in chunk]
    rest = [r for chunk in first for r in chunk]
    assert len(second) == ROWS and len(rest) == ROWS - 3
    c = restarted(db_path, c)
    assert keys(read_all(c)) == [f"{i:03d}" for i in range(ROWS)]
    c.close()


def test_lists_read_side_by_side_each_get_their_image(db_path: Path) -> None:
    """Tabs reading their lists at the same time (as a start does) each leave an image."""
    c = Cache.open(db_path)
    for dataset in ("assets", "visits", "moves"):
        snapshot(c, dataset, [rec(f"{dataset}{i}") for i in range(ROWS)])
    readers = [c.iter_load(d, chunk=5, first=3) for d in ("assets", "visits", "moves")]
    counts = [0, 0, 0]
    while any(r is not None for r in readers):
        for n, reader in enumerate(readers):
            if reader is not None:
                chunk = next(reader, None)
                if chunk is None:
                    readers[n] = None
                else:
                    counts[n] += len(chunk)
    assert counts == [ROWS] * 3
    c = restarted(db_path, c)
    assert all(has_image(db_path, d) for d in ("assets", "visits", "moves"))
    c.close()


def test_keep_row_images_makes_the_image_a_sync_made_stale(
    filled: Cache, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a sync's changes, keep_row_images writes the new rows' image in the background:
    the next start reads the changed rows without decoding JSON."""
    filled.apply_changes("assets", [rec("001", name="renamed"), rec("new")], watermark=None,
                         synced_at=T1, server_total=None)
    assert not has_image(db_path)
    filled.keep_row_images()
    wait_until(lambda: has_image(db_path))  # written by the worker thread
    filled = restarted(db_path, filled)
    no_json(monkeypatch)
    rows = read_all(filled)
    assert len(rows) == ROWS + 1 and rows[-1]["key"] == "new"
    assert [r["name"] for r in rows if r["key"] == "001"] == ["renamed"]


def test_closing_during_a_rebuild_leaves_every_row_readable(db_path: Path) -> None:
    """Quitting while images are being made: the next start still reads every row (from an
    image only if it was finished)."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:05d}") for i in range(5000)])
    c.keep_row_images()
    c = restarted(db_path, c)
    assert keys(read_all(c)) == [f"{i:05d}" for i in range(5000)]
    c.close()


def test_an_old_cache_opened_read_only_is_read_from_its_json(db_path: Path) -> None:
    """A cache of schema 2 (no row images) opened for reading only, as on a full disk or
    beside a running older app, gives its rows."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    c.close()
    with sqlite3.connect(db_path) as conn:
        for name in ("rows_insert_counts", "rows_update_counts", "rows_delete_counts"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE row_images")
        conn.execute("DROP TABLE row_generations")
        conn.execute("PRAGMA user_version = 2")
    reader = Cache.open_readonly(db_path)
    assert keys(read_all(reader)) == [f"{i:03d}" for i in range(ROWS)]
    reader.close()


def test_no_image_is_written_to_a_file_without_wal(tmp_path: Path) -> None:
    """With a rollback journal (some network drives), a piece written beside an open read
    would lock every reader out: such a file is read, never given images."""
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    conn.execute("PRAGMA user_version = 3")
    assert row_image.usable(conn) == (True, False)
    conn.execute("PRAGMA journal_mode = WAL")
    assert row_image.usable(conn) == (True, True)
    conn.execute("PRAGMA user_version = 2")
    assert row_image.usable(conn) == (False, False)
    conn.close()


def test_a_list_with_an_unreadable_row_gets_no_image(db_path: Path) -> None:
    """A stored row that cannot be decoded is skipped, and such a list is never imaged: an
    image's rows are the stored rows one for one, so a damaged piece's fallback to the
    JSON never repeats a row."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    assert c._conn is not None
    c._conn.execute("UPDATE rows SET data = '{broken' WHERE key = '001'")
    expected = [f"{i:03d}" for i in range(ROWS) if i != 1]
    assert keys(read_all(c)) == expected
    c.keep_row_images()
    c = restarted(db_path, c)
    assert not has_image(db_path)
    assert keys(read_all(c)) == expected
    c.close()


def test_the_writer_outlives_an_unexpected_error(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is not SQLite's in the writer thread costs that image only: the next
    read still writes its own."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    real = row_image.ImageWriter._do
    calls = []

    def failing_once(*args: Any) -> None:
        calls.append(args[1])
        if len(calls) == 1:
            raise ValueError("unexpected")
        real(*args)

    monkeypatch.setattr(row_image.ImageWriter, "_do", staticmethod(failing_once))
    read_all(c)
    read_all(c)
    c = restarted(db_path, c)
    assert has_image(db_path)
    c.close()

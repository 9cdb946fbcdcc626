"""A page's records saved from the body the server sent: exactly what saving the decoded
records gives, whatever the body holds, and the record's text as the server wrote it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.store.cache import Cache

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

Page = tuple[list[dict[str, Any]], bytes | None]


def page(body: bytes) -> Page:
    """A page as the client hands it on: the records Python decoded, and their body."""
    return json.loads(body)["data"], body


def envelope(items: list[Any], **extra: Any) -> bytes:
    """A list page as the sandbox writes it (ASCII-escaped, spaces after separators)."""
    return json.dumps({"data": items, "meta": {"total": len(items)}, **extra}).encode()


def record(key: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "name": f"Asset {key}", "updatedAt": "2026-03-01T09:00:00Z",
                           "deletedAt": None}
    row.update(extra)
    return row


@pytest.fixture
def caches(tmp_path: Path) -> Iterator[tuple[Cache, Cache]]:
    """One cache staged from bodies, one from the decoded records alone (the oracle)."""
    a, b = Cache.open(tmp_path / "body.sqlite3"), Cache.open(tmp_path / "rows.sqlite3")
    yield a, b
    a.close()
    b.close()


def stored(cache: Cache) -> list[tuple[str, str | None, str]]:
    """Every cached asset row as SQLite holds it: key, updated_at and the record's text."""
    with sqlite3.connect(f"{cache.path.as_uri()}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT key, updated_at, data FROM rows WHERE dataset = 'assets'"
                            " ORDER BY ord").fetchall()


def save(caches: tuple[Cache, Cache], pages: list[Page]) -> list[tuple[str, str | None, str]]:
    """Save ``pages`` both ways; assert both caches hold the same records, keys and times;
    the rows of the cache saved from the bodies."""
    with_body, rows_only = caches
    counts = []
    for cache, given in ((with_body, pages), (rows_only, [(rows, None) for rows, _ in pages])):
        writer = cache.begin_snapshot("assets")
        writer.add_pages(given)
        counts.append(writer.commit(server_total=None, watermark=writer.max_updated_at,
                                    synced_at=T0))
    assert counts[0] == counts[1]
    assert with_body.load("assets") == rows_only.load("assets")
    ours, theirs = stored(with_body), stored(rows_only)
    assert [r[:2] for r in ours] == [r[:2] for r in theirs]
    assert [json.loads(r[2]) for r in ours] == [json.loads(r[2]) for r in theirs]
    return ours


def test_records_are_kept_as_the_server_wrote_them(caches: tuple[Cache, Cache]) -> None:
    """Unknown fields, nested values, numbers, escapes and text in any script come back
    exactly; each record's text is the server's own (a price of 1.10 stays 1.10); a
    tombstone is not kept; an updatedAt that is not text is not a watermark."""
    items = [
        record("A-1", name="Laptop – Logan", price=1.10, count=12345678901234567890,
               ratio=1e-7, tags=["ø", {"deep": [None, True, False]}], note="a\\\"b\u0007"),
        record("A-2", updatedAt=None, name="Büro Zürich 東京"),
        record("A-3", deletedAt="2026-03-02T00:00:00Z"),  # a tombstone
        record("A-4", deletedAt="", updatedAt=1760000000),  # not a tombstone
        record("A-5", deletedAt=False),  # not null: a tombstone
    ]
    # The server's own spelling of a record: a price of 1.10, an exponent, escapes.
    spelled = '{"key": "A-0", "price": 1.10, "size": 1E+2, "name": "caf\\u00e9 \\/ bar"}'
    body = envelope(items)
    body = body.replace(b'{"data": [', b'{"data": [' + spelled.encode() + b", ", 1)
    rows = save(caches, [page(body)])
    assert [r[0] for r in rows] == ["A-0", "A-1", "A-2", "A-4"]
    assert [r[1] for r in rows] == [None, "2026-03-01T09:00:00Z", None, None]
    assert rows[0][2] == spelled.replace(": ", ":").replace(", ", ",")


def test_a_body_sqlite_reads_otherwise_is_saved_from_the_decoded_records(
        caches: tuple[Cache, Cache]) -> None:
    """Bodies where SQLite and Python could disagree, or that SQLite cannot read, lose
    nothing and save what the window showed: a list member named twice (Python keeps the
    last), a record naming its key twice, NaN, a key with a lone surrogate, UTF-16."""
    twice = (b'{"data": [{"key": "X-1", "name": "first"}], '
             b'"data": [{"key": "X-2", "name": "second"}], "meta": {}}')
    same_keys = (b'{"data": [{"key": "S-1", "name": "first"}], '
                 b'"data": [{"key": "S-1", "name": "second"}], "meta": {}}')
    key_twice = b'{"data": [{"key": "K-1", "name": "n", "key": "K-2"}], "meta": {}}'
    nan = b'{"data": [{"key": "N-1", "score": NaN}], "meta": {}}'
    lone = b'{"data": [{"key": "L-\\ud800", "name": "odd"}], "meta": {}}'
    utf16 = json.dumps({"data": [record("U-1", name="Zürich")]}).encode("utf-16")
    expected = {twice: "X-2", same_keys: "S-1", key_twice: "K-2", nan: "N-1",
                lone: "L-\\ud800", utf16: "U-1"}
    for body, key in expected.items():  # each its own snapshot (one transaction)
        rows = save(caches, [page(body)])
        assert [r[0] for r in rows] == [key]
    assert json.loads(save(caches, [page(same_keys)])[0][2])["name"] == "second"


def test_pages_with_and_without_bodies_keep_the_servers_order(
        caches: tuple[Cache, Cache]) -> None:
    """Pages saved together end in the order they came, however each was saved."""
    first = envelope([record(f"P1-{i}") for i in range(3)])
    hostile = b'{"data": [{"key": "P2-0", "x": NaN}], "meta": {}}'
    last = envelope([record(f"P4-{i}") for i in range(2)])
    pages = [page(first), page(hostile), ([record("P3-0"), record("P3-1")], None), page(last)]
    rows = save(caches, pages)
    assert [r[0] for r in rows] == ["P1-0", "P1-1", "P1-2", "P2-0", "P3-0", "P3-1",
                                    "P4-0", "P4-1"]

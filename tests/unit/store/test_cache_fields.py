"""Reading a few fields of the cached rows without decoding them (the lookups' names)."""

from __future__ import annotations

import threading
from typing import Any

from makini_desktop.store.cache import Cache
from makini_desktop.store.records import decode_rows, share_values
from tests.unit.store.cache_rows import rec, snapshot

FIELDS = ("name", "code", "areaUnit")


def test_load_fields_gives_key_and_fields_in_stored_order(cache: Cache) -> None:
    """Each row: its key and the fields asked for, as the record holds them (a field the
    record lacks, or holds null, is None; odd types keep their JSON type)."""
    records = [
        rec("b2", "Tower", code="TWR", areaUnit="sqft"),
        rec("a1", "Annex", code=None),
        rec("c3", "  ", code=42),
        {"key": "d4", "code": True, "name": {"en": "Deep"}, "updatedAt": "2026-03-01T00:00Z"},
        rec("e5", "Café ☕ \u00e9", areaUnit=["m2"]),
    ]
    snapshot(cache, "sites", records)
    got = cache.load_fields("sites", FIELDS)
    assert got == [
        {"key": "b2", "name": "Tower", "code": "TWR", "areaUnit": "sqft"},
        {"key": "a1", "name": "Annex", "code": None, "areaUnit": None},
        {"key": "c3", "name": "  ", "code": 42, "areaUnit": None},
        {"key": "d4", "name": {"en": "Deep"}, "code": True, "areaUnit": None},
        {"key": "e5", "name": "Café ☕ é", "code": None, "areaUnit": ["m2"]},
    ]


def test_load_fields_of_a_dataset_never_synced_is_empty(cache: Cache) -> None:
    assert cache.load_fields("locations", FIELDS) == []


def test_load_fields_gives_up_on_a_record_that_is_not_json(cache: Cache) -> None:
    """None (the caller decodes the rows instead, which skips the unreadable one)."""
    snapshot(cache, "locations", [rec("1"), rec("2")])
    assert cache._conn is not None
    cache._conn.execute("UPDATE rows SET data = '{broken' WHERE key = '1'")
    assert cache.load_fields("locations", FIELDS) is None


def test_load_fields_from_a_worker_thread(cache: Cache) -> None:
    snapshot(cache, "locations", [rec(str(n), f"Room {n}") for n in range(50)])
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(cache.load_fields("locations", FIELDS)))
    worker.start()
    worker.join()
    assert [r["name"] for r in out[0]] == [f"Room {n}" for n in range(50)]


def test_decoded_rows_share_the_strings_that_repeat() -> None:
    """Equal values of a field that repeats are one object; values stay equal; free text
    that does not repeat is left as decoded."""
    texts = [(f'{{"key":"{n}","siteKey":"S{n % 3}","notes":"note {n}"}}',) for n in range(30)]
    rows = decode_rows(texts)
    assert [r["siteKey"] for r in rows] == [f"S{n % 3}" for n in range(30)]
    assert rows[0]["siteKey"] is rows[3]["siteKey"] is rows[27]["siteKey"]
    assert [r["notes"] for r in rows] == [f"note {n}" for n in range(30)]


def test_share_values_keeps_non_strings() -> None:
    rows: list[dict[str, Any]] = [{"a": None, "b": 1, "c": [1]}, {"a": None, "b": 1, "c": [1]}]
    assert share_values(rows) == [{"a": None, "b": 1, "c": [1]}, {"a": None, "b": 1, "c": [1]}]


def test_load_fields_of_a_closed_cache_raises_cache_error(cache: Cache) -> None:
    import pytest

    from makini_desktop.store.cache import CacheError

    cache.close()
    with pytest.raises(CacheError):
        cache.load_fields("sites", FIELDS)


def test_a_timestamp_equal_to_updated_at_is_the_same_string() -> None:
    """A field that often holds the row's updatedAt holds the very same string when equal
    (an audit at the last update); other values, and other fields, are left as decoded."""
    def text(n: int) -> str:
        audited = f"2024-01-0{n % 9 + 1}T10:00:00Z"
        updated = audited if n % 2 else "2024-02-01T10:00:00Z"
        return (f'{{"key":"{n}","lastAuditedAt":"{audited}","updatedAt":"{updated}",'
                f'"name":"{updated}"}}' if n == 3 else
                f'{{"key":"{n}","lastAuditedAt":"{audited}","updatedAt":"{updated}"}}')

    rows = decode_rows([(text(n),) for n in range(40)])
    assert [r["lastAuditedAt"] for r in rows] == [f"2024-01-0{n % 9 + 1}T10:00:00Z"
                                                  for n in range(40)]
    for n, row in enumerate(rows):
        assert (row["lastAuditedAt"] is row["updatedAt"]) == bool(n % 2)
    assert rows[3]["name"] == rows[3]["updatedAt"]
    assert rows[3]["name"] is not rows[3]["updatedAt"]  # one row in 40: not a field that does


def test_shared_fields_are_interned_whatever_the_sample() -> None:
    """Fields named as shared hold interned strings even when no value repeats (the names
    the lookups hold already); the others are left alone."""
    import sys

    texts = [(f'{{"key":"k{n}-x","name":"Room {n}-x","notes":"n{n}-x"}}',) for n in range(30)]
    rows = decode_rows(texts, shared=("key", "name", "code"))
    for n, row in enumerate(rows):
        assert row["key"] is sys.intern(f"k{n}-x")
        assert row["name"] is sys.intern(f"Room {n}-x")
    assert rows[0]["notes"] == "n0-x" and "code" not in rows[0]


def test_load_fields_interns_what_is_kept_and_leaves_free_text(cache: Cache) -> None:
    """Keys, repeated values and the fields asked to be shared are interned; a field of
    mostly unique free text (a code) is left as decoded: equal codes stay two strings."""
    import sys

    records = [rec(f"k{n}-x", f"Room {n}-x", code="C-dup" if n < 2 else f"C{n}-x",
                   parentKey=f"F{n % 2}-x", type="office") for n in range(30)]
    snapshot(cache, "locations", records)
    got = cache.load_fields("locations", ("name", "code", "parentKey", "type"),
                            shared=("name",))
    assert got is not None
    assert [r["code"] for r in got[:3]] == ["C-dup", "C-dup", "C2-x"]
    assert got[0]["code"] is not got[1]["code"]
    for n, row in enumerate(got):
        assert row["key"] is sys.intern(f"k{n}-x")
        assert row["name"] is sys.intern(f"Room {n}-x")
        assert row["parentKey"] is sys.intern(f"F{n % 2}-x")
    assert got[0]["type"] is got[29]["type"]


def test_load_fields_gives_what_the_records_hold_for_one_field_or_many(cache: Cache) -> None:
    """Each field as the record holds it, whatever its type (big and small numbers,
    escapes, lone surrogates, a deep value), for one field asked for or several."""
    deep: Any = "bottom"
    for _ in range(300):
        deep = [deep]
    records = [
        rec("a", "Ann\u00e9e \\ \"q\"", code=2**70, level=-1.5e-7),
        rec("b", "\ud800 lone", code="x\u0000y", level=None),
        rec("c", "Deep", code=deep, level=0),
        {"key": "d", "updatedAt": "2026-03-01T00:00Z"},
    ]
    snapshot(cache, "locations", records)
    for fields in (("name",), ("name", "code", "level"), ("level",)):
        got = cache.load_fields("locations", fields)
        assert got == [{"key": r["key"], **{f: r.get(f) for f in fields}} for r in records]


def test_load_fields_in_slices_gives_the_same_rows(cache: Cache, monkeypatch) -> None:
    """Decoded a few rows per slice (short holds of the GIL in the worker thread), the
    rows are the same, in order, and a repeated field is one string across slices."""
    from makini_desktop.store import records as store_records

    records = [rec(f"k{n}", f"Room {n}", parentKey=f"F{n % 2}", level=n) for n in range(23)]
    snapshot(cache, "locations", records)
    monkeypatch.setattr(store_records, "FIELDS_SLICE_ROWS", 4)
    got = cache.load_fields("locations", ("name", "parentKey", "level"))
    assert got == [{"key": f"k{n}", "name": f"Room {n}", "parentKey": f"F{n % 2}",
                    "level": n} for n in range(23)]
    assert got is not None and got[0]["parentKey"] is got[22]["parentKey"]

"""How a cached record is read: the watermark compares instants."""

from __future__ import annotations

from makini_desktop.store.cache import (
    max_updated_at,
)


def test_max_updated_at_compares_instants() -> None:
    """The watermark helper compares timestamps as instants, not as text."""
    rows = [
        {"updatedAt": "2026-03-14T09:30:00Z"},
        {"updatedAt": "2026-03-14T09:30:00.500Z"},
        {"updatedAt": "not a date"},
        {},
    ]
    assert max_updated_at(rows) == "2026-03-14T09:30:00.500Z"
    assert max_updated_at(rows, "2027-01-01T00:00:00Z") == "2027-01-01T00:00:00Z"
    assert max_updated_at([]) is None


def test_decoded_rows_share_their_field_names() -> None:
    """A chunk of rows is decoded in one go: every row's field names are the same strings,
    not a copy per row (about 1 kB per row of a large portfolio)."""
    from makini_desktop.store.records import decode_rows, dumps_row

    texts = [(dumps_row({"key": str(n), "name": f"Asset {n}", "tag": None}),) for n in range(3)]
    rows = decode_rows(texts)
    assert rows == [{"key": str(n), "name": f"Asset {n}", "tag": None} for n in range(3)]
    first = [id(k) for k in rows[0]]
    assert all([id(k) for k in row] == first for row in rows)


def test_a_junk_row_among_good_ones_is_skipped_alone() -> None:
    """Junk in a chunk, even junk that would read as JSON once the chunk's texts are joined,
    costs only the rows that are junk themselves."""
    from makini_desktop.store.records import decode_rows

    texts = [('{"key":"1"}',), ('{"key":[1',), ('2]},{"key":"x"}',), ("[]",), ('{"key":"2"}',),
             ("7",), ('{"key":"3"} ',)]
    assert decode_rows(texts) == [{"key": "1"}, {"key": "2"}, {"key": "3"}]
    balanced = [('{"a":[1',), ('2]},{"b":1}',)]  # joined: [{"a":[1,2]},{"b":1}]
    assert decode_rows(balanced) == []
    assert decode_rows([]) == []


def test_a_blob_or_an_empty_text_in_a_chunk_costs_only_itself() -> None:
    """A stored value that is not text (a blob holding a record) or is empty does not stop
    the chunk's other rows; the blob's record is read as JSON bytes."""
    from makini_desktop.store.records import decode_rows

    blob = [('{"key":"1"}',), (b'{"key":"4"}',), ('{"key":"2"}',)]
    assert decode_rows(blob) == [{"key": "1"}, {"key": "4"}, {"key": "2"}]  # type: ignore[arg-type]
    assert decode_rows([('{"key":"1"}',), ("",), ('{"key":"2"}',)]) == [
        {"key": "1"}, {"key": "2"}]

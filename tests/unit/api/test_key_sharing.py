"""A list's records share their field names: the same rows, in about half the memory."""

from __future__ import annotations

import json
import marshal
import sys
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api.pagination import SharedText, parse_rows

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _wire_assets() -> str:
    """The sandbox's assets as its server sends them (fresh objects on every decode)."""
    from makini_desktop.sandbox.data import generate

    return json.dumps(generate("small", 42, now=NOW).assets[:300])


def test_records_are_equal_ordered_and_encode_the_same_in_about_half_the_memory() -> None:
    text = _wire_assets()
    decoded: list[dict[str, Any]] = json.loads(text)
    shared = SharedText()
    rows, skipped = parse_rows(json.loads(text), shared)
    assert skipped == 0 and rows == decoded
    assert [list(r) for r in rows] == [list(r) for r in decoded]  # field order kept
    assert json.dumps(rows) == text  # as the cache stores it
    assert marshal.loads(marshal.dumps(rows)) == decoded  # as the row images store it
    plain = sum(sys.getsizeof(r) for r in decoded)
    compact = sum(sys.getsizeof(r) for r in rows)
    assert compact < 0.7 * plain, (compact, plain)
    # A second page of the same list shares the same names.
    more, _ = parse_rows(json.loads(text), shared)
    assert sum(sys.getsizeof(r) for r in more) == compact


def test_a_record_changed_or_given_a_new_field_changes_alone() -> None:
    text = _wire_assets()
    rows, _ = parse_rows(json.loads(text), SharedText())
    first, second = rows[0], rows[1]
    untouched = dict(second)
    first["name"] = "Renamed"
    first["auditNote"] = "seen"  # a field the list does not have
    del first["tag"]
    assert first["name"] == "Renamed" and first["auditNote"] == "seen" and "tag" not in first
    assert list(first)[-1] == "auditNote"
    assert second == untouched and "auditNote" not in second
    fresh, _ = parse_rows(json.loads(text), SharedText())
    assert fresh[0] == json.loads(text)[0]


def test_records_too_wide_to_share_their_names_are_left_as_decoded() -> None:
    """Past the fields a class's shared keys hold, a key-sharing dict would be larger: such
    a page is kept as the decoder made it (the same objects)."""
    page = json.loads(json.dumps([
        {"key": f"K{i}", **{f"field{n}": f"{i}-{n}" for n in range(40)}} for i in range(50)
    ]))
    objects = [id(r) for r in page]
    rows, _ = parse_rows(page, SharedText())
    assert [id(r) for r in rows] == objects
    assert rows == json.loads(json.dumps(rows))

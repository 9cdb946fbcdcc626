"""List query parsing, filtering, sorting and paging of the sandbox (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from makini_desktop.sandbox.query import (
    ListQuery,
    QueryError,
    page_envelope,
    parse_list_query,
    select,
    sort_records,
)

RECORDS: list[dict[str, Any]] = [
    {"key": "01", "name": "Alpha", "level": 10, "ok": True, "at": "2026-03-14T09:30:00Z",
     "address": {"city": "London"}, "note": None},
    {"key": "02", "name": "beta", "level": 9, "ok": False, "at": "2026-03-14T09:30:01Z",
     "address": {"city": "Berlin"}, "note": "x"},
    {"key": "03", "name": "Gamma", "level": None, "ok": True, "at": "2026-03-14T09:29:59Z",
     "address": {"city": "london"}, "note": "y"},
    {"key": "04", "name": "alphabet", "level": 9, "ok": None, "at": None,
     "address": None, "note": "x"},
]


def keys(params: list[tuple[str, str]]) -> list[str]:
    return [r["key"] for r in select(RECORDS, parse_list_query(params))]


def test_defaults() -> None:
    """Without parameters: page 1, 50 per page, no filters, key order."""
    q = parse_list_query([])
    assert (q.page, q.per_page, q.filters, q.sorts, q.match_any) == (1, 50, (), (), False)


def test_per_page_above_the_maximum_is_clamped() -> None:
    """per_page above 100 is clamped to 100."""
    assert parse_list_query([("per_page", "500")]).per_page == 100


def test_page_size_is_an_alias_of_per_page() -> None:
    """pageSize sets the page size; per_page wins when both are given."""
    assert parse_list_query([("pageSize", "20")]).per_page == 20
    assert parse_list_query([("pageSize", "20"), ("per_page", "30")]).per_page == 30


@pytest.mark.parametrize("params", [
    [("per_page", "0")], [("per_page", "ten")], [("page", "0")], [("page", "-2")],
    [("page", "x")], [("filter[name", "a")], [("filter[name:like]", "a")],
    [("filterMatch", "some")], [("sort[name]", "2")], [("sort[name", "0")],
])
def test_malformed_parameters_are_rejected(params: list[tuple[str, str]]) -> None:
    """A bad page, page size, filter, operator, filterMatch or sort raises QueryError."""
    with pytest.raises(QueryError):
        parse_list_query(params)


def test_unknown_parameters_are_ignored() -> None:
    """Parameters the contract does not define are ignored."""
    assert parse_list_query([("include", "items"), ("cursor", "abc")]).per_page == 50


def test_equality_is_exact_for_text_and_typed_otherwise() -> None:
    """filter[f]=v matches text exactly, numbers numerically, booleans and null by word."""
    assert keys([("filter[name]", "Alpha")]) == ["01"]
    assert keys([("filter[name]", "alpha")]) == []
    assert keys([("filter[level]", "9.0")]) == ["02", "04"]
    assert keys([("filter[ok]", "true")]) == ["01", "03"]
    assert keys([("filter[ok]", "0")]) == ["02"]
    assert keys([("filter[level]", "null")]) == ["03"]


def test_contains_and_starts_with_ignore_case() -> None:
    """contains and startsWith compare case-insensitively and skip nulls."""
    assert keys([("filter[name:contains]", "ALPHA")]) == ["01", "04"]
    assert keys([("filter[name:startsWith]", "Al")]) == ["01", "04"]
    assert keys([("filter[name:contains]", "ET")]) == ["02", "04"]
    assert keys([("filter[note:contains]", "")]) == ["02", "03", "04"]


def test_order_operators_compare_numbers_numerically() -> None:
    """gt/gteq/lt/lteq on numbers compare numerically (10 > 9), never as text."""
    assert keys([("filter[level:gt]", "9")]) == ["01"]
    assert keys([("filter[level:gteq]", "9")]) == ["01", "02", "04"]
    assert keys([("filter[level:lt]", "10")]) == ["02", "04"]
    assert keys([("filter[level:lteq]", "10")]) == ["01", "02", "04"]


def test_order_operators_compare_timestamps() -> None:
    """Timestamp filters accept fractions and offsets and compare as instants."""
    assert keys([("filter[at:gt]", "2026-03-14T09:30:00Z")]) == ["02"]
    assert keys([("filter[at:gt]", "2026-03-14T09:30:00.000Z")]) == ["02"]
    assert keys([("filter[at:gteq]", "2026-03-14T09:30:00.5Z")]) == ["02"]
    assert keys([("filter[at:lt]", "2026-03-14T09:30:00.5Z")]) == ["01", "03"]
    assert keys([("filter[at:lteq]", "2026-03-14T10:30:00+01:00")]) == ["01", "03"]
    assert keys([("filter[at:gt]", "2026-03-14")]) == ["01", "02", "03"]


def test_dotted_fields_read_nested_objects() -> None:
    """filter[address.city]=... reads into the nested address object."""
    assert keys([("filter[address.city:startsWith]", "lon")]) == ["01", "03"]


def test_filter_match_any_and_all() -> None:
    """filterMatch=any ORs the filters; the default ANDs them."""
    params = [("filter[level]", "10"), ("filter[note]", "x")]
    assert keys(params) == []
    assert keys([*params, ("filterMatch", "any")]) == ["01", "02", "04"]
    assert keys([("filter[level]", "9"), ("filter[note]", "x")]) == ["02", "04"]


def test_incremental_is_flagged_by_an_updated_at_filter() -> None:
    """Any updatedAt filter makes a query incremental (soft-deleted records included)."""
    assert parse_list_query([("filter[updatedAt:gt]", "2026-01-01T00:00:00Z")]).incremental
    assert not parse_list_query([("filter[name]", "a")]).incremental


def test_sort_puts_nulls_last_both_ways() -> None:
    """sort[f]=0 ascends and =1 descends, nulls last in both, ties in key order."""
    assert keys([("sort[level]", "0")]) == ["02", "04", "01", "03"]
    assert keys([("sort[level]", "1")]) == ["01", "02", "04", "03"]


def test_sort_on_text_ignores_case_and_chains_fields() -> None:
    """Text sorts case-insensitively; several sorts apply in parameter order."""
    assert keys([("sort[name]", "0")]) == ["01", "04", "02", "03"]
    assert keys([("sort[level]", "1"), ("sort[name]", "1")]) == ["01", "02", "04", "03"]
    assert keys([("sort[note]", "desc"), ("sort[key]", "asc")]) == ["03", "02", "04", "01"]


def test_sort_does_not_change_its_input() -> None:
    """sort_records returns a new list."""
    before = list(RECORDS)
    sort_records(RECORDS, [("name", True)])
    assert RECORDS == before


def test_page_envelope_is_a_laravel_paginator() -> None:
    """The envelope has data, links and meta with Laravel's fields."""
    q = parse_list_query([("per_page", "3"), ("filter[level:gt]", "0"), ("page", "1")])
    env = page_envelope(RECORDS, q, "http://h:1/api/eam/assets")
    assert [r["key"] for r in env["data"]] == ["01", "02", "03"]
    assert env["meta"] == {"current_page": 1, "from": 1, "last_page": 2,
                           "path": "http://h:1/api/eam/assets", "per_page": 3, "to": 3,
                           "total": 4}
    assert env["links"]["prev"] is None
    assert env["links"]["next"] == (
        "http://h:1/api/eam/assets?per_page=3&filter%5Blevel%3Agt%5D=0&page=2"
    )
    assert env["links"]["last"].endswith("page=2")


def test_page_past_the_end_is_empty_with_null_from_and_to() -> None:
    """A page after the last has no data, from/to null and no next link."""
    env = page_envelope(RECORDS, ListQuery(page=5, per_page=3), "http://h/x")
    assert env["data"] == []
    assert env["meta"]["from"] is None and env["meta"]["to"] is None
    assert env["links"]["next"] is None
    assert env["links"]["prev"] == "http://h/x?page=4"


def test_empty_selection_has_one_empty_page() -> None:
    """No records: last_page 1, total 0, from/to null."""
    env = page_envelope([], ListQuery(), "http://h/x")
    assert env["meta"]["last_page"] == 1
    assert env["meta"]["total"] == 0
    assert env["meta"]["from"] is None

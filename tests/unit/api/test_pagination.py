"""Pagination (contract §3): pages fetched in the window, handed on in order, stalls caught."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from makini_desktop.api.client import MakiniClient
from makini_desktop.api.errors import MakiniError
from makini_desktop.api.pagination import parse_rows
from makini_desktop.api.resources import SPACES_VIEW
from tests.helpers.mockapi import BASE, list_page, make_client, run


def _records(n: int, start: int = 0) -> list[dict]:
    return [{"key": f"{i:014d}", "name": f"Row {i}"} for i in range(start, start + n)]


def _laravel(total: int, per_page: int = 10, delay_for=None):
    """A handler serving `total` records in Laravel pages; pages may answer out of order."""
    rows = _records(total)
    last = max(1, -(-total // per_page))

    async def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        if delay_for:
            for _ in range(delay_for(page)):
                await asyncio.sleep(0)
        chunk = rows[(page - 1) * per_page: page * per_page]
        return httpx.Response(200, json=list_page(chunk, page, last, total))

    return handler, rows


async def _collect(client: MakiniClient, path: str = "/api/eam/assets", params=None):
    pages = []
    async with client:
        async for page in client.iter_pages(path, params):
            pages.append(page)
    return pages


def test_laravel_pages_are_fetched_concurrently_and_handed_on_in_order():
    """Pages that answer out of order still come out 1..N with every row once."""
    handler, rows = _laravel(95, delay_for=lambda p: (12 - p) % 5)
    client, rec, _ = make_client(handler, concurrency=4)
    pages = run(_collect(client))
    assert [p.number for p in pages] == list(range(1, 11))
    assert [r["key"] for p in pages for r in p.rows] == [r["key"] for r in rows]
    assert pages[0].total == 95 and pages[0].last_page == 10
    assert sorted(int(r.url.params["page"]) for r in rec.requests) == list(range(1, 11))
    assert all(r.url.params["per_page"] == "100" for r in rec.requests)


def test_in_flight_requests_never_exceed_the_concurrency():
    """At most `concurrency` page requests are in flight at once."""
    state = {"now": 0, "max": 0}
    inner, _ = _laravel(200)

    async def handler(request):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        for _ in range(3):
            await asyncio.sleep(0)
        state["now"] -= 1
        return await inner(request)

    client, _, _ = make_client(handler, concurrency=3)
    pages = run(_collect(client))
    assert len(pages) == 20
    assert state["max"] == 3


def test_the_window_halves_on_429_and_grows_back_slowly():
    """After a 429 fewer requests run at once; the window then grows one step at a time."""
    state = {"now": 0, "peaks": [], "limited": False}
    inner, _ = _laravel(600)

    async def handler(request):
        page = int(request.url.params["page"])
        if page == 12 and not state["limited"]:
            state["limited"] = True
            state["mark"] = len(state["peaks"])
            return httpx.Response(429, headers={"Retry-After": "1"})
        state["now"] += 1
        state["peaks"].append(state["now"])
        for _ in range(3):
            await asyncio.sleep(0)
        state["now"] -= 1
        return await inner(request)

    client, _, _ = make_client(handler, concurrency=4)
    pages = run(_collect(client))
    assert len(pages) == 60
    peaks, mark = state["peaks"], state["mark"]
    assert max(peaks[:mark]) == 4
    after = peaks[mark + 4: mark + 20]
    assert max(after) <= 3  # halved to 2, then grew back by one at most in that stretch
    assert max(peaks[-8:]) >= 3  # and grows back later


def test_links_next_without_meta_is_followed_page_by_page():
    """A server that only gives links.next is walked sequentially until next is null."""
    rows = _records(25)

    def handler(request):
        page = int(request.url.params.get("page", "1"))
        chunk = rows[(page - 1) * 10: page * 10]
        nxt = f"{BASE}/x?page={page + 1}" if page < 3 else None
        return httpx.Response(200, json={"data": chunk, "links": {"next": nxt}})

    client, rec, _ = make_client(handler)
    pages = run(_collect(client))
    assert [r["key"] for p in pages for r in p.rows] == [r["key"] for r in rows]
    assert len(rec.requests) == 3


def test_next_cursor_top_level_or_in_meta_is_followed_until_null():
    """next_cursor pagination is followed with cursor=<value>, wherever the cursor sits."""
    rows = _records(30)
    cursors = {None: ("c1", 0), "c1": ("c2", 10), "c2": (None, 20)}

    def handler(request):
        cur = request.url.params.get("cursor")
        nxt, start = cursors[cur]
        body = {"data": rows[start:start + 10]}
        if cur == "c1":
            body["meta"] = {"next_cursor": nxt}
        else:
            body["next_cursor"] = nxt
        return httpx.Response(200, json=body)

    client, rec, _ = make_client(handler)
    pages = run(_collect(client))
    assert [r["key"] for p in pages for r in p.rows] == [r["key"] for r in rows]
    assert [r.url.params.get("cursor") for r in rec.requests] == [None, "c1", "c2"]


def test_a_repeating_cursor_stops_with_an_error_not_a_loop():
    """A cursor the server already gave ends the walk with PAGINATION_STALLED."""
    client, rec, _ = make_client(
        lambda r: httpx.Response(200, json={"data": _records(1), "next_cursor": "same"}))
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.code == "PAGINATION_STALLED"
    assert len(rec.requests) == 2


def test_a_server_that_ignores_the_page_parameter_is_caught():
    """Pages that do not advance (always page 1) fail instead of duplicating rows."""

    def handler(request):
        return httpx.Response(200, json=list_page(_records(10), 1, 5, 50))

    client, _, _ = make_client(handler)
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.code == "PAGINATION_STALLED"


def test_sequential_pages_that_do_not_advance_are_caught():
    """links.next that keeps pointing at the same page ends in PAGINATION_STALLED."""

    def handler(request):
        return httpx.Response(200, json={
            "data": _records(10), "links": {"next": f"{BASE}/x?page=2"},
            "meta": {"current_page": 1}})

    client, rec, _ = make_client(handler)
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.code == "PAGINATION_STALLED"
    assert len(rec.requests) == 2


def test_page_cap_refuses_endless_lists():
    """More pages than max_pages is an error, not an endless download."""
    handler, _ = _laravel(1000, per_page=1)
    client, rec, _ = make_client(handler, max_pages=50)
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.code == "PAGE_LIMIT"
    assert len(rec.requests) == 1


def test_empty_list_with_null_from_and_to():
    """An empty list (from/to null, last_page 1) is one page with no rows."""
    client, _, _ = make_client(lambda r: httpx.Response(200, json={
        "data": [], "links": {"next": None},
        "meta": {"current_page": 1, "from": None, "to": None, "last_page": 1, "total": 0}}))
    pages = run(_collect(client))
    assert len(pages) == 1 and pages[0].rows == [] and pages[0].total == 0


def test_an_error_on_a_middle_page_fails_the_walk_and_cancels_the_rest():
    """A page that fails for good raises its error; no request is left running."""
    inner, _ = _laravel(100)

    async def handler(request):
        if request.url.params["page"] == "4":
            return httpx.Response(403, json={"error": {"code": "PERMISSION_DENIED"}})
        return await inner(request)

    client, _, _ = make_client(handler)
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.status == 403


def test_view_filters_rows_the_contract_cannot_filter_on_the_server():
    """The spaces view keeps every location that is not a floor."""
    rows = [{"key": "1", "type": "floor"}, {"key": "2", "type": "office"}, {"key": "3"}]
    client, _, _ = make_client(lambda r: httpx.Response(200, json=list_page(rows, 1, 1, 3)))

    async def go():
        async with client:
            return await client.fetch_view(SPACES_VIEW)

    assert [r["key"] for r in run(go())] == ["2", "3"]


def test_parse_rows_keeps_unknown_fields_and_skips_what_is_not_a_record():
    """Unknown fields survive; non-objects and records without a key are counted, not kept."""
    data = [
        {"key": "1", "name": "A", "costCenter": "CC-12", "customFields": {"x": [1, 2]}},
        {"key": 42, "name": "numeric key"},
        "junk", None, {"name": "no key"}, {"key": {"nested": 1}},
    ]
    rows, skipped = parse_rows(data)
    assert rows[0]["customFields"] == {"x": [1, 2]} and rows[0]["costCenter"] == "CC-12"
    assert rows[1]["key"] == "42"
    assert len(rows) == 2 and skipped == 4


def test_links_next_without_page_numbers_that_repeat_the_same_rows_are_caught():
    """A server that ignores `page` and gives only links.next stops at once, not at the cap."""
    client, rec, _ = make_client(lambda r: httpx.Response(200, json={
        "data": _records(10), "links": {"next": f"{BASE}/x?page=2"}}))
    with pytest.raises(MakiniError) as info:
        run(_collect(client))
    assert info.value.code == "PAGINATION_STALLED"
    assert len(rec.requests) == 2


def test_shared_text_makes_repeated_values_one_object_and_keeps_rows_equal():
    """Across pages, equal values of a repeating field are one object; keys, long texts and
    fields with too many distinct values are left as they were; no row changes value."""
    import copy
    import json

    from makini_desktop.api.pagination import SharedText

    def page(start: int) -> list[dict[str, object]]:
        text = json.dumps([
            {"key": f"K{i}", "status": ("open", "closed")[i % 2], "serial": f"S{i}",
             "notes": "x" * 100, "extra": {"nested": "open"}, "n": i}
            for i in range(start, start + 100)
        ])
        return json.loads(text)  # fresh string objects, as from the wire

    shared = SharedText()
    pages = [page(p * 100) for p in range(15)]
    before = copy.deepcopy(pages)
    for rows in pages:
        parse_rows(rows, shared)
    assert pages == before
    rows = [r for p in pages for r in p]
    assert len({id(r["status"]) for r in rows}) == 2
    assert len({id(r["notes"]) for r in rows}) == len(rows)  # long: never shared
    assert len({id(r["key"]) for r in rows}) == len(rows)
    assert SharedText.MAX_VALUES < 1500 and "serial" not in shared._memos  # too varied


def test_shared_text_keeps_a_field_of_many_values_that_repeat_and_drops_one_that_does_not():
    """A floor key among 500 floors, 20 spaces each (listed together), stays shared past
    MAX_VALUES; a name that only now and then repeats is given up once its memo outgrows
    MAX_VALUES."""
    import json

    from makini_desktop.api.pagination import SharedText

    def page(start: int) -> list[dict[str, object]]:
        return json.loads(json.dumps([
            {"key": f"K{i}", "parentKey": f"F{i // 20}", "name": f"Room {i - (i % 4 == 1)}"}
            for i in range(start, start + 100)
        ]))

    shared = SharedText()
    pages = [page(p * 100) for p in range(100)]
    for rows in pages:
        parse_rows(rows, shared)
    rows = [r for p in pages for r in p]
    assert 500 > SharedText.MAX_VALUES
    assert len({id(r["parentKey"]) for r in rows}) == 500
    assert "name" not in shared._memos and "name" in shared._varied
    assert len({id(r["name"]) for r in rows[-300:]}) == 300  # left alone from then on


def test_each_list_a_client_walks_has_its_own_shared_texts():
    """Lists walked at once do not spoil each other's sharing: visits' space keys repeat
    and stay shared though the assets' space keys, walked meanwhile, hardly repeat and are
    given up."""
    import asyncio

    import httpx

    from tests.helpers.mockapi import list_page, make_client, run

    per_page, pages = 100, 20

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        start = (page - 1) * per_page
        if request.url.path.endswith("/assets"):
            rows = [{"key": f"A{i}", "locationKey": f"S{i}"} for i in range(start, start + 100)]
        else:
            rows = [{"key": f"V{i}", "locationKey": f"S{i // 10}"}
                    for i in range(start, start + 100)]
        return httpx.Response(200, json=list_page(rows, page, pages, per_page * pages))

    client, _, _ = make_client(handler)

    async def walk(path: str) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        async for page in client.iter_pages(path):
            out.extend(page.rows)
            await asyncio.sleep(0)  # the other list's next page meanwhile
        return out

    async def both() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        try:
            return await asyncio.gather(walk("/assets"), walk("/visits"))
        finally:
            await client.aclose()

    assets, visits = run(both())
    assert len(assets) == len(visits) == 2000
    assert len({id(r["locationKey"]) for r in visits}) == 200  # 2,000 visits in 200 spaces
    assert len({id(r["locationKey"]) for r in assets}) == 2000


def test_shared_text_gives_a_timestamp_at_the_instant_of_updated_at_its_string():
    """A field that often holds the row's updatedAt instant (a last audit) holds the very
    string of updatedAt when equal to it; rows are unchanged as values, and a different
    instant keeps its own text."""
    import copy
    import json

    from makini_desktop.api.pagination import SharedText

    def page(start: int) -> list[dict[str, object]]:
        return json.loads(json.dumps([
            {"key": f"K{i}", "updatedAt": f"2026-01-01T00:00:{i % 60:02}Z",
             "lastAuditAt": f"2026-01-01T00:00:{(i + i % 3) % 60:02}Z", "note": None}
            for i in range(start, start + 100)
        ]))

    shared = SharedText()
    pages = [page(p * 100) for p in range(3)]
    before = copy.deepcopy(pages)
    for rows in pages:
        parse_rows(rows, shared)
    assert pages == before
    rows = [r for p in pages for r in p]
    same = [r for r in rows if r["lastAuditAt"] == r["updatedAt"]]
    other = [r for r in rows if r["lastAuditAt"] != r["updatedAt"]]
    assert len(same) == 100 and len(other) == 200
    assert all(r["lastAuditAt"] is r["updatedAt"] for r in same)
    assert not any(r["lastAuditAt"] is r["updatedAt"] for r in other)

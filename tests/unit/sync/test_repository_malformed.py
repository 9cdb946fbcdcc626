"""A list is committed to the offline cache only when every page of its walk arrived whole.

The server is an ``httpx.MockTransport`` script: pages whose ``data`` is null, an object or
a string, and walks whose row count disagrees with the server's ``meta.total``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from makini_desktop.api.errors import IncompleteListError, MakiniError
from makini_desktop.api.resources import DATASETS
from makini_desktop.store.cache import Cache
from makini_desktop.sync.repository import Repository
from tests.helpers.mockapi import list_page, make_client, run

PER_PAGE = 100
SITES = DATASETS["sites"]


def _records(count: int, tag: str = "v1") -> list[dict[str, Any]]:
    return [
        {"key": f"{i:014d}", "name": f"Site {i} {tag}", "updatedAt": "2026-03-01T10:00:00Z",
         "deletedAt": None}
        for i in range(1, count + 1)
    ]


class Script:
    """A list server: ``records`` in pages of 100, with faults switched on per test.

    Attributes:
        bad_page: the page number whose ``data`` is replaced by ``bad_data``.
        total: the ``meta.total`` to claim (None: the true count).
        drop: records left out of the pages while ``total`` still counts them.
        drop_walks: how many walks leave them out (None: every walk).
    """

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.bad_page: int | None = None
        self.bad_data: Any = None
        self.total: int | None = None
        self.drop = 0
        self.drop_walks: int | None = None
        self.walks = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/integrations/current"):
            return httpx.Response(200, json={"data": {"sync_status": "done"}})
        page = int(request.url.params.get("page", "1"))
        if page == 1 and "filter[updatedAt:gt]" not in request.url.params:
            self.walks += 1
        dropping = self.drop_walks is None or self.walks <= self.drop_walks
        served = self.records[: len(self.records) - self.drop] if dropping else self.records
        last = max(1, -(-len(served) // PER_PAGE))
        rows = served[(page - 1) * PER_PAGE: page * PER_PAGE]
        total = self.total if self.total is not None else len(self.records)
        doc = list_page(rows, page, last, total)
        if page == self.bad_page:
            doc["data"] = self.bad_data
        return httpx.Response(200, json=doc, headers={"X-Request-Id": f"req_p{page}"})


def _repo(script: Script, cache: Cache | None) -> Repository:
    client, _, _ = make_client(script, per_page=PER_PAGE, concurrency=1)
    return Repository(SITES, client, cache)


async def _refresh(repo: Repository, **kw: Any):
    try:
        return await repo.refresh(**kw)
    finally:
        assert repo.client is not None
        await repo.client.aclose()


@pytest.fixture
def cache(tmp_path):
    c = Cache.open(tmp_path / "c.sqlite3")
    yield c
    c.close()


def _seed(cache: Cache, rows: list[dict[str, Any]]) -> datetime:
    """A previous snapshot, synced at a fixed time."""
    at = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    writer = cache.begin_snapshot("sites")
    writer.add(rows)
    writer.commit(server_total=len(rows), watermark="2026-02-01T08:00:00Z", synced_at=at)
    return at


@pytest.mark.parametrize("bad", [None, {"key": "x"}, "rows"], ids=["null", "object", "string"])
def test_a_malformed_middle_page_never_replaces_the_snapshot(cache, bad):
    """A page whose data is null, an object or a string fails the sync; the old list and its
    sync time stay in the cache."""
    old = _records(120, "old")
    at = _seed(cache, old)
    script = Script(_records(350))
    script.bad_page, script.bad_data = 2, bad
    with pytest.raises(MakiniError):
        run(_refresh(_repo(script, cache), full=True))
    kept = cache.load("sites")
    assert kept.rows == old
    assert kept.last_full_sync == at and kept.last_sync == at


def test_a_walk_that_misses_rows_twice_is_reported_not_committed(cache):
    """When the rows received disagree with the server's total on two walks, the sync fails
    with a sentence giving both counts, and the cache is unchanged."""
    old = _records(40, "old")
    at = _seed(cache, old)
    script = Script(_records(5000))
    script.drop = 50  # the server counts 5,000 but sends 4,950
    with pytest.raises(IncompleteListError) as info:
        run(_refresh(_repo(script, cache), full=True))
    assert script.walks == 2
    assert "4,950 of 5,000" in info.value.message
    assert "not saved" in info.value.message
    assert info.value.request_id  # a request ID to quote to support
    kept = cache.load("sites")
    assert kept.rows == old and kept.last_full_sync == at


def test_a_walk_that_comes_back_whole_on_the_retry_is_committed(cache):
    """A list cut short once is fetched again and the complete second walk is saved."""
    _seed(cache, _records(10, "old"))
    script = Script(_records(350))
    script.drop, script.drop_walks = 60, 1
    result = run(_refresh(_repo(script, cache), full=True))
    assert script.walks == 2
    assert result.keys == [r["key"] for r in _records(350)]
    assert cache.load("sites").rows == _records(350)


def test_pages_of_a_retried_walk_are_not_handed_on_twice(cache):
    """The table streaming a retried walk receives each record once."""
    script = Script(_records(350))
    script.drop, script.drop_walks = 60, 1
    seen: list[str] = []
    run(_refresh(_repo(script, cache), full=True,
                 on_page=lambda rows, p: seen.extend(r["key"] for r in rows)))
    assert sorted(seen) == [r["key"] for r in _records(350)]


def test_a_malformed_page_fails_the_sync_without_a_cache_too():
    """Without an offline cache, a list cut short is still an error, never a short list."""
    script = Script(_records(250))
    script.bad_page, script.bad_data = 2, None
    with pytest.raises(MakiniError):
        run(_refresh(_repo(script, None), full=True))


def test_a_malformed_page_in_an_incremental_walk_is_never_applied(cache):
    """Changes cut short by a malformed page are not applied; a full walk is made instead
    and the cache ends up equal to the server's list."""
    _seed(cache, _records(250, "old"))
    cache_before = cache.dataset_info("sites")
    assert cache_before is not None
    script = Script(_records(250, "new"))

    def handler(request: httpx.Request) -> httpx.Response:
        if "filter[updatedAt:gt]" in request.url.params:
            page = int(request.url.params.get("page", "1"))
            changed = script.records[:250]
            doc = list_page(changed[(page - 1) * PER_PAGE: page * PER_PAGE], page, 3, 250)
            if page == 2:
                doc["data"] = None
            return httpx.Response(200, json=doc, headers={"X-Request-Id": f"req_i{page}"})
        return script(request)

    client, _, _ = make_client(handler, per_page=PER_PAGE, concurrency=1)
    repo = Repository(SITES, client, cache, clock=lambda: datetime(2026, 2, 1, 9, tzinfo=UTC))
    try:
        result = run(_refresh(repo))
    except MakiniError:
        result = None  # the client may refuse the page itself; then nothing was applied
    if result is None:
        assert cache.load("sites").rows == _records(250, "old")
    else:
        assert result.mode == "full"
        assert cache.load("sites").rows == _records(250, "new")


def test_an_honest_list_with_keyless_records_still_syncs(cache):
    """Records the app cannot use (no key) do not make a complete list look incomplete."""
    records: list[Any] = [*_records(150), {"name": "no key"}, "not a record"]
    script = Script(records)
    result = run(_refresh(_repo(script, cache), full=True))
    assert len(result.keys) == 150
    assert cache.load("sites").rows == _records(150)


def test_the_error_names_the_list_and_both_counts_for_a_person():
    """The incomplete-list error reads as one sentence with thousands separators."""
    err = IncompleteListError.for_counts("assets", received=4950, total=5000, request_id="r1")
    assert err.message == "The server sent 4,950 of 5,000 assets; the list was not saved."
    assert err.summary() == err.message
    assert "r1" in err.one_line()


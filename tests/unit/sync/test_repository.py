"""The sync policy against the real sandbox over loopback: atomic full, incremental, fallback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from makini_desktop.api.errors import MakiniError
from makini_desktop.api.resources import DATASETS
from makini_desktop.sync.session import ConnectionInfo, Session
from tests.helpers.mockapi import run

TOKEN = "sandbox-token"


def _session(sandbox, key: str = "conn1") -> Session:
    return Session(ConnectionInfo("Test", sandbox.url, key), TOKEN)


async def _refresh(session: Session, dataset: str, **kw):
    try:
        return await session.repository(dataset).refresh(**kw)
    finally:
        await session.aclose()


def _keys(rows):
    return [r["key"] for r in rows]


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_full_sync_caches_exactly_the_servers_list(sandbox, dataset):
    """A first refresh fetches the whole list and the cache then holds exactly it."""
    result = run(_refresh(_session(sandbox), dataset))
    expected = sandbox.data.visible(dataset)
    assert result.mode == "full"
    assert result.keys == _keys(expected)
    cached = _session(sandbox).repository(dataset).cached_rows()
    assert cached == expected


def test_pages_are_handed_on_as_they_arrive(sandbox):
    """A full sync calls back once per page with that page's rows and progress."""
    seen = []
    run(_refresh(_session(sandbox), "assets", on_page=lambda rows, p: seen.append((len(rows), p))))
    assert len(seen) == seen[-1][1].last_page > 1
    assert [p.page for _, p in seen] == list(range(1, len(seen) + 1))
    assert sum(n for n, _ in seen) == len(sandbox.data.visible("assets"))
    assert seen[0][1].describe() == f"page 1 of {seen[0][1].last_page}"


def test_incremental_refresh_applies_changes_and_tombstones(sandbox):
    """After the server changed and soft-deleted records, a refresh matches it exactly."""
    run(_refresh(_session(sandbox), "assets"))
    changed = sandbox.mutate("assets", 25, delete_share=0.3)
    assert changed
    result = run(_refresh(_session(sandbox), "assets"))
    assert result.mode == "incremental" and result.keys is None
    assert result.deleted > 0 and result.changed > 0
    # every changed record came back (plus, at most, a few from the 1 s overlap window)
    assert set(changed) <= set(result.deleted_keys + _keys(result.upserts))
    expected = sandbox.data.visible("assets")
    cached = _session(sandbox).repository("assets").cached_rows()
    assert sorted(_keys(cached)) == sorted(_keys(expected))
    by_key = {r["key"]: r for r in cached}
    assert all(by_key[r["key"]] == r for r in expected)


def test_incremental_refresh_moves_far_fewer_bytes_than_a_full_one(sandbox):
    """An incremental refresh after a few changes is a small share of a full sync."""
    full = run(_refresh(_session(sandbox), "assets"))
    sandbox.mutate("assets", 5, delete_share=0.2)
    inc = run(_refresh(_session(sandbox), "assets"))
    assert inc.mode == "incremental"
    assert inc.nbytes < full.nbytes * 0.2


def test_a_failure_part_way_keeps_the_previous_snapshot_and_its_time(sandbox):
    """A 500 that outlasts the retries on page 3 leaves the cached list and time untouched."""
    run(_refresh(_session(sandbox), "assets"))
    before = _session(sandbox).repository("assets")
    meta_before = before.cached_meta()
    first_rows = before.cached_rows()
    before.cache.close()
    sandbox.mutate("assets", 10, delete_share=0.0)
    sandbox.set_faults(["500:path=/api/eam/assets,after=2"])
    with pytest.raises(MakiniError) as info:
        run(_refresh(_session(sandbox), "assets", full=True))
    assert info.value.status == 500
    sandbox.clear_faults()
    repo = _session(sandbox).repository("assets")
    assert repo.cached_meta() == meta_before
    assert repo.cached_rows() == first_rows


def test_cancelling_a_sync_keeps_the_previous_snapshot(sandbox):
    """Cancelling a full sync part-way leaves the old list in the cache."""
    run(_refresh(_session(sandbox), "assets"))
    first_rows = _session(sandbox).repository("assets").cached_rows()

    async def cancel_after_two_pages():
        session = _session(sandbox)
        pages = []
        task = asyncio.ensure_future(
            session.repository("assets").refresh(full=True, on_page=lambda r, p: pages.append(p)))
        while len(pages) < 2:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await session.aclose()

    run(cancel_after_two_pages())
    repo = _session(sandbox).repository("assets")
    assert repo.cached_rows() == first_rows


def test_a_total_that_disagrees_after_an_incremental_pass_forces_a_full_resync(sandbox):
    """A cache that lost a row the server still has is repaired by a full resync."""
    run(_refresh(_session(sandbox), "sites"))
    repo = _session(sandbox).repository("sites")
    victim = dict(repo.cached_rows()[0], deletedAt="2026-01-01T00:00:00Z")
    repo.cache.apply_changes("sites", [victim], watermark=None,
                             synced_at=datetime.now(UTC), server_total=None)
    repo.cache.close()
    result = run(_refresh(_session(sandbox), "sites"))
    assert result.mode == "full"
    assert result.keys == _keys(sandbox.data.visible("sites"))


def test_a_last_full_sync_older_than_a_day_forces_a_full_sync(sandbox):
    """24 hours after the last full sync, a refresh fetches the whole list again."""
    run(_refresh(_session(sandbox), "sites"))
    session = _session(sandbox)
    repo = session.repository("sites")
    repo._clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    result = run(_refresh(session, "sites"))
    assert result.mode == "full"


def test_full_refresh_on_demand(sandbox):
    """"Full refresh" fetches the whole list even when an incremental one would do."""
    run(_refresh(_session(sandbox), "sites"))
    assert run(_refresh(_session(sandbox), "sites")).mode == "incremental"
    assert run(_refresh(_session(sandbox), "sites", full=True)).mode == "full"


def test_two_connections_never_share_rows(sandbox):
    """Each connection has its own cache: syncing one leaves the other empty."""
    run(_refresh(_session(sandbox, "conn-a"), "sites"))
    assert _session(sandbox, "conn-a").repository("sites").cached_meta() is not None
    assert _session(sandbox, "conn-b").repository("sites").cached_meta() is None


def test_concurrent_cache_opens_share_one_file_handle(sandbox):
    """Two loads asking for the cache at once get the same one, opened once."""

    async def go():
        session = Session(ConnectionInfo("Test", sandbox.url, "shared"), TOKEN,
                          open_cache="later")
        first, second = await asyncio.gather(session.ensure_cache(), session.ensure_cache())
        assert first is second is session.cache is not None
        assert session.repository("sites").cache is first
        await session.aclose()
        assert first.closed

    run(go())


def test_closing_while_the_cache_opens_leaves_no_file_open(sandbox):
    """A session closed during its cache's opening closes the cache when it arrives."""

    async def go():
        session = Session(ConnectionInfo("Test", sandbox.url, "closing"), TOKEN,
                          open_cache="later")
        opening = asyncio.ensure_future(session.ensure_cache())
        await asyncio.sleep(0)
        await session.aclose()
        await asyncio.gather(opening, return_exceptions=True)
        assert session.cache is None

    run(go())


def _touch(sandbox, dataset: str, key: str, name: str) -> None:
    """Change one record on the server now, as another user of the source system would."""
    from makini_desktop.sandbox.data import format_ts

    record = dict(sandbox.data.get(dataset, key))
    record["name"] = name
    record["updatedAt"] = format_ts(sandbox.data.next_stamp())
    sandbox.data.replace(dataset, record)


def test_a_change_on_a_page_already_fetched_is_not_lost(sandbox):
    """A record changed during a sync, on a page already read, comes with the next refresh
    even though a later page brought a newer change."""
    keys = [r["key"] for r in sandbox.data.visible("assets")]
    first, last = keys[0], keys[-1]

    def change_during_walk(rows, progress):
        if progress.page == 1:  # page 1 is read; the last page is not requested yet
            _touch(sandbox, "assets", first, "Renamed while page 1 was on screen")
            _touch(sandbox, "assets", last, "Renamed later in the walk")

    result = run(_refresh(_session(sandbox), "assets", on_page=change_during_walk))
    assert result.mode == "full"
    names = {r["key"]: r["name"] for r in _session(sandbox).repository("assets").cached_rows()}
    assert names[last] == "Renamed later in the walk"
    assert names[first] != "Renamed while page 1 was on screen"  # missed by this walk...
    again = run(_refresh(_session(sandbox), "assets"))
    assert again.mode == "incremental"
    cached = {r["key"]: r for r in _session(sandbox).repository("assets").cached_rows()}
    assert cached[first]["name"] == "Renamed while page 1 was on screen"  # ...not for good
    assert cached == {r["key"]: r for r in sandbox.data.visible("assets")}


def test_incremental_asks_from_one_second_before_the_watermark(sandbox):
    """Changes made in the watermark's own second are asked for again (1 s overlap)."""
    from datetime import datetime as dt

    run(_refresh(_session(sandbox), "sites"))
    session = _session(sandbox)
    repo = session.repository("sites")
    watermark = repo.cache.dataset_info("sites").watermark
    asked = []
    real = session.client.iter_pages

    def spy(path, params=None):
        asked.append(dict(params or {}))
        return real(path, params)

    session.client.iter_pages = spy
    assert run(_refresh(session, "sites")).mode == "incremental"
    since = dt.fromisoformat(asked[0]["filter[updatedAt:gt]"].replace("Z", "+00:00"))
    assert dt.fromisoformat(watermark.replace("Z", "+00:00")) - since == timedelta(seconds=1)

"""A snapshot fed from the event loop: pages staged in order on one thread, then swapped in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from makini_desktop.store.cache import Cache, CacheError
from makini_desktop.store.snapshot import MAX_QUEUED_PAGES, SnapshotWriter, StagingThread
from tests.unit.store.cache_rows import T0, T1, keys, rec, snapshot


def _pages(n: int, size: int = 3) -> list[list[dict]]:
    return [[rec(f"{p:03d}-{i}") for i in range(size)] for p in range(n)]


def _stage_all(
    cache: Cache, pages: list[list[dict]], on_add: Callable[[list[dict]], None]
) -> int:
    """Stage ``pages`` through a StagingThread and commit them, ``on_add`` seeing each
    write the writer makes (in the thread that makes it); the commit's row count."""
    real_add = SnapshotWriter.add

    def add(self: SnapshotWriter, rows):  # type: ignore[no-untyped-def]
        on_add(rows)
        return real_add(self, rows)

    async def go() -> int:
        staging = await StagingThread.begin(cache, "assets")
        for page in pages:
            await staging.stage(page)
        return await staging.commit(server_total=None, watermark=lambda w: w, synced_at=T1)

    SnapshotWriter.add = add  # type: ignore[method-assign]
    try:
        return asyncio.run(go())
    finally:
        SnapshotWriter.add = real_add  # type: ignore[method-assign]


def test_pages_are_staged_in_order_on_one_thread_and_committed_once(cache: Cache) -> None:
    """Many pages queued without waiting end in the cache in the order they were queued,
    every one written by the same worker thread, not the loop's."""
    threads: set[str] = set()
    pages = _pages(MAX_QUEUED_PAGES * 3)
    count = _stage_all(cache, pages, lambda rows: threads.add(threading.current_thread().name))
    assert count == sum(len(p) for p in pages)
    assert keys(cache.load("assets").rows) == [r["key"] for p in pages for r in p]
    assert len(threads) == 1 and threading.main_thread().name not in threads
    assert cache.load("assets").last_full_sync == T1


def test_staging_waits_while_the_queue_is_full_and_loses_no_page(
        cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the worker is held, the loop queues at most MAX_QUEUED_PAGES writes and then
    waits (memory stays bounded on a slow disk); released, every page ends in the cache in
    order. (One write per page here: a batch of one row.)"""
    from makini_desktop.store import snapshot as snapshot_module

    monkeypatch.setattr(snapshot_module, "STAGE_BATCH_ROWS", 1)
    held = threading.Event()
    real_add = SnapshotWriter.add
    monkeypatch.setattr(SnapshotWriter, "add",
                        lambda self, rows: (held.wait(10), real_add(self, rows))[1])
    pages = _pages(MAX_QUEUED_PAGES * 2)
    staged: list[int] = []

    async def go() -> int:
        staging = await StagingThread.begin(cache, "assets")

        async def feed() -> None:
            for n, page in enumerate(pages):
                await staging.stage(page)
                staged.append(n)

        feeding = asyncio.ensure_future(feed())
        for _ in range(200):  # until the loop cannot queue more
            await asyncio.sleep(0)
        waiting = len(staged)
        held.set()
        await feeding
        assert waiting < len(pages)  # the feed waited for the worker...
        # ...with the first page written alone and MAX_QUEUED_PAGES writes queued at most
        assert waiting <= MAX_QUEUED_PAGES + 1
        return await staging.commit(server_total=None, watermark=lambda w: w, synced_at=T1)

    count = asyncio.run(go())
    assert count == sum(len(p) for p in pages)
    assert keys(cache.load("assets").rows) == [r["key"] for p in pages for r in p]


def test_a_page_that_fails_to_stage_keeps_the_previous_snapshot(cache: Cache) -> None:
    """A page the worker could not write makes the sync fail; the old rows stay."""
    snapshot(cache, "assets", [rec("old")], at=T0)
    before = cache.load("assets")
    real_add = SnapshotWriter.add
    calls = 0

    def add(self: SnapshotWriter, rows):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise CacheError("disk full", reason="full")
        return real_add(self, rows)

    async def go() -> None:
        staging = await StagingThread.begin(cache, "assets")
        try:
            for page in _pages(4):
                await staging.stage(page)
            await staging.commit(server_total=None, watermark=lambda w: w, synced_at=T1)
        finally:
            if not staging.done:
                staging.abort_now()

    SnapshotWriter.add = add  # type: ignore[method-assign]
    try:
        with pytest.raises(CacheError):
            asyncio.run(go())
    finally:
        SnapshotWriter.add = real_add  # type: ignore[method-assign]
    assert cache.load("assets") == before


def test_aborting_discards_what_was_staged(cache: Cache) -> None:
    """An aborted snapshot leaves the previous rows and no staging behind."""
    snapshot(cache, "assets", [rec("old")], at=T0)
    before = cache.load("assets")

    async def go() -> None:
        staging = await StagingThread.begin(cache, "assets")
        for page in _pages(3):
            await staging.stage(page)
        await staging.abort()
        assert staging.done

    asyncio.run(go())
    assert cache.load("assets") == before
    assert cache._conn is not None
    assert cache._conn.execute("SELECT count(*) FROM staging").fetchone()[0] == 0


def test_pages_after_the_first_are_written_together(cache: Cache) -> None:
    """The first page is written alone, then consecutive pages in transactions of about
    STAGE_BATCH_ROWS rows, the rest at the commit; every row is kept, in order."""
    from makini_desktop.store.snapshot import STAGE_BATCH_ROWS

    sizes: list[int] = []
    per_page = 100
    pages = _pages(25, per_page)  # 2,500 rows
    count = _stage_all(cache, pages, lambda rows: sizes.append(len(rows)))
    assert STAGE_BATCH_ROWS == 1000
    assert sizes == [100, 1000, 1000, 400]
    assert count == 2500
    assert keys(cache.load("assets").rows) == [r["key"] for p in pages for r in p]


def test_an_abort_drops_the_pages_not_yet_written(cache: Cache) -> None:
    """Pages gathered for a later transaction are never written after an abort."""
    snapshot(cache, "assets", [rec("old")], at=T0)
    before = cache.load("assets")
    sizes: list[int] = []
    real_add = SnapshotWriter.add

    def add(self: SnapshotWriter, rows):  # type: ignore[no-untyped-def]
        sizes.append(len(rows))
        return real_add(self, rows)

    async def go() -> None:
        staging = await StagingThread.begin(cache, "assets")
        for page in _pages(5, 10):
            await staging.stage(page)
        staging.abort_now()

    SnapshotWriter.add = add  # type: ignore[method-assign]
    try:
        asyncio.run(go())
    finally:
        SnapshotWriter.add = real_add  # type: ignore[method-assign]
    assert sizes in ([10], [])  # the first page, if the worker took it before the abort
    assert cache.load("assets") == before

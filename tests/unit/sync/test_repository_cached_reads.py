"""The cached reads of a start from the cache: names without decoding, one read for two tabs."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from makini_desktop.api.resources import DATASETS
from makini_desktop.store.cache import Cache
from makini_desktop.sync.repository import Repository
from tests.unit.store.cache_rows import rec, snapshot

ROWS = [rec(f"L{n:03}", f"Room {n}", code=f"R{n}") for n in range(23)]


def _repo(tmp_path: Path) -> tuple[Repository, Cache]:
    cache = Cache.open(tmp_path / "c.sqlite3")
    snapshot(cache, "locations", ROWS)
    return Repository(DATASETS["locations"], None, cache), cache


def _keys(chunks: list[list[dict[str, Any]]]) -> list[str]:
    return [r["key"] for rows in chunks for r in rows]


def test_a_kept_read_is_given_again_without_reading_the_cache(tmp_path, monkeypatch):
    """Two tabs of one dataset: the second gets the first's chunks (the same rows, in the
    same chunks) and the cache is read once; a third read reads the cache again."""
    repo, cache = _repo(tmp_path)
    reads: list[str] = []
    real = cache.iter_load
    monkeypatch.setattr(cache, "iter_load", lambda *a, **k: (reads.append(a[0]), real(*a, **k))[1])
    repo.keep_cached_read()
    first = list(repo.iter_cached(5, first=2))
    second = list(repo.iter_cached(5, first=2))
    assert [len(c) for c in first] == [2, 5, 5, 5, 5, 1]
    assert second == first
    assert second[1][0] is first[1][0]
    assert _keys(second) == [r["key"] for r in ROWS]
    assert reads == ["locations"]
    assert _keys([*repo.iter_cached(5, first=2)]) == [r["key"] for r in ROWS]
    assert reads == ["locations", "locations"]
    cache.close()


def test_a_read_cut_short_is_not_kept_and_other_chunks_read_anew(tmp_path):
    repo, cache = _repo(tmp_path)
    repo.keep_cached_read()
    with contextlib.closing(repo.iter_cached(5)) as chunks:
        next(chunks)  # stopped after one chunk: nothing kept
    assert _keys(list(repo.iter_cached(4))) == [r["key"] for r in ROWS]  # kept now, by 4s
    assert [len(c) for c in repo.iter_cached(10)] == [10, 10, 3]  # other chunks: read anew
    repo.drop_kept_read()
    assert _keys(list(repo.iter_cached(4))) == [r["key"] for r in ROWS]
    cache.close()


def test_cached_slices_give_the_names_fields(tmp_path):
    repo, cache = _repo(tmp_path)

    async def collect() -> list[dict[str, Any]]:
        return [r for rows in [s async for s in repo.cached_slices(("name", "code"), 2)]
                for r in rows]

    got = asyncio.run(collect())
    assert got == [{"key": r["key"], "name": r["name"], "code": r["code"]} for r in ROWS]
    cache.close()

"""One path for a list, over loopback with no Qt: pages fetched, staged and shown once.

A full sync's rows reach the tab only through ``on_page``; its end commits the snapshot and
applies only the difference to what the tab shows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from makini_desktop.api import resources as res
from makini_desktop.store import snapshot
from makini_desktop.sync.tab_status import Phase
from tests.integration.test_workspace_sync import ListSink, make_workspace, open_from_store

Row = dict[str, Any]


class CountingSink(ListSink):
    """A :class:`ListSink` that records how rows reached it."""

    def __init__(self, name: str, events: list[str]) -> None:
        super().__init__(name, events)
        self.calls: list[tuple[str, int]] = []

    def set_rows(self, rows: Any) -> None:
        rows = list(rows)
        self.calls.append(("set", len(rows)))
        super().set_rows(rows)

    def append_rows(self, rows: Any) -> None:
        rows = list(rows)
        self.calls.append(("append", len(rows)))
        super().append_rows(rows)

    def apply_changes(self, upserts: Any, deleted_keys: Any) -> None:
        upserts, deleted_keys = list(upserts), list(deleted_keys)
        self.calls.append(("apply", len(upserts) + len(deleted_keys)))
        for key in deleted_keys:
            self.rows.pop(key, None)
        self.rows.update((str(r[res.F_KEY]), r) for r in upserts)


def _workspace() -> Any:
    ws = make_workspace([])
    for tab in ws.tabs.values():
        tab.model = CountingSink(tab.dataset.name, [])
    return ws


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Datasets whose snapshot was committed, in order."""
    done: list[str] = []
    real = snapshot.SnapshotWriter.commit

    def commit(self: snapshot.SnapshotWriter, **kw: Any) -> int:
        count = real(self, **kw)
        done.append(self.dataset)
        return count

    monkeypatch.setattr(snapshot.SnapshotWriter, "commit", commit)
    return done


def _shown(ws: Any, view: str) -> dict[str, Row]:
    return dict(ws.tabs[view].model.rows)


def _server(sandbox: Any, view: str) -> dict[str, Row]:
    v = res.VIEWS[view]
    return {r["key"]: r for r in sandbox.data.visible(v.dataset.name)}


def test_a_first_load_shows_exactly_the_servers_rows_and_commits_once(sandbox, monkeypatch):
    """Into empty tabs, every tab ends with the server's rows, each snapshot committed once,
    and nothing is handed over whole after the pages."""
    commits = _commits(monkeypatch)

    async def go():
        ws = _workspace()
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        assert all(t.status.phase is Phase.UP_TO_DATE for t in ws.tabs.values())
        for name in ws.tabs:
            assert _shown(ws, name) == _server(sandbox, name)  # this sink keeps floors too
            calls = ws.tabs[name].model.calls
            assert not any(kind == "set" and n for kind, n in calls)  # never the whole list
        await ws.close()

    asyncio.run(go())
    assert sorted(commits) == sorted(res.VIEWS[n].dataset.name for n in res.TAB_VIEWS)


def test_a_full_refresh_over_shown_rows_applies_only_the_difference(sandbox, monkeypatch):
    """Changed and deleted records on the server reach a tab that shows rows as one change
    set of just those rows; the tab then equals the server's list."""
    commits = _commits(monkeypatch)

    async def go():
        ws = _workspace()
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        changed = sandbox.mutate("assets", 12, delete_share=0.25)
        tab = ws.tabs["assets"]
        tab.model.calls.clear()
        commits.clear()
        await tab.refresh(full=True)
        assert tab.status.phase is Phase.UP_TO_DATE
        assert tab.model.calls == [("apply", len(set(changed)))]
        assert _shown(ws, "assets") == _server(sandbox, "assets")
        assert commits == ["assets"]
        await ws.close()

    asyncio.run(go())


def test_a_failed_page_mid_walk_leaves_the_table_and_the_snapshot_as_they_were(sandbox):
    """A page that fails for good part-way through a full refresh changes neither the rows
    shown nor the cached snapshot."""

    async def go():
        ws = _workspace()
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        tab = ws.tabs["assets"]
        before = _shown(ws, "assets")
        repo = ws.session.repository("assets")
        cached_before = repo.cached_rows()
        sandbox.mutate("assets", 10, delete_share=0.2)
        sandbox.set_faults(["500:path=/api/eam/assets,after=2"])
        tab.model.calls.clear()
        await tab.refresh(full=True)
        sandbox.clear_faults()
        assert tab.status.phase is Phase.FAILED
        assert tab.model.calls == []
        assert _shown(ws, "assets") == before
        assert repo.cached_rows() == cached_before
        await ws.close()

    asyncio.run(go())

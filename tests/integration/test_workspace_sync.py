"""The Qt-free workspace against the sandbox over loopback, with no widget and no Qt.

It opens a connection whose token comes from an in-memory token store, loads the lookups
before the other lists, goes offline when the sandbox stops, comes back by itself when it
runs again, and refreshes only the tabs that are not current.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.client import RetryPolicy
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.notify import Message, Notifier
from makini_desktop.sync.session import ConnectionInfo, ConnState, Session
from makini_desktop.sync.tab import LOOKUP_DATASETS
from makini_desktop.sync.tab_status import Phase
from makini_desktop.sync.workspace import Workspace
from makini_desktop.table.lookups import Lookups
from tests.helpers.memkeyring import MemoryKeyring

TOKEN = "sandbox-token"
Row = dict[str, Any]


class ListSink:
    """A tab's rows as a plain dict (what the Qt model is to the real app)."""

    def __init__(self, name: str, events: list[str]) -> None:
        self.name = name
        self.events = events
        self.rows: dict[str, Row] = {}

    @property
    def total(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def set_rows(self, rows: Iterable[Row]) -> None:
        self.rows = {str(r[res.F_KEY]): r for r in rows}
        self.events.append(self.name)

    def append_rows(self, rows: Iterable[Row]) -> None:
        self.rows.update((str(r[res.F_KEY]), r) for r in rows)
        self.events.append(self.name)

    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None:
        for key in deleted_keys:
            self.rows.pop(key, None)
        self.append_rows(upserts)

    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]:
        changed = []
        for row in rows:
            key = str(row[res.F_KEY])
            if seen is not None:
                seen.add(key)
            if self.rows.get(key) != row:
                changed.append(row)
        return changed

    def keys_not_in(self, seen: set[str]) -> list[str]:
        return [k for k in self.rows if k not in seen]


def fast_retries(info: ConnectionInfo, token: str, **kwargs: Any) -> Session:
    """A Session whose client gives up after one quick retry."""
    session = Session(info, token, **kwargs)
    assert session.client is not None
    session.client.retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.05)
    return session


def make_workspace(events: list[str], notifier: Notifier | None = None) -> Workspace:
    views = [res.VIEWS[name] for name in res.TAB_VIEWS]
    models = {v.name: ListSink(v.dataset.name, events) for v in views}
    ws = Workspace(views, Lookups(), models, session_factory=fast_retries, notifier=notifier)
    ws.probe_delays = (0.05, 0.2)
    return ws


async def wait_for(condition: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def open_from_store(ws: Workspace, url: str) -> None:
    tokens = TokenStore(MemoryKeyring())
    tokens.set("conn-1", TOKEN)
    ws.open(ConnectionInfo("Sandbox", url, "ws-sync-test"), tokens.get("conn-1"))


def test_the_workspace_needs_no_qt():
    """Importing the sync workspace loads no Qt module at all."""
    code = ("import sys, makini_desktop.sync.workspace, makini_desktop.sync.notify, "
            "tests.integration.test_workspace_sync; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_opens_a_connection_and_loads_the_lookups_before_the_other_lists(sandbox):
    """Sites and locations are filled before any other tab receives a row; all end current."""

    async def go():
        events: list[str] = []
        ws = make_workspace(events)
        seen: list[str] = []
        ws.on_connection = lambda: seen.append("connection")
        open_from_store(ws, sandbox.url)
        assert ws.state is ConnState.CONNECTING and seen == ["connection"]
        await ws.start_all()
        assert all(t.status.phase is Phase.UP_TO_DATE for t in ws.tabs.values())
        assert ws.current_state() is ConnState.READY and ws.state_text() == "Ready"
        lookup_events = [i for i, e in enumerate(events) if e in LOOKUP_DATASETS]
        other_events = [i for i, e in enumerate(events) if e not in LOOKUP_DATASETS]
        assert lookup_events and other_events
        assert max(lookup_events) < min(other_events)
        assert ws.lookups.names(res.SITES.name)  # the names other tabs show
        await ws.close()
        assert ws.session is None and seen == ["connection", "connection"]

    asyncio.run(go())


def test_goes_offline_when_the_sandbox_stops_and_resumes_when_it_is_back():
    """A stopped server: one offline change, tabs say cached; back: every tab refreshes."""
    server = SandboxServer(SandboxConfig(scale="small", seed=42, tokens=(TOKEN,)))
    server.start()
    port = server.port
    again: SandboxServer | None = None

    async def go():
        nonlocal again
        ws = make_workspace([])
        reaches: list[Reach] = []
        errors: list[Any] = []
        ws.on_reach = lambda: reaches.append(ws.reach)
        ws.on_error = errors.append
        open_from_store(ws, server.url)
        await ws.start_all()
        reaches.clear()

        server.stop()
        await ws.refresh_tab("assets")
        assert ws.reach is Reach.OFFLINE and not ws.online
        assert all(t.status.phase is Phase.OFFLINE for t in ws.tabs.values())
        assert ws.state_text() == "Offline"
        assert errors == []  # offline is said by the banner, never as an error per tab

        again = SandboxServer(SandboxConfig(port=port, scale="small", seed=42, tokens=(TOKEN,)))
        again.start()
        await wait_for(lambda: ws.online)
        await wait_for(lambda: all(t.status.phase is Phase.UP_TO_DATE
                                   for t in ws.tabs.values()))
        assert Reach.OFFLINE in reaches and reaches[-1] is Reach.ONLINE
        await ws.close()

    try:
        asyncio.run(go())
    finally:
        server.stop()
        if again is not None:
            again.stop()


def test_resume_refreshes_only_the_tabs_that_are_not_current(sandbox):
    """Back online, a tab that is up to date is left alone; a cancelled one is refreshed."""

    async def go():
        ws = make_workspace([])
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        before = {name: tab.task for name, tab in ws.tabs.items()}
        moves = ws.tabs["moves"]
        sandbox.set_latency(300)  # the small list would otherwise sync between two looks
        task = moves.start(full=True)
        await wait_for(lambda: moves.status.phase is Phase.SYNCING)
        moves.cancel()
        await asyncio.wait([task])
        sandbox.set_latency(0)
        assert moves.status.phase is Phase.CANCELLED
        await ws.resume()
        assert moves.status.phase is Phase.UP_TO_DATE and moves.task is not task
        unchanged = [name for name in ws.tabs if name != "moves"]
        assert all(ws.tabs[name].task is before[name] for name in unchanged)
        await ws.close()

    asyncio.run(go())


def test_a_damaged_cache_is_told_through_the_notifier(sandbox, tmp_path):
    """The notice that the offline cache was set aside goes out on the bus, once."""
    from makini_desktop.store.cache import cache_path_for

    path = cache_path_for("ws-sync-test")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a SQLite file" * 100)

    async def go():
        bus = Notifier()
        heard: list[Message] = []
        bus.subscribe(heard.append)
        ws = make_workspace([], notifier=bus)
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        assert len(heard) == 1 and heard[0].source == "workspace" and heard[0].origin is ws
        assert all(t.status.phase is Phase.UP_TO_DATE for t in ws.tabs.values())
        await ws.close()

    asyncio.run(go())


def test_after_a_sync_every_list_is_kept_as_a_row_image_for_the_next_start(
    sandbox, monkeypatch
):
    """Once every tab is up to date, each synced list's rows are written as an image in the
    background: the next start reads the very rows the tabs show, without their JSON."""
    import sqlite3

    from makini_desktop.store import records, row_image
    from makini_desktop.store.cache import Cache, cache_path_for

    def images() -> dict[str, int | None]:
        with sqlite3.connect(cache_path_for("ws-sync-test")) as conn:
            return {name: row_image.read_header(conn, name) for name in res.DATASETS}

    async def go() -> list[tuple[str, dict[str, Row]]]:
        ws = make_workspace([])
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        shown = [(tab.dataset.name, dict(tab.model.rows)) for tab in ws.tabs.values()]
        await wait_for(lambda: all(v is not None for v in images().values()))
        await ws.close()
        return shown

    shown = asyncio.run(go())
    assert images() == {name: len(sandbox.data.visible(name)) for name in res.DATASETS}

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the JSON was decoded")

    monkeypatch.setattr(records, "decode_rows", refuse)
    with Cache.open(cache_path_for("ws-sync-test")) as cache:
        for name, rows in shown:
            read = {str(r[res.F_KEY]): r for chunk in cache.iter_load(name) for r in chunk}
            assert rows and all(read[key] == row for key, row in rows.items())


def test_back_online_the_lists_a_refresh_changed_get_their_row_images_again(sandbox):
    """A refresh after going back online (not only the first load) makes the images of
    the lists whose rows changed again."""
    import sqlite3

    from makini_desktop.store import row_image
    from makini_desktop.store.cache import cache_path_for

    def has_image(name: str) -> bool:
        with sqlite3.connect(cache_path_for("ws-sync-test")) as conn:
            return row_image.read_header(conn, name) is not None

    async def go() -> None:
        ws = make_workspace([])
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        await wait_for(lambda: all(has_image(name) for name in res.DATASETS))
        cache = ws.session.cache if ws.session is not None else None
        assert cache is not None
        visit = sandbox.data.visible(res.VISITS.name)[0]
        cache.apply_changes(res.VISITS.name, [{**visit, "notes": "changed here"}],
                            watermark=None, synced_at=datetime.now(UTC), server_total=None)
        assert not has_image(res.VISITS.name)  # the change made it stale
        await ws.resume()
        await wait_for(lambda: has_image(res.VISITS.name))
        await ws.close()

    asyncio.run(go())

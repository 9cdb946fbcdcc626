"""Starts from the cache with a table's sort kept beside the row images (table/kept_sort.py):
the same rows in the same order as a start that sorts afresh, and a changed row in its new
place, not where the kept sort had it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from makini_desktop.api import resources as res
from makini_desktop.store.cache import Cache, cache_path_for
from makini_desktop.sync import tab as tab_module
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.table import kept_sort
from makini_desktop.ui.main_window import MainWindow
from tests.helpers.qt import quit_window, wait_loaded
from tests.integration.test_offline import TOKEN, fill_cache

KEY = "it-kept-sort"


def shown_keys(window: MainWindow) -> dict[str, list[str]]:
    """Every tab's row keys, top to bottom."""
    out = {}
    for name, model in window.workspace.models.items():
        index = model.row_index
        out[name] = [str(index.rows[i][res.F_KEY]) for i in index.visible]
    return out


def start(qtbot, make_window, qasync_loop, info: ConnectionInfo) -> dict[str, list[str]]:
    """The app started on the cache with the server down; what its tabs show."""
    window = make_window()
    window.open_connection(info, TOKEN)
    wait_loaded(qtbot, window)
    shown = shown_keys(window)
    quit_window(qtbot, qasync_loop, window)
    return shown


def kept_sorts() -> list[str]:
    with sqlite3.connect(cache_path_for(KEY)) as conn:
        return sorted(str(fmt).rpartition("|sort|")[2] for (fmt,) in conn.execute(
            "SELECT fmt FROM row_images WHERE piece < -1"))


def test_a_start_on_a_kept_sort_shows_what_a_fresh_sort_shows(
    qtbot, make_window, sandbox, qasync_loop, monkeypatch
):
    # Small chunks, so the small sandbox's lists are staged as a large portfolio's are.
    monkeypatch.setattr(tab_module, "CACHE_FIRST_CHUNK", 40)
    monkeypatch.setattr(tab_module, "CACHE_STAGE_CHUNK", 90)
    taken: list[int] = []  # the row counts of the kept sorts the tables took

    def spy(payload, rows, keyer):
        found = real(payload, rows, keyer)
        if found is not None:
            taken.append(len(rows))
        return found

    real = kept_sort.taken_keys
    monkeypatch.setattr(kept_sort, "taken_keys", spy)
    info = ConnectionInfo("Sandbox", sandbox.url, KEY)
    fill_cache(info, sandbox.data)
    sandbox.stop()

    fresh = start(qtbot, make_window, qasync_loop, info)  # reads the JSON, sorts afresh
    assert len(fresh["assets"]) == len(sandbox.data.visible(res.ASSETS.name))
    assert "assets|tag|0|k1" in kept_sorts()
    assert taken == []
    assert start(qtbot, make_window, qasync_loop, info) == fresh  # on the kept sorts
    assert len(sandbox.data.visible(res.ASSETS.name)) in taken
    taken.clear()

    # A confirmed change rewrites one asset's tag: its row moves to the top, as sorted now.
    asset = sandbox.data.visible(res.ASSETS.name)[7]
    with Cache.open_for(KEY) as cache:
        cache.apply_changes(res.ASSETS.name, [{**asset, "tag": "000-first"}], watermark=None,
                            synced_at=datetime.now(UTC), server_total=None)
    changed = start(qtbot, make_window, qasync_loop, info)
    assert taken and len(sandbox.data.visible(res.ASSETS.name)) not in taken
    key = str(asset[res.F_KEY])
    assert changed["assets"] == [key] + [k for k in fresh["assets"] if k != key]
    assert {n: v for n, v in changed.items() if n != "assets"} == \
        {n: v for n, v in fresh.items() if n != "assets"}

"""The overlay between a tab's loader and its model: refreshes never undo pending changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.store.cache import Cache
from makini_desktop.store.outbox import OutboxStore
from makini_desktop.sync.outbox import Outbox
from makini_desktop.sync.outbox_link import OutboxLink
from makini_desktop.sync.outbox_sink import OverlaySink
from tests.helpers.mockapi import run
from tests.integration.test_workspace_sync import ListSink

AT = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def visit(key: str, status: str = "expected") -> dict[str, Any]:
    return {"key": key, "status": status, "updatedAt": "2026-03-14T08:00:00Z"}


def _box(tmp_path) -> Outbox:
    path = tmp_path / "s.sqlite3"
    Cache.open(path).close()
    return Outbox(OutboxStore.open(path), None, now=lambda: AT)


def test_only_datasets_the_user_changes_get_the_overlay():
    """Visits and moves pass through the overlay; assets go straight to their model."""
    link = OutboxLink()
    model = ListSink("assets", [])
    assert link.sink(res.VIEWS["assets"], model) is model
    assert isinstance(link.sink(res.VIEWS["visitors"], ListSink("visits", [])), OverlaySink)


def test_rows_pass_untouched_when_nothing_is_pending(tmp_path):
    """Without a pending change the model gets the very rows it was given."""

    async def go():
        box = _box(tmp_path)
        inner = ListSink("visits", [])
        sink = OverlaySink(inner, "visits", lambda: box)
        rows = [visit("a"), visit("b")]
        sink.set_rows(rows)
        assert inner.rows["a"] is rows[0]
        assert sink.total == 2 and sink.rows is inner.rows  # the model's own API
        await box.aclose()

    run(go())


def test_a_refresh_keeps_the_pending_change_and_the_pending_walk_in(tmp_path):
    """Refreshed rows show the pending check-in; reconciliation keeps the walk-in's row."""

    async def go():
        box = _box(tmp_path)
        inner = ListSink("visits", [])
        sink = OverlaySink(inner, "visits", lambda: box)
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        walk_in = box.register({"visitorName": "Walk In"}, walk_in=True)
        sink.set_rows([visit("a"), visit("b")])
        assert inner.rows["a"]["status"] == "checked_in"
        assert inner.rows[walk_in.record_key]["visitorName"] == "Walk In"
        # A full refresh's reconciliation: the server does not know the local key yet.
        assert sink.keys_not_in({"a", "b"}) == []
        sink.apply_changes([visit("a")], [walk_in.record_key])
        assert inner.rows["a"]["status"] == "checked_in"
        assert walk_in.record_key in inner.rows
        assert sink.changed_rows([visit("a")]) == []  # the pending row is already shown
        await box.aclose()

    run(go())

"""A tab's rows with the outbox on top: a list refresh never undoes a change on its way.

:class:`OverlaySink` stands between a tab's loader and its table model (a
:class:`~makini_desktop.sync.tab.RowSink`) for a dataset the user can change (visits,
moves): every row handed to the model passes through the outbox's overlay first, so a
refresh fetched before a check-in was confirmed still shows the visitor as checked in, and
a full refresh's reconciliation never removes a walk-in whose registration is still on its
way. With nothing pending it hands the rows on untouched (no copy, no cost).

Anything else (``rowCount``, the Qt model's own methods) is the model's: attribute access
falls through to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from makini_desktop.store.outbox import LOCAL_KEY_PREFIX
from makini_desktop.sync import outbox_overlay
from makini_desktop.sync.outbox import Outbox

__all__ = ["OverlaySink"]

Row = dict[str, Any]


class OverlaySink:
    """A row sink that applies the active outbox's pending changes to every row.

    Args:
        inner: the tab's model.
        dataset: the tab's dataset name.
        outbox: gives the active connection's outbox (None: rows pass untouched).
    """

    def __init__(self, inner: Any, dataset: str, outbox: Callable[[], Outbox | None]) -> None:
        self.inner = inner
        self.dataset = dataset
        self._outbox = outbox

    def __getattr__(self, name: str) -> Any:  # the model's own API (rowCount, rows ...)
        return getattr(self.inner, name)

    def _active(self) -> Outbox | None:
        box = self._outbox()
        return box if box is not None and box.has_overlay(self.dataset) else None

    def _shown(self, rows: Iterable[Row], *, with_new: bool = False) -> list[Row]:
        box = self._active()
        listed = rows if isinstance(rows, list) else list(rows)
        if box is None:
            return listed
        shown = outbox_overlay.overlay(listed, box.changes(), self.dataset,
                                       confirmed=box.confirmed)
        if not with_new:
            del shown[len(listed):]  # creations not yet confirmed join on set_rows only
        return shown

    def _held(self, key: str) -> bool:
        """A key the model keeps whatever a refresh says: a creation still on its way."""
        if not key.startswith(LOCAL_KEY_PREFIX):
            return False
        box = self._outbox()
        return box is not None and bool(box.pending_for(self.dataset, key))

    @property
    def total(self) -> int:
        return int(self.inner.total)

    def clear(self) -> None:
        self.inner.clear()

    def set_rows(self, rows: Iterable[Row]) -> None:
        self.inner.set_rows(self._shown(rows, with_new=True))

    def append_rows(self, rows: Iterable[Row]) -> None:
        self.inner.append_rows(self._shown(rows))

    def stage_rows(self, rows: Iterable[Row], *, keyed: bool = True) -> None:
        """Cached rows held to be shown (a start from the cache) take the overlay too."""
        self.inner.stage_rows(self._shown(rows), keyed=keyed)

    def sort_spec(self) -> str | None:
        """None while changes are pending: the rows shown are not the cached ones, so a
        sort kept beside the cache does not fit them (nor theirs it)."""
        return None if self._active() is not None else self.inner.sort_spec()

    def kept_sort(self) -> tuple[str, Any] | None:
        return None if self._active() is not None else self.inner.kept_sort()

    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None:
        keep = [k for k in deleted_keys if not self._held(str(k))]
        self.inner.apply_changes(self._shown(upserts), keep)

    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]:
        changed: list[Row] = self.inner.changed_rows(self._shown(rows), seen)
        return changed

    def keys_not_in(self, seen: set[str]) -> list[str]:
        return [k for k in self.inner.keys_not_in(seen) if not self._held(str(k))]

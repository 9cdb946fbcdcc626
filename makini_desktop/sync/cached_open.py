"""A start from the cache: every tab's cached rows, the tab on screen first.

What :meth:`Workspace.load_all <makini_desktop.sync.workspace.Workspace.load_all>` does
before its first request, in one place:

* The tab the user looks at comes first; the site and location names it shows are read
  meanwhile (SQLite picks them out of the stored records in a worker thread, see
  :meth:`Repository.cached_slices`), so its first rows are painted at once and their
  Building and Location columns are filled a moment later. The other tabs wait for the
  names: the Buildings, Floors and Spaces tabs then only update them.
* A dataset shown by two tabs (Floors and Spaces both show the locations) is read and
  decoded once: the first tab's chunks are kept for the second
  (:meth:`Repository.keep_cached_read`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from makini_desktop.store.cache import CacheError
from makini_desktop.sync.tab import LOOKUP_DATASETS, NAME_FIELDS, NAMES_CHUNK, TabLoader
from makini_desktop.table.lookups import Lookups

if TYPE_CHECKING:
    from makini_desktop.sync.workspace import Workspace

log = logging.getLogger(__name__)

__all__ = ["names_from_cache", "show_cached_tabs"]


async def show_cached_tabs(ws: Workspace, ordered: Sequence[TabLoader]) -> list[TabLoader]:
    """Show every tab's cached rows; the tabs in the order they were shown (the tab on
    screen first, then ``ordered``)."""
    session = ws.session
    if session is None:
        return list(ordered)
    tabs = list(ordered)
    focus = ws.tabs.get(ws.focus or "")
    names: asyncio.Task[None] | None = None
    if focus is not None and not focus.feeds_lookups:
        names = asyncio.ensure_future(names_from_cache(ws))
        tabs.remove(focus)
        tabs.insert(0, focus)
    readers = Counter(t.dataset.name for t in tabs)
    shared = [session.repository(name) for name, n in readers.items() if n > 1]
    for repo in shared:
        repo.keep_cached_read()
    try:
        for tab in tabs:
            if names is not None and tab is not focus:
                await names  # the other tabs know which names are read already
                names = None
            await tab.show_cached()
    finally:
        if names is not None:
            names.cancel()
        for repo in shared:
            repo.drop_kept_read()
    return tabs


async def names_from_cache(ws: Workspace) -> None:
    """Fill the lookups (site and location names) from the cache, a slice per turn (read
    without decoding whole records: see :meth:`Repository.cached_slices`)."""
    session = ws.session
    if session is None:
        return
    for name in LOOKUP_DATASETS:
        try:
            slices = session.repository(name).cached_slices(
                Lookups.FIELDS, NAMES_CHUNK, shared=NAME_FIELDS)
            async with contextlib.aclosing(slices):
                async for rows in slices:
                    if session is not ws.session:
                        return
                    ws.lookups.update_rows(name, rows)
                    await asyncio.sleep(0)
        except CacheError as exc:
            log.warning("cached names of %s unreadable: %s", name, exc)
            continue
        if session is ws.session:
            ws.names_read_from_cache(name)

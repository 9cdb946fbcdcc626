"""Saved views: a tab's search, filters, sort and columns under a name. No Qt.

A :class:`ViewState` is what a tab shows, by stable ids only (column ids, filter ids and
value ids), never by screen text, so a view keeps working when a heading is translated.

* The views a user saves live in the local profile, ``views.json`` beside the connection
  profiles (:func:`makini_desktop.store.paths.config_dir`), written atomically. The file
  holds no secret and no record: only ids and the search text.
* A view file shared with colleagues (:func:`export_views` / :func:`import_views`) is a
  small versioned JSON document; :func:`import_views` checks every part of it and raises
  :class:`ViewFileError` with a sentence naming what is wrong.
* :data:`PRESETS` are the built-in views every tab offers.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.store import paths
from makini_desktop.store.profiles import _atomic_write

log = logging.getLogger(__name__)

__all__ = [
    "FILE_KIND",
    "FILE_NAME",
    "FILE_VERSION",
    "PRESETS",
    "ViewFileError",
    "ViewState",
    "ViewStore",
    "export_views",
    "import_views",
    "parse_views",
    "presets_for",
]

FILE_NAME = "views.json"
FILE_KIND = "makini-desktop saved views"
FILE_VERSION = 1
MAX_FILE_BYTES = 1_000_000
"""A shared view file is a few hundred bytes; anything this big is not one."""
MAX_NAME_CHARS = 100
MAX_SEARCH_CHARS = 1000


class ViewFileError(ValueError):
    """A view file that cannot be read: the message says what is wrong, for a person."""


@dataclass(frozen=True)
class ViewState:
    """What a tab shows, under a name.

    Attributes:
        tab: the tab's view name (``visitors``).
        name: the name the user gave it ("On site now").
        search: the search box's text.
        filters: filter id -> value id (``{"status": "checked_in"}``).
        sort_column: the id of the column sorted by; None for the tab's default.
        descending: the sort order.
        columns: the ids of the columns shown, in order; empty for the tab's default.
        builtin: a preset that comes with the app (never written to a file).
    """

    tab: str
    name: str
    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort_column: str | None = None
    descending: bool = False
    columns: tuple[str, ...] = ()
    builtin: bool = False

    def to_json(self) -> dict[str, Any]:
        """The view as it is written to a file."""
        return {
            "tab": self.tab,
            "name": self.name,
            "search": self.search,
            "filters": dict(self.filters),
            "sort": {
                "column": self.sort_column,
                "order": "descending" if self.descending else "ascending",
            },
            "columns": list(self.columns),
        }


def _view_of(tab: str) -> res.View:
    return res.VIEWS[tab]


PRESETS: tuple[ViewState, ...] = (
    ViewState("visitors", "On site now", filters={"status": "checked_in"},
              sort_column="checked_in", builtin=True),
    ViewState("visitors", "Expected today", filters={"status": "expected", "date": "today"},
              sort_column="expected", builtin=True),
    ViewState("moves", "Pending moves", filters={"status": "pending"},
              sort_column="scheduled", builtin=True),
    ViewState("spaces", "Vacant desks", filters={"vacancy": "vacant", "desk": "yes"},
              sort_column="name", builtin=True),
    ViewState("assets", "Assets not audited in 12 months",
              filters={"audit": "over_12_months"}, sort_column="audited", builtin=True),
)
"""The built-in views. ``desk`` and ``audit`` are :mod:`makini_desktop.table.criteria`'s;
the other filter ids are the tab's filter boxes'."""


def presets_for(tab: str) -> list[ViewState]:
    """The built-in views of a tab."""
    return [p for p in PRESETS if p.tab == tab]


# -- reading a document -------------------------------------------------------------------


def parse_views(data: Any, *, source: str) -> list[ViewState]:
    """The views of a parsed view document, every part checked.

    Column ids this version does not know are dropped (a file from a newer version with a
    column this one lacks still opens); everything else that is wrong is an error.

    Args:
        data: the parsed JSON.
        source: how to name the file in a message ("team.json").

    Raises:
        ViewFileError: the document is not a view file, or one of its views is malformed.
    """
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise ViewFileError(f"{source} is not a makini-desktop view file.")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ViewFileError(f"{source} has no valid version number.")
    if version > FILE_VERSION:
        raise ViewFileError(
            f"{source} was made by a newer makini-desktop (view file version {version}); "
            f"this one reads version {FILE_VERSION}. Update the app to open it.")
    entries = data.get("views")
    if not isinstance(entries, list):
        raise ViewFileError(f"{source} has no list of views.")
    return [_parse_view(entry, f"{source}, view {n}") for n, entry in enumerate(entries, 1)]


def _parse_view(entry: Any, where: str) -> ViewState:
    if not isinstance(entry, dict):
        raise ViewFileError(f"{where} is not a view.")
    tab = entry.get("tab")
    if not isinstance(tab, str) or tab not in res.VIEWS:
        raise ViewFileError(
            f"{where} is for an unknown tab {tab!r}; tabs are {', '.join(res.TAB_VIEWS)}.")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ViewFileError(f"{where} has no name.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise ViewFileError(f"{where} has a name longer than {MAX_NAME_CHARS} characters.")
    where = f"{where} (“{name}”)"
    search = entry.get("search", "")
    if not isinstance(search, str) or len(search) > MAX_SEARCH_CHARS:
        raise ViewFileError(f"{where} has a search that is not text of up to "
                            f"{MAX_SEARCH_CHARS} characters.")
    filters = entry.get("filters", {})
    if not isinstance(filters, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in filters.items()):
        raise ViewFileError(f"{where} has filters that are not pairs of names and values.")
    view = _view_of(tab)
    known = {c.id for c in view.columns}
    sort = entry.get("sort", {})
    if not isinstance(sort, dict):
        raise ViewFileError(f"{where} has a sort that is not a column and an order.")
    sort_column = sort.get("column")
    if sort_column is not None and (not isinstance(sort_column, str) or sort_column not in known):
        sort_column = None  # a column this version lacks: the tab's default order
    order = sort.get("order", "ascending")
    if order not in ("ascending", "descending"):
        raise ViewFileError(f"{where} has a sort order {order!r}; use ascending or descending.")
    columns = entry.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ViewFileError(f"{where} has columns that are not a list of column names.")
    shown = tuple(dict.fromkeys(c for c in columns if c in known))
    return ViewState(tab, name, search, dict(filters), sort_column, order == "descending", shown)


def _document(views: Iterable[ViewState]) -> bytes:
    doc = {
        "kind": FILE_KIND,
        "version": FILE_VERSION,
        "views": [v.to_json() for v in views],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _read_document(path: Path) -> Any:
    """The parsed JSON of a view file.

    Raises:
        ViewFileError: unreadable, too large, or not JSON.
    """
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ViewFileError(f"{name} is {size:,} bytes: too large to be a view file.")
        raw = path.read_bytes()
    except OSError as exc:
        raise ViewFileError(f"Could not read {name}: {exc.strerror or exc}.") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ViewFileError(f"{name} is not a text file, so not a view file.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ViewFileError(f"{name} is not valid JSON{detail}, so not a view file.") from None


# -- sharing ------------------------------------------------------------------------------


def export_views(path: str | Path, views: Sequence[ViewState]) -> None:
    """Write views to a file to share (atomically).

    Raises:
        OSError: the file could not be written (nothing is left at the target).
    """
    _atomic_write(Path(path), _document(views))


def import_views(path: str | Path) -> list[ViewState]:
    """The views of a shared file.

    Raises:
        ViewFileError: the file cannot be read or is not a valid view file; the message
            names the file and what is wrong with it.
    """
    target = Path(path)
    return parse_views(_read_document(target), source=target.name)


# -- the local profile --------------------------------------------------------------------


class ViewStore:
    """The views a user saved, every tab's, in ``views.json`` of the local profile.

    An unreadable file is moved aside (``views.json.corrupt-<time>``) on the next save,
    never overwritten: what it held can still be recovered.

    Args:
        path: the JSON file; defaults to ``<config_dir>/views.json``.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.config_dir() / FILE_NAME
        self._views: list[ViewState] = []
        self._broken = False
        self.load()

    def load(self) -> None:
        """Read the file again (a missing file: no saved views)."""
        self._views = []
        self._broken = False
        if not self.path.exists():
            return
        try:
            self._views = parse_views(_read_document(self.path), source=self.path.name)
        except ViewFileError as exc:
            log.warning("Saved views not loaded: %s", exc)
            self._broken = True

    def views(self, tab: str) -> list[ViewState]:
        """A tab's saved views, in the order they were first saved."""
        return [v for v in self._views if v.tab == tab]

    def find(self, tab: str, name: str) -> ViewState | None:
        """A tab's saved view of that name (case-insensitive), else None."""
        wanted = name.casefold()
        return next((v for v in self.views(tab) if v.name.casefold() == wanted), None)

    def put(self, view: ViewState) -> None:
        """Save a view, replacing the tab's view of the same name.

        Raises:
            OSError: the file could not be written (the views held are unchanged).
        """
        view = replace(view, builtin=False)
        old = self.find(view.tab, view.name)
        views = list(self._views)
        if old is None:
            views.append(view)
        else:
            views[views.index(old)] = view
        self._write(views)

    def remove(self, tab: str, name: str) -> bool:
        """Delete a saved view; False when there is none of that name.

        Raises:
            OSError: the file could not be written.
        """
        old = self.find(tab, name)
        if old is None:
            return False
        self._write([v for v in self._views if v is not old])
        return True

    def _write(self, views: list[ViewState]) -> None:
        if self._broken and self.path.exists():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            os.replace(self.path, self.path.with_name(f"{self.path.name}.corrupt-{stamp}"))
            self._broken = False
        _atomic_write(self.path, _document(views))
        self._views = views

"""What the detail pane says about one record: its fields, other fields, related records.

:func:`describe` turns a record into a :class:`Detail`: the view's columns and the extra
fields of :data:`~makini_desktop.api.resources.DETAIL_FIELDS` with their headings and the
table's formatting (names instead of keys, labels instead of codes, local times, areas with
their unit), then every field the app does not know (custom fields one by one) under "Other
fields", then the related records found through a
:class:`~makini_desktop.table.related.RelatedIndex`, as :class:`Link` trees. :func:`as_text`
is the same as plain text (Copy as text). No Qt here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.values import as_text, display, display_area, enum_label, parse_datetime
from makini_desktop.table.detail_history import Place
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.related import (
    BY_ASSET,
    BY_LOCATION,
    BY_PARENT,
    BY_SITE,
    RelatedIndex,
)

Row = Mapping[str, Any]
Status = Callable[[str], str | None]
"""A dataset's state for the pane: None when its list is whole, else a sentence such as
"not loaded yet"."""

LINKS_SHOWN = 200
"""Links listed per group until the user asks for all: building the pane for a building's
4,500 spaces would stall the window for a list nobody scrolls."""
OTHER_FIELDS = "Other fields"
RELATED = "Related"
FLOORS = "floors"
"""The view of a floor (it has no tab: a floor is shown in the pane only)."""


@dataclass
class Link:
    """A related record (``place`` set) or a heading of others (a move's item).

    Attributes:
        text: what the link says.
        place: where following it goes; None for a record not held or a plain heading.
        children: links under it (a move item's spaces and asset).
    """

    text: str
    place: Place | None = None
    children: list[Link] = field(default_factory=list)


@dataclass
class Group:
    """One kind of related record ("Assets in this space"), with its state.

    Attributes:
        title: the kind, without a count.
        links: the records found.
        state: None when the list the records come from is whole; else why it may be
            incomplete ("not loaded yet").
        count: whether the heading shows how many (not for a single building).
        more: records found beyond the links listed (a building's thousands of spaces are
            listed :data:`LINKS_SHOWN` at a time until the user asks for all).
    """

    title: str
    links: list[Link]
    state: str | None = None
    count: bool = True
    more: int = 0

    @property
    def total(self) -> int:
        return len(self.links) + self.more

    @property
    def heading(self) -> str:
        """``Assets in this space (3)``, ``Moves (not loaded yet)``."""
        if self.state and not self.total:
            return f"{self.title} ({self.state})"
        if self.state:
            return f"{self.title} ({self.total:,} so far; {self.state})"
        return f"{self.title} ({self.total:,})" if self.count else self.title

    @property
    def more_text(self) -> str:
        """The line after the links listed, when there are more: ``Show all 4,574…``."""
        return f"Show all {self.total:,}…" if self.more else ""


@dataclass
class Detail:
    """Everything the pane shows about one record."""

    place: Place
    kind: str
    title: str
    fields: list[tuple[str, str]]
    other: list[tuple[str, str]]
    related: list[Group]


def view_of(dataset: str, row: Row) -> str:
    """The view that describes a row of a dataset (a location is a floor or a space)."""
    if dataset == res.LOCATIONS.name:
        return FLOORS if row.get(res.F_TYPE) == res.LOCATION_TYPE_FLOOR else "spaces"
    for view in res.VIEWS.values():
        if view.dataset.name == dataset and view.name in res.TAB_VIEWS:
            return view.name
    return dataset


def place_of(dataset: str, row: Row) -> Place:
    return Place(view_of(dataset, row), str(row.get(res.F_KEY)))


class Describer:
    """Builds :class:`Detail` objects from the connection's names, rows and list states.

    Args:
        lookups: building and location names, buildings' area units.
        index: every row by key and who refers to whom.
        status: a dataset's state (None when its list is whole).
    """

    def __init__(self, lookups: Lookups, index: RelatedIndex, status: Status) -> None:
        self.lookups = lookups
        self.index = index
        self.status = status
        self._show_all: frozenset[str] = frozenset()

    def row(self, place: Place) -> Row | None:
        """The record at a place, or None when it is not held (any more)."""
        return self.index.get(res.VIEWS[place.view].dataset.name, place.key)

    def describe(self, place: Place, row: Row, *, show_all: frozenset[str] = frozenset()
                 ) -> Detail:
        """The fields, other fields and related records of ``row`` seen as ``place.view``.

        Args:
            place: the record and the view it is seen as.
            row: the record.
            show_all: titles of the groups listed whole (others stop at
                :data:`LINKS_SHOWN` links).
        """
        self._show_all = show_all
        view = res.VIEWS[place.view]
        columns = _field_order(view.columns, res.DETAIL_FIELDS.get(view.name, ()))
        fields: list[tuple[str, str]] = []
        known: set[str] = set(res.DETAIL_SILENT_FIELDS)
        seen_headers: set[str] = set()
        for col in columns:
            known.update(name.split(".", 1)[0] for name in col.fields)
            text = self._text(col, row)
            if text and col.header not in seen_headers:
                seen_headers.add(col.header)
                fields.append((col.header, text))
        other: list[tuple[str, str]] = []
        for name, value in row.items():
            if name in known:
                continue
            if name == res.F_CUSTOM_FIELDS and isinstance(value, Mapping):
                continue
            text = other_text(value)
            if text:
                other.append((human_label(name), text))
        custom = row.get(res.F_CUSTOM_FIELDS)
        if isinstance(custom, Mapping):
            for name, value in custom.items():
                text = other_text(value)
                if text:
                    other.append((human_label(str(name)), text))
        elif custom not in (None, "", [], {}):
            other.append((human_label(res.F_CUSTOM_FIELDS), other_text(custom)))
        title = self._title(view, row)
        kind = view.noun[0].capitalize()
        # The heading says "Space: 1.001 Workstation" already.
        fields = [(label, text) for label, text in fields if (label, text) != (kind, title)]
        return Detail(place, kind, title, fields, other, self._related(place, row))

    # -- fields ---------------------------------------------------------------------------------

    def _title(self, view: res.View, row: Row) -> str:
        named = [c for c in view.columns if c.id == "name"]
        text = self._text(named[0] if named else view.columns[0], row)
        return text or f"{view.noun[0].capitalize()} {row.get(res.F_KEY, '')}".strip()

    def _text(self, col: res.Column, row: Row) -> str:
        raw = col.raw(row)
        if raw is None or raw == "":
            return ""
        if col.kind is res.Kind.REF:
            return self._ref_text(col.ref or "", raw)
        if col.kind is res.Kind.AREA:
            unit = row.get(res.F_AREA_UNIT) or self.lookups.area_unit(row.get(res.F_SITE_KEY))
            return display_area(raw, unit)
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw) and (
            col.kind is res.Kind.TEXT
        ):
            return ", ".join(v for v in raw if v)
        return display(col.kind, raw)

    def _ref_text(self, dataset: str, raw: Any) -> str:
        name = self.lookups.name(dataset, raw) or self.index.name(dataset, raw)
        if name:
            return name
        state = self.status(dataset)
        return f"Not loaded yet (key {raw})" if state else f"Unknown (key {raw})"

    # -- related records ------------------------------------------------------------------------

    def _related(self, place: Place, row: Row) -> list[Group]:
        key = place.key
        ix = self.index
        loc, assets, moves, visits = (
            res.LOCATIONS.name, res.ASSETS.name, res.MOVES.name, res.VISITS.name
        )
        view = place.view
        if view == "buildings":
            places = ix.referring(loc, BY_SITE, key)
            floors = [r for r in places if r.get(res.F_TYPE) == res.LOCATION_TYPE_FLOOR]
            spaces = [r for r in places if r.get(res.F_TYPE) != res.LOCATION_TYPE_FLOOR]
            return [
                self._group("Floors", loc, sorted(floors, key=_level_key)),
                self._group("Spaces", loc, sorted(spaces, key=self._by_floor)),
            ]
        groups: list[Group] = []
        if view == FLOORS:
            groups.append(self._building(row))
            spaces = ix.referring(loc, BY_PARENT, key)
            groups.append(self._group("Spaces on this floor", loc, sorted(spaces, key=_code_key)))
        elif view == "spaces":
            groups.append(self._one("Floor", loc, row.get(res.F_PARENT_KEY)))
            groups.append(self._building(row))
            in_space = sorted(ix.referring(assets, BY_LOCATION, key), key=_tag_key)
            groups.append(self._group("Assets in this space", assets, in_space))
            involving = _latest(ix.referring(moves, BY_LOCATION, key), "scheduledAt")
            groups.append(self._group("Moves involving this space", moves, involving))
            expected = _latest(ix.referring(visits, BY_LOCATION, key), "expectedAt")
            groups.append(self._group("Visits to this space", visits, expected))
        elif view == "assets":
            groups.append(self._one("Space", loc, row.get(res.F_LOCATION_KEY)))
            groups.append(self._building(row))
            parts = ix.referring(assets, BY_PARENT, key)
            if parts:
                groups.append(self._group("Parts", assets, sorted(parts, key=_tag_key)))
            groups.append(self._group("Moves carrying this asset", moves,
                                      _latest(ix.referring(moves, BY_ASSET, key), "scheduledAt")))
        elif view == "moves":
            groups.append(self._building(row))
            groups.append(self._items(row))
        elif view == "visitors":
            groups.append(self._building(row))
            groups.append(self._one("Space", loc, row.get(res.F_LOCATION_KEY)))
        return groups

    def _by_floor(self, row: Row) -> tuple[Any, ...]:
        """Spaces floor by floor (by level), then by code in natural order."""
        floor = self.index.get(res.LOCATIONS.name, row.get(res.F_PARENT_KEY))
        return (_level_key(floor) if floor is not None else (2, 0.0, ()), _code_key(row))

    def _building(self, row: Row) -> Group:
        return self._one("Building", res.SITES.name, row.get(res.F_SITE_KEY))

    def _one(self, title: str, dataset: str, key: Any) -> Group:
        """A group of the one record a field refers to (a space's floor)."""
        if key is None or key == "":
            return Group(title, [], "none", count=False)
        row = self.index.get(dataset, key)
        if row is not None:
            return Group(title, [Link(self.label(dataset, row), place_of(dataset, row))],
                         count=False)
        name = self.lookups.name(dataset, key)
        if name:
            return Group(title, [Link(name)], count=False)  # named, but its row not held
        return Group(title, [], self.status(dataset) or f"unknown, key {key}", count=False)

    def _group(self, title: str, dataset: str, rows: list[Row]) -> Group:
        shown = rows if title in self._show_all else rows[:LINKS_SHOWN]
        links = [Link(self.label(dataset, r), place_of(dataset, r)) for r in shown]
        return Group(title, links, self.status(dataset), more=len(rows) - len(shown))

    def _items(self, row: Row) -> Group:
        items = row.get(res.F_ITEMS)
        links: list[Link] = []
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, Mapping):
                links.append(Link(as_text(item)))
                continue
            who = as_text(item.get(res.F_PERSON_NAME))
            what = item.get(res.F_ITEM_TYPE)
            kind = enum_label(what) if isinstance(what, str) else as_text(what)
            children = []
            for caption, name, dataset in (
                ("From", res.F_FROM_LOCATION_KEY, res.LOCATIONS.name),
                ("To", res.F_TO_LOCATION_KEY, res.LOCATIONS.name),
                ("Asset", res.F_ASSET_KEY, res.ASSETS.name),
            ):
                link = self.link_to(dataset, item.get(name))
                if link is not None:
                    children.append(Link(f"{caption}: {link.text}", link.place))
            text = " · ".join(t for t in (who, kind) if t) or "Item"
            links.append(Link(text, None, children))
        return Group("Items", links)

    def link_to(self, dataset: str, key: Any) -> Link | None:
        """A link to the record ``key`` of ``dataset``; None for no key."""
        if key is None or key == "":
            return None
        row = self.index.get(dataset, key)
        if row is not None:
            return Link(self.label(dataset, row), place_of(dataset, row))
        name = self.lookups.name(dataset, key)
        state = self.status(dataset)
        if name:
            return Link(name, None)  # known by name, its row not held: nothing to show
        return Link(f"Not loaded yet (key {key})" if state else f"Unknown (key {key})", None)

    def label(self, dataset: str, row: Row) -> str:
        """How a related record reads in a list of links."""
        if dataset == res.ASSETS.name:
            parts = [row.get("tag"), row.get(res.F_NAME)]
        elif dataset == res.MOVES.name:
            parts = [row.get("title"), _enum(row.get(res.F_STATUS)),
                     display(res.Kind.DATETIME, row.get("scheduledAt"))]
        elif dataset == res.VISITS.name:
            parts = [row.get("visitorName"), _enum(row.get(res.F_STATUS)),
                     display(res.Kind.DATETIME, row.get("expectedAt"))]
        elif dataset == res.LOCATIONS.name and row.get(res.F_TYPE) != res.LOCATION_TYPE_FLOOR:
            parts = [row.get(res.F_NAME), row.get(res.F_CODE), _enum(row.get(res.F_TYPE))]
        else:
            parts = [row.get(res.F_NAME) or row.get(res.F_CODE)]
        text = " · ".join(as_text(p) for p in parts if p not in (None, ""))
        return text or f"Key {row.get(res.F_KEY)}"


# -- plain text ------------------------------------------------------------------------------


def as_plain_text(detail: Detail) -> str:
    """The pane as plain text, for the clipboard."""
    lines = [f"{detail.kind}: {detail.title}", ""]
    lines += [f"{label}: {text}" for label, text in detail.fields]
    if detail.other:
        lines += ["", OTHER_FIELDS]
        lines += [f"{label}: {text}" for label, text in detail.other]
    if detail.related:
        lines += ["", RELATED]
        for group in detail.related:
            lines.append(group.heading)
            lines += _link_lines(group.links, "  ")
            if group.more:
                lines.append(f"  … and {group.more:,} more")
    return "\n".join(lines) + "\n"


def _link_lines(links: Iterable[Link], indent: str) -> list[str]:
    out: list[str] = []
    for link in links:
        out.append(f"{indent}{link.text}")
        out += _link_lines(link.children, indent + "  ")
    return out


# -- helpers ---------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DIGITS = re.compile(r"(\d+)")


def human_label(name: str) -> str:
    """A field name as a label: ``costCenter`` → ``Cost center``, ``hasAV`` → ``Has AV``."""
    words = _CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split()
    words = [w if len(w) > 1 and w.isupper() else w.lower() for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


def other_text(value: Any) -> str:
    """A field the app does not know, as text: yes/no, local times, numbers, else as sent."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and "T" in value and parse_datetime(value) is not None:
        return display(res.Kind.DATETIME, value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return as_text(value)


_LAST = ("created", "updated", "key")


def _field_order(columns: tuple[res.Column, ...], extra: tuple[res.Column, ...]
                 ) -> list[res.Column]:
    """The view's shown columns, the extra fields, its hidden columns, then when the record
    was created and updated, and its key."""
    everything = [c for c in columns if not c.hidden] + list(extra)
    everything += [c for c in columns if c.hidden]
    rest = [c for c in everything if c.id not in _LAST]
    last = sorted((c for c in everything if c.id in _LAST), key=lambda c: _LAST.index(c.id))
    return rest + last


def _enum(value: Any) -> str:
    return enum_label(value) if isinstance(value, str) else as_text(value)


def _natural(text: Any) -> tuple[Any, ...]:
    parts = _DIGITS.split(as_text(text).casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _code_key(row: Row) -> tuple[Any, ...]:
    return _natural(row.get(res.F_CODE) or row.get(res.F_NAME))


def _tag_key(row: Row) -> tuple[Any, ...]:
    return _natural(row.get("tag") or row.get(res.F_NAME))


def _level_key(row: Row) -> tuple[int, float, tuple[Any, ...]]:
    level = row.get(res.F_LEVEL)
    if isinstance(level, int | float) and not isinstance(level, bool):
        return (0, float(level), ())
    return (1, 0.0, _natural(row.get(res.F_NAME)))


def _latest(rows: list[Row], field_name: str) -> list[Row]:
    """Newest first by a timestamp field (records without one last)."""
    def key(row: Row) -> tuple[int, float]:
        when = parse_datetime(row.get(field_name))
        return (0, -when.timestamp()) if when is not None else (1, 0.0)

    return sorted(rows, key=key)


__all__ = [
    "FLOORS",
    "LINKS_SHOWN",
    "OTHER_FIELDS",
    "RELATED",
    "Describer",
    "Detail",
    "Group",
    "Link",
    "as_plain_text",
    "human_label",
    "other_text",
    "place_of",
    "view_of",
]

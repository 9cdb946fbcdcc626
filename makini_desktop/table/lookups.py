"""Names of the records other datasets refer to, as plain data with a change callback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.table.collate import collation_key

_EMPTY_KEYS: frozenset[str] = frozenset()


class Lookups:
    """Site key → name, location key → name, and each building's area unit.

    Shared by every table of a connection. The sites and locations datasets fill it; tables
    resolve ``Kind.REF`` columns through it and repaint when it changes. Listeners added with
    :meth:`subscribe` are called with the dataset (``sites`` or ``locations``) whose names
    changed; ``ui.table_model.Lookups`` turns that into a Qt signal.
    """

    DATASETS: tuple[str, ...] = (res.SITES.name, res.LOCATIONS.name)
    FIELDS: tuple[str, ...] = (res.F_NAME, res.F_CODE, res.F_AREA_UNIT, res.F_PARENT_KEY,
                               res.F_SITE_KEY, res.F_TYPE, res.F_LEVEL)
    """The fields of a record (besides its key) the lookups read: enough to fill them from
    a cache without decoding whole records (a location's place, :func:`_place`, included:
    without it, a start from the cache knew no floor of 50k locations)."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {name: {} for name in self.DATASETS}
        self._folded: dict[str, list[tuple[str, str]] | None] = {}
        self._units: dict[str, Any] = {}  # site key -> areaUnit
        # location key -> (parentKey, siteKey, type, level): a location's floor and level
        self._places: dict[str, tuple[str | None, str | None, Any, Any]] = {}
        self._on_floor: dict[str, frozenset[str]] = {}  # floor key -> on_floor(), until a change
        # The keys of the floors among them: the floor lists read these, not 50k spaces
        # (they were rebuilt a few times a second while the locations arrived).
        self._floor_keys: dict[str, None] = {}
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(dataset)`` whenever the names of a dataset change."""
        self._listeners.append(listener)

    @staticmethod
    def _row_name(row: Mapping[str, Any]) -> str:
        for field in (res.F_NAME, res.F_CODE):
            value = row.get(field)
            if isinstance(value, str) and value.strip():
                return value
            if value is not None and not isinstance(value, dict | list) and value != "":
                return str(value)
        return ""

    def name(self, dataset: str, key: Any) -> str | None:
        """The name of the record ``key`` of ``dataset``, or None when it is not known."""
        if key is None:
            return None
        names = self._names.get(dataset)
        if names is None:
            return None
        return names.get(key if isinstance(key, str) else str(key))

    def names(self, dataset: str) -> Mapping[str, str]:
        """Every known key → name of a dataset (read-only view; do not modify)."""
        return self._names.get(dataset, {})

    def area_unit(self, site_key: Any) -> Any:
        """The area unit (``sqft``, ``m2``) of a building, or None when not known."""
        return None if site_key is None else self._units.get(str(site_key))

    def _keep_units(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> bool:
        if dataset != res.SITES.name:
            return False
        changed = False
        for row in rows:
            key, unit = row.get(res.F_KEY), row.get(res.F_AREA_UNIT)
            if key is not None and self._units.get(str(key)) != unit:
                self._units[str(key)] = unit
                changed = True
        return changed

    def _keep_places(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> bool:
        if dataset != res.LOCATIONS.name:
            return False
        changed = False
        places = self._places
        for row in rows:
            key = row.get(res.F_KEY)
            if key is None:
                continue
            place = _place(row)
            if places.get(str(key)) != place:
                places[str(key)] = place
                if place[2] == res.LOCATION_TYPE_FLOOR:
                    self._floor_keys[str(key)] = None
                else:
                    self._floor_keys.pop(str(key), None)
                changed = True
        return changed

    def _forget_place(self, key: str) -> None:
        self._places.pop(key, None)
        self._floor_keys.pop(key, None)

    def floor_of(self, location_key: Any) -> str | None:
        """The key of a location's floor: its own for a floor, its parent's for a space."""
        if location_key is None:
            return None
        key = str(location_key)
        place = self._places.get(key)
        if place is None:
            return None
        if place[2] == res.LOCATION_TYPE_FLOOR:
            return key
        return place[0]

    def on_floor(self, floor_key: str) -> frozenset[str]:
        """The keys of the locations whose :meth:`floor_of` is ``floor_key`` (the floor and
        the spaces on it); kept until the locations change."""
        found = self._on_floor.get(floor_key)
        if found is None:
            floor = res.LOCATION_TYPE_FLOOR
            found = frozenset(k for k, (parent, _site, kind, _level) in self._places.items()
                              if (k if kind == floor else parent) == floor_key)
            self._on_floor[floor_key] = found
        return found

    def level(self, location_key: Any) -> int | None:
        """A floor's numeric ``level``, None when it has none (or is not a known floor)."""
        place = None if location_key is None else self._places.get(str(location_key))
        level = None if place is None else place[3]
        return level if isinstance(level, int) and not isinstance(level, bool) else None

    def floors(self, site_key: str | None = None) -> list[str]:
        """The keys of the floors of a building (None: of every building), in level order
        (then by name), floors without a level last."""
        places = self._places
        floors = [k for k in self._floor_keys if site_key is None or places[k][1] == site_key]
        names = self._names.get(res.LOCATIONS.name, {})

        def order(key: str) -> tuple[Any, ...]:
            level = self.level(key)
            return (level is None, level or 0, collation_key(names.get(key, "")), key)

        return sorted(floors, key=order)

    def site_of(self, location_key: Any) -> str | None:
        """The building key of a location, when known."""
        place = None if location_key is None else self._places.get(str(location_key))
        return None if place is None else place[1]

    def snapshot(self) -> Lookups:
        """A copy of the names and units that later changes leave alone (no listeners):
        what an export written in another thread reads."""
        copy = Lookups()
        for name, value in vars(self).items():
            if name.startswith("_") and name != "_listeners" and isinstance(value, dict):
                # Every table the lookups keep, the inner ones (names per dataset) copied too.
                setattr(copy, name, {k: dict(v) if isinstance(v, dict) else v
                                     for k, v in value.items()})
        return copy

    def is_loaded(self, dataset: str) -> bool:
        """True once any name of the dataset is known."""
        return bool(self._names.get(dataset))

    def set_rows(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the names of a dataset with those of ``rows``."""
        rows = list(rows)
        names = {str(r[res.F_KEY]): self._row_name(r) for r in rows if r.get(res.F_KEY) is not None}
        places_changed = False
        if dataset == res.LOCATIONS.name:
            old_places = self._places
            self._places = {}
            self._floor_keys = {}
            self._keep_places(dataset, rows)
            places_changed = self._places != old_places
        if (self._keep_units(dataset, rows) | places_changed
                or names != self._names.get(dataset)):
            self._names[dataset] = names
            self._changed(dataset)

    def update_rows(
        self,
        dataset: str,
        rows: Iterable[Mapping[str, Any]],
        deleted_keys: Iterable[str] = (),
    ) -> None:
        """Add or change the names of ``rows`` and forget ``deleted_keys``."""
        names = self._names.setdefault(dataset, {})
        rows = list(rows)
        changed = self._keep_units(dataset, rows)
        changed = self._keep_places(dataset, rows) or changed
        for row in rows:
            raw = row.get(res.F_KEY)
            if raw is None:
                continue
            key = str(raw)
            name = self._row_name(row)
            if names.get(key) != name:
                names[key] = name
                changed = True
        for key in deleted_keys:
            self._forget_place(key)
            if names.pop(key, None) is not None:
                changed = True
        if changed:
            self._changed(dataset)

    def changed_rows(
        self, dataset: str, rows: Iterable[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The rows whose name (or, for sites, area unit) differs from what is held: what
        :meth:`update_rows` would change. Nothing is changed."""
        names = self._names.get(dataset, {})
        units = self._units if dataset == res.SITES.name else None
        places = self._places if dataset == res.LOCATIONS.name else None
        out: list[Mapping[str, Any]] = []
        for row in rows:
            raw = row.get(res.F_KEY)
            if raw is None:
                continue
            key = str(raw)
            if names.get(key) != self._row_name(row) or (
                units is not None and units.get(key) != row.get(res.F_AREA_UNIT)
            ) or (places is not None and places.get(key) != _place(row)):
                out.append(row)
        return out

    def retain(self, dataset: str, keys: set[str]) -> None:
        """Forget the names of a dataset's records whose keys are not in ``keys``."""
        names = self._names.get(dataset)
        if not names:
            return
        gone = [k for k in names if k not in keys]
        if gone:
            for key in gone:
                del names[key]
                self._forget_place(key)
            self._changed(dataset)

    def clear(self) -> None:
        """Forget every name (the connection changed)."""
        had = [ds for ds, names in self._names.items() if names]
        self._names = {name: {} for name in self.DATASETS}
        self._units.clear()
        self._places.clear()
        self._on_floor.clear()
        self._floor_keys.clear()
        self._folded.clear()
        for dataset in had:
            self._notify(dataset)

    def matching_keys(self, dataset: str, needle: str) -> frozenset[str]:
        """Keys of the records whose name contains ``needle``, ignoring case."""
        needle = needle.casefold()
        folded = self._folded.get(dataset)
        if folded is None:
            folded = [(k, n.casefold()) for k, n in self._names.get(dataset, {}).items()]
            self._folded[dataset] = folded
        if not folded:
            return _EMPTY_KEYS
        return frozenset(k for k, n in folded if needle in n)

    def _changed(self, dataset: str) -> None:
        self._folded.pop(dataset, None)
        self._on_floor.clear()
        self._notify(dataset)

    def _notify(self, dataset: str) -> None:
        for listener in list(self._listeners):
            listener(dataset)


def _place(row: Mapping[str, Any]) -> tuple[str | None, str | None, Any, Any]:
    parent, site = row.get(res.F_PARENT_KEY), row.get(res.F_SITE_KEY)
    return (
        None if parent is None else str(parent),
        None if site is None else str(site),
        row.get(res.F_TYPE),
        row.get(res.F_LEVEL),
    )

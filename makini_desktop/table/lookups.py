"""Names of the records other datasets refer to, as plain data with a change callback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from makini_desktop.api import resources as res

_EMPTY_KEYS: frozenset[str] = frozenset()


class Lookups:
    """Site key → name, location key → name, and each building's area unit.

    Shared by every table of a connection. The sites and locations datasets fill it; tables
    resolve ``Kind.REF`` columns through it and repaint when it changes. Listeners added with
    :meth:`subscribe` are called with the dataset (``sites`` or ``locations``) whose names
    changed; ``ui.table_model.Lookups`` turns that into a Qt signal.
    """

    DATASETS: tuple[str, ...] = (res.SITES.name, res.LOCATIONS.name)
    FIELDS: tuple[str, ...] = (res.F_NAME, res.F_CODE, res.F_AREA_UNIT)
    """The fields of a record (besides its key) the lookups read: enough to fill them from
    a cache without decoding whole records."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {name: {} for name in self.DATASETS}
        self._folded: dict[str, list[tuple[str, str]] | None] = {}
        self._units: dict[str, Any] = {}  # site key -> areaUnit
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

    def is_loaded(self, dataset: str) -> bool:
        """True once any name of the dataset is known."""
        return bool(self._names.get(dataset))

    def set_rows(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the names of a dataset with those of ``rows``."""
        rows = list(rows)
        names = {str(r[res.F_KEY]): self._row_name(r) for r in rows if r.get(res.F_KEY) is not None}
        if self._keep_units(dataset, rows) or names != self._names.get(dataset):
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
        out: list[Mapping[str, Any]] = []
        for row in rows:
            raw = row.get(res.F_KEY)
            if raw is None:
                continue
            key = str(raw)
            if names.get(key) != self._row_name(row) or (
                units is not None and units.get(key) != row.get(res.F_AREA_UNIT)
            ):
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
            self._changed(dataset)

    def clear(self) -> None:
        """Forget every name (the connection changed)."""
        had = [ds for ds, names in self._names.items() if names]
        self._names = {name: {} for name in self.DATASETS}
        self._units.clear()
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
        self._notify(dataset)

    def _notify(self, dataset: str) -> None:
        for listener in list(self._listeners):
            listener(dataset)

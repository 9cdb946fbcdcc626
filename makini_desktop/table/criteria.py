"""The criteria of saved views that no filter box offers. No Qt.

A saved view's filters are ``filter id -> value id``. Most are the tab's filter boxes'
(floor, type, vacancy, category, status, date); the few here are what the built-in views
need beyond them:

* ``audit: over_12_months`` (assets): never audited, or last audited more than twelve
  calendar months ago;
* ``desk: yes`` (spaces): a desk a person books or sits at (workstation, hoteling desk).

:func:`criterion` turns the ones a view holds into one row predicate, which the row index
applies beside its other filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.values import parse_datetime

__all__ = ["AUDIT_FIELD", "CRITERIA_IDS", "DESK_TYPES", "criterion", "own_filters",
           "twelve_months_before"]

Row = Mapping[str, Any]
AUDIT_FIELD = res.F_LAST_AUDITED
DESK_TYPES = res.DESK_SPACE_TYPES
CRITERIA_IDS = frozenset({"audit", "desk"})
"""The filter ids this module handles (the filter boxes handle every other id)."""


def twelve_months_before(now: datetime) -> datetime:
    """The same moment a calendar year earlier (29 February: the 28th)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


def own_filters(filters: Mapping[str, str]) -> dict[str, str]:
    """The filters of a view that this module handles."""
    return {k: v for k, v in filters.items() if k in CRITERIA_IDS}


def criterion(
    view_name: str, filters: Mapping[str, str], now: datetime | None = None
) -> Callable[[Row], bool] | None:
    """One predicate for the criteria of ``filters`` that apply to a view; None for none.

    Args:
        view_name: the tab's view name.
        filters: a view's filters (ids this module does not handle are ignored).
        now: the moment "12 months ago" counts from (default: now).
    """
    tests: list[Callable[[Row], bool]] = []
    if view_name == res.ASSETS_VIEW.name and filters.get("audit") == "over_12_months":
        cutoff = twelve_months_before(now or datetime.now(UTC))

        def not_audited(row: Row) -> bool:
            when = parse_datetime(row.get(AUDIT_FIELD))
            return when is None or when < cutoff

        tests.append(not_audited)
    if view_name == res.SPACES_VIEW.name and filters.get("desk") == "yes":
        tests.append(lambda row: row.get(res.F_TYPE) in DESK_TYPES)
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda row: all(test(row) for test in tests)

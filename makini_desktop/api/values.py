"""Turning raw JSON values into what a person reads and what a table sorts by.

The contract says a field with the wrong JSON type is shown as text, never a crash; these
functions are where that promise is kept. They take any JSON value and never raise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api.resources import F_UPDATED, Kind

# Sort keys are (rank, value) so that values of different types never get compared:
# numbers and dates first, then text (odd values), then empty cells last.
_RANK_VALUE = 0
_RANK_TEXT = 1
_RANK_EMPTY = 2

_ENUM_WORDS = {"in_progress": "In progress", "no_show": "No-show", "checked_in": "Checked in",
               "checked_out": "Checked out"}


def parse_datetime(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (``2026-03-14T09:30:00Z``); None for anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed.utcoffset()  # "0001-01-01T00:00:00+01:00" has no UTC instant
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed


def format_utc(when: datetime) -> str:
    """An aware datetime as the contract writes timestamps: ``2026-03-14T09:30:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative_age(when: datetime | None, now: datetime | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``yesterday``, ``4 days ago``, ``never``."""
    if when is None:
        return "never"
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(0.0, (now - when).total_seconds())  # a clock running behind: "just now"
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "yesterday" if days == 1 else f"{days} days ago"


def as_text(value: Any) -> str:
    """Any JSON value as plain text: strings as they are, the rest as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        return str(value)


def as_int(value: Any) -> int | None:
    """A count from JSON or a header (``3``, ``"3"``, ``3.0``); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def enum_label(value: str) -> str:
    """``meeting_room`` -> ``Meeting room``."""
    if value in _ENUM_WORDS:
        return _ENUM_WORDS[value]
    words = value.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    return None


def display(kind: Kind, value: Any, *, local_tz: bool = True) -> str:
    """The text a person sees for a raw value of a column of this kind."""
    if value is None or value == "":
        return ""
    if kind is Kind.DATETIME:
        parsed = parse_datetime(value)
        if parsed is None:
            return as_text(value)
        try:
            shown = parsed.astimezone() if local_tz else parsed
        except (OverflowError, ValueError, OSError):
            # "0001-01-01" west of UTC has no local time; show it as sent, in UTC.
            shown = parsed
        try:
            return shown.strftime("%Y-%m-%d %H:%M")
        except (ValueError, OverflowError):
            return as_text(value)
    if kind is Kind.INT:
        num = _number(value)
        if num is None:
            return as_text(value)
        return f"{num:,.0f}" if num.is_integer() else f"{num:,}"
    if kind in (Kind.NUMBER, Kind.AREA):
        num = _number(value)
        if num is None:
            return as_text(value)
        return f"{num:,.0f}" if num.is_integer() else f"{num:,.1f}"
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return as_text(value)
    if kind is Kind.ENUM:
        return enum_label(value) if isinstance(value, str) else as_text(value)
    if kind is Kind.COUNT:
        return str(len(value)) if isinstance(value, list) else as_text(value)
    return as_text(value)


AREA_UNITS = {"sqft": ("sq ft", 0.09290304), "m2": ("m²", 1.0)}
"""Contract §2.3 area units: how each is shown, and its size in square metres."""


def display_area(value: Any, unit: Any) -> str:
    """An area with its unit ("56 sq ft", "4.7 m²"); an unknown unit is shown as sent."""
    text = display(Kind.NUMBER, value)
    if not text or _number(value) is None or not unit:
        return text
    label = AREA_UNITS.get(unit, (as_text(unit), 1.0))[0] if isinstance(unit, str) else ""
    return f"{text} {label}" if label else text


def area_sort_key(value: Any, unit: Any) -> tuple[int, Any]:
    """Areas sort by their size in square metres, whatever unit their building uses."""
    num = _number(value)
    if num is None:
        return sort_key(Kind.NUMBER, value)
    factor = AREA_UNITS.get(unit, ("", 1.0))[1] if isinstance(unit, str) else 1.0
    return (_RANK_VALUE, num * factor)


def sort_key(kind: Kind, value: Any) -> tuple[int, Any]:
    """A key that sorts natively (numbers as numbers, dates as dates) and never raises."""
    if value is None or value == "":
        return (_RANK_EMPTY, "")
    if kind in (Kind.INT, Kind.NUMBER, Kind.AREA):
        num = _number(value)
        if num is not None:
            return (_RANK_VALUE, num)
    elif kind is Kind.DATETIME:
        parsed = parse_datetime(value)
        if parsed is not None:
            try:
                return (_RANK_VALUE, parsed.timestamp())
            except (OverflowError, ValueError, OSError):
                pass
    elif kind is Kind.BOOL:
        if isinstance(value, bool):
            return (_RANK_VALUE, 0.0 if value else 1.0)  # Yes before No
    elif kind is Kind.COUNT:
        if isinstance(value, list):
            return (_RANK_VALUE, float(len(value)))
    return (_RANK_TEXT, display(kind, value, local_tz=False).casefold())


SAME_INSTANT_SHARE = 0.05
"""A field holds the same string as ``updatedAt`` when it equals it in this share of the
sampled rows (see :func:`same_instant_fields`)."""


def same_instant_fields(sample: Iterable[Mapping[str, Any]]) -> list[str]:
    """The fields (besides ``updatedAt``) that often equal the row's ``updatedAt`` text:
    a record created and never changed again holds its ``createdAt`` (and the like) as the
    same instant, so rows can share one string for both (the cache's decoder and the
    client's page reader both do)."""
    equal: dict[str, int] = {}
    count = 0
    for row in sample:
        count += 1
        at = row.get(F_UPDATED)
        if at.__class__ is not str:
            continue
        for name, value in row.items():
            if value == at and name != F_UPDATED:
                equal[name] = equal.get(name, 0) + 1
    least = max(1, SAME_INSTANT_SHARE * count)
    return [name for name, n in equal.items() if n >= least]


def share_instants(rows: Iterable[dict[str, Any]], fields: list[str]) -> None:
    """Each of ``fields`` (:func:`same_instant_fields`) equal to the row's ``updatedAt``
    holds that same string object, in place."""
    for row in rows:
        at = row.get(F_UPDATED)
        if at.__class__ is str:
            for name in fields:
                if row.get(name) == at:
                    row[name] = at

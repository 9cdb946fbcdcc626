"""How one record is kept in the offline cache: its key, tombstone, watermark and JSON text.

Each row is stored as the record's full JSON, unknown fields included; these helpers turn a
record into the values bound to SQLite and stored text back into records. Field names come
from :mod:`makini_desktop.api.resources`.
"""

from __future__ import annotations

import json
import logging
import operator
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from makini_desktop import jsontext
from makini_desktop.api import resources as res
from makini_desktop.api.values import parse_datetime, same_instant_fields, share_instants

__all__ = [
    "decode_fields",
    "decode_rows",
    "dumps_row",
    "intern_fields",
    "is_tombstone",
    "max_updated_at",
    "row_key",
    "storable",
    "timestamp_text",
    "updated_text",
]

log = logging.getLogger(__name__)


def timestamp_text(value: datetime) -> str:
    """A sync time as stored: UTC ISO-8601 with ``Z``.

    Raises:
        ValueError: ``value`` is naive.
    """
    if value.tzinfo is None:
        raise ValueError("synced_at must be a timezone-aware datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def max_updated_at(rows: Sequence[Mapping[str, Any]], current: str | None = None) -> str | None:
    """The largest ``updatedAt`` among ``rows`` and ``current``, as its original string.

    Compared as instants, not as text: ``...09:30:00.5Z`` sorts before ``...09:30:00Z`` as
    text but is later. Values that are not ISO timestamps are ignored.

    Args:
        rows: records.
        current: the watermark so far.
    """
    best = current
    best_at = parse_datetime(current)
    for row in rows:
        value = row.get(res.F_UPDATED)
        at = parse_datetime(value)
        if at is not None and (best_at is None or at > best_at):
            best, best_at = str(value), at
    return best


def is_tombstone(row: Mapping[str, Any]) -> bool:
    """True for a record with a non-null ``deletedAt``: a deletion, not a row to keep."""
    return row.get(res.F_DELETED) not in (None, "")


def row_key(row: Mapping[str, Any]) -> str | None:
    """The record's key as stored text, or None when it has no usable key."""
    key = row.get(res.F_KEY)
    if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
        return None
    return str(key)


def updated_text(row: Mapping[str, Any]) -> str | None:
    """The record's ``updatedAt`` when it is text (stored in its own column)."""
    updated = row.get(res.F_UPDATED)
    return updated if isinstance(updated, str) else None


def dumps_row(row: Mapping[str, Any]) -> str:
    """The record's full JSON, compact, as stored."""
    # jsontext: a record nested deeper than json's recursion limit is still stored.
    return jsontext.dumps(row, ensure_ascii=False, separators=(",", ":"))




def escape_surrogates(text: str) -> str:
    """Text SQLite can store: each lone surrogate written as its JSON escape ``\\udXXX``.

    JSON may carry lone surrogates (``"\\ud800"`` is legal), and json.loads turns them into
    code points UTF-8 cannot encode, so binding such text fails with UnicodeEncodeError.
    The escape keeps the record exactly: in stored JSON it decodes back to the same code
    point, and in the key column it is a stable, unique spelling of the key. (Replacing
    them with U+FFFD here would make two keys one and change what the user had; the
    exports replace them, and count it, where a file format cannot carry them.)
    """
    return jsontext.LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def storable(values: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Bound values with every text made encodable (see :func:`escape_surrogates`)."""
    return [
        tuple(escape_surrogates(v) if isinstance(v, str) else v for v in row)
        for row in values
    ]


# The C scanner behind json.loads, called directly: json.loads spends a quarter of its time
# per call on type checks and two whitespace regex matches that compact JSON we wrote
# ourselves does not need (measured: 0.30 s instead of 0.39 s for 100k 650-byte rows).
# typeshed does not declare scan_once, which every JSONDecoder has had since Python 2.6.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def decode_rows(
    texts: Sequence[tuple[str]], shared: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Decode stored rows; a row that is not a JSON object is skipped, never a crash.

    The rows are decoded as one JSON array, in one call of the scanner: its memo of object
    keys lasts one call, so the rows of a chunk share one string per field name. Decoded
    one call per row, every row held its own copy of each of its ~20 field names: about
    1.1 kB per row, 190 MB of the 175k rows of a large portfolio. Their values are shared
    as :func:`share_values` says (``shared``: fields whose strings are interned whatever
    the sample says).
    """
    if not texts:
        return []
    strs = list(map(_FIRST, texts))
    if _all_braced(strs):
        try:
            rows, end = _scan_json("[" + ",".join(strs) + "]", 0)
        # The scanner raises StopIteration on junk, RecursionError on a very deep record.
        except (ValueError, TypeError, StopIteration, RecursionError):
            pass
        else:
            # Every text began with "{" and ended with "}" and the array has as many objects
            # as there are texts: each object is one text, read whole. (Only junk crafted to
            # do so can join into as many objects across texts; it still gives dicts.)
            if type(rows) is list and len(rows) == len(texts) and all(
                type(row) is dict for row in rows
            ):
                return share_values(rows, shared)
    return share_values(_decode_one_by_one(texts), shared)


_FIRST = operator.itemgetter(0)


def _all_braced(texts: list[str]) -> bool:
    """True when every text begins with "{" and ends with "}" (False for a text that is
    not a string: a blob). Checked by C loops: a generator over the rows was 1.5% of a
    start from the cache."""
    try:
        return all(map(str.startswith, texts, repeat("{"))) and all(
            map(str.endswith, texts, repeat("}")))
    except TypeError:
        return False


SHARE_SAMPLE_ROWS = 200
"""Rows of a chunk whose values decide which fields' strings are shared."""
SHARE_MAX_DISTINCT = 0.5
"""A field's strings are shared when at most this share of its sampled values differ."""


_REFERENCES = frozenset(
    field for view in res.VIEWS.values() for column in view.columns
    if column.kind is res.Kind.REF for field in column.fields
)
"""Fields holding another record's key (siteKey, locationKey, parentKey): shared whatever
the sample says (100k assets name 40k locations, too many for a sample of 200 to show
the repeats: 3.8 MB of copies)."""


def share_values(
    rows: list[dict[str, Any]], shared: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Make equal strings of the fields that repeat one object (``sys.intern``), in place.

    A portfolio's rows repeat most of their values: 100k assets name 25 buildings, a few
    dozen categories, makes and models, three criticalities. Decoded, each row holds its
    own copy of each: about 60 MB of the 175k rows of a large portfolio. Which fields
    repeat is read from a sample of the chunk (free text and timestamps do not repeat and
    are left alone, so the work is a few lookups per row); references to other records
    always are, and so are the ``shared`` fields.

    A row's ``updatedAt`` is often the very instant of another of its timestamps (an
    asset's last audit, a visit's check-out, its creation): the fields the sample shows
    doing so often hold the same string object as ``updatedAt`` when equal to it (127k
    copies, 8.7 MB, in a large portfolio).
    """
    sample = rows[:SHARE_SAMPLE_ROWS]
    seen: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for row in sample:
        for field, value in row.items():
            if value.__class__ is str:
                seen.setdefault(field, set()).add(value)
                counts[field] = counts.get(field, 0) + 1
    fields = [f for f, values in seen.items()
              if f in _REFERENCES or f in shared or _repeating(counts[f], len(values))]
    fields += [f for f in shared if f not in seen]
    stamps = same_instant_fields(sample)
    if not fields and not stamps:
        return rows
    if fields:
        intern_fields(rows, fields)
    if stamps:
        share_instants(rows, stamps)
    return rows


def intern_fields(rows: list[dict[str, Any]], fields: Collection[str]) -> None:
    """Make the strings of ``fields`` the interned ones, in place: one object for every
    row (and for the lookups' names) that holds the same text."""
    intern = sys.intern
    for row in rows:
        for field in fields:
            value = row.get(field)
            if value.__class__ is str:
                row[field] = intern(value)


def _decode_one_by_one(texts: Sequence[tuple[str]]) -> list[dict[str, Any]]:
    """Decode each row on its own: the path of a chunk with an unreadable row in it."""
    scan = _scan_json
    rows: list[Any] = []
    for (text,) in texts:
        try:
            rows.append(scan(text, 0)[0])
            continue
        except (ValueError, TypeError, StopIteration, RecursionError):
            pass
        try:
            rows.append(jsontext.loads(text))  # a very deep record, or junk
        except (ValueError, TypeError):
            log.warning("Skipping an unreadable cached row")
    return [row for row in rows if isinstance(row, dict)]


def decode_fields(
    values: Sequence[tuple[Any, ...]], fields: Sequence[str], shared: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Rows of a few fields from what SQLite picked out of the stored records.

    Args:
        values: per row, its stored key and then the JSON array of its fields' values as
            SQLite's ``json_extract`` renders it (null for a field the record lacks; with
            one field, the array holds it twice). No second item: no field asked for.
        fields: the field names, in the order of the arrays.
        shared: fields whose strings are interned whatever they hold (the names the
            lookups keep, which the rows decoded later share: see :func:`decode_rows`).

    Returns:
        Per row, a dict of ``key`` and each field (None when lacking or null). The keys
        are interned, and so are the strings of the fields that repeat or refer to other
        records, as :func:`share_values` shares them, and of the ``shared`` fields. Free
        text that is not kept (50k locations' codes) is not: interned, it made Python's
        table of interned strings double (3.9 MB more for the whole session).
    """
    intern = sys.intern
    keys = [intern(str(row[0])) for row in values]
    if not values or not fields:
        return [{res.F_KEY: key} for key in keys]
    width = len(fields) + (len(fields) == 1)
    names = (res.F_KEY, *fields)
    interned: list[bool] | None = None  # per field, from the first slice's values
    out: list[dict[str, Any]] = []
    # A slice at a time: each C call (the scan, the dicts) holds the GIL, and this runs in
    # a worker thread beside the GUI's: 50k rows in one call held it for 50-100 ms.
    for start in range(0, len(values), FIELDS_SLICE_ROWS):
        arrays = _field_arrays(values[start:start + FIELDS_SLICE_ROWS], width)
        columns: list[Any] = list(zip(*arrays, strict=True))[:len(fields)]
        if interned is None:
            interned = [field in shared or field in _REFERENCES
                        or _repeats(columns[n][:SHARE_SAMPLE_ROWS])
                        for n, field in enumerate(fields)]
        for n, yes in enumerate(interned):
            if yes:
                columns[n] = [intern(v) if v.__class__ is str else v for v in columns[n]]
        # One dict per row from C loops (a comprehension of dict(zip()) cost 40% more).
        out += map(dict, map(zip, repeat(names), zip(
            keys[start:start + FIELDS_SLICE_ROWS], *columns, strict=True)))
    return out


FIELDS_SLICE_ROWS = 5000
"""Rows :func:`decode_fields` decodes per C call (about 5 ms of the GIL)."""


def _field_arrays(values: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Each row's array of field values (``width`` of them; None each when unreadable)."""
    texts = [row[1] if len(row) > 1 else None for row in values]
    arrays: Any = None
    try:
        arrays, _ = _scan_json("[" + ",".join(
            [t if t.__class__ is str else "null" for t in texts]) + "]", 0)
    except (ValueError, TypeError, StopIteration, RecursionError):
        pass
    if type(arrays) is not list or len(arrays) != len(texts):
        arrays = [_loads_or_none(t) for t in texts]  # a very deep value, or junk
    blank = [None] * width
    return [a if type(a) is list and len(a) == width else blank for a in arrays]


def _repeats(sample: Sequence[Any]) -> bool:
    """True when the strings of a field's sampled values repeat (see :func:`share_values`)."""
    texts = [v for v in sample if v.__class__ is str]
    return _repeating(len(texts), len(set(texts)))


def _repeating(count: int, distinct: int) -> bool:
    """True for a field whose ``count`` sampled strings, ``distinct`` of them, repeat
    enough to be worth one object each (:data:`SHARE_MAX_DISTINCT`)."""
    return count > 1 and distinct <= SHARE_MAX_DISTINCT * count


def _loads_or_none(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return jsontext.loads(text)
    except (ValueError, TypeError):
        return None

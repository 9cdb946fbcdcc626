"""List queries of the sandbox: parsing, filtering, sorting and paging (contract §3).

Pure functions over lists of records, no HTTP: the server feeds them the request's query
parameters and a key-ordered record list, and caches what they return.

Choices where the contract leaves room, documented here once:

* ``per_page`` (or its alias ``pageSize``) above 100 is clamped to 100 and ``meta.per_page``
  says so; below 1 or not an integer is ``400 INVALID_REQUEST``. ``page`` below 1 or not an
  integer is ``400``; a page past the end is an empty page (``from``/``to`` null).
* ``filter[field]=v`` is exact for strings; for a number it compares numerically, for a
  boolean it accepts ``true``/``false``/``1``/``0``, for null it accepts ``null`` or empty.
* ``contains``/``startsWith`` are case-insensitive. ``gt``/``gteq``/``lt``/``lteq`` compare
  numbers numerically and strings as strings; a filter value that is an ISO timestamp is first
  normalised to the records' form (second precision, ``Z``), so a client may send fractions
  or an offset. Null values never satisfy an operator.
* A dotted field (``filter[address.city]=London``) reads into nested objects.
* ``sort[field]=0|1`` (``asc``/``desc`` also accepted) sorts stably with nulls last in both
  directions; several sorts apply in parameter order; ties keep key order.
* The links keep every query parameter of the request and replace only ``page``, so a client
  that follows ``links.next`` keeps its filters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from makini_desktop.api import resources as res
from makini_desktop.sandbox.records import Record, format_ts, parse_ts

DEFAULT_PER_PAGE: Final = 50
OPS: Final = ("contains", "startsWith", "gt", "gteq", "lt", "lteq")

_FILTER_RE: Final = re.compile(r"^filter\[([^\]:]+)(?::([^\]]+))?\]$")
_SORT_RE: Final = re.compile(r"^sort\[([^\]]+)\]$")
_ISO_RE: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_FRACTION_RE: Final = re.compile(r":\d{2}\.\d*[1-9]")


class QueryError(ValueError):
    """The query parameters are malformed: the server answers ``400 INVALID_REQUEST``."""


@dataclass(frozen=True)
class Filter:
    """One ``filter[field(:op)]=value`` parameter.

    Attributes:
        field: the record field (dotted for nested objects).
        op: None for equality, else one of :data:`OPS`.
        value: the raw parameter value.
    """

    field: str
    op: str | None
    value: str


@dataclass(frozen=True)
class ListQuery:
    """A parsed list request.

    Attributes:
        page: 1-based page number.
        per_page: page size after clamping.
        filters: the filters in parameter order.
        match_any: ``filterMatch=any`` (else all filters must match).
        sorts: (field, descending) in parameter order.
        params: every query parameter as received (for building links).
    """

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    filters: tuple[Filter, ...] = ()
    match_any: bool = False
    sorts: tuple[tuple[str, bool], ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    @property
    def incremental(self) -> bool:
        """An ``updatedAt`` filter is present: soft-deleted records are included (§3)."""
        return any(f.field == res.F_UPDATED for f in self.filters)

    @property
    def selection_key(self) -> tuple[Any, ...]:
        """What determines the selected records and their order (not the page): a cache key."""
        return (self.incremental, self.filters, self.match_any, self.sorts)


def _int_param(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise QueryError(f"The {name} parameter must be an integer.") from None


def parse_list_query(params: Sequence[tuple[str, str]]) -> ListQuery:
    """Parse a list request's query parameters (contract §3).

    Unknown parameters are ignored, as an API that grows new options would.

    Raises:
        QueryError: a malformed page, page size, filter, sort or filterMatch.
    """
    page = 1
    per_page: int | None = None
    alias: int | None = None
    filters: list[Filter] = []
    sorts: list[tuple[str, bool]] = []
    match_any = False
    for name, value in params:
        if name == res.PARAM_PAGE:
            page = _int_param(name, value)
            if page < 1:
                raise QueryError("The page parameter must be at least 1.")
        elif name in (res.PARAM_PER_PAGE, "pageSize"):
            size = _int_param(name, value)
            if size < 1:
                raise QueryError(f"The {name} parameter must be between 1 and "
                                 f"{res.MAX_PER_PAGE}.")
            if name == res.PARAM_PER_PAGE:
                per_page = size
            else:
                alias = size
        elif name == "filterMatch":
            if value not in ("all", "any"):
                raise QueryError("The filterMatch parameter must be 'all' or 'any'.")
            match_any = value == "any"
        elif name.startswith("filter"):
            m = _FILTER_RE.match(name)
            if m is None:
                raise QueryError(f"Malformed filter parameter {name!r}.")
            op = m.group(2)
            if op is not None and op not in OPS:
                raise QueryError(f"Unknown filter operator {op!r}; expected one of "
                                 f"{', '.join(OPS)}.")
            filters.append(Filter(m.group(1), op, value))
        elif name.startswith("sort"):
            m = _SORT_RE.match(name)
            if m is None:
                raise QueryError(f"Malformed sort parameter {name!r}.")
            direction = value.strip().lower()
            if direction not in ("0", "1", "asc", "desc"):
                raise QueryError(f"The {name} parameter must be 0 (ascending) or 1 "
                                 "(descending).")
            sorts.append((m.group(1), direction in ("1", "desc")))
    asked = per_page if per_page is not None else alias
    return ListQuery(
        page=page,
        per_page=min(asked, res.MAX_PER_PAGE) if asked is not None else DEFAULT_PER_PAGE,
        filters=tuple(filters),
        match_any=match_any,
        sorts=tuple(sorts),
        params=tuple(params),
    )


# ---------------------------------------------------------------------------------------
# Filtering


def _getter(field: str) -> Callable[[Mapping[str, Any]], Any]:
    if "." not in field:
        return lambda rec: rec.get(field)
    parts = field.split(".")

    def get(rec: Mapping[str, Any]) -> Any:
        value: Any = rec
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_number(raw: str) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _normalise_ts(raw: str, op: str | None) -> str | None:
    """A timestamp filter value in the records' form, rounded the way the operator needs.

    Records have whole seconds, so ``> 09:30:00.5`` means ``> 09:30:00`` (floor) while
    ``>= 09:30:00.5`` means ``>= 09:30:01`` (ceil), and symmetrically for ``<``/``<=``.
    """
    text = raw.strip()
    if not _ISO_RE.match(text):
        return None
    try:
        floor = parse_ts(text)
    except ValueError:
        return None
    if _FRACTION_RE.search(text) and op in ("gteq", "lt"):
        floor += 1
    return format_ts(floor)


def _predicate(flt: Filter) -> Callable[[Mapping[str, Any]], bool]:
    get = _getter(flt.field)
    raw = flt.value
    op = flt.op
    number = _as_number(raw)
    if op is None:
        lowered = raw.strip().lower()
        as_bool = {"true": True, "1": True, "false": False, "0": False}.get(lowered)

        def equals(rec: Mapping[str, Any]) -> bool:
            value = get(rec)
            if value is None:
                return lowered in ("", "null")
            if isinstance(value, bool):
                return as_bool is not None and value is as_bool
            if isinstance(value, int | float):
                return number is not None and value == number
            if isinstance(value, str):
                return value == raw
            return _text(value) == raw

        return equals
    if op in ("contains", "startsWith"):
        needle = raw.casefold()
        starts = op == "startsWith"

        def text_match(rec: Mapping[str, Any]) -> bool:
            value = get(rec)
            if value is None:
                return False
            hay = _text(value).casefold()
            return hay.startswith(needle) if starts else needle in hay

        return text_match
    ts = _normalise_ts(raw, op)
    target = ts if ts is not None else raw

    def compare(a: Any, b: Any) -> bool:
        if op == "gt":
            return bool(a > b)
        if op == "gteq":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        return bool(a <= b)

    def ordered(rec: Mapping[str, Any]) -> bool:
        value = get(rec)
        if value is None:
            return False
        if isinstance(value, int | float) and not isinstance(value, bool):
            return number is not None and compare(value, number)
        if isinstance(value, str):
            return compare(value, target)
        return compare(_text(value), raw)

    return ordered


def compile_filters(query: ListQuery) -> Callable[[Mapping[str, Any]], bool] | None:
    """One predicate for all of a query's filters (None when there are none)."""
    predicates = [_predicate(f) for f in query.filters]
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    if query.match_any:
        return lambda rec: any(p(rec) for p in predicates)
    return lambda rec: all(p(rec) for p in predicates)


# ---------------------------------------------------------------------------------------
# Sorting


def _sort_value(value: Any) -> tuple[int, Any]:
    """A key that orders any JSON value: booleans, then numbers, then text, then the rest."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value.casefold())
    return (3, _text(value))


def sort_records(
    records: Sequence[Record], sorts: Sequence[tuple[str, bool]]
) -> list[Record]:
    """Stable multi-field sort with nulls last in both directions.

    Sorting by the last field first and the first field last gives parameter order priority;
    Python's sort is stable (also with ``reverse=True``), so ties keep the input order, which
    is key order.
    """
    out = list(records)
    for field, descending in reversed(sorts):
        get = _getter(field)
        present = [r for r in out if get(r) is not None]
        missing = [r for r in out if get(r) is None]
        present.sort(key=lambda r: _sort_value(get(r)), reverse=descending)
        out = present + missing
    return out


def select(records: Sequence[Record], query: ListQuery) -> Sequence[Record]:
    """The records a query selects, in its order (the input is key-ordered)."""
    out: Sequence[Record] = records
    if query.sorts:
        out = sort_records(out, query.sorts)
    predicate = compile_filters(query)
    if predicate is not None:
        out = [r for r in out if predicate(r)]
    return out


# ---------------------------------------------------------------------------------------
# Paging


def page_envelope(selected: Sequence[Record], query: ListQuery, url: str) -> dict[str, Any]:
    """The Laravel paginator body for one page of ``selected`` (contract §3).

    Args:
        selected: every record the query selects, in order.
        query: the parsed request.
        url: the collection's absolute URL (scheme, request Host, path), without query.
    """
    total = len(selected)
    per_page = query.per_page
    last_page = max(1, math.ceil(total / per_page))
    page = query.page
    start = (page - 1) * per_page
    data = list(selected[start:start + per_page])
    other = [(k, v) for k, v in query.params if k != res.PARAM_PAGE]

    def link(n: int) -> str:
        return f"{url}?{urlencode([*other, (res.PARAM_PAGE, str(n))])}"

    return {
        "data": data,
        "links": {
            "first": link(1),
            "last": link(last_page),
            "prev": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < last_page else None,
        },
        "meta": {
            "current_page": page,
            "from": start + 1 if data else None,
            "last_page": last_page,
            "path": url,
            "per_page": per_page,
            "to": start + len(data) if data else None,
            "total": total,
        },
    }

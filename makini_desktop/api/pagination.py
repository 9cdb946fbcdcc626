"""Pagination (contract §3): a page as parsed, the walk over every page, and its tally.

* :class:`Page` and :func:`parse_rows`: one page of a list, records kept whole.
* :class:`PageWalker`: every page of a list, in order. Once page 1 tells the page count the
  rest are fetched concurrently in the client's window, and handed on in order as they
  arrive; a cursor-paginated server is followed one page at a time. Pages that do not
  advance, or too many pages, end the walk with a typed error rather than a wrong list.
* :class:`WalkTally`: whether a walk received the whole list the server counted.

The walker sends nothing itself: it asks through the client's ``request`` (retries
included), so the window, the pacer and the retry policy apply to every page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from makini_desktop.api import resources as res
from makini_desktop.api.errors import IncompleteListError, MakiniError, MalformedResponseError
from makini_desktop.api.exchange import body_size
from makini_desktop.api.key_sharing import KeySharing
from makini_desktop.api.values import as_int, same_instant_fields, share_instants

if TYPE_CHECKING:  # annotations only: httpx is imported at a client's first request
    import httpx

__all__ = [
    "FULL_WALK_ATTEMPTS",
    "Page",
    "PageWalker",
    "Row",
    "SharedText",
    "WalkTally",
    "parse_rows",
]

Row = dict[str, Any]

FULL_WALK_ATTEMPTS = 2
"""A full walk found incomplete is made once more before it is reported."""


class Requester(Protocol):
    """What the walker asks pages through: :meth:`MakiniClient.request`."""

    def __call__(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = ...
    ) -> Awaitable[tuple[httpx.Response, Any]]: ...


@dataclass
class Page:
    """One page of a list, as parsed.

    Attributes:
        rows: the records (dicts with every field the server sent).
        number: the page number (1-based; for cursor pagination, the page's ordinal).
        last_page: the number of pages the server reported, if it did.
        total: the number of records the server reported, if it did.
        request_id: the request ID of this page's response.
        nbytes: the size of the response body.
        skipped: records that were not objects with a key, and were left out.
        server_date: the server's clock when it answered (its ``Date`` header), if sent.
        served: the records the server sent in this page, before anything was skipped or
            filtered out (what adds up to ``total``).
        filtered: records a view's row filter left out of ``rows`` (they still count
            towards ``total``).
    """

    rows: list[Row]
    number: int
    last_page: int | None
    total: int | None
    request_id: str = ""
    nbytes: int = 0
    skipped: int = 0
    server_date: datetime | None = None
    served: int = 0
    filtered: int = 0


class SharedText:
    """One ``str`` object for the equal values of a field whose values repeat across rows.

    JSON decoding makes a new string for every value, so 100,000 assets hold 100,000 copies
    of their building's key, their category and their criticality (about 40 MB of a large
    portfolio's rows). For each top-level text field, the values seen so far are kept;
    equal values of later rows are replaced by the kept object (the row is unchanged as a
    value). A field with more than :attr:`MAX_VALUES` distinct values is kept only while
    each value serves :attr:`MIN_USES` rows on average (a floor's or a space's key in the
    rows under it; never the names, timestamps and serial numbers that hardly repeat, whose
    memo would cost more than it saves) and has at most :attr:`MAX_SHARED` values; a field
    given up is left alone from then on. Fields are learned from
    the first rows of each page (and forgotten while they are text in under a fifth of a
    page's rows), so a pass over a page only looks at the fields that repeat.

    A row's ``updatedAt`` is often the very instant of another of its timestamps (an
    asset's last audit, a visit's check-out, its creation): the fields that the first
    page shows doing so (:func:`~makini_desktop.api.values.same_instant_fields`) hold the
    same string object as ``updatedAt`` whenever equal to it, as rows read from the cache
    do (about 130k copies, 9 MB, in a large portfolio's first load).

    The rows themselves then share their field names (:mod:`~makini_desktop.api.key_sharing`:
    about 40 MB of a large portfolio's first load).
    """

    MAX_VALUES = 256
    """Distinct values kept per field whatever they save."""
    MIN_USES = 2
    """Beyond :attr:`MAX_VALUES`, the rows a value must serve on average to stay shared."""
    MAX_SHARED = 65_536
    """Distinct values kept per field at most."""
    MAX_LENGTH = 64
    """Longer texts are never shared (descriptions, notes)."""
    LEARN_ROWS = 2
    """Rows of each page whose fields are looked at for new repeating fields."""

    def __init__(self) -> None:
        self._memos: dict[str, dict[str, str]] = {}
        self._uses: dict[str, int] = {}  # per field shared, the texts it has served
        self._varied: set[str] = {res.F_KEY}  # fields left alone (a key never repeats)
        self._stamps: list[str] | None = None  # fields often at the instant of updatedAt
        self._fields = KeySharing()  # the field names, once for every row

    def share(self, rows: list[Row]) -> None:
        """Replace the repeated values of ``rows`` by shared objects, and the rows by
        key-sharing dicts (:class:`~makini_desktop.api.key_sharing.KeySharing`), in place."""
        if self._stamps is None and rows:
            self._stamps = same_instant_fields(rows)
        self._share_repeats(rows)
        if self._stamps:
            share_instants(rows, self._stamps)
        self._fields.compact(rows)

    def _share_repeats(self, rows: list[Row]) -> None:
        """Equal values of the fields that repeat become the memo's object."""
        memos, uses, varied = self._memos, self._uses, self._varied
        for row in rows[:self.LEARN_ROWS]:
            for name, value in row.items():
                if value.__class__ is str and name not in memos and name not in varied:
                    memos[name] = {}
                    uses[name] = 0
        if not memos:
            return
        longest = self.MAX_LENGTH
        full: list[str] = []
        sparse: list[str] = []
        rare = len(rows) // 5
        for name, memo in memos.items():
            keep = memo.setdefault
            texts = 0
            for row in rows:
                value = row.get(name)
                if value.__class__ is str and len(value) <= longest:
                    texts += 1
                    row[name] = keep(value, value)
            uses[name] += texts
            if self._not_worth_it(len(memo), uses[name]):
                full.append(name)
            elif texts < rare:  # mostly empty here: learned again if a later page has it
                sparse.append(name)
        for name in full:
            del memos[name], uses[name]
            varied.add(name)
        for name in sparse:
            del memos[name], uses[name]

    def _not_worth_it(self, values: int, uses: int) -> bool:
        """True for a field whose memo of ``values`` texts, having served ``uses``, costs
        more than it saves (or is too large)."""
        if values <= self.MAX_VALUES:
            return False
        return values > self.MAX_SHARED or uses < values * self.MIN_USES


def parse_rows(data: Any, shared: SharedText | None = None) -> tuple[list[Row], int]:
    """Records from a list payload: objects with a key are kept whole; others are counted.

    A key that is not a string (a number, say) is kept as its text, since keys are opaque.
    With ``shared``, equal values of repeating fields become one object (see
    :class:`SharedText`).
    """
    if not isinstance(data, list):
        return [], 0 if data is None else 1
    rows: list[Row] = []
    skipped = 0
    for item in data:
        if not isinstance(item, dict):
            skipped += 1
            continue
        key = item.get(res.F_KEY)
        if key is None or key == "" or isinstance(key, dict | list | bool):
            skipped += 1
            continue
        if not isinstance(key, str):
            item[res.F_KEY] = str(key)
        rows.append(item)
    if shared is not None:
        shared.share(rows)
    return rows, skipped


@dataclass
class PageInfo:
    """What a page says about the list: page numbers, total and where the next page is."""

    current: int | None
    last: int | None
    total: int | None
    next_url: str | None
    next_cursor: str | None


def page_info(doc: Mapping[str, Any]) -> PageInfo:
    """The pagination fields of a list page (``meta``, ``links``, ``next_cursor``)."""
    meta_raw = doc.get(res.ENV_META)
    meta: Mapping[str, Any] = meta_raw if isinstance(meta_raw, Mapping) else {}
    links_raw = doc.get(res.ENV_LINKS)
    links: Mapping[str, Any] = links_raw if isinstance(links_raw, Mapping) else {}
    cursor = doc.get(res.META_NEXT_CURSOR, meta.get(res.META_NEXT_CURSOR))
    next_url = links.get(res.LINK_NEXT)
    return PageInfo(
        current=as_int(meta.get(res.META_CURRENT_PAGE)),
        last=as_int(meta.get(res.META_LAST_PAGE)),
        total=as_int(meta.get(res.META_TOTAL)),
        next_url=next_url if isinstance(next_url, str) and next_url else None,
        next_cursor=str(cursor) if cursor not in (None, "") else None,
    )


class PageWalker:
    """Walks every page of a list through ``request``.

    Args:
        request: sends one request with retries (the client's :meth:`request`).
        per_page: page size asked for.
        max_pages: a list longer than this is refused rather than fetched forever.
        lookahead: how many pages may arrive ahead of the one handed on next (bounds
            memory on huge lists).
        window: how many pages may be in flight now (the client's concurrency window,
            read at every launch because a 429 shrinks it).
        shared: shares the repeated values of the rows (see :class:`SharedText`).
    """

    def __init__(
        self,
        request: Requester,
        *,
        per_page: int,
        max_pages: int,
        lookahead: int,
        window: Callable[[], int],
        shared: SharedText | None = None,
    ) -> None:
        self._request = request
        self._shared = shared
        self.per_page = per_page
        self.max_pages = max_pages
        self._lookahead = lookahead
        self._window = window

    async def get_page(
        self, path: str, params: Mapping[str, Any], number: int
    ) -> tuple[Page, PageInfo]:
        response, doc = await self._request("GET", path, params=params)
        request_id = response.headers.get("x-request-id", "")
        if not isinstance(doc, Mapping):
            raise MalformedResponseError(
                response.status_code, "INVALID_RESPONSE", "api_error",
                "The server's answer was not a list page.",
                request_id=request_id, method="GET", path=path,
            )
        data = doc.get(res.ENV_DATA)
        if not isinstance(data, list):
            # Never "no rows": a list read as empty here would be saved as the whole list.
            raise MalformedResponseError(
                response.status_code, "MALFORMED_RESPONSE", "api_error",
                f"The server sent page {number} of the list without its records "
                f"({_describe_data(doc)}), so the list was not loaded.",
                request_id=request_id, method="GET", path=path,
            )
        rows, skipped = parse_rows(data, self._shared)
        info = page_info(doc)
        page = Page(
            rows=rows,
            number=info.current or number,
            last_page=info.last,
            total=info.total,
            request_id=request_id,
            nbytes=body_size(response),
            skipped=skipped,
            server_date=_http_date(response.headers.get("date")),
            served=len(data),
        )
        return page, info

    async def walk(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[Page]:
        """Every page of a list, in order, each handed on as soon as it and those before it
        have arrived.

        Once page 1 tells the page count, the rest are fetched concurrently in a window that
        halves on a 429 and grows back slowly. A server that paginates by cursor is followed
        one page at a time. Pages that do not advance, or more pages than ``max_pages``,
        end the walk with a typed error rather than a silently wrong list.
        """
        base: dict[str, str] = dict(params or {})
        base[res.PARAM_PER_PAGE] = str(self.per_page)
        first, info = await self.get_page(path, {**base, res.PARAM_PAGE: "1"}, 1)
        yield first
        if info.next_cursor is not None:
            async for page in self._cursor_pages(path, base, info.next_cursor):
                yield page
            return
        if info.last is not None and info.last > 1 and info.current in (None, 1):
            self._check_page_cap(info.last, path)
            tail: PageInfo | None = None
            async for page, page_info in self._window_pages(path, base, 2, info.last):
                tail = page_info
                yield page
            grew = tail is not None and tail.last is not None and tail.last > info.last
            if grew and tail is not None and tail.next_url is not None:
                # The list grew while we walked it: follow the new tail one page at a time.
                async for page in self._sequential_pages(path, base, info.last):
                    yield page
            return
        if info.next_url is not None and (info.last is None or (info.current or 1) < info.last):
            async for page in self._sequential_pages(path, base, info.current or 1, first):
                yield page

    def _check_page_cap(self, count: int, path: str) -> None:
        if count > self.max_pages:
            raise MakiniError(
                200, "PAGE_LIMIT", "invalid_request",
                f"The list has {count:,} pages, more than the {self.max_pages:,} this app fetches.",
                method="GET", path=path,
            )

    async def _sequential_pages(
        self, path: str, base: Mapping[str, str], after: int, after_page: Page | None = None
    ) -> AsyncIterator[Page]:
        """Follow page numbers one at a time while the server says there is a next page."""
        number = after
        previous = tuple(r[res.F_KEY] for r in after_page.rows) if after_page else ()
        while True:
            number += 1
            self._check_page_cap(number, path)
            page, info = await self.get_page(path, {**base, res.PARAM_PAGE: str(number)}, number)
            if info.current is not None and info.current != number:
                raise _stalled(path, page.request_id, number, info.current)
            keys = tuple(r[res.F_KEY] for r in page.rows)
            if keys and keys == previous:  # a server that ignores `page` and says no number
                raise _stalled(path, page.request_id, number, number - 1)
            previous = keys
            yield page
            if info.next_url is None or (info.last is not None and number >= info.last):
                return
            if not page.rows:
                return

    async def _cursor_pages(
        self, path: str, base: Mapping[str, str], cursor: str
    ) -> AsyncIterator[Page]:
        seen = {cursor}
        number = 1
        while True:
            number += 1
            self._check_page_cap(number, path)
            page, info = await self.get_page(path, {**base, res.PARAM_CURSOR: cursor}, number)
            page.number = number
            yield page
            if info.next_cursor is None:
                return
            if info.next_cursor in seen:
                raise _stalled(path, page.request_id, number, None)
            seen.add(info.next_cursor)
            cursor = info.next_cursor

    async def _window_pages(
        self, path: str, base: Mapping[str, str], first: int, last: int
    ) -> AsyncIterator[tuple[Page, PageInfo]]:
        """Fetch pages first..last concurrently (the limiter bounds what is in flight) and
        yield them in order."""
        pending: dict[int, asyncio.Task[tuple[Page, PageInfo]]] = {}
        done: dict[int, tuple[Page, PageInfo]] = {}
        next_launch = first
        next_yield = first
        # Pages that arrived early wait here; bound it so memory stays flat on huge lists.
        lookahead = self._lookahead
        try:
            while next_yield <= last:
                while (
                    next_launch <= last
                    and len(pending) < self._window()
                    and next_launch < next_yield + lookahead
                ):
                    params = {**base, res.PARAM_PAGE: str(next_launch)}
                    pending[next_launch] = asyncio.ensure_future(
                        self.get_page(path, params, next_launch)
                    )
                    next_launch += 1
                if next_yield in done:
                    page, info = done.pop(next_yield)
                    if info.current is not None and info.current != next_yield:
                        raise _stalled(path, page.request_id, next_yield, info.current)
                    yield page, info
                    next_yield += 1
                    continue
                finished, _ = await asyncio.wait(
                    pending.values(), return_when=asyncio.FIRST_COMPLETED
                )
                for number, task in list(pending.items()):
                    if task in finished:
                        del pending[number]
                        done[number] = task.result()  # raises the page's error, if any
        finally:
            for task in pending.values():
                task.cancel()
            if pending:
                await asyncio.gather(*pending.values(), return_exceptions=True)


def _http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when absent or garbled."""
    if not value:
        return None
    import email.utils  # imported with the first answer, not with the client

    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass
class WalkTally:
    """What a list walk received, to tell a whole list from one cut short.

    The server's total counts every record, so records the client could not use (no key)
    and those a view's row filter left out count as received; a record seen twice (it moved
    between pages) counts once. Feed it
    every page with :meth:`see`; :attr:`complete` says whether the list arrived whole.
    """

    keys: set[str] = field(default_factory=set)
    skipped: int = 0
    filtered: int = 0
    total: int | None = None
    hollow_page: int | None = None
    request_id: str = ""

    def see(self, page: Page) -> None:
        """Count one page of the walk."""
        self.keys.update(row[res.F_KEY] for row in page.rows)
        self.skipped += page.skipped
        self.filtered += page.filtered
        self.total = page.total if page.total is not None else self.total
        self.request_id = page.request_id or self.request_id
        short_of_last = page.last_page is not None and page.number < page.last_page
        if short_of_last and not page.served and self.hollow_page is None:
            self.hollow_page = page.number

    @property
    def received(self) -> int:
        """Distinct records received, unusable ones included."""
        return len(self.keys) + self.skipped + self.filtered

    @property
    def complete(self) -> bool:
        """True when the walk received every record the server counted."""
        if self.hollow_page is not None:
            return False
        return self.total is None or self.received == self.total

    def error(self, what: str, path: str) -> IncompleteListError:
        """The error that reports this walk as incomplete (``what``: "assets")."""
        return IncompleteListError.for_counts(
            what, received=self.received, total=self.total, request_id=self.request_id,
            path=path,
        )


def _describe_data(doc: Mapping[str, Any]) -> str:
    """What a page's ``data`` was instead of a list, in words."""
    if res.ENV_DATA not in doc:
        return f"'{res.ENV_DATA}' was missing"
    data = doc[res.ENV_DATA]
    if data is None:
        return f"'{res.ENV_DATA}' was null"
    kinds = {dict: "an object", str: "a string", bool: "true or false"}
    what = next((w for t, w in kinds.items() if isinstance(data, t)), "a number")
    return f"'{res.ENV_DATA}' was {what}"


def _stalled(path: str, request_id: str, asked: int, got: int | None) -> MakiniError:
    got_text = f"page {got}" if got is not None else "a cursor it had already given"
    return MalformedResponseError(
        200, "PAGINATION_STALLED", "api_error",
        f"Asked for page {asked} of the list and got {got_text}; the list was not fetched "
        "completely.",
        request_id=request_id, method="GET", path=path,
    )


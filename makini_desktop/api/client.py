"""The async Makini API client: one shared ``httpx.AsyncClient`` per connection.

Layers, lowest first:

* :meth:`MakiniClient._send` - one HTTP exchange turned into a response or a typed error.
* :meth:`MakiniClient.request` - retries (contract §4-§5) around ``_send``.
* :meth:`MakiniClient.iter_pages` - pagination (contract §3), concurrent once the page count
  is known, pages handed on in order as they arrive.
* Domain calls: :meth:`integration`, :meth:`fetch_view`, :meth:`set_status`.

Nothing here imports Qt; the GUI and the CLI both sit on top of it.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from makini_desktop import __version__
from makini_desktop.api import resources as res
from makini_desktop.api.errors import (
    IncompleteListError,
    InsecureUrlError,
    MakiniConnectionError,
    MakiniError,
    MalformedResponseError,
    error_from_response,
    scrub_error,
)
from makini_desktop.api.urls import is_loopback_host, validate_base_url
from makini_desktop.redact import scrub

log = logging.getLogger(__name__)

Row = dict[str, Any]

DEFAULT_DEADLINE_SECONDS = 90.0
"""The most one request may take, body included (httpx's read timeout only bounds the gap
between two reads, so a server that trickles its body would otherwise hold it forever)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before an error reaches the user.

    Attributes:
        max_attempts: attempts in all, the first one included.
        max_total_seconds: no retry is started that would end after this much time.
        backoff_base: first backoff ceiling in seconds (full jitter: uniform in [0, ceiling]).
        backoff_cap: the largest backoff ceiling.
        retry_after_cap: a server's ``Retry-After`` is clamped to this.
    """

    max_attempts: int = 5
    max_total_seconds: float = 90.0
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0


@dataclass(frozen=True)
class RetryEvent:
    """What the client tells its caller before it waits to retry.

    Attributes:
        attempt: the retry about to be made (1 for the first retry).
        delay: seconds until it.
        status: the HTTP status that caused it (0 for a connection failure).
        code: the error code that caused it.
        request_id: the failed request's ID.
        method: the request's method.
        path: the request's path.
    """

    attempt: int
    delay: float
    status: int
    code: str
    request_id: str
    method: str
    path: str

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429

    def describe(self) -> str:
        """E.g. "Rate limited — retrying in 4 s"."""
        secs = max(1, round(self.delay))
        if self.status == 429:
            what = "Rate limited"
        elif self.status == 0:
            what = "Connection problem"
        else:
            what = f"Server error {self.status}"
        return f"{what} — retrying in {secs} s"


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


RetryCallback = Callable[[RetryEvent], None]


def new_request_id() -> str:
    """A client-side request ID the server echoes (contract §1)."""
    return "cli_" + uuid.uuid4().hex


def default_ssl_context() -> ssl.SSLContext:
    """TLS through the OS trust store, so corporate TLS-inspection roots are honoured."""
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    text = value.strip()
    try:
        secs = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        secs = when.timestamp() - (time.time() if now is None else now)
    if secs != secs:  # NaN
        return None
    return max(0.0, secs)


def parse_rows(data: Any) -> tuple[list[Row], int]:
    """Records from a list payload: objects with a key are kept whole; others are counted.

    A key that is not a string (a number, say) is kept as its text, since keys are opaque.
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
    return rows, skipped


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass
class _PageInfo:
    current: int | None
    last: int | None
    total: int | None
    next_url: str | None
    next_cursor: str | None


def _page_info(doc: Mapping[str, Any]) -> _PageInfo:
    meta_raw = doc.get("meta")
    meta: Mapping[str, Any] = meta_raw if isinstance(meta_raw, Mapping) else {}
    links_raw = doc.get("links")
    links: Mapping[str, Any] = links_raw if isinstance(links_raw, Mapping) else {}
    cursor = doc.get("next_cursor", meta.get("next_cursor"))
    next_url = links.get("next")
    return _PageInfo(
        current=_int_or_none(meta.get("current_page")),
        last=_int_or_none(meta.get("last_page")),
        total=_int_or_none(meta.get("total")),
        next_url=next_url if isinstance(next_url, str) and next_url else None,
        next_cursor=str(cursor) if cursor not in (None, "") else None,
    )


class _AdaptiveLimiter:
    """Requests in flight for one connection: halves on a 429, grows back by one slowly.

    Shared by every request of a client, because the server's rate limit is per connection:
    five tabs loading at once share one budget.
    """

    def __init__(self, size: int) -> None:
        self.maximum = max(1, size)
        self.size = self.maximum
        self.in_flight = 0
        self._successes = 0
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.size)
            self.in_flight += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_success(self) -> None:
        self._successes += 1
        if self.size < self.maximum and self._successes >= self.size * 8:
            self.size += 1
            self._successes = 0

    def on_rate_limited(self) -> None:
        self.size = max(1, self.size // 2)
        self._successes = 0


class _Pacer:
    """Spaces request starts so a connection stays under its rate limit instead of hitting it.

    It reads ``X-RateLimit-Limit``/``-Remaining`` from every response: while the remaining
    budget is low it starts requests no faster than the limit allows, and after a 429 it
    holds every new request until the server's ``Retry-After`` has passed.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._interval = 0.0
        self._next_start = 0.0
        self._blocked_until = 0.0
        self.low_water = 10

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            start = max(now, self._blocked_until)
            if self._interval:
                start = max(start, self._next_start)
            if start > now:
                await self._sleep(start - now)
            self._next_start = max(self._clock(), start) + self._interval

    def observe(self, headers: httpx.Headers) -> None:
        limit = _int_or_none(headers.get("x-ratelimit-limit"))
        remaining = _int_or_none(headers.get("x-ratelimit-remaining"))
        if not limit or remaining is None:
            return
        self._interval = 60.0 / limit if remaining <= self.low_water else 0.0

    def block_for(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


@dataclass
class ClientStats:
    """Counters a caller (the benchmark, the status bar) may read."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    bytes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class MakiniClient:
    """An async client for one connection (one base URL, one token).

    Use it as ``async with MakiniClient(url, token) as client:``, or call :meth:`aclose`.

    Args:
        base_url: the connection's base URL; ``http://`` only for loopback hosts.
        token: the bearer token. Kept in memory only; never logged or put in an error.
        timeout: httpx timeouts (explicit; a hung server never hangs the app).
        deadline: the most seconds one request may take from sending to the body's last
            byte (default :data:`DEFAULT_DEADLINE_SECONDS`); retries each get their own.
        retry: the retry policy.
        on_retry: called before each retry wait (the GUI shows a countdown).
        per_page: page size asked for (1..100).
        concurrency: the most pages in flight at once.
        max_pages: a list longer than this is refused rather than fetched forever.
        transport: for tests only (``httpx.MockTransport``). Production code never passes
            it: a custom transport silently drops ``verify``, limits and proxies.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout | None = None,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        on_retry: RetryCallback | None = None,
        per_page: int = res.MAX_PER_PAGE,
        concurrency: int = 4,
        max_pages: int = 20_000,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.base_url = validate_base_url(base_url)  # raises before any token is sent
        if not token or any(c in token for c in "\r\n"):
            raise ValueError("The token is empty or malformed.")
        # Kept only to mask it in server text that repeats it (see errors.scrub_error).
        self._secrets = (token,)
        self.deadline = DEFAULT_DEADLINE_SECONDS if deadline is None else deadline
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.per_page = max(1, min(per_page, res.MAX_PER_PAGE))
        self.concurrency = max(1, concurrency)
        self.max_pages = max_pages
        self.stats = ClientStats()
        self._rng = rng or random.Random()
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._limiter = _AdaptiveLimiter(self.concurrency)
        self._pacer = _Pacer(self._clock, self._sleep)
        self._pacer.low_water = self.concurrency * 2 + 2
        base = urlsplit(self.base_url)
        self._base_path = base.path.rstrip("/")
        kwargs: dict[str, Any] = {}
        if transport is not None:
            kwargs["transport"] = transport
        else:
            kwargs["verify"] = default_ssl_context()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=_BearerAuth(token, self.base_url),
            headers={
                "Accept": "application/json",
                "User-Agent": f"makini-desktop/{__version__}",
            },
            timeout=timeout or httpx.Timeout(30.0, connect=10.0),
            follow_redirects=True,
            max_redirects=5,
            limits=httpx.Limits(
                max_connections=self.concurrency + 2,
                max_keepalive_connections=self.concurrency + 2,
            ),
            # Proxies from the environment serve remote hosts only: a loopback request sent
            # through an HTTP proxy would hand it the token in clear text.
            trust_env=transport is None and not is_loopback_host(base.hostname or ""),
            **kwargs,
        )

    async def __aenter__(self) -> MakiniClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    # -- one exchange ---------------------------------------------------------------------

    def _full_path(self, path: str) -> str:
        return self._base_path + path

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        timeout: httpx.Timeout | None = None,
    ) -> tuple[httpx.Response, Any]:
        """One HTTP exchange: the response and its parsed JSON, or a typed error."""
        request_id = new_request_id()
        shown_path = path
        try:
            async with self._limiter:
                await self._pacer.acquire()
                self.stats.requests += 1
                extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
                async with asyncio.timeout(self.deadline):
                    response = await self._http.request(
                        method,
                        self._full_path(path),
                        params=params,
                        json=body,
                        headers={"X-Request-Id": request_id},
                        **extra,
                    )
        except TimeoutError:
            raise MakiniConnectionError(
                0, "TIMEOUT", "network",
                f"The server took too long to answer: no complete answer within "
                f"{self.deadline:g} s.",
                request_id=request_id, method=method, path=shown_path,
            ) from None
        except httpx.TimeoutException as exc:
            raise MakiniConnectionError(
                0, "TIMEOUT", "network", f"No answer from the server in time ({_exc_name(exc)}).",
                request_id=request_id, method=method, path=shown_path,
            ) from None
        except httpx.ConnectError as exc:
            if _is_tls(exc):
                # Not "offline": a certificate problem does not heal by waiting, and the
                # user must see it (a TLS-inspecting proxy, an expired certificate).
                raise MakiniError(
                    0, "TLS_ERROR", "network",
                    f"The certificate of {self._host()} could not be verified: {_reason(exc)}",
                    request_id=request_id, method=method, path=shown_path,
                ) from None
            raise MakiniConnectionError(
                0, "CONNECTION_FAILED", "network",
                f"Could not connect to {self._host()}: {_reason(exc)}",
                request_id=request_id, method=method, path=shown_path,
            ) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            # A reset or truncated body mid-response, a protocol error, a proxy hiccup.
            raise MakiniConnectionError(
                0, "CONNECTION_LOST", "network",
                f"The connection broke off during the response ({_reason(exc)}).",
                request_id=request_id, method=method, path=shown_path,
            ) from None
        except httpx.TooManyRedirects:
            raise MakiniError(
                0, "TOO_MANY_REDIRECTS", "invalid_request", "The server redirected too often.",
                request_id=request_id, method=method, path=shown_path,
            ) from None
        self._pacer.observe(response.headers)
        if response.status_code == 429:
            self._limiter.on_rate_limited()
        elif response.is_success:
            self._limiter.on_success()
        self.stats.bytes += len(response.content)
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1
        )
        if not response.is_success:
            err = error_from_response(
                response.status_code,
                response.reason_phrase,
                response.headers,
                response.content,
                method=method,
                path=shown_path,
                secrets=self._secrets,
            )
            if not err.request_id:
                err.request_id = request_id
            err.retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise err
        answer_id = response.headers.get("x-request-id", request_id)
        try:
            doc = response.json() if response.content else None
        except RecursionError:
            raise MalformedResponseError(
                response.status_code, "MALFORMED_RESPONSE", "api_error",
                "The server's answer is nested too deeply to read, so it was not used.",
                request_id=answer_id, method=method, path=shown_path,
            ) from None
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponseError(
                response.status_code, "INVALID_RESPONSE", "api_error",
                "The server's answer was not valid JSON.",
                request_id=answer_id, method=method, path=shown_path,
                body_excerpt=scrub(response.text[:2000], self._secrets)[:200],
            ) from None
        return response, doc

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    # -- retries --------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Send a request with the retry policy of contract §4-§5.

        Idempotent requests (GET) are retried on 429, 5xx, connection failures and timeouts;
        others only on 429 and failures to connect, where the server cannot have acted.
        Never retried: 400, 401, 403, 404, 409, 422.

        Args:
            retry: this request's policy instead of the client's (a quick probe).
            timeout: this request's timeouts instead of the client's.

        Raises:
            MakiniError: the last error, with ``retries`` and ``retry_seconds`` set.
        """
        policy = retry or self.retry
        method = method.upper()
        idempotent = method in ("GET", "HEAD", "OPTIONS")
        started = self._clock()
        retries = 0
        while True:
            try:
                return await self._send(method, path, params, body, timeout)
            except MakiniError as err:
                scrub_error(err, self._secrets)
                delay = self._retry_delay(err, idempotent, retries, started, policy)
                if delay is None:
                    err.retries = retries
                    err.retry_seconds = self._clock() - started
                    raise
                retries += 1
                self.stats.retries += 1
                if self.on_retry is not None:
                    self.on_retry(RetryEvent(
                        retries, delay, err.status, err.code, err.request_id, method, path
                    ))
                log.info(
                    "retry %d of %s %s in %.1fs after %s (request id %s)",
                    retries, method, path, delay, err.code, err.request_id,
                )
                await self._sleep(delay)

    def _retry_delay(
        self, err: MakiniError, idempotent: bool, retries: int, started: float,
        policy: RetryPolicy,
    ) -> float | None:
        """Seconds to wait before retrying, or None to give up."""
        if retries + 1 >= policy.max_attempts:
            return None
        if err.status == 429:
            self.stats.rate_limited += 1
        elif err.is_connection:
            if not idempotent and err.code != "CONNECTION_FAILED":
                return None
        elif not (idempotent and err.retryable):
            return None
        backoff = self._rng.uniform(0, min(policy.backoff_cap, policy.backoff_base * 2**retries))
        if err.retry_after is not None and err.status in (429, 503):
            delay = min(err.retry_after, policy.retry_after_cap)
            self._pacer.block_for(delay)
        else:
            delay = backoff
        if self._clock() - started + delay > policy.max_total_seconds:
            return None
        return delay

    # -- pagination -----------------------------------------------------------------------

    async def _get_page(
        self, path: str, params: Mapping[str, Any], number: int
    ) -> tuple[Page, _PageInfo]:
        response, doc = await self.request("GET", path, params=params)
        request_id = response.headers.get("x-request-id", "")
        if not isinstance(doc, Mapping):
            raise MalformedResponseError(
                response.status_code, "INVALID_RESPONSE", "api_error",
                "The server's answer was not a list page.",
                request_id=request_id, method="GET", path=path,
            )
        data = doc.get("data")
        if not isinstance(data, list):
            # Never "no rows": a list read as empty here would be saved as the whole list.
            raise MalformedResponseError(
                response.status_code, "MALFORMED_RESPONSE", "api_error",
                f"The server sent page {number} of the list without its records "
                f"({_describe_data(doc)}), so the list was not loaded.",
                request_id=request_id, method="GET", path=path,
            )
        rows, skipped = parse_rows(data)
        info = _page_info(doc)
        page = Page(
            rows=rows,
            number=info.current or number,
            last_page=info.last,
            total=info.total,
            request_id=request_id,
            nbytes=len(response.content),
            skipped=skipped,
            server_date=_http_date(response.headers.get("date")),
            served=len(data),
        )
        return page, info

    async def iter_pages(
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
        first, info = await self._get_page(path, {**base, res.PARAM_PAGE: "1"}, 1)
        yield first
        if info.next_cursor is not None:
            async for page in self._cursor_pages(path, base, info.next_cursor):
                yield page
            return
        if info.last is not None and info.last > 1 and info.current in (None, 1):
            self._check_page_cap(info.last, path)
            tail: _PageInfo | None = None
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
            page, info = await self._get_page(path, {**base, res.PARAM_PAGE: str(number)}, number)
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
            page, info = await self._get_page(path, {**base, res.PARAM_CURSOR: cursor}, number)
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
    ) -> AsyncIterator[tuple[Page, _PageInfo]]:
        """Fetch pages first..last concurrently (the limiter bounds what is in flight) and
        yield them in order."""
        pending: dict[int, asyncio.Task[tuple[Page, _PageInfo]]] = {}
        done: dict[int, tuple[Page, _PageInfo]] = {}
        next_launch = first
        next_yield = first
        # Pages that arrived early wait here; bound it so memory stays flat on huge lists.
        lookahead = self.concurrency * 4
        try:
            while next_yield <= last:
                while (
                    next_launch <= last
                    and len(pending) < self._limiter.size + 1
                    and next_launch < next_yield + lookahead
                ):
                    params = {**base, res.PARAM_PAGE: str(next_launch)}
                    pending[next_launch] = asyncio.ensure_future(
                        self._get_page(path, params, next_launch)
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

    # -- domain calls ---------------------------------------------------------------------

    async def integration(self) -> Mapping[str, Any]:
        """The connection's status record (contract §2.2); ``{}`` fields when missing."""
        _, doc = await self.request("GET", res.INTEGRATION_PATH)
        data = doc.get("data") if isinstance(doc, Mapping) else None
        return data if isinstance(data, Mapping) else {}

    async def iter_view(
        self, view: res.View, *, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[Page]:
        """Pages of a view: its dataset with the view's server filter, rows narrowed to it."""
        merged = {**view.server_filter, **(params or {})}
        async for page in self.iter_pages(view.dataset.path, merged):
            if view.row_filter is not None:
                kept = [r for r in page.rows if view.accepts(r)]
                page.filtered += len(page.rows) - len(kept)
                page.rows = kept
            yield page

    async def fetch_view(self, view: res.View) -> list[Row]:
        """Every record of a view, in the server's order, de-duplicated by key."""
        rows: dict[str, Row] = {}
        async for page in self.iter_view(view):
            for row in page.rows:
                rows[row[res.F_KEY]] = row
        return list(rows.values())

    async def set_status(self, dataset: res.Dataset, key: str, status: str) -> Row:
        """Change a move's or visit's status; returns the updated record."""
        _, doc = await self.request("PUT", dataset.record_path(key), body={res.F_STATUS: status})
        data = doc.get("data") if isinstance(doc, Mapping) else None
        return dict(data) if isinstance(data, Mapping) else {}


class _BearerAuth(httpx.Auth):
    """Adds the bearer token only to requests for the connection's own origin.

    httpx also drops the header on a redirect to another origin; this is the second lock.
    """

    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        parts = urlsplit(base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)

    def __repr__(self) -> str:  # never show the token in a debugger or a log
        return "<_BearerAuth ***>"

    def auth_flow(self, request: httpx.Request) -> Any:
        url = request.url
        if (url.scheme, url.host, url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        else:
            request.headers.pop("Authorization", None)
        yield request


def _http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when absent or garbled."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


FULL_WALK_ATTEMPTS = 2
"""A full walk found incomplete is made once more before it is reported."""


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
    if "data" not in doc:
        return "'data' was missing"
    data = doc["data"]
    if data is None:
        return "'data' was null"
    kinds = {dict: "an object", str: "a string", bool: "true or false"}
    what = next((w for t, w in kinds.items() if isinstance(data, t)), "a number")
    return f"'data' was {what}"


def _stalled(path: str, request_id: str, asked: int, got: int | None) -> MakiniError:
    got_text = f"page {got}" if got is not None else "a cursor it had already given"
    return MalformedResponseError(
        200, "PAGINATION_STALLED", "api_error",
        f"Asked for page {asked} of the list and got {got_text}; the list was not fetched "
        "completely.",
        request_id=request_id, method="GET", path=path,
    )


def _exc_name(exc: BaseException) -> str:
    return type(exc).__name__.replace("Timeout", " timeout").strip().lower()


def _is_tls(exc: BaseException) -> bool:
    text = repr(exc).lower()
    return "ssl" in text or "certificate" in text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:160]


__all__ = [
    "ClientStats",
    "InsecureUrlError",
    "MakiniClient",
    "MakiniConnectionError",
    "MakiniError",
    "MalformedResponseError",
    "Page",
    "RetryEvent",
    "RetryPolicy",
    "IncompleteListError",
    "WalkTally",
    "FULL_WALK_ATTEMPTS",
    "parse_retry_after",
    "parse_rows",
]

"""The async Makini API client: one shared ``httpx.AsyncClient`` per connection.

Layers, lowest first:

* :meth:`MakiniClient._send` - one HTTP exchange turned into a response or a typed error.
* :meth:`MakiniClient.request` - retries (contract §4-§5) around ``_send``; the rules, the
  concurrency window and the pacing are in :mod:`~makini_desktop.api.ratecontrol`.
* :meth:`MakiniClient.iter_pages` - pagination (contract §3), concurrent once the page count
  is known, pages handed on in order as they arrive: :mod:`~makini_desktop.api.pagination`.
* Domain calls: :meth:`integration`, :meth:`fetch_view`, and the writes of contract §6
  (:meth:`change_visit_status`, :meth:`change_move_status`, :meth:`register_visitor`; their
  bodies, action table and error classification are in :mod:`~makini_desktop.api.writes`).

The names callers use (``Page``, ``WalkTally``, ``RetryPolicy``, ``RetryEvent``, ...) are
importable from here too. Nothing here imports Qt; the GUI and the CLI both sit on top of it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from makini_desktop.api import resources as res
from makini_desktop.api.errors import (
    ConflictError,
    IncompleteListError,
    InsecureUrlError,
    MakiniConnectionError,
    MakiniError,
    MalformedResponseError,
    NotFoundError,
    NotOfferedError,
    RateLimitedError,
    SlowAnswerError,
    ValidationFailedError,
    error_from_response,
    scrub_error,
)
from makini_desktop.api.exchange import (
    TransportFailedError,
    body_size,
    perform,
    transport_error,
)
from makini_desktop.api.pagination import (
    FULL_WALK_ATTEMPTS,
    Page,
    PageWalker,
    Row,
    SharedText,
    WalkTally,
    parse_rows,
)
from makini_desktop.api.ratecontrol import (
    AdaptiveLimiter,
    Pacer,
    RetryCallback,
    RetryEvent,
    RetryPolicy,
    backoff_seconds,
    is_retryable,
    parse_retry_after,
    server_wait,
)
from makini_desktop.api.urls import is_loopback_host, validate_base_url
from makini_desktop.api.writecalls import WriteCalls
from makini_desktop.redact import scrub

if TYPE_CHECKING:  # imported at the first request (see api/transport.py)
    import httpx

    from makini_desktop.api.exchange import Exchange
    from makini_desktop.api.http_helper import HelperSession
    from makini_desktop.api.http_thread import HttpThread

__all__ = [
    "FULL_WALK_ATTEMPTS",
    "ClientStats",
    "ConflictError",
    "IncompleteListError",
    "InsecureUrlError",
    "MakiniClient",
    "MakiniConnectionError",
    "MakiniError",
    "MalformedResponseError",
    "NotFoundError",
    "NotOfferedError",
    "Page",
    "RateLimitedError",
    "RetryEvent",
    "RetryPolicy",
    "ValidationFailedError",
    "WalkTally",
    "parse_retry_after",
    "parse_rows",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_CLOSED = "Cannot send a request, as the client has been closed."  # httpx's own words


def _remember_no_sniffio() -> None:
    """Make httpcore's question "is sniffio installed?" cheap when it is not.

    httpcore tries ``import sniffio`` every time it creates a lock or an event (several per
    request), and a failed import is not remembered: each one searched every ``sys.path``
    entry again (a stat per entry; 10,000 searches and ~7 s of a profiled first load, all
    on the event-loop thread). A ``None`` in ``sys.modules`` makes the same ImportError
    instant, so httpcore takes the same asyncio path it takes today.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # the import system's "absent"


_remember_no_sniffio()

DEFAULT_DEADLINE_SECONDS = 90.0
"""The most one request may take, body included (httpx's read timeout only bounds the gap
between two reads, so a server that trickles its body would otherwise hold it forever)."""


def new_request_id() -> str:
    """A client-side request ID the server echoes (contract §1)."""
    return "cli_" + uuid.uuid4().hex


@dataclass
class ClientStats:
    """Counters a caller (the benchmark, the status bar) may read."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    bytes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class MakiniClient(WriteCalls):
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
        http_helper: exchanges in the HTTP helper process (:mod:`~makini_desktop.api.
            http_helper`: the window's connections, whose thread must not share the
            interpreter with httpx) instead of a thread of this process.
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
        http_helper: bool = False,
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
        # The repeated values of each list this client walks, one object each. One memo per
        # list: the lists load at once, and a field of one (a space's key in its visits)
        # was given up because the same field of another (assets) hardly repeats, or
        # forgotten at each page of a list where it is mostly empty (an asset's parent).
        self._shared_text: dict[str, SharedText] = {}
        self.concurrency = max(1, concurrency)
        self.max_pages = max_pages
        self.stats = ClientStats()
        self._rng = rng or random.Random()
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self._limiter = AdaptiveLimiter(self.concurrency)
        self._pacer = Pacer(self._clock, self._sleep)
        self._pacer.low_water = self.concurrency * 2 + 2
        base = urlsplit(self.base_url)
        self._base_path = base.path.rstrip("/")
        self._timeout = timeout
        self._transport = transport
        # Proxies from the environment serve remote hosts only: a loopback request sent
        # through an HTTP proxy would hand it the token in clear text.
        self._trust_env = transport is None and not is_loopback_host(base.hostname or "")
        # Both built at the first request (see _http): the client of a start from the cache
        # exists before its first paint, httpx need not.
        self._http_client: httpx.AsyncClient | None = None
        self._worker: HttpThread | None = None
        self._building: asyncio.Future[Any] | None = None  # see _ready_http
        self._helper = http_helper and transport is None
        self._remote: HelperSession | None = None  # the helper's session, once opened
        self._closed_unused = False

    async def __aenter__(self) -> MakiniClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def _http(self) -> httpx.AsyncClient:
        """The connection's ``httpx.AsyncClient``, built when first needed.

        Real sockets are served on a thread of their own (see api/http_thread.py); a test's
        transport answers inline, on the caller's loop, as it was written to.
        """
        if self._http_client is None:
            if self._closed_unused:  # httpx's own words for a closed client
                raise RuntimeError(_CLOSED)
            self._adopt(self._new_http())
        assert self._http_client is not None
        return self._http_client

    def _new_http(self) -> httpx.AsyncClient:
        from makini_desktop.api.transport import new_http_client

        return new_http_client(
            self.base_url, self._secrets[0], timeout=self._timeout,
            connections=self.concurrency + 2, transport=self._transport,
            trust_env=self._trust_env,
        )

    def _adopt(self, client: httpx.AsyncClient) -> None:
        from makini_desktop.api.http_thread import HttpThread

        self._http_client = client
        self._worker = HttpThread() if self._transport is None else None

    async def _ready_http(self) -> httpx.AsyncClient | None:
        """:attr:`_http`, its first build made in a worker thread.

        Importing httpx, httpcore and truststore and loading the system's trust store take
        60 ms and more of CPU, in steps the window's thread could not interrupt: at the first
        request of a first load, just after the window appears. In a thread, the window keeps
        painting meanwhile (the interpreter switches every millisecond). Requests that come
        while it is built wait for the same build; a failed one (an unusable proxy setting)
        is tried again by the next request. A client of the helper opens its session there
        instead (and returns None).
        """
        if self._helper:
            if self._closed_unused:
                raise RuntimeError(_CLOSED)
            if self._remote is None or not self._remote.usable:  # (a new helper's)
                self._remote = await self._once(self._open_remote)
            return None
        if self._http_client is None and self._transport is None and not self._closed_unused:
            client = await self._once(lambda: asyncio.to_thread(self._new_http))
            if self._http_client is None and not self._closed_unused:
                self._adopt(client)  # (closed while it was built: never used)
        return self._http  # built inline for a test's transport; raises once closed

    async def _once(self, build: Callable[[], Awaitable[_T]]) -> _T:
        """``build()``'s result, one build at a time: callers meanwhile await the same."""
        building = self._building
        if building is None:
            building = self._building = asyncio.ensure_future(build())
            # Its error is read even when every caller left (a request cancelled).
            building.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            result: _T = await asyncio.shield(building)
            return result
        finally:
            if building.done() and self._building is building:
                self._building = None

    async def _open_remote(self) -> HelperSession:
        from makini_desktop.api.http_helper import HttpHelper

        if self._remote is not None:  # its helper stopped
            await self._remote.aclose()
        remote = await HttpHelper.open_session(
            self.base_url, self._secrets[0], timeout=self._timeout,
            connections=self.concurrency + 2, trust_env=self._trust_env,
        )
        if self._closed_unused:  # closed while it opened: never used
            await remote.aclose()
            raise RuntimeError(_CLOSED)
        return remote

    async def aclose(self) -> None:
        """Close the connection pool (and end the thread that served it)."""
        if self._helper:
            self._closed_unused = True
            building = self._building
            if building is not None and not building.done():
                # A session opening now closes itself once open (see _open_remote).
                await asyncio.wait([building])
            if self._remote is not None:
                await self._remote.aclose()
            return
        if self._http_client is None:
            self._closed_unused = True  # nothing was sent: no pool, no thread
            return
        worker = self._worker
        if worker is None or not worker.running:
            await self._http.aclose()
            return
        try:
            await worker.run(self._http.aclose())
        finally:
            worker.stop()

    @property
    def closed(self) -> bool:
        if self._helper or self._http_client is None:
            return self._closed_unused
        return self._http_client.is_closed

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
        idempotency_key: str | None = None,
    ) -> tuple[httpx.Response, Any]:
        """One HTTP exchange: the response and its parsed JSON, or a typed error."""
        request_id = new_request_id()
        headers = {"X-Request-Id": request_id}
        if idempotency_key is not None:
            headers[res.HEADER_IDEMPOTENCY_KEY] = idempotency_key
        try:
            http = await self._ready_http()  # the first request builds it (and its worker)
            async with self._limiter:
                await self._pacer.acquire()
                self.stats.requests += 1
                answer = await self._exchange(http, method, self._full_path(path), params,
                                              body, headers, timeout)
                response = answer.response
        except TimeoutError:
            raise SlowAnswerError(
                0, "TOO_SLOW", "network",
                f"The server took too long to answer: no complete answer within "
                f"{self.deadline:g} s.",
                request_id=request_id, method=method, path=path,
            ) from None
        except TransportFailedError as failure:
            raise transport_error(failure, self._host(), request_id=request_id, method=method,
                                  path=path) from None
        self._pacer.observe(response.headers)
        if response.status_code == 429:
            self._limiter.on_rate_limited()
        elif response.is_success:
            self._limiter.on_success()
        self.stats.bytes += body_size(response)
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
                path=path,
                secrets=self._secrets,
            )
            if not err.request_id:
                err.request_id = request_id
            err.retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise err
        answer_id = response.headers.get("x-request-id", request_id)
        try:
            if answer.error is not None:
                raise answer.error
            doc = answer.doc
        except RecursionError:
            raise MalformedResponseError(
                response.status_code, "MALFORMED_RESPONSE", "api_error",
                "The server's answer is nested too deeply to read, so it was not used.",
                request_id=answer_id, method=method, path=path,
            ) from None
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponseError(
                response.status_code, "INVALID_RESPONSE", "api_error",
                "The server's answer was not valid JSON.",
                request_id=answer_id, method=method, path=path,
                body_excerpt=scrub(response.text[:2000], self._secrets)[:200],
            ) from None
        return response, doc

    async def _exchange(
        self, http: httpx.AsyncClient | None, method: str, url: str,
        params: Mapping[str, Any] | None, body: Any, headers: Mapping[str, str],
        timeout: httpx.Timeout | None,
    ) -> Exchange:
        """The exchange where this client's exchanges run: in the helper process, on the
        worker thread, or inline for a test's transport (see api/exchange.py)."""
        if http is None:
            assert self._remote is not None  # (if its helper stops, the next opens anew)
            return await self._remote.exchange(method, url, params, body, headers, timeout,
                                               self.deadline)
        work = perform(http, method, url, params, body, headers, timeout)
        if self._worker is not None:
            return await self._worker.run(work, timeout=self.deadline)
        async with asyncio.timeout(self.deadline):
            return await work

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
        idempotency_key: str | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Send a request with the retry policy of contract §4-§5.

        Idempotent requests (GET, and a write with an ``Idempotency-Key``, contract §6.1)
        are retried on 429, 5xx, connection failures and timeouts; others only on 429 and
        failures to connect, where the server cannot have acted. Never retried: 400, 401,
        403, 404, 405, 409, 422.

        Args:
            retry: this request's policy instead of the client's (a quick probe).
            timeout: this request's timeouts instead of the client's.
            idempotency_key: sent as ``Idempotency-Key`` on every attempt (the server
                answers a repeat with its first answer, so retrying a write is safe).

        Raises:
            MakiniError: the last error, with ``retries`` and ``retry_seconds`` set.
        """
        policy = retry or self.retry
        method = method.upper()
        idempotent = method in ("GET", "HEAD", "OPTIONS") or idempotency_key is not None
        started = self._clock()
        retries = 0
        while True:
            try:
                return await self._send(method, path, params, body, timeout, idempotency_key)
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
        """Seconds to wait before retrying, or None to give up.

        The rules are :func:`~makini_desktop.api.ratecontrol.is_retryable`, the backoff and
        the server's ``Retry-After``; here they meet this client's counters and pacer.
        """
        if retries + 1 >= policy.max_attempts or not is_retryable(err, idempotent=idempotent):
            return None
        if err.status == 429:
            self.stats.rate_limited += 1
        backoff = backoff_seconds(policy, retries, self._rng)
        wait = server_wait(err, policy)
        if wait is not None:
            delay = wait
            self._pacer.block_for(delay)  # every new request waits, not only this one
        else:
            delay = backoff
        if self._clock() - started + delay > policy.max_total_seconds:
            return None
        return delay

    # -- pagination -----------------------------------------------------------------------

    def iter_pages(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[Page]:
        """Every page of a list, in order, as soon as it and those before it have arrived
        (concurrently, through this client's retries and rate control): see
        :meth:`~makini_desktop.api.pagination.PageWalker.walk`."""
        walker = PageWalker(
            self.request,
            per_page=self.per_page,
            max_pages=self.max_pages,
            # Pages that arrived early wait; bound it so memory stays flat on huge lists.
            lookahead=self.concurrency * 4,
            window=lambda: self._limiter.size + 1,
            shared=self._shared_text.setdefault(path, SharedText()),
        )
        return walker.walk(path, params)

    # -- domain calls ---------------------------------------------------------------------

    async def integration(self) -> Mapping[str, Any]:
        """The connection's status record (contract §2.2); ``{}`` fields when missing."""
        _, doc = await self.request("GET", res.INTEGRATION_PATH)
        data = doc.get(res.ENV_DATA) if isinstance(doc, Mapping) else None
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

    async def fetch_view(
        self, view: res.View, *, on_page: Callable[[Page], None] | None = None
    ) -> list[Row]:
        """Every record of a view, in the server's order, de-duplicated by key.

        A walk that did not receive the whole list (see :class:`WalkTally`) is walked once
        more, since the list may have changed under it, then reported: the window's sync
        does the same with the cache in between.

        Args:
            view: the view.
            on_page: told of every page as it arrives (a retried walk starts at page 1).

        Raises:
            IncompleteListError: the second walk fell short too.
        """
        for _attempt in range(FULL_WALK_ATTEMPTS):
            rows: dict[str, Row] = {}
            tally = WalkTally()
            async for page in self.iter_view(view):
                tally.see(page)
                for row in page.rows:
                    rows[row[res.F_KEY]] = row
                if on_page is not None:
                    on_page(page)
            if tally.complete:
                return list(rows.values())
            err = tally.error(view.noun[1], view.dataset.path)
            log.warning("%s: %s", view.name, err.message)
        raise err

    async def set_status(self, dataset: res.Dataset, key: str, status: str) -> Row:
        """Change a move's or visit's status without an ``Idempotency-Key`` (so never
        retried where the server may have acted); returns the updated record. The app's
        actions use :meth:`change_status`, which a replay cannot apply twice."""
        _, doc = await self.request("PUT", dataset.record_path(key), body={res.F_STATUS: status})
        data = doc.get(res.ENV_DATA) if isinstance(doc, Mapping) else None
        return dict(data) if isinstance(data, Mapping) else {}

"""The built-in Makini stand-in: a real HTTP server on loopback implementing the contract.

:class:`SandboxServer` serves :mod:`makini_desktop.sandbox.data` over the contract's paths
(taken from :mod:`makini_desktop.api.resources`, never re-typed here) with bearer-token auth,
Laravel pagination, filters, sorting, incremental sync, status changes, per-token rate
limiting and injectable faults. It runs ``http.server.ThreadingHTTPServer`` with HTTP/1.1
keep-alive in a background thread::

    with SandboxServer(SandboxConfig(scale="small")) as srv:
        httpx.get(srv.url + "/api/eam/sites", headers={"Authorization": "Bearer sandbox-token"})

When ``admin`` is enabled, test-only control endpoints live under ``/__sandbox__/`` (no token
needed; see :meth:`SandboxServer._admin`). Choices where the contract leaves room are listed in
:mod:`makini_desktop.sandbox.query` (paging, filters) and here:

* A soft-deleted record's own path answers ``404`` (it only shows up in incremental lists).
* ``405`` answers carry ``Allow`` and the code ``METHOD_NOT_ALLOWED`` (type ``invalid_request``).
* A collection of a dataset marked unavailable answers ``404 NOT_FOUND`` (contract §2: the
  connection's system does not offer the module).
"""

from __future__ import annotations

import collections
import email.utils
import json
import logging
import os
import random
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from makini_desktop import __version__
from makini_desktop.api import resources as res
from makini_desktop.api.errors import status_row
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.data import (
    Record,
    SandboxData,
    format_ts,
    generate,
    person_name,
)
from makini_desktop.sandbox.faults import Fault, FaultLike, FaultPlan, corrupt_body
from makini_desktop.sandbox.query import (
    ListQuery,
    QueryError,
    page_envelope,
    parse_list_query,
    select,
)
from makini_desktop.sandbox.ratelimit import RateDecision, RateLimiter

log = logging.getLogger(__name__)

DEFAULT_TOKEN: Final = "sandbox-token"
ADMIN_PREFIX: Final = "/__sandbox__/"
MAX_BODY: Final = 1 << 20
_JSON: Final = "application/json"
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CACHE_ENTRIES: Final = 32
_SYNC_STATUSES: Final = ("inprogress", "done", "fulldone", "error", "fail")

# Per writable dataset: the statuses, allowed changes, and the timestamp a change sets.
_STATUS_RULES: Final[dict[str, tuple[tuple[str, ...], Mapping[str, tuple[str, ...]],
                                     dict[str, str]]]] = {
    res.VISITS.name: (res.VISIT_STATUSES, res.VISIT_TRANSITIONS,
                      {"checked_in": "checkedInAt", "checked_out": "checkedOutAt"}),
    res.MOVES.name: (res.MOVE_STATUSES, res.MOVE_TRANSITIONS, {"completed": "completedAt"}),
}
_NOUN: Final = {res.VISITS.name: "visit", res.MOVES.name: "move"}

_PROXY_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_request_id() -> str:
    """A request ID in the contract's style: ``req_`` and a 26-character ULID (time-ordered)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "req_" + "".join(reversed(chars))


def _client_request_id(raw: str | None) -> str | None:
    """The client's X-Request-Id if it is safe to echo (printable ASCII, sane length)."""
    if raw is None:
        return None
    raw = raw.strip()
    if 0 < len(raw) <= 200 and all(33 <= ord(ch) < 127 for ch in raw):
        return raw
    return None


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox server is set up.

    Attributes:
        host: interface to listen on (keep it loopback: the sandbox speaks plain HTTP).
        port: TCP port; 0 picks a free one (read it back from :attr:`SandboxServer.url`).
        scale: data size, ``small``, ``medium`` or ``large``.
        seed: seed of the data and of the faults' random draws.
        tokens: the bearer tokens accepted.
        rate_limit: requests per minute per token, or None for no limit.
        latency_ms: delay added to every ``/api/`` response.
        faults: faults active from the start (spec strings, :class:`Fault` or JSON objects).
        admin: serve the test-only ``/__sandbox__/`` control endpoints.
        now: the instant the data is generated relative to (default: today 12:00 UTC).
        unavailable: datasets (by name, e.g. ``moves``) whose module this system lacks:
            their paths answer ``404 NOT_FOUND``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    scale: str = "small"
    seed: int = 42
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    rate_limit: int | None = None
    latency_ms: int = 0
    faults: tuple[FaultLike, ...] = ()
    admin: bool = True
    now: datetime | None = None
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stats:
    """A snapshot of the server's counters (also readable as ``stats["requests"]``).

    Attributes:
        requests: requests to non-admin paths.
        responses: responses by HTTP status (a reset/truncated response counts under the
            status its headers announced).
        faults: injected faults by kind.
        rate_limited: requests refused by the rate limiter (429s not from a fault).
    """

    requests: int = 0
    responses: Mapping[int, int] = field(default_factory=dict)
    faults: Mapping[str, int] = field(default_factory=dict)
    rate_limited: int = 0

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def to_json(self) -> dict[str, Any]:
        """The counters as JSON (status codes become string keys)."""
        return {
            "requests": self.requests,
            "responses": {str(k): v for k, v in sorted(self.responses.items())},
            "faults": dict(self.faults),
            "rate_limited": self.rate_limited,
        }


@dataclass
class _Request:
    """A parsed request; header names are lower-cased."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    host: str


@dataclass
class _Response:
    status: int
    body: bytes
    request_id: str
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    transport_fault: str | None = None  # "reset", "truncate" or "trickle"
    fault: Fault | None = None  # the transport fault's settings


class SandboxServer:
    """The sandbox: generated data served over HTTP on loopback.

    Args:
        config: the set-up (defaults: small scale, seed 42, token ``sandbox-token``).
        data: serve this data instead of generating it from the config.

    Attributes:
        config: the configuration it was created with.
        data: the live data (changed by ``PUT`` and :meth:`mutate`).
    """

    def __init__(self, config: SandboxConfig | None = None, *, data: SandboxData | None = None):
        self.config = config or SandboxConfig()
        cfg = self.config
        for name in cfg.unavailable:
            if name not in res.DATASETS:
                raise ValueError(f"unknown dataset {name!r} in unavailable")
        self.data = data if data is not None else generate(cfg.scale, cfg.seed, now=cfg.now)
        self._control = threading.Lock()
        self._tokens: dict[str, None] = dict.fromkeys(cfg.tokens)
        self._limiter = RateLimiter(cfg.rate_limit)
        self._faults = FaultPlan(cfg.faults, cfg.seed)
        self._latency_ms = max(0, cfg.latency_ms)
        self._unavailable = set(cfg.unavailable)
        self._mutate_rng = random.Random(f"mutate-{cfg.seed}")
        self._cache: OrderedDict[tuple[Any, ...], Sequence[Record]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._responses: dict[int, int] = {}
        self._exchanges: collections.deque[tuple[str, str, int, str]] = collections.deque(
            maxlen=1000
        )
        self._fault_counts: dict[str, int] = {}
        self._rate_limited = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Listen and serve in a background daemon thread; returns once listening.

        Raises:
            RuntimeError: already started.
            OSError: the address cannot be bound.
        """
        if self._httpd is not None:
            raise RuntimeError("the sandbox server is already running")
        self._stopping.clear()
        httpd = _HTTPServer((self.config.host, self.config.port), self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="makini-sandbox", daemon=True,
        )
        self._thread.start()
        log.info("Makini sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving: close the listening socket and every open connection, join threads.

        Safe to call more than once, and without :meth:`start`.
        """
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # ends injected delays early
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(timeout=5.0)
        if thread is not None:
            thread.join(timeout=5.0)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The port listened on.

        Raises:
            RuntimeError: not started.
        """
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``.

        Raises:
            RuntimeError: not started.
        """
        host = str(self._httpd.server_address[0]) if self._httpd else self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    # -- runtime control --------------------------------------------------------------------

    @property
    def tokens(self) -> tuple[str, ...]:
        """The bearer tokens currently accepted."""
        with self._control:
            return tuple(self._tokens)

    def add_token(self, token: str) -> None:
        """Accept another bearer token (or accept a revoked one again)."""
        if not token:
            raise ValueError("a token must not be empty")
        with self._control:
            self._tokens[token] = None

    def revoke(self, token: str) -> None:
        """Stop accepting a token: its next request gets ``401``."""
        with self._control:
            self._tokens.pop(token, None)

    def set_faults(self, faults: Iterable[FaultLike]) -> None:
        """Replace the active faults (spec strings, :class:`Fault` objects or JSON objects).

        Raises:
            ValueError: an invalid fault (then the old ones stay).
        """
        self._faults.replace(faults)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """Copies of the active faults with their counters."""
        return self._faults.snapshot()

    def set_rate_limit(self, per_minute: int | None) -> None:
        """Set the per-token limit in requests per minute (None: no limit); buckets refill."""
        self._limiter.set_limit(per_minute)

    @property
    def rate_limit(self) -> int | None:
        """The per-token limit in requests per minute, or None."""
        return self._limiter.per_minute

    def set_latency(self, ms: int) -> None:
        """Delay every ``/api/`` response by ``ms`` milliseconds (0: none)."""
        if ms < 0:
            raise ValueError("latency must not be negative")
        self._latency_ms = int(ms)

    def set_unavailable(self, datasets: Iterable[str]) -> None:
        """Make these datasets' paths answer ``404 NOT_FOUND`` (module not offered)."""
        names = set(datasets)
        unknown = names - set(res.DATASETS)
        if unknown:
            raise ValueError(f"unknown dataset(s) {', '.join(sorted(unknown))}")
        self._unavailable = names

    def set_sync_status(self, status: str) -> None:
        """Set the Integration's ``sync_status`` (contract §2.2)."""
        if status not in _SYNC_STATUSES:
            raise ValueError(f"sync_status must be one of {', '.join(_SYNC_STATUSES)}")
        with self.data.lock:
            self.data.integration["sync_status"] = status

    @property
    def stats(self) -> Stats:
        """A snapshot of the request counters."""
        with self._stats_lock:
            return Stats(self._requests, dict(self._responses), dict(self._fault_counts),
                         self._rate_limited)

    def reset_stats(self) -> None:
        """Zero the request counters."""
        with self._stats_lock:
            self._requests = 0
            self._responses = {}
            self._exchanges.clear()
            self._fault_counts = {}
            self._rate_limited = 0

    def mutate(self, dataset: str, count: int, delete_share: float = 0.2) -> list[str]:
        """Change ``count`` random visible records as a user of the source system would.

        Each gets a changed display field and an ``updatedAt`` strictly after every earlier
        one; ``round(count * delete_share)`` of them are soft-deleted instead (``deletedAt``
        set), so an incremental sync sees them as tombstones.

        Returns:
            The changed keys, in key order.

        Raises:
            ValueError: unknown dataset, negative count, or a share outside 0..1.
        """
        if dataset not in res.DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}")
        if count < 0 or not 0.0 <= delete_share <= 1.0:
            raise ValueError("count must be >= 0 and delete_share between 0 and 1")
        data = self.data
        rng = self._mutate_rng
        with data.lock:
            visible = data.visible_view(dataset)
            n = min(count, len(visible))
            if not n:
                return []
            chosen = [visible[i] for i in rng.sample(range(len(visible)), n)]
            deleted = round(n * delete_share)
            ts = format_ts(data.next_stamp())
            for i, rec in enumerate(chosen):
                new = dict(rec)
                self._touch(dataset, new, ts, rng)
                new[res.F_UPDATED] = ts
                if i < deleted:
                    new[res.F_DELETED] = ts
                data.replace(dataset, new)
        return sorted(rec[res.F_KEY] for rec in chosen)

    @staticmethod
    def _touch(dataset: str, rec: Record, ts: str, rng: random.Random) -> None:
        """Change a field a person would see, the way that dataset's records change."""
        day = ts[:10]
        if dataset == res.SITES.name:
            rec["description"] = f"{rng.choice(_SITE_UPDATES)} (updated {day})"
        elif dataset == res.LOCATIONS.name:
            if rec.get(res.F_TYPE) == res.LOCATION_TYPE_FLOOR:
                rec["description"] = f"{rng.choice(_FLOOR_UPDATES)} (updated {day})"
            elif rec.get("occupied"):
                rec["occupied"], rec["occupantName"] = False, None
            else:
                rec["occupied"], rec["occupantName"] = True, person_name(rng)
        elif dataset == res.ASSETS.name:
            rec["lastAuditedAt"] = ts
            if rec.get("ownerName"):
                rec["ownerName"] = person_name(rng)
        elif dataset == res.MOVES.name:
            rec["notes"] = rng.choice(catalog.MOVE_NOTES)
        else:
            rec["notes"] = rng.choice(_VISIT_UPDATES)

    # -- statistics -------------------------------------------------------------------------

    def _count(self, resp: _Response) -> None:
        with self._stats_lock:
            self._requests += 1
            self._responses[resp.status] = self._responses.get(resp.status, 0) + 1

    def _count_fault(self, kind: str) -> None:
        with self._stats_lock:
            self._fault_counts[kind] = self._fault_counts.get(kind, 0) + 1

    # -- request handling -------------------------------------------------------------------

    def _handle(self, req: _Request) -> _Response:
        """Answer one request (called on the connection's thread)."""
        rid = _client_request_id(req.headers.get("x-request-id")) or new_request_id()
        if req.path.startswith(ADMIN_PREFIX) and self.config.admin:
            return self._admin(req, rid)
        resp = self._api(req, rid)
        self._count(resp)
        with self._stats_lock:
            self._exchanges.append((req.method, req.path, resp.status, resp.request_id))
        return resp

    def recent_exchanges(self) -> list[tuple[str, str, int, str]]:
        """The latest API exchanges, oldest first: (method, path, status, X-Request-Id sent).

        Tests use it to check that what the app shows is what the server sent.
        """
        with self._stats_lock:
            return list(self._exchanges)

    def _wait(self, ms: int) -> None:
        if ms > 0:
            self._stopping.wait(ms / 1000.0)

    def _api(self, req: _Request, rid: str) -> _Response:
        path = req.path
        if not path.startswith("/api/"):
            return self._error(404, rid, "The requested resource was not found.",
                               self._limiter.peek(None))
        self._wait(self._latency_ms)
        token = _bearer(req.headers.get("authorization"))
        with self._control:
            known = token is not None and token in self._tokens
        if token is None or not known:
            return self._error(
                401, rid, "Unauthenticated: the token is missing, expired or revoked.",
                self._limiter.peek(None),
            )
        rate = self._limiter.take(token)
        if not rate.allowed:
            with self._stats_lock:
                self._rate_limited += 1
            return self._error(429, rid, "Rate limit exceeded for this connection.", rate)
        decision = self._faults.pick(path)
        self._wait(decision.delay_ms)
        fault = decision.fault
        if decision.latency:
            self._count_fault("latency")
        if fault is not None and fault.http_status is not None:
            self._count_fault(fault.kind)
            return self._fault_response(fault, rid, rate, token)
        try:
            resp = self._route(req, rid, rate)
        except QueryError as exc:
            resp = self._error(400, rid, str(exc), rate)
        if fault is not None:
            self._count_fault(fault.kind)
            if fault.is_body_fault:
                if 200 <= resp.status < 300 and resp.content_type == _JSON:
                    resp.body = corrupt_body(fault, resp.body)
            else:
                resp.transport_fault = fault.kind
                resp.fault = fault
        return resp

    def _fault_response(
        self, fault: Fault, rid: str, rate: RateDecision, token: str
    ) -> _Response:
        if fault.kind == "html":
            return _Response(502, _PROXY_PAGE, rid, "text/html", rate.headers())
        status = fault.http_status or 500
        if fault.kind == "echo-token":
            return self._echo_token(status, rid, rate, token)
        messages = {
            429: "Rate limit exceeded for this connection.",
            500: "An unexpected error occurred. Please try again later.",
            502: "The connected system did not respond properly.",
            503: "The service is temporarily unavailable.",
        }
        if status == 429:
            wait = fault.retry_after if fault.retry_after is not None else 1
            rate = RateDecision(False, rate.limit, 0, wait, int(time.time()) + wait)
            return self._error(429, rid, messages[429], rate)
        resp = self._error(status, rid, messages.get(status, "Server error."), rate)
        if status == 503 and fault.retry_after is not None:
            resp.headers.append(("Retry-After", str(fault.retry_after)))
        return resp

    def _echo_token(self, status: int, rid: str, rate: RateDecision, token: str) -> _Response:
        """An error that repeats the token it received, as careless upstreams and proxies do.

        The token appears bare (no "Bearer" in front), so only a client that knows its own
        token can mask it.
        """
        if status == 502:
            page = (
                "<html><head><title>502 Bad Gateway</title></head><body>"
                "<h1>502 Bad Gateway</h1><p>Upstream rejected the request.</p>"
                f"<pre>credential: {token}</pre><hr>nginx</body></html>"
            )
            return _Response(502, page.encode("utf-8"), rid, "text/html", rate.headers())
        if status == 401:
            return self._error(401, rid, f"The credential {token} is not valid for this "
                               "tenant.", rate)
        return self._error(500, rid, f"Upstream call failed with credential {token} "
                           f"(sent as Authorization: Bearer {token}).", rate)

    def _error(
        self,
        status: int,
        rid: str,
        message: str,
        rate: RateDecision | None = None,
        *,
        errors: Mapping[str, list[str]] | None = None,
        code: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> _Response:
        """A contract §4 error response."""
        row_code, row_type = status_row(status)
        body: dict[str, Any] = {
            "message": message,
            "error": {
                "code": code or row_code,
                "type": row_type,
                "message": message,
                "request_id": rid,
            },
        }
        if errors is not None:
            body["errors"] = dict(errors)
        out = list((rate or self._limiter.peek(None)).headers())
        out.extend(headers)
        return _Response(status, _dumps(body), rid, _JSON, out)

    def _ok(self, payload: Any, rid: str, rate: RateDecision, status: int = 200) -> _Response:
        return _Response(status, _dumps(payload), rid, _JSON, rate.headers())

    def _method_not_allowed(self, rid: str, rate: RateDecision, allow: str) -> _Response:
        return self._error(405, rid, "The method is not allowed for this path.", rate,
                           code="METHOD_NOT_ALLOWED", headers=[("Allow", allow)])

    def _route(self, req: _Request, rid: str, rate: RateDecision) -> _Response:
        path = req.path
        reading = req.method in ("GET", "HEAD")
        if path == res.INTEGRATION_PATH:
            if not reading:
                return self._method_not_allowed(rid, rate, "GET, HEAD")
            with self.data.lock:
                integration = dict(self.data.integration)
            return self._ok({"data": integration}, rid, rate)
        for ds in res.DATASETS.values():
            if path == ds.path:
                key: str | None = None
            elif path.startswith(ds.path + "/"):
                key = unquote(path[len(ds.path) + 1:])
                if not key or "/" in key:
                    break
            else:
                continue
            if ds.name in self._unavailable:
                return self._error(404, rid, f"This connection's system does not offer the "
                                   f"{ds.entity} module.", rate)
            if key is None:
                if not reading:
                    return self._method_not_allowed(rid, rate, "GET, HEAD")
                return self._list(ds, req, rid, rate)
            if reading:
                return self._one(ds, key, rid, rate)
            if req.method == "PUT" and ds.writable_status:
                return self._put_status(ds, key, req, rid, rate)
            return self._method_not_allowed(
                rid, rate, "GET, HEAD, PUT" if ds.writable_status else "GET, HEAD"
            )
        return self._error(404, rid, "The requested resource was not found.", rate)

    def _list(self, ds: res.Dataset, req: _Request, rid: str, rate: RateDecision) -> _Response:
        query = parse_list_query(req.params)
        selected = self._select(ds.name, query)
        url = f"http://{req.host}{ds.path}"
        return self._ok(page_envelope(selected, query, url), rid, rate)

    def _select(self, name: str, query: ListQuery) -> Sequence[Record]:
        """The records a list query selects, cached per data version and selection.

        A plain walk (no filter, no sort) slices the cached key-ordered visible list, so a
        page costs the same on 100k records as on 100. Anything else is computed once per
        data version and kept in a small LRU cache: a client paging through a filtered or
        sorted list pays for the scan on its first page only.
        """
        data = self.data
        if not query.filters and not query.sorts:
            return data.visible_view(name)
        with data.lock:
            version = data.version(name)
            base: Sequence[Record] = (
                list(data.dataset(name)) if query.incremental else data.visible_view(name)
            )
        cache_key = (name, version, query.selection_key)
        with self._cache_lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        if query.sorts and query.filters:
            # Sorting is the expensive part and filters vary more than sorts: reuse the
            # sorted list across filters.
            sort_key = (name, version, (query.incremental, (), False, query.sorts))
            with self._cache_lock:
                ordered = self._cache.get(sort_key)
            if ordered is None:
                ordered = select(base, ListQuery(sorts=query.sorts))
                self._remember(sort_key, ordered)
            selected = select(ordered, ListQuery(filters=query.filters,
                                                 match_any=query.match_any))
        else:
            selected = select(base, query)
        self._remember(cache_key, selected)
        return selected

    def _remember(self, key: tuple[Any, ...], value: Sequence[Record]) -> None:
        with self._cache_lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def _one(self, ds: res.Dataset, key: str, rid: str, rate: RateDecision) -> _Response:
        rec = self.data.get(ds.name, key)
        if rec is None or rec.get(res.F_DELETED) is not None:
            return self._error(404, rid, f"No {ds.entity} with key {key}.", rate)
        return self._ok({"data": rec}, rid, rate)

    def _put_status(
        self, ds: res.Dataset, key: str, req: _Request, rid: str, rate: RateDecision
    ) -> _Response:
        try:
            body = json.loads(req.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._error(400, rid, "The request body is not valid JSON.", rate)
        if not isinstance(body, dict):
            return self._error(400, rid, "The request body must be a JSON object.", rate)
        statuses, transitions, stamps = _STATUS_RULES[ds.name]
        status = body.get(res.F_STATUS)
        if status is None:
            return self._error(422, rid, "The status field is required.", rate,
                               errors={"status": ["The status field is required."]})
        if not isinstance(status, str) or status not in statuses:
            return self._error(
                422, rid, "The selected status is invalid.", rate,
                errors={"status": [f"The selected status is invalid. Expected one of: "
                                   f"{', '.join(statuses)}."]},
            )
        data = self.data
        with data.lock:
            rec = data.get(ds.name, key)
            if rec is None or rec.get(res.F_DELETED) is not None:
                return self._error(404, rid, f"No {ds.entity} with key {key}.", rate)
            current = str(rec.get(res.F_STATUS))
            if status not in transitions.get(current, ()):
                return self._error(
                    409, rid,
                    f"Cannot change a {_NOUN[ds.name]} from {current} to {status}.", rate,
                )
            ts = format_ts(data.next_stamp())
            new = dict(rec)
            new[res.F_STATUS] = status
            if status in stamps:
                new[stamps[status]] = ts
            new[res.F_UPDATED] = ts
            data.replace(ds.name, new)
        return self._ok({"data": new}, rid, rate)

    # -- admin ------------------------------------------------------------------------------

    def _admin(self, req: _Request, rid: str) -> _Response:
        """Test-only control endpoints under ``/__sandbox__/`` (no token needed).

        ``GET|POST|DELETE faults`` (POST body: a list of spec strings or objects; replaces),
        ``POST revoke {"token"}``, ``POST tokens {"token"}``,
        ``POST mutate {"dataset", "count", "delete_share"}`` -> ``{"keys": [...]}``,
        ``POST rate-limit {"per_minute": N|null}``, ``POST latency {"ms": N}``,
        ``GET|DELETE stats``, ``POST sync-status {"status"}``,
        ``POST unavailable {"datasets": [...]}``.
        """
        route = req.path[len(ADMIN_PREFIX):].strip("/")
        rate = self._limiter.peek(None)
        if route == "" and req.method in ("GET", "HEAD"):
            return self._test_controls_page(rid, rate)
        methods = _ADMIN_ROUTES.get(route)
        if methods is None:
            return self._error(404, rid, "Unknown sandbox admin path.", rate)
        if req.method not in methods:
            return self._method_not_allowed(rid, rate, ", ".join(methods))
        body: Any = None
        if req.method == "POST":
            try:
                body = json.loads(req.body or b"null")
            except (ValueError, UnicodeDecodeError):
                return self._error(400, rid, "The request body is not valid JSON.", rate)
        try:
            payload = self._admin_action(route, req.method, body)
        except (ValueError, TypeError, KeyError) as exc:
            return self._error(400, rid, f"Invalid sandbox admin request: {exc}", rate)
        return self._ok(payload, rid, rate)

    def _test_controls_page(self, rid: str, rate: RateDecision) -> _Response:
        """``GET /__sandbox__/``: the "Test controls" page the sandbox's start-up guide
        links to. What is in force (faults, latency, rate limit) and how to change it."""
        from html import escape

        from makini_desktop.sandbox.faults import FAULT_KINDS

        base = f"{self.url}{ADMIN_PREFIX}"
        faults = self.faults
        items = "".join(
            f"<li><code>{escape(f.spec())}</code> — hit {f.fired} of {f.matched} "
            "matching requests</li>" for f in faults
        ) or "<li>None</li>"
        limit = self.rate_limit
        examples = [
            ("Inject faults (replaces the current ones)",
             f"curl -X POST {base}faults -d '[\"503:p=0.1,retry_after=2\", \"latency:ms=200\"]'"),
            ("Remove every fault", f"curl -X DELETE {base}faults"),
            ("List the faults (JSON)", f"curl {base}faults"),
            ("Delay every API response", f"curl -X POST {base}latency -d '{{\"ms\": 50}}'"),
            ("Rate limit per token", f"curl -X POST {base}rate-limit -d '{{\"per_minute\": 60}}'"),
            ("Revoke a token (its next request gets 401)",
             f"curl -X POST {base}revoke -d '{{\"token\": \"sandbox-token\"}}'"),
            ("Change records (incremental sync)",
             f"curl -X POST {base}mutate -d '{{\"dataset\": \"assets\", \"count\": 5}}'"),
            ("Request counters", f"curl {base}stats"),
        ]
        rows = "".join(f"<dt>{escape(what)}</dt><dd><code>{escape(cmd)}</code></dd>"
                       for what, cmd in examples)
        page = (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Makini sandbox — test controls</title></head><body>"
            "<h1>Makini sandbox — test controls</h1>"
            "<h2>In force</h2>"
            f"<h3>Faults</h3><ul id=\"faults\">{items}</ul>"
            f"<p>Latency: {self._latency_ms} ms added to every API response.</p>"
            "<p>Rate limit: "
            + (f"{limit} requests per minute per token." if limit else "none.") + "</p>"
            "<h2>How to change them</h2>"
            "<p>A fault is <code>KIND[:key=value,...]</code>, KIND one of "
            f"{escape(', '.join(FAULT_KINDS))}; keys: p (probability), every, count, after, "
            "path (prefix), retry_after (seconds), ms. The same specs work with "
            "<code>makini-desktop sandbox --fault SPEC</code>.</p>"
            f"<dl>{rows}</dl></body></html>"
        )
        return _Response(200, page.encode("utf-8"), rid, "text/html; charset=utf-8",
                         rate.headers())

    def _admin_action(self, route: str, method: str, body: Any) -> Any:
        obj: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        if route == "faults":
            if method == "POST":
                specs = body.get("faults") if isinstance(body, Mapping) and "faults" in body \
                    else body
                if isinstance(specs, str | Mapping):
                    specs = [specs]
                if not isinstance(specs, list):
                    raise ValueError("expected a list of fault specs")
                self.set_faults(specs)
            elif method == "DELETE":
                self.clear_faults()
            return {"faults": [f.to_json() for f in self.faults]}
        if route == "stats":
            if method == "DELETE":
                self.reset_stats()
            return self.stats.to_json()
        if route in ("revoke", "tokens"):
            token = obj.get("token")
            if not isinstance(token, str) or not token:
                raise ValueError("expected {\"token\": \"...\"}")
            if route == "revoke":
                self.revoke(token)
            else:
                self.add_token(token)
            return {"ok": True, "tokens": len(self.tokens)}
        if route == "mutate":
            dataset = obj.get("dataset")
            if not isinstance(dataset, str):
                raise ValueError("expected a dataset name")
            count = _as_int(obj.get("count", 1), "count")
            share = obj.get("delete_share", 0.2)
            if isinstance(share, bool) or not isinstance(share, int | float):
                raise ValueError("delete_share must be a number")
            return {"keys": self.mutate(dataset, count, float(share))}
        if route == "rate-limit":
            per_minute = obj.get("per_minute")
            self.set_rate_limit(None if per_minute is None else _as_int(per_minute, "per_minute"))
            return {"per_minute": self.rate_limit}
        if route == "latency":
            ms = _as_int(obj.get("ms", 0), "ms")
            self.set_latency(ms)
            return {"ms": ms}
        if route == "sync-status":
            self.set_sync_status(str(obj.get("status")))
            return {"sync_status": self.data.integration["sync_status"]}
        if route == "unavailable":
            datasets = obj.get("datasets", [])
            if not isinstance(datasets, list):
                raise ValueError("expected {\"datasets\": [...]}")
            self.set_unavailable(str(d) for d in datasets)
            return {"unavailable": sorted(self._unavailable)}
        raise KeyError(route)  # pragma: no cover - _ADMIN_ROUTES and this agree


_ADMIN_ROUTES: Final[dict[str, tuple[str, ...]]] = {
    "faults": ("GET", "POST", "DELETE"),
    "stats": ("GET", "DELETE"),
    "revoke": ("POST",),
    "tokens": ("POST",),
    "mutate": ("POST",),
    "rate-limit": ("POST",),
    "latency": ("POST",),
    "sync-status": ("POST",),
    "unavailable": ("POST",),
}
_SITE_UPDATES: Final = (
    "Lobby works in progress; use the side entrance", "Fire drill scheduled this month",
    "New visitor kiosks installed", "Bike store extended", "Lift 2 out of service",
)
_FLOOR_UPDATES: Final = (
    "Temporarily closed for a refit", "Neighbourhoods re-planned", "New quiet zone",
    "Re-opened after refurbishment",
)
_VISIT_UPDATES: Final = (
    "Arrival time changed by the host", "Parking space added", "Host changed",
    "Needs an escort to the meeting room", "Bringing a colleague",
)


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{name} must be an integer")
    return int(value)


def _bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


# ---------------------------------------------------------------------------------------
# HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its connections, so stop() can close idle keep-alive
    connections and join their threads instead of leaving them blocked on a read."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: SandboxServer) -> None:
        self.app = app
        self._conn_lock = threading.Lock()
        self._workers: dict[threading.Thread, socket.socket] = {}
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._work, args=(request, client_address),
            name="makini-sandbox-conn", daemon=True,
        )
        with self._conn_lock:
            self._workers[thread] = request
        thread.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._workers.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client going away mid-response is normal for a test server; keep it quiet.
        log.debug("sandbox connection error from %s", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait for its thread."""
        with self._conn_lock:
            workers = list(self._workers.items())
        for _, sock in workers:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread, _ in workers:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"makini-sandbox/{__version__}"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write, but Nagle would still hold back the next
        # small response on a keep-alive connection until the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Errors the stdlib detects itself (bad request line, unknown method) also get the
        contract's JSON body and a request ID instead of the stdlib's HTML page."""
        app = self.server.app
        headers = getattr(self, "headers", None)
        raw_id = headers.get("X-Request-Id") if headers is not None else None
        rid = _client_request_id(raw_id) or new_request_id()
        # The request's body (if any) was not read, so the connection cannot be reused.
        self.close_connection = True
        if code == 501:  # an HTTP method nobody implements here
            resp = app._method_not_allowed(rid, app._limiter.peek(None),
                                           "GET, HEAD, PUT, POST, DELETE")
        else:
            resp = app._error(code, rid, message or "The request could not be understood.")
        try:
            self._write(resp)
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        """The request body, or None when it cannot be read (the connection then closes)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        app = self.server.app
        body = self._read_body()
        target = urlsplit(self.path)
        # Header names are case-insensitive: keep one lower-cased dict for the app.
        headers = {name.lower(): str(value) for name, value in self.headers.items()}
        host = headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        if body is None:
            self.close_connection = True
            rid = _client_request_id(headers.get("x-request-id")) or new_request_id()
            self._write(app._error(400, rid, "The request body could not be read "
                                   "(Content-Length missing, invalid or too large)."))
            return
        req = _Request(
            method=self.command,
            path=target.path or "/",
            params=parse_qsl(target.query, keep_blank_values=True),
            headers=headers,
            body=body,
            host=host.strip(),
        )
        try:
            resp = app._handle(req)
        except Exception:
            log.exception("sandbox: unhandled error for %s %s", self.command, self.path)
            rid = _client_request_id(headers.get("x-request-id")) or new_request_id()
            resp = app._error(500, rid, "An unexpected error occurred in the sandbox.")
        self._write(resp)

    def _write(self, resp: _Response) -> None:
        body = resp.body
        lines = [
            f"{self.protocol_version} {resp.status} {self.responses.get(resp.status, ('',))[0]}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            f"Server: {self.server_version}",
            f"Content-Type: {resp.content_type}",
            f"Content-Length: {len(body)}",
            f"X-Request-Id: {resp.request_id}",
        ]
        lines.extend(f"{name}: {value}" for name, value in resp.headers)
        if resp.transport_fault or self.close_connection:
            self.close_connection = True
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command == "HEAD":
            self.wfile.write(head)
            return
        if resp.transport_fault is None:
            self.wfile.write(head + body)
            return
        if resp.transport_fault == "trickle" and resp.fault is not None:
            self._trickle(head, body, resp.fault)
            return
        # Part of the body, then the connection goes: "truncate" closes it cleanly (FIN)
        # so the client sees fewer bytes than Content-Length; "reset" aborts it (RST).
        self.wfile.write(head + body[: len(body) // 2])
        if resp.transport_fault == "reset":
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            except OSError:
                pass

    def _trickle(self, head: bytes, body: bytes, fault: Fault) -> None:
        """The headers at once, then the body a few bytes at a time with a pause after each
        piece (until it is all sent, the client hangs up or the server stops)."""
        stopping = self.server.app._stopping
        self.wfile.write(head)
        size = fault.piece_bytes
        for start in range(0, len(body), size):
            self.wfile.write(body[start:start + size])
            if stopping.wait(fault.pause_ms / 1000.0):
                return

"""The built-in Makini stand-in: a real HTTP server on loopback implementing the contract.

:class:`SandboxServer` serves :mod:`makini_desktop.sandbox.data` over the contract's paths
(taken from :mod:`makini_desktop.api.resources`, never re-typed here) with bearer-token auth,
Laravel pagination, filters, sorting, incremental sync, the writes of contract §6 (status
changes and visitor registration with their ``Idempotency-Key`` memory), per-token rate
limiting and injectable faults. It runs ``http.server.ThreadingHTTPServer`` with HTTP/1.1
keep-alive in a background thread::

    with SandboxServer(SandboxConfig(scale="small")) as srv:
        httpx.get(srv.url + "/api/eam/sites", headers={"Authorization": "Bearer sandbox-token"})

This module holds the lifecycle, the runtime controls and the gate every ``/api/`` request
passes (latency, token, rate limit, faults). The rest has a room each: :mod:`.http` (the
wire: requests, responses, transport faults), :mod:`.routes` (the contract's paths),
:mod:`.writes` and :mod:`.idempotency` (the writes and their memory), :mod:`.admin`
(the test-only ``/__sandbox__/`` controls, served when ``admin`` is enabled, no token
needed), :mod:`.changes` (:meth:`SandboxServer.mutate`, the writes' changes). Choices where the
contract leaves room are listed in :mod:`makini_desktop.sandbox.query` (paging, filters)
and here:

* A soft-deleted record's own path answers ``404`` (it only shows up in incremental lists).
* ``405`` answers carry ``Allow`` and the code ``METHOD_NOT_ALLOWED`` (type ``not_supported``);
  a module made read-only (``read_only``) answers its writes so: the system does not offer
  them (contract §6).
* A collection of a dataset marked unavailable answers ``404 NOT_FOUND`` (contract §2: the
  connection's system does not offer the module).
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Final

from makini_desktop.api import resources as res
from makini_desktop.sandbox import changes
from makini_desktop.sandbox.admin import ADMIN_PREFIX, handle_admin
from makini_desktop.sandbox.data import generate
from makini_desktop.sandbox.faults import Fault, FaultLike, FaultPlan
from makini_desktop.sandbox.http import (
    Request,
    Response,
    SandboxHTTPServer,
    client_request_id,
    error_response,
    fault_response,
    new_request_id,
    with_fault,
)
from makini_desktop.sandbox.idempotency import IdempotencyMemory
from makini_desktop.sandbox.options import DEFAULT_TOKEN, write_dataset
from makini_desktop.sandbox.query import QueryError
from makini_desktop.sandbox.ratelimit import RateLimiter
from makini_desktop.sandbox.records import SandboxData
from makini_desktop.sandbox.routes import ApiRoutes
from makini_desktop.sandbox.writes import WriteRoutes

log = logging.getLogger(__name__)

_SYNC_STATUSES: Final = ("inprogress", "done", "fulldone", "error", "fail")


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
        read_only: modules (``moves``, ``visitors``) whose writes this system does not
            offer: they answer ``405 METHOD_NOT_ALLOWED`` (contract §6).
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
    read_only: tuple[str, ...] = ()


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
        self._memory = IdempotencyMemory()
        self._writes = WriteRoutes(self.data, self._memory)
        self._writes.read_only = {write_dataset(m) for m in cfg.read_only}
        self._routes = ApiRoutes(self.data, self._writes)
        self._routes.unavailable = set(cfg.unavailable)
        self._mutate_rng = random.Random(f"mutate-{cfg.seed}")
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._responses: dict[int, int] = {}
        self._exchanges: collections.deque[tuple[str, str, int, str]] = collections.deque(
            maxlen=1000
        )
        self._fault_counts: dict[str, int] = {}
        self._rate_limited = 0
        self._httpd: SandboxHTTPServer | None = None
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
        httpd = SandboxHTTPServer((self.config.host, self.config.port), self._handle,
                                  self._limiter, self._stopping)
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

    @property
    def latency_ms(self) -> int:
        """The delay added to every ``/api/`` response, in milliseconds."""
        return self._latency_ms

    def set_unavailable(self, datasets: Iterable[str]) -> None:
        """Make these datasets' paths answer ``404 NOT_FOUND`` (module not offered)."""
        names = set(datasets)
        unknown = names - set(res.DATASETS)
        if unknown:
            raise ValueError(f"unknown dataset(s) {', '.join(sorted(unknown))}")
        self._routes.unavailable = names

    @property
    def unavailable(self) -> frozenset[str]:
        """The datasets whose paths answer ``404 NOT_FOUND`` (module not offered)."""
        return frozenset(self._routes.unavailable)

    def set_read_only(self, modules: Iterable[str]) -> None:
        """Make these modules' writes (``moves``, ``visitors``) answer ``405``: the system
        does not offer them (contract §6). An empty list makes every module writable.

        Raises:
            ValueError: an unknown module.
        """
        self._writes.read_only = {write_dataset(m) for m in modules}

    @property
    def read_only(self) -> frozenset[str]:
        """The datasets (``moves``, ``visits``) whose writes answer ``405``."""
        return frozenset(self._writes.read_only)

    @property
    def writes(self) -> WriteRoutes:
        """The writes' handler (tests may set its ``clock`` for ``occurredAt``'s limits)."""
        return self._writes

    @property
    def idempotency(self) -> IdempotencyMemory:
        """The ``Idempotency-Key`` memory (tests may set its ``clock`` to expire keys)."""
        return self._memory

    def idempotency_log(self) -> list[dict[str, Any]]:
        """One entry per key that reached a write (see :class:`~.idempotency.LogEntry`):
        ``idempotencyKey``, ``record``, ``executed``, ``applied``, ``replays`` ..."""
        return self._memory.log()

    def fail_writes(
        self,
        count: int,
        status: int | str = 503,
        *,
        after_apply: bool = False,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Fail the next ``count`` writes (``PUT``/``POST``), added to the other faults.

        Args:
            count: how many writes.
            status: 429, 500, 502 or 503, or ``reset`` / ``truncate`` (the connection
                breaks during the answer, so these always come after the write was
                carried out).
            after_apply: carry each write out first, then answer ``status`` instead of its
                answer: the answer was lost after the server acted.
            path: only writes under this path prefix (default every ``/api/`` path).
            retry_after: the ``Retry-After`` of a 429 or 503.

        Returns:
            The fault added.

        Raises:
            ValueError: a status or count the sandbox cannot inject.
        """
        kind = str(status).strip().lower()
        spec: dict[str, Any] = {"kind": kind, "count": count, "method": "write"}
        if kind not in ("reset", "truncate"):
            if kind not in ("429", "500", "502", "503"):
                raise ValueError("a write fault's status is 429, 500, 502, 503, reset or "
                                 "truncate")
            spec["apply"] = 1 if after_apply else 0
        if path is not None:
            spec["path"] = path
        if retry_after is not None:
            spec["retry_after"] = retry_after
        if count < 1:
            raise ValueError("count must be at least 1")
        return self._faults.add(spec)

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
        return changes.mutate(self.data, dataset, count, delete_share, self._mutate_rng)

    # -- statistics -------------------------------------------------------------------------

    def _count(self, resp: Response) -> None:
        with self._stats_lock:
            self._requests += 1
            self._responses[resp.status] = self._responses.get(resp.status, 0) + 1

    def _count_fault(self, kind: str) -> None:
        with self._stats_lock:
            self._fault_counts[kind] = self._fault_counts.get(kind, 0) + 1

    # -- request handling -------------------------------------------------------------------

    def _handle(self, req: Request) -> Response:
        """Answer one request (called on the connection's thread)."""
        rid = client_request_id(req.headers.get("x-request-id")) or new_request_id()
        if req.path.startswith(ADMIN_PREFIX) and self.config.admin:
            return handle_admin(self, req, rid, self._limiter.peek(None))
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
        """Sleep ``ms`` milliseconds, or less when the server stops meanwhile."""
        if ms > 0:
            self._stopping.wait(ms / 1000.0)

    def _api(self, req: Request, rid: str) -> Response:
        """The gate in front of the routes: latency, the token, the rate limit, then a fault
        may answer instead of the route or spoil its answer."""
        path = req.path
        if not path.startswith("/api/"):
            return error_response(404, rid, "The requested resource was not found.",
                                  self._limiter.peek(None))
        self._wait(self._latency_ms)
        token = _bearer(req.headers.get("authorization"))
        with self._control:
            known = token is not None and token in self._tokens
        if token is None or not known:
            return error_response(
                401, rid, "Unauthenticated: the token is missing, expired or revoked.",
                self._limiter.peek(None),
            )
        rate = self._limiter.take(token)
        if not rate.allowed:
            with self._stats_lock:
                self._rate_limited += 1
            return error_response(429, rid, "Rate limit exceeded for this connection.", rate)
        decision = self._faults.pick(path, req.method)
        self._wait(decision.delay_ms)
        fault = decision.fault
        if decision.latency:
            self._count_fault("latency")
        if fault is not None and fault.http_status is not None and not fault.apply:
            self._count_fault(fault.kind)
            return fault_response(fault, rid, rate, token)
        try:
            resp = self._routes.route(req, rid, rate, token)
        except QueryError as exc:
            resp = error_response(400, rid, str(exc), rate)
        if fault is not None:
            self._count_fault(fault.kind)
            if fault.http_status is not None:  # apply=1: carried out, then the answer lost
                return fault_response(fault, rid, rate, token)
            resp = with_fault(resp, fault)
        return resp


def _bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None

"""An open connection: its identity, its API client, its offline cache and repositories."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from makini_desktop.api import resources as res
from makini_desktop.api.client import MakiniClient, RetryEvent, RetryPolicy
from makini_desktop.api.errors import MakiniError
from makini_desktop.api.urls import validate_base_url
from makini_desktop.redact import register_secret
from makini_desktop.store.cache import (
    Cache,
    CacheError,
    RecoveryInfo,
    adhoc_key,
    profile_cache_key,
)
from makini_desktop.sync.connectivity import Connectivity, Reach
from makini_desktop.sync.repository import Repository

if TYPE_CHECKING:
    import httpx  # imported at the first request (see api/transport.py)

    from makini_desktop.store.profiles import ConnectionProfile

log = logging.getLogger(__name__)

DEMO_NAME = "Demo (sandbox)"
DEMO_CACHE_KEY = "demo-sandbox"
"""One offline cache for every demo run (the sandbox's port changes from run to run)."""

NO_TOKEN_REASON = "No token for this connection"
"""Why a connection opened without a token (see :class:`Session`) sends nothing."""

_PROBE_POLICY = RetryPolicy(max_attempts=1)
_PROBE_TIMEOUT_S = 5.0
"""A server that accepts connections but never answers is "offline" after this, not after
the 30 s a real request may wait."""


class ConnState(Enum):
    """What the status bar says about the active connection."""

    CONNECTING = "Connecting…"
    READY = "Ready"
    SYNCING = "Syncing"
    DEGRADED = "Degraded"
    NEEDS_RECONNECT = "Needs reconnect"
    RATE_LIMITED = "Rate limited"
    OFFLINE = "Offline"
    UNKNOWN = "Unknown"

    @property
    def label(self) -> str:
        return self.value

    @classmethod
    def from_sync_status(cls, sync_status: object) -> ConnState:
        """Contract §2.2's mapping of an Integration ``sync_status``."""
        label = res.connection_state(sync_status)
        for state in cls:
            if state.value == label:
                return state
        return cls.UNKNOWN


@dataclass(frozen=True)
class ConnectionInfo:
    """Who a session talks to (no secret here).

    Attributes:
        name: what the user calls it.
        base_url: the API base URL.
        cache_key: which offline cache belongs to it (profile id, or derived from the URL).
        profile_id: the saved profile's id; None for an ad-hoc connection.
        demo: the built-in sandbox.
    """

    name: str
    base_url: str
    cache_key: str
    profile_id: str | None = None
    demo: bool = False

    @classmethod
    def from_profile(cls, profile: ConnectionProfile) -> ConnectionInfo:
        key = profile_cache_key(profile.id, profile.base_url)
        return cls(profile.name, profile.base_url, key, profile.id, profile.demo)

    def same_connection(self, other: ConnectionInfo) -> bool:
        """The same connection, perhaps with a new token: the same saved profile, or the
        same unsaved base URL (whose cache key changes with its token)."""
        if self.profile_id is not None or other.profile_id is not None:
            return self.profile_id == other.profile_id
        return self.base_url == other.base_url

    @classmethod
    def adhoc(cls, base_url: str, token: str, name: str | None = None) -> ConnectionInfo:
        """An unsaved connection; its cache is keyed by its base URL and token."""
        url = validate_base_url(base_url)
        return cls(name or url, url, adhoc_cache_key(url, token))


def adhoc_cache_key(base_url: str, token: str) -> str:
    """The cache key of an unsaved connection.

    Every Makini customer shares the default base URL, so the URL alone would let one
    customer's cached data open under another's token. A one-way fingerprint of the token
    tells them apart and is known offline; the token itself is never stored.
    """
    import hashlib

    fingerprint = hashlib.sha256(b"makini-desktop cache key\0" + token.encode()).hexdigest()
    return adhoc_key(base_url, identity=fingerprint[:32])


@dataclass(frozen=True)
class IntegrationStatus:
    """The answer of ``/api/integrations/current``, as the app shows it."""

    state: ConnState
    provider: str
    company: str
    latency_ms: float
    request_id: str
    sync_status: str
    raw: Mapping[str, Any] = field(default_factory=dict)


async def check_integration(
    client: MakiniClient,
    *,
    retry: RetryPolicy | None = None,
    timeout: httpx.Timeout | None = None,
) -> IntegrationStatus:
    """Ask the connection's status, timing the round trip."""
    started = time.perf_counter()
    response, doc = await client.request(
        "GET", res.INTEGRATION_PATH, retry=retry, timeout=timeout
    )
    latency = (time.perf_counter() - started) * 1000
    data = doc.get(res.ENV_DATA) if isinstance(doc, Mapping) else None
    data = data if isinstance(data, Mapping) else {}
    sync_status = str(data.get(res.F_SYNC_STATUS) or "")
    return IntegrationStatus(
        state=ConnState.from_sync_status(sync_status),
        provider=str(data.get(res.F_PROVIDER) or ""),
        company=str(data.get(res.F_COMPANY_NAME) or ""),
        latency_ms=latency,
        request_id=response.headers.get("x-request-id", ""),
        sync_status=sync_status,
        raw=dict(data),
    )


async def test_connection(base_url: str, token: str) -> IntegrationStatus:
    """The connection dialog's "Test connection": one status call, few retries.

    Raises:
        MakiniError: the call failed (with the request ID when there was one).
        InsecureUrlError, InvalidBaseUrl: the URL is unusable.
    """
    policy = RetryPolicy(max_attempts=2, max_total_seconds=15)
    async with MakiniClient(base_url, token, retry=policy) as client:
        return await check_integration(client)


class Session:
    """One open connection.

    A session opened without a token (``token=None``: none is stored for a saved
    connection) is *cache-only*: it has no API client, sends nothing, and every refresh,
    :meth:`check` and :meth:`probe` fails at once; its offline cache is opened and read as
    usual, so the user still sees what was cached.

    Args:
        info: the connection.
        token: its token (memory only); None for a cache-only session.
        on_retry: told before each retry wait (the status bar's countdown).
        on_reach: told when the connection goes offline or back online.
        open_cache: ``"now"`` opens the offline cache in the constructor; ``"later"``
            leaves it to :meth:`ensure_cache` (the GUI opens it in a worker thread: the
            integrity check of a 100k-row cache takes tens of milliseconds); ``"never"``
            runs without a cache.
    """

    def __init__(
        self,
        info: ConnectionInfo,
        token: str | None,
        *,
        on_retry: Callable[[RetryEvent], None] | None = None,
        on_reach: Callable[[Reach], None] | None = None,
        open_cache: str = "now",
    ) -> None:
        self.info = info
        self.client: MakiniClient | None = None
        if token is not None:
            register_secret(token)  # scrubbed from every log line and crash report
            self.client = MakiniClient(info.base_url, token, on_retry=on_retry, http_helper=True)
        self.connectivity = Connectivity(self.probe, on_change=on_reach)
        self.cache: Cache | None = None
        self.cache_problem: str | None = None
        self._cache_tried = open_cache == "never"
        self._cache_opening: asyncio.Task[None] | None = None
        self._closed = False
        self._repos: dict[str, Repository] = {}
        if open_cache == "now":
            self._use_cache(self._open_cache())

    def _open_cache(self) -> Cache | None:
        try:
            cache = Cache.open_for(self.info.cache_key)
            self.cache_problem = cache.problem  # read-only: shown, but nothing new kept
            return cache
        except CacheError as exc:
            self.cache_problem = str(exc)
            log.warning("offline cache unavailable for %s: %s", self.info.name, exc)
            return None

    def _use_cache(self, cache: Cache | None) -> None:
        self._cache_tried = True
        self.cache = cache
        for repo in self._repos.values():
            repo.cache = cache

    async def ensure_cache(self) -> Cache | None:
        """Open the offline cache in a worker thread, once; None if it cannot be opened.

        Concurrent callers share one opening; a caller cancelled meanwhile does not abandon
        it (the file would stay open), and :meth:`aclose` waits for it.
        """
        if not self._cache_tried and self._cache_opening is None:
            self._cache_opening = asyncio.ensure_future(self._open_in_thread())
        if self._cache_opening is not None:
            await asyncio.shield(self._cache_opening)
        return self.cache

    async def _open_in_thread(self) -> None:
        cache = await asyncio.to_thread(self._open_cache)
        if self._closed and cache is not None:
            cache.close()  # the session closed while the file was being opened
            cache = None
        self._use_cache(cache)

    @property
    def cache_recovered(self) -> RecoveryInfo | None:
        """What opening the cache had to set aside (a damaged or newer file), if anything."""
        return self.cache.recovered if self.cache is not None else None

    def repository(self, dataset_name: str) -> Repository:
        """The repository of one dataset (``sites``, ``locations``, ...)."""
        repo = self._repos.get(dataset_name)
        if repo is None:
            repo = Repository(
                res.DATASETS[dataset_name], self.client, self.cache,
                connectivity=self.connectivity,
            )
            self._repos[dataset_name] = repo
        return repo

    async def check(self) -> IntegrationStatus:
        """The connection's status (``/api/integrations/current``); tells connectivity.

        Raises:
            MakiniError: the call failed; ``NO_TOKEN`` at once for a cache-only session.
        """
        client = self.client
        if client is None:
            raise _no_token_error()
        return await self.connectivity.run(lambda: check_integration(client))

    async def probe(self) -> IntegrationStatus:
        """One quick status call without retries: is the API reachable (again)?"""
        if self.client is None:
            raise _no_token_error()
        import httpx  # imported when first needed (see api/transport.py)

        timeout = httpx.Timeout(_PROBE_TIMEOUT_S, connect=_PROBE_TIMEOUT_S)
        return await check_integration(self.client, retry=_PROBE_POLICY, timeout=timeout)

    async def aclose(self) -> None:
        """Cancel running refreshes, close the HTTP pool and the cache."""
        self._closed = True
        if self._cache_opening is not None:
            await asyncio.gather(self._cache_opening, return_exceptions=True)
        running = [r._running for r in self._repos.values() if r._running is not None]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await self.connectivity.aclose()
        if self.client is not None:
            await self.client.aclose()
        if self.cache is not None:
            self.cache.close()


def _no_token_error() -> MakiniError:
    """What a cache-only session's API calls fail with (nothing was sent)."""
    return MakiniError(401, "NO_TOKEN", "authentication", f"{NO_TOKEN_REASON}.")


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

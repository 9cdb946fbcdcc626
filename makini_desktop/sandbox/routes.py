"""The API's routes: what the sandbox answers on the contract's paths once a request has
passed the gate (token, rate limit, faults; see :meth:`SandboxServer._api
<makini_desktop.sandbox.server.SandboxServer._api>`).

``GET`` of the Integration, of a dataset's list (paged, filtered, sorted, incremental; see
:mod:`makini_desktop.sandbox.query`) and of one record; the writes (``PUT`` of a visit's or
a move's status, ``POST`` of a visit) are handed to :mod:`makini_desktop.sandbox.writes`.
The paths come from :mod:`makini_desktop.api.resources`, never re-typed here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import unquote

from makini_desktop.api import resources as res
from makini_desktop.sandbox.http import (
    Request,
    Response,
    error_response,
    json_response,
    method_not_allowed,
)
from makini_desktop.sandbox.query import ListQuery, page_envelope, parse_list_query, select
from makini_desktop.sandbox.ratelimit import RateDecision
from makini_desktop.sandbox.records import Record, SandboxData
from makini_desktop.sandbox.writes import WriteRoutes

_CACHE_ENTRIES: Final = 32


class ApiRoutes:
    """The contract's paths over the live data.

    Args:
        data: the records to serve.
        writes: the writes' handler (it changes ``data``).

    Attributes:
        data: the records served.
        writes: the writes' handler.
        unavailable: datasets (by name) whose module this system lacks: their paths answer
            ``404 NOT_FOUND``.
    """

    def __init__(self, data: SandboxData, writes: WriteRoutes) -> None:
        self.data = data
        self.writes = writes
        self.unavailable: set[str] = set()
        self._cache: OrderedDict[tuple[Any, ...], Sequence[Record]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def route(self, req: Request, rid: str, rate: RateDecision, token: str = "") -> Response:
        """Answer a request on an ``/api/`` path (``token``: whose ``Idempotency-Key``
        memory a write uses).

        Raises:
            QueryError: a list query the contract does not allow (the caller answers 400).
        """
        path = req.path
        reading = req.method in ("GET", "HEAD")
        if path == res.INTEGRATION_PATH:
            if not reading:
                return method_not_allowed(rid, rate, "GET, HEAD")
            with self.data.lock:
                integration = dict(self.data.integration)
            return json_response({"data": integration}, rid, rate)
        for ds in res.DATASETS.values():
            if path == ds.path:
                key: str | None = None
            elif path.startswith(ds.path + "/"):
                key = unquote(path[len(ds.path) + 1:])
                if not key or "/" in key:
                    break
            else:
                continue
            if ds.name in self.unavailable:
                return error_response(404, rid, f"This connection's system does not offer "
                                      f"the {ds.entity} module.", rate)
            if key is None:
                if req.method == "POST" and ds.creatable:
                    return self.writes.handle(ds, None, req, token, rid, rate)
                if not reading:
                    return method_not_allowed(
                        rid, rate, "GET, HEAD, POST" if ds.creatable else "GET, HEAD")
                return self._list(ds, req, rid, rate)
            if reading:
                return self._one(ds, key, rid, rate)
            if req.method == "PUT" and ds.writable_status:
                return self.writes.handle(ds, key, req, token, rid, rate)
            return method_not_allowed(
                rid, rate, "GET, HEAD, PUT" if ds.writable_status else "GET, HEAD"
            )
        return error_response(404, rid, "The requested resource was not found.", rate)

    def _list(self, ds: res.Dataset, req: Request, rid: str, rate: RateDecision) -> Response:
        query = parse_list_query(req.params)
        selected = self._select(ds.name, query)
        url = f"http://{req.host}{ds.path}"
        return json_response(page_envelope(selected, query, url), rid, rate)

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

    def _one(self, ds: res.Dataset, key: str, rid: str, rate: RateDecision) -> Response:
        rec = self.data.get(ds.name, key)
        if rec is None or rec.get(res.F_DELETED) is not None:
            return error_response(404, rid, f"No {ds.entity} with key {key}.", rate)
        return json_response({"data": rec}, rid, rate)

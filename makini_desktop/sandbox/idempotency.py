"""The sandbox's ``Idempotency-Key`` memory and its log (contract §6.1).

:class:`IdempotencyMemory` remembers, per token and key, the body a write was sent with and
the answer it got, for :data:`~makini_desktop.api.resources.IDEMPOTENCY_TTL_SECONDS`
(24 hours): the same key again gets the first answer back (same status and body) and
changes nothing; the same key with another body (or on another path) is refused.

Its log (:meth:`IdempotencyMemory.log`, ``GET /__sandbox__/idempotency``) keeps one entry
per key that reached a write, with how many times it was *executed* and how many times its
answer was *replayed*, outliving the 24-hour memory, so a test can prove that nothing was
applied twice however often a client resent it. Tokens never appear in it: each is shown
as its position among the tokens that wrote (``token 1``, ``token 2`` ...).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from makini_desktop.api import resources as res

MAX_REMEMBERED: Final = 200_000
"""Keys remembered (and log entries kept) at most, the oldest going first: far beyond a
day of any test, and a bound on a sandbox left running for weeks."""


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two writes "the same": method, path and the body's JSON, key order aside."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, ensure_ascii=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a key: replayed as it was.

    Attributes:
        status: its HTTP status.
        body: its body bytes (an error's body keeps the first request's ``request_id``).
        content_type: its ``Content-Type``.
        fingerprint: the request it answered (:func:`fingerprint`).
        at: when it was given (the memory's clock, Unix seconds).
    """

    status: int
    body: bytes
    content_type: str
    fingerprint: str
    at: float


@dataclass
class LogEntry:
    """What one ``Idempotency-Key`` did.

    Attributes:
        idempotency_key: the key (None for a write sent without one).
        token: which token wrote, as ``token N`` (never the token itself).
        method: ``PUT`` or ``POST``.
        path: the path written to.
        dataset: the dataset written to.
        record: the key of the record changed or created ("" when none, e.g. a 404).
        status: the HTTP status of its (first) answer.
        executed: times the write was handled without a replay (a 422 is not
            remembered, so a corrected body sent again under the key counts again).
        applied: times it changed the data (a status already in place changes nothing).
        replays: times its first answer was replayed.
        conflicts: times the key came back with another body (answered 422).
        changes: each execution's ``from -> to`` (for a status change).
    """

    idempotency_key: str | None
    token: str
    method: str
    path: str
    dataset: str
    record: str = ""
    status: int = 0
    executed: int = 0
    applied: int = 0
    replays: int = 0
    conflicts: int = 0
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON (camelCase like the API, ``idempotencyKey`` first)."""
        return {
            "idempotencyKey": self.idempotency_key,
            "token": self.token,
            "method": self.method,
            "path": self.path,
            "dataset": self.dataset,
            "record": self.record,
            "status": self.status,
            "executed": self.executed,
            "applied": self.applied,
            "replays": self.replays,
            "conflicts": self.conflicts,
            "changes": list(self.changes),
        }


class IdempotencyMemory:
    """Keys per token for ``ttl`` seconds, and the log of what each did. Thread-safe, but
    the write handler holds :attr:`lock` around look-up, execution and :meth:`remember`, so
    two requests with one key never both execute.

    Args:
        ttl: how long a key is remembered (seconds).
        clock: Unix seconds (tests move it forward to expire keys).
    """

    def __init__(self, ttl: float = res.IDEMPOTENCY_TTL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.clock = clock
        self.lock = threading.RLock()
        self._answers: OrderedDict[tuple[str, str], StoredAnswer] = OrderedDict()
        self._log: OrderedDict[tuple[str, str | None, int], LogEntry] = OrderedDict()
        self._token_labels: dict[str, str] = {}
        self._anonymous = 0

    # -- the memory -------------------------------------------------------------------------

    def lookup(self, token: str, key: str) -> StoredAnswer | None:
        """The first answer to ``key`` for ``token`` if it is still remembered."""
        with self.lock:
            self._expire()
            return self._answers.get((token, key))

    def remember(self, token: str, key: str, answer: StoredAnswer) -> None:
        """Keep the first answer to a key."""
        with self.lock:
            self._answers[(token, key)] = answer
            while len(self._answers) > MAX_REMEMBERED:
                self._answers.popitem(last=False)

    def _expire(self) -> None:
        limit = self.clock() - self.ttl
        while self._answers:
            first = next(iter(self._answers.values()))
            if first.at > limit:
                return
            self._answers.popitem(last=False)

    def __len__(self) -> int:
        with self.lock:
            self._expire()
            return len(self._answers)

    def forget_all(self) -> None:
        """Forget every key and clear the log (a fresh server's state)."""
        with self.lock:
            self._answers.clear()
            self._log.clear()
            self._anonymous = 0

    # -- the log ----------------------------------------------------------------------------

    def entry(self, token: str, key: str | None, method: str, path: str,
              dataset: str) -> LogEntry:
        """The log entry of a key (created on first use; a write without a key gets an
        entry of its own every time)."""
        with self.lock:
            label = self._token_labels.setdefault(token, f"token {len(self._token_labels) + 1}")
            serial = 0
            if key is None:
                self._anonymous += 1
                serial = self._anonymous
            log_key = (label, key, serial)
            found = self._log.get(log_key)
            if found is None:
                found = LogEntry(key, label, method, path, dataset)
                self._log[log_key] = found
                while len(self._log) > MAX_REMEMBERED:
                    self._log.popitem(last=False)
            return found

    def log(self) -> list[dict[str, Any]]:
        """Every entry as JSON, in the order keys were first seen."""
        with self.lock:
            return [e.to_json() for e in self._log.values()]

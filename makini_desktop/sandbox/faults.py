"""Injected failures for the sandbox: what a flaky network, proxy or upstream does to a client.

A fault is written ``KIND[:key=val,...]``, for example ``500:p=0.3``,
``429:every=5,retry_after=2``, ``reset:count=1,path=/api/eam/assets`` or ``latency:ms=800``.

Kinds:
    ``429``, ``500``, ``502``, ``503``: that status with the contract's JSON error body (§4).
    ``reset``: headers and part of the body, then the TCP connection is reset.
    ``truncate``: ``Content-Length`` promises more than is sent, then the connection closes.
    ``html``: a ``502`` whose body is a proxy's HTML page (``text/html``), no JSON.
    ``latency``: delays the response by ``ms`` and lets it through.

Keys:
    ``p``: probability 0..1 that a matching request is hit (drawn from a ``random.Random``
    seeded from the server's seed, so a run is reproducible). ``every=N``: only every Nth
    matching request. ``count=N``: only the first N hits, then inert. ``after=N``: let the first
    N matching requests through. ``path``: a path prefix the fault applies to (default every
    ``/api/`` path). ``retry_after=S``: ``Retry-After`` seconds for 429/503. ``ms=N``: delay.

Faults only ever apply to ``/api/`` paths, never to the sandbox's own admin paths.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

FAULT_KINDS: Final[tuple[str, ...]] = (
    "429", "500", "502", "503", "reset", "truncate", "html", "latency",
)
ERROR_STATUS: Final[dict[str, int]] = {"429": 429, "500": 500, "502": 502, "503": 503,
                                       "html": 502}
API_PREFIX: Final = "/api/"
_INT_KEYS: Final = ("every", "count", "after", "retry_after", "ms")
_KEYS: Final = ("p", "path", *_INT_KEYS)


@dataclass
class Fault:
    """One injected failure and its trigger.

    Attributes:
        kind: one of :data:`FAULT_KINDS`.
        p: probability that a matching request is hit.
        every: hit only every Nth matching request (after ``after``).
        count: stop after this many hits (None: no limit).
        after: let this many matching requests through first.
        path: path prefix the fault applies to.
        retry_after: ``Retry-After`` seconds (429, 503).
        ms: delay in milliseconds before the response (``latency``; also allowed on others).
        matched: requests that matched the path so far (runtime counter).
        fired: requests hit so far (runtime counter).
    """

    kind: str
    p: float = 1.0
    every: int | None = None
    count: int | None = None
    after: int = 0
    path: str = API_PREFIX
    retry_after: int | None = None
    ms: int = 0
    matched: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self.kind = self.kind.strip().lower()
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of "
                             f"{', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"fault p={self.p} is not a probability between 0 and 1")
        if self.every is not None and self.every < 1:
            raise ValueError("fault every= must be at least 1")
        for name in ("count", "after", "retry_after", "ms"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"fault {name}= must not be negative")
        if not self.path.startswith("/"):
            raise ValueError(f"fault path={self.path!r} must start with /")
        if self.kind == "latency" and self.ms <= 0:
            raise ValueError("a latency fault needs ms=N (milliseconds)")

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with (None for reset/truncate/latency)."""
        return ERROR_STATUS.get(self.kind)

    def spec(self) -> str:
        """The fault written back as ``KIND[:key=val,...]`` (defaults left out)."""
        parts = []
        defaults = Fault("500")
        for name in _KEYS:
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts.append(f"{name}={value}")
        return self.kind + (":" + ",".join(parts) if parts else "")

    def to_json(self) -> dict[str, Any]:
        """The fault as a JSON object (with its runtime counters)."""
        out = {name: getattr(self, name) for name in ("kind", *_KEYS)}
        out.update(spec=self.spec(), matched=self.matched, fired=self.fired)
        return out

    def fresh(self) -> Fault:
        """A copy with its counters at zero."""
        return dataclasses.replace(self, matched=0, fired=0)

    def applies_to(self, path: str) -> bool:
        """Whether a request path is in this fault's scope."""
        return path.startswith(API_PREFIX) and path.startswith(self.path)

    def decide(self, path: str, rng: random.Random) -> bool:
        """Count a request and say whether this fault hits it. The caller holds the lock.

        The random draw only happens when ``p < 1``, so adding a deterministic fault does not
        shift the random sequence of the others.
        """
        if not self.applies_to(path):
            return False
        self.matched += 1
        position = self.matched - self.after
        if position <= 0:
            return False
        if self.every is not None and position % self.every:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        if self.p < 1.0 and rng.random() >= self.p:
            return False
        self.fired += 1
        return True


def _convert(name: str, raw: Any) -> Any:
    if name == "path":
        return str(raw)
    if name == "p":
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"fault p={raw!r} is not a number") from None
    if raw is None and name in ("every", "count", "retry_after"):
        return None
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        return int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"fault {name}={raw!r} is not an integer") from None


def parse_fault_spec(spec: str) -> Fault:
    """Parse ``KIND[:key=val,...]`` into a :class:`Fault`.

    Raises:
        ValueError: unknown kind or key, or a value of the wrong type or range.
    """
    kind, _, rest = spec.strip().partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"fault option {item!r} is not key=value")
        if name not in _KEYS:
            raise ValueError(f"unknown fault option {name!r}; expected one of {', '.join(_KEYS)}")
        kwargs[name] = _convert(name, value.strip())
    return Fault(kind, **kwargs)


FaultLike = str | Fault | Mapping[str, Any]
"""What :func:`coerce_fault` accepts: a spec string, a Fault, or a JSON object."""


def coerce_fault(value: FaultLike) -> Fault:
    """A fresh :class:`Fault` from a spec string, an existing Fault or a JSON object such as
    ``{"kind": "500", "p": 0.5}``.

    Raises:
        ValueError: the value does not describe a valid fault.
    """
    if isinstance(value, Fault):
        return value.fresh()
    if isinstance(value, str):
        return parse_fault_spec(value)
    if isinstance(value, Mapping):
        if "spec" in value and "kind" not in value:
            return parse_fault_spec(str(value["spec"]))
        unknown = set(value) - {"kind", *_KEYS}
        if unknown:
            raise ValueError(f"unknown fault option(s) {', '.join(sorted(unknown))}")
        if "kind" not in value:
            raise ValueError("a fault object needs a kind")
        kwargs = {name: _convert(name, value[name]) for name in _KEYS if name in value}
        return Fault(str(value["kind"]), **kwargs)
    raise ValueError(f"not a fault: {value!r}")


@dataclass(frozen=True)
class Decision:
    """What the faults decided for one request.

    Attributes:
        delay_ms: total delay to apply before answering.
        fault: the failure to answer with, or None to answer normally.
        latency: a ``latency`` fault hit the request.
    """

    delay_ms: int = 0
    fault: Fault | None = None
    latency: bool = False


NO_FAULT: Final = Decision()


class FaultPlan:
    """The active faults of a server, thread-safe.

    Latency faults all apply (their delays add up); of the failing kinds, the first in list
    order that hits wins and the later ones are not counted for that request.
    """

    def __init__(self, faults: Iterable[FaultLike] = (), seed: int = 0) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self.replace(faults)

    def replace(self, faults: Iterable[FaultLike]) -> None:
        """Replace every fault; counters and the random sequence start afresh, so a test
        that sets faults gets the same outcome whatever ran before.

        Raises:
            ValueError: one of them is invalid (then nothing changes).
        """
        fresh = [coerce_fault(f) for f in faults]
        with self._lock:
            self._faults = fresh
            self._rng = random.Random(f"faults-{self._seed}")

    def clear(self) -> None:
        """Remove every fault."""
        self.replace(())

    def snapshot(self) -> list[Fault]:
        """Copies of the active faults with their current counters."""
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def __bool__(self) -> bool:
        return bool(self._faults)

    def pick(self, path: str) -> Decision:
        """Count a request against the faults and decide its fate."""
        if not self._faults or not path.startswith(API_PREFIX):
            return NO_FAULT
        delay = 0
        latency = False
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.kind == "latency":
                    if fault.decide(path, self._rng):
                        delay += fault.ms
                        latency = True
                elif chosen is None and fault.decide(path, self._rng):
                    chosen = fault
                    delay += fault.ms
        if chosen is None and not latency:
            return NO_FAULT
        return Decision(delay, chosen, latency)

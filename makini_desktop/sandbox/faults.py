"""Injected failures for the sandbox: what a flaky network, proxy, upstream or a broken server
does to a client.

A fault is written ``KIND[:key=val,...]``, for example ``500:p=0.3``,
``429:every=5,retry_after=2``, ``reset:count=1,path=/api/eam/assets``, ``latency:ms=800``,
``bad-data:shape=object``, ``trickle:ms=200,bytes=8`` or ``echo-token:status=401``. On
writes: ``503:method=write,count=2`` refuses the next two writes before they are carried
out; ``502:method=write,apply=1,count=1`` carries the next write out and then answers 502
instead (the answer was lost), as does ``reset:method=write,count=1`` with a reset
connection.

The kinds and keys are listed below; the list is generated from :data:`KIND_HELP` and
:data:`KEY_HELP`, the one table that ``makini-desktop sandbox --help`` prints too.

Faults only ever apply to ``/api/`` paths, never to the sandbox's own admin paths. The
body faults (``bad-data``, ``surrogate``, ``xml-illegal``, ``deep``, ``short-total``) change
successful JSON answers only; a request they hit that fails anyway (a 404, say) still counts
as hit.
"""

from __future__ import annotations

import dataclasses
import json
import random
import textwrap
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

# The one table of kinds: the module docstring and ``sandbox --help`` are built from it.
KIND_HELP: Final[dict[str, str]] = {
    "429": "answer 429 with the contract's JSON error and Retry-After (retry_after=, default 1)",
    "500": "answer 500 with the contract's JSON error",
    "502": "answer 502 with the contract's JSON error",
    "503": "answer 503 with the contract's JSON error (Retry-After only with retry_after=)",
    "reset": "send the headers and half the body, then reset the TCP connection",
    "truncate": "promise more bytes in Content-Length than are sent, then close",
    "html": "answer 502 with a proxy's HTML page (text/html), no JSON",
    "latency": "delay the answer by ms= (required) and let it through",
    "bad-data": "the answer's 'data' becomes null (shape=null, the default), an object "
                "wrapping the records (shape=object) or a string (shape=string)",
    "trickle": "send the body bytes= (default 8) at a time with a pause of ms= "
               "(default 200) after each piece, so a read timeout never fires",
    "surrogate": "text fields of each record carry a lone surrogate escape \\ud800 "
                 "(legal JSON, not encodable as UTF-8)",
    "xml-illegal": "text fields of each record carry U+FFFE, U+FFFF and the control "
                   "character U+0001, which XML forbids",
    "deep": "the first record carries a JSON array nested depth= (default 100000) deep",
    "echo-token": "an error that repeats the bearer token it received: status=500 (default, "
                  "JSON message), 401 (JSON message) or 502 (HTML proxy page)",
    "short-total": "a list page leaves out its last record while meta.total still counts "
                   "it, so the rows served fall short of the total",
}
KEY_HELP: Final[dict[str, str]] = {
    "p": "probability 0..1 that a matching request is hit (default 1; drawn from a "
         "random.Random seeded from the server's seed, so a run is reproducible)",
    "every": "hit only every Nth matching request",
    "count": "hit only the first N times, then the fault is inert",
    "after": "let the first N matching requests through",
    "path": "path prefix the fault applies to (default every /api/ path)",
    "retry_after": "Retry-After seconds (429, 503)",
    "ms": "milliseconds: the delay before answering (latency; allowed on every kind "
          "except trickle), or the pause between pieces (trickle)",
    "shape": "bad-data only: null, object or string",
    "bytes": "trickle only: bytes per piece (default 8)",
    "depth": "deep only: nesting depth (default 100000)",
    "status": "echo-token only: 500, 401 or 502",
    "method": "only requests with this method: GET, HEAD, PUT, POST, PATCH, DELETE, or "
              "write (PUT, POST, PATCH, DELETE) or read (GET, HEAD); default every method",
    "apply": "1: carry the request out first, then answer with the fault (a write applied "
             "whose answer is lost); for 429, 500, 502, 503, html and echo-token. reset, "
             "truncate and trickle always break an answer the request already got",
}

FAULT_KINDS: Final[tuple[str, ...]] = tuple(KIND_HELP)
ERROR_STATUS: Final[dict[str, int]] = {"429": 429, "500": 500, "502": 502, "503": 503,
                                       "html": 502}
# Faults that change a successful JSON answer's body instead of replacing the answer.
BODY_KINDS: Final = frozenset({"bad-data", "surrogate", "xml-illegal", "deep", "short-total"})
API_PREFIX: Final = "/api/"
BAD_DATA_SHAPES: Final = ("null", "object", "string")
ECHO_STATUSES: Final = (500, 401, 502)
DEFAULT_TRICKLE_BYTES: Final = 8
DEFAULT_TRICKLE_MS: Final = 200
DEFAULT_DEPTH: Final = 100_000
_INT_KEYS: Final = ("every", "count", "after", "retry_after", "ms", "bytes", "depth", "status",
                    "apply")
_KEYS: Final = ("p", "path", "shape", "method", *_INT_KEYS)
WRITE_METHODS: Final = frozenset({"PUT", "POST", "PATCH", "DELETE"})
READ_METHODS: Final = frozenset({"GET", "HEAD"})
_METHOD_GROUPS: Final = {"WRITE": WRITE_METHODS, "READ": READ_METHODS}
METHOD_CHOICES: Final = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "write", "read")
assert set(_KEYS) == set(KEY_HELP)
# Keys that belong to one kind only.
_KIND_OF_KEY: Final = {"shape": "bad-data", "bytes": "trickle", "depth": "deep",
                       "status": "echo-token"}
# What the text faults add to a record's text fields.
SURROGATE_TEXT: Final = "\ud800"
XML_ILLEGAL_TEXT: Final = "\ufffe\uffff\x01"
TEXT_FIELDS: Final = ("name", "title", "visitorName", "description")


def describe_faults(width: int = 78) -> str:
    """Every fault kind and key with one line of help each, for ``--help`` and the docs."""

    def table(title: str, rows: Mapping[str, str]) -> list[str]:
        pad = max(len(name) for name in rows) + 2
        out = [title]
        for name, text in rows.items():
            out.extend(textwrap.wrap(text, width, initial_indent=f"  {name:<{pad}}",
                                     subsequent_indent=" " * (pad + 2)))
        return out

    lines = textwrap.wrap("Faults: --fault KIND[:key=val,...], for example "
                          "503:p=0.1,retry_after=2 or trickle:ms=200,bytes=8,count=1. "
                          "On writes: 503:method=write,count=2 refuses the next two writes; "
                          "502:method=write,apply=1,count=1 carries the next one out and "
                          "loses its answer.", width)
    lines.append("")
    lines += table("Fault kinds:", KIND_HELP)
    lines += [""] + table("Fault keys:", KEY_HELP)
    return "\n".join(lines) + "\n"


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
        ms: delay in milliseconds before the response (``latency``; also allowed on others),
            or for ``trickle`` the pause after each piece of the body.
        shape: for ``bad-data``, what ``data`` becomes (null, object or string).
        bytes: for ``trickle``, the size of each piece of the body.
        depth: for ``deep``, how deep the nested array goes.
        status: for ``echo-token``, the status of the error that repeats the token.
        method: only requests with this method (or ``write`` / ``read``); None: every one.
        apply: 1 to carry the request out before answering with the fault (the answer
            was lost after the server acted).
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
    shape: str | None = None
    bytes: int | None = None
    depth: int | None = None
    status: int | None = None
    method: str | None = None
    apply: int = 0
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
        for name, kind in _KIND_OF_KEY.items():
            if getattr(self, name) is not None and self.kind != kind:
                raise ValueError(f"fault {name}= only applies to {kind}")
        if self.shape is not None and self.shape not in BAD_DATA_SHAPES:
            raise ValueError(f"fault shape={self.shape!r}; expected one of "
                             f"{', '.join(BAD_DATA_SHAPES)}")
        if self.status is not None and self.status not in ECHO_STATUSES:
            raise ValueError(f"fault status={self.status}; expected one of "
                             f"{', '.join(map(str, ECHO_STATUSES))}")
        for name in ("bytes", "depth"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"fault {name}= must be at least 1")
        if not self.path.startswith("/"):
            raise ValueError(f"fault path={self.path!r} must start with /")
        if self.kind == "latency" and self.ms <= 0:
            raise ValueError("a latency fault needs ms=N (milliseconds)")
        if self.method is not None:
            word = self.method.strip()
            word = word.lower() if word.upper() in _METHOD_GROUPS else word.upper()
            if word not in METHOD_CHOICES:
                raise ValueError(f"fault method={self.method!r}; expected one of "
                                 f"{', '.join(METHOD_CHOICES)}")
            self.method = word
        if self.apply not in (0, 1):
            raise ValueError("fault apply= must be 0 or 1")
        if self.apply and self.http_status is None:
            raise ValueError(f"fault apply=1 only applies to a fault that answers with a "
                             f"status, not {self.kind}")

    @property
    def http_status(self) -> int | None:
        """The HTTP status this fault answers with (None when it lets the answer through)."""
        if self.kind == "echo-token":
            return self.status or ECHO_STATUSES[0]
        return ERROR_STATUS.get(self.kind)

    @property
    def is_body_fault(self) -> bool:
        """The fault rewrites a successful answer's body (see :func:`corrupt_body`)."""
        return self.kind in BODY_KINDS

    @property
    def pause_ms(self) -> int:
        """For ``trickle``: the pause after each piece of the body."""
        return self.ms or DEFAULT_TRICKLE_MS

    @property
    def piece_bytes(self) -> int:
        """For ``trickle``: the size of each piece of the body."""
        return self.bytes or DEFAULT_TRICKLE_BYTES

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

    def applies_to(self, path: str, method: str = "GET") -> bool:
        """Whether a request (path and method) is in this fault's scope."""
        if not (path.startswith(API_PREFIX) and path.startswith(self.path)):
            return False
        if self.method is None:
            return True
        group = _METHOD_GROUPS.get(self.method.upper())
        return method.upper() in group if group is not None else method.upper() == self.method

    def decide(self, path: str, rng: random.Random, method: str = "GET") -> bool:
        """Count a request and say whether this fault hits it. The caller holds the lock.

        The random draw only happens when ``p < 1``, so adding a deterministic fault does not
        shift the random sequence of the others.
        """
        if not self.applies_to(path, method):
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
    if name == "method":
        return None if raw is None else str(raw)
    if name == "shape":
        return None if raw is None else str(raw).strip().lower()
    if name == "p":
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"fault p={raw!r} is not a number") from None
    if raw is None and name in ("every", "count", "retry_after", "bytes", "depth", "status"):
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

    def add(self, fault: FaultLike) -> Fault:
        """Add a fault after the others (their counters and the random sequence go on).

        Raises:
            ValueError: an invalid fault.
        """
        fresh = coerce_fault(fault)
        with self._lock:
            self._faults.append(fresh)
        return fresh

    def snapshot(self) -> list[Fault]:
        """Copies of the active faults with their current counters."""
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def __bool__(self) -> bool:
        return bool(self._faults)

    def pick(self, path: str, method: str = "GET") -> Decision:
        """Count a request against the faults and decide its fate."""
        if not self._faults or not path.startswith(API_PREFIX):
            return NO_FAULT
        delay = 0
        latency = False
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.kind == "latency":
                    if fault.decide(path, self._rng, method):
                        delay += fault.ms
                        latency = True
                elif chosen is None and fault.decide(path, self._rng, method):
                    chosen = fault
                    if fault.kind != "trickle":  # its ms is the pause between pieces
                        delay += fault.ms
        if chosen is None and not latency:
            return NO_FAULT
        return Decision(delay, chosen, latency)


_DEEP_MARK: Final = "__sandbox_deep__"


def corrupt_body(fault: Fault, body: bytes) -> bytes:
    """A successful JSON answer's body as a body fault changes it.

    ``data`` may be a list of records (a list page) or one record (a single record or the
    integration). A body that is not a JSON object with ``data`` comes back unchanged.
    """
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    if not isinstance(doc, dict) or "data" not in doc:
        return body
    data = doc["data"]
    records = [r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict)]
    kind = fault.kind
    if kind == "bad-data":
        shape = fault.shape or BAD_DATA_SHAPES[0]
        doc["data"] = {"null": None, "object": {"items": data},
                       "string": "Service temporarily degraded"}[shape]
    elif kind in ("surrogate", "xml-illegal"):
        extra = SURROGATE_TEXT if kind == "surrogate" else XML_ILLEGAL_TEXT
        for rec in records:
            for name in TEXT_FIELDS:
                if isinstance(rec.get(name), str):
                    rec[name] = f"{rec[name]} {extra}"
    elif kind == "deep":
        if not records:
            return body
        records[0]["extra"] = _DEEP_MARK
    elif kind == "short-total":
        if isinstance(data, list) and data and isinstance(doc.get("meta"), dict):
            data.pop()
    # ensure_ascii: a lone surrogate can only travel as an escape (it has no UTF-8 form).
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True)
    if kind == "deep":
        depth = fault.depth or DEFAULT_DEPTH
        text = text.replace(json.dumps(_DEEP_MARK), "[" * depth + "]" * depth, 1)
    return text.encode("ascii")


# The docstring lists every kind and key from the one table above.
__doc__ = (__doc__ or "") + "\n" + describe_faults()

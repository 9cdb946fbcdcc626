"""Typed errors of the Makini API client (contract §4).

One class, :class:`MakiniError`, carries everything a person or a support engineer needs:
HTTP status, code, type, message and request ID, plus what the client already did about it
(retries). Transport failures (no network, timeouts) are the subclass
:class:`MakiniConnectionError` so the app can go offline instead of showing a dialog.

A 2xx answer the client cannot use as sent (not JSON, a list page whose ``data`` is not a
list, JSON nested too deep, pages that do not add up) is :class:`MalformedResponseError`, so a
caller can refuse to keep anything from a walk that raised it.

No error holds a token: the request's headers are never copied into one, and every text
that comes from the server (message, field messages, body excerpt) goes through
:func:`makini_desktop.redact.scrub` when the error is built, with the client's own token
passed in (:func:`error_from_response`, :func:`scrub_error`), so whatever shows an error (CLI
stderr, logs, dialogs, Copy details, exports) shows it masked.
"""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.redact import scrub

# Contract §4's table: status -> (code, type, retryable for idempotent requests).
STATUS_TABLE: Mapping[int, tuple[str, str, bool]] = {
    400: ("INVALID_REQUEST", "invalid_request", False),
    401: ("AUTHENTICATION_FAILED", "authentication", False),
    403: ("PERMISSION_DENIED", "permission", False),
    404: ("NOT_FOUND", "not_found", False),
    405: ("METHOD_NOT_ALLOWED", "not_supported", False),
    409: ("CONFLICT", "conflict", False),
    422: ("VALIDATION_FAILED", "validation", False),
    429: ("RATE_LIMIT_EXCEEDED", "rate_limit", True),
    500: ("INTERNAL_ERROR", "api_error", True),
    502: ("UPSTREAM_ERROR", "upstream", True),
    503: ("SERVICE_UNAVAILABLE", "unavailable", True),
}

RETRYABLE_STATUSES = frozenset(s for s, (_, _, retry) in STATUS_TABLE.items() if retry)
AUTH_CODES = frozenset({"AUTHENTICATION_FAILED", "REAUTHORIZATION_REQUIRED"})

_HUMAN_STATUS: Mapping[int, str] = {
    400: "The server rejected the request as invalid.",
    401: "The connection's token was not accepted (expired, revoked or wrong).",
    403: "This token is not allowed to do that.",
    404: "The server does not know this resource.",
    405: "This connection's system does not offer that change.",
    409: "The record changed in a way that conflicts with this request.",
    422: "The server rejected the values sent.",
    429: "The connection's rate limit was exceeded.",
    500: "The server had an internal error.",
    502: "The customer's system behind Makini did not answer properly.",
    503: "The service is temporarily unavailable.",
}

EXCERPT_CHARS = 200


def status_row(status: int) -> tuple[str, str]:
    """Code and type for a status: the table row, else the row of its class (4xx/5xx)."""
    if status in STATUS_TABLE:
        code, type_, _ = STATUS_TABLE[status]
        return code, type_
    if 500 <= status < 600:
        return "INTERNAL_ERROR", "api_error"
    if status == 0:
        return "NETWORK_ERROR", "network"
    return "INVALID_REQUEST", "invalid_request"


@dataclass
class MakiniError(Exception):
    """An API call that failed, with everything support needs.

    Attributes:
        status: HTTP status (0 when no response was received).
        code: machine code, e.g. ``RATE_LIMIT_EXCEEDED``.
        type: error type, e.g. ``rate_limit``.
        message: the human message (the server's, or a fixed one).
        request_id: the request ID to quote to support ("" when unknown).
        method: the request's method.
        path: the request's path and query (never with credentials).
        field_errors: 422 field -> messages.
        body_excerpt: for a body that was not JSON, its first characters.
        retries: how many times the client retried before giving up.
        retry_seconds: how long those retries took in total.
        retry_after: for a 429/503, the server's requested wait in seconds.
    """

    status: int
    code: str
    type: str
    message: str
    request_id: str = ""
    method: str = ""
    path: str = ""
    field_errors: Mapping[str, list[str]] | None = None
    body_excerpt: str = ""
    retries: int = 0
    retry_seconds: float = 0.0
    retry_after: float | None = None

    def __post_init__(self) -> None:
        # Registered secrets and bearer-looking credentials never survive into an error.
        scrub_error(self)

    def __str__(self) -> str:
        return self.one_line()

    def __reduce__(self) -> Any:  # dataclass exceptions pickle through their fields
        return (_rebuild, (self.__class__, self.__dict__.copy()))

    # -- classification -------------------------------------------------------------------

    @property
    def is_auth(self) -> bool:
        """The token is no longer accepted: the user must reconnect."""
        return self.status == 401 or self.code in AUTH_CODES

    @property
    def is_not_found(self) -> bool:
        return self.status == 404

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429

    @property
    def is_connection(self) -> bool:
        """No HTTP response at all (offline, DNS, refused, timeout)."""
        return False

    @property
    def retryable(self) -> bool:
        """Retrying the same idempotent request may succeed."""
        # A success whose body is not JSON is usually a proxy cutting the body short.
        return (
            self.status in RETRYABLE_STATUSES
            or 500 <= self.status < 600
            or self.code == "INVALID_RESPONSE"
        )

    # -- presentation ---------------------------------------------------------------------

    def one_line(self) -> str:
        """``<CODE> (HTTP <status>): <message> [request id: <id>]`` as the CLI prints it."""
        head = f"{self.code} (HTTP {self.status}): {self.message}" if self.status else (
            f"{self.code}: {self.message}"
        )
        return f"{head} [request id: {self.request_id}]" if self.request_id else head

    def summary(self) -> str:
        """What happened, in a sentence a facilities manager understands."""
        if self.code == "TLS_ERROR":
            return ("The server's certificate could not be verified, so nothing was sent. "
                    "Your network may inspect secure connections; ask your IT team.")
        base = _HUMAN_STATUS.get(self.status) or (
            "The server had an error." if self.status >= 500 else "The request failed."
        )
        return base

    def what_was_done(self) -> str:
        """What the client already did about it, e.g. "Retried 3 times over 20 s."."""
        if not self.retries:
            if self.retryable:
                return "No retry was possible."
            return "The request was not retried."
        times = "once" if self.retries == 1 else f"{self.retries} times"
        return f"Retried {times} over {self.retry_seconds:.0f} s."


class MakiniConnectionError(MakiniError):
    """No response: DNS failure, connection refused or reset, TLS failure or a timeout."""

    @property
    def is_connection(self) -> bool:
        return True

    @property
    def retryable(self) -> bool:
        return True

    def summary(self) -> str:
        if self.code == "TIMEOUT":
            return "The server did not answer in time."
        return "The server could not be reached."


class LocalSetupError(MakiniConnectionError):
    """This computer's own settings stop the first request before anything is sent, found
    as it builds the connection's client: ``PROXY_UNUSABLE`` (a proxy variable httpx cannot
    use) or ``TLS_SETUP`` (the system's certificate store could not be read).

    A connection error, so that what waits to be sent keeps waiting (the outbox does not
    settle a change as refused by a server that never saw it) and the window shows the
    connection as unreachable; not retried, since the same settings fail the same way.
    """

    @property
    def retryable(self) -> bool:
        return False

    def summary(self) -> str:
        if self.code == "TLS_SETUP":
            return "This computer's certificate store could not be read, so nothing was sent."
        return "This computer's proxy settings cannot be used, so nothing was sent."


class NotFoundError(MakiniError):
    """``404 NOT_FOUND``: the record is unknown or soft-deleted (on a write, contract §6.2),
    or a module's collection the system does not offer (on a read, contract §2)."""


class NotOfferedError(MakiniError):
    """The connection's system does not offer this write (``405 METHOD_NOT_ALLOWED``, or a
    ``404`` on a registration, contract §6): disable the action for the connection instead
    of showing an error each time."""

    def summary(self) -> str:
        return "This connection's system does not offer that change."


class ConflictError(MakiniError):
    """``409 CONFLICT``: the record changed meanwhile, or the change is not allowed from its
    status (contract §6.2).

    Attributes:
        current: the record as the server has it (``error.current``), or None when the
            server sent none.
    """

    current: Mapping[str, Any] | None = None

    def summary(self) -> str:
        return "Someone else changed this record meanwhile, so the change was not made."


class ValidationFailedError(MakiniError):
    """``422 VALIDATION_FAILED``: the values sent were refused; :attr:`field_errors` holds the
    server's messages per field (for the form), and :attr:`message` the overall one. Also
    the answer to an ``Idempotency-Key`` reused with another body (contract §6.1)."""


class RateLimitedError(MakiniError):
    """``429 RATE_LIMIT_EXCEEDED`` that outlasted the client's retries; :attr:`retry_after`
    is the server's requested wait (the client's pacer already honoured it)."""


class SlowAnswerError(MakiniError):
    """The server answered, but not completely within the client's overall deadline (code
    ``TOO_SLOW``): it sends its body a few bytes at a time, or a proxy stalls it.

    Not a connection error: the server is reachable, so the app does not claim to be
    offline. Not retried either: a server that trickled once would keep the user waiting
    the whole deadline again on every retry.
    """

    @property
    def retryable(self) -> bool:
        return False

    def summary(self) -> str:
        return "The server answered too slowly, so its answer was not used."


class MalformedResponseError(MakiniError):
    """A successful (2xx) answer that cannot be used as sent.

    Codes: ``INVALID_RESPONSE`` (not JSON; retried, since it is usually a proxy cutting the
    body short), ``MALFORMED_RESPONSE`` (JSON of the wrong shape, e.g. a list page whose
    ``data`` is null, an object or a string, or JSON nested too deeply to read),
    ``PAGINATION_STALLED`` (pages that do not advance). Nothing from a list walk that raised
    it is a complete list.
    """

    def summary(self) -> str:
        return "The server's answer was malformed, so it was not used."


class IncompleteListError(MalformedResponseError):
    """A list walk that ended without every record the server said it has (code
    ``INCOMPLETE_LIST``): the rows received disagree with ``meta.total``, or a page before the
    last came back empty. Nothing from such a walk is saved or written; see
    :class:`makini_desktop.api.pagination.WalkTally`. Callers walk the list once more before they
    report it (the list often changed under the walk), so it is not retried again.
    """

    @classmethod
    def for_counts(
        cls, what: str, *, received: int, total: int | None, request_id: str = "",
        path: str = "",
    ) -> IncompleteListError:
        """The error for a walk that received ``received`` of ``total`` ``what``."""
        if total is None:
            text = f"The server sent an incomplete list of {what}; the list was not saved."
        else:
            text = (f"The server sent {received:,} of {total:,} {what}; "
                    "the list was not saved.")
        return cls(200, "INCOMPLETE_LIST", "api_error", text, request_id=request_id,
                   method="GET", path=path)

    @property
    def retryable(self) -> bool:
        return False  # the walk was already made twice

    def summary(self) -> str:
        return self.message


class InsecureUrlError(ValueError):
    """A base URL that would send a token in clear text (``http://`` to a non-loopback host)."""


def scrub_error(err: MakiniError, secrets: Iterable[str] = ()) -> MakiniError:
    """Mask secrets in every text of an error that may come from the server, in place.

    Args:
        err: the error; its message, code, type, request ID, path, body excerpt and field
            messages are scrubbed.
        secrets: tokens to mask besides the registered ones (the client's own token).

    Returns:
        The same error, for ``raise scrub_error(err, ...)``.
    """
    extra = tuple(secrets)
    for name in ("message", "code", "type", "request_id", "path", "body_excerpt"):
        value = getattr(err, name)
        if isinstance(value, str):
            setattr(err, name, scrub(value, extra))
    if err.field_errors:
        err.field_errors = {
            scrub(k, extra): [scrub(m, extra) for m in v] for k, v in err.field_errors.items()
        }
    Exception.__init__(err, err.one_line())
    return err


def _rebuild(cls: type[MakiniError], fields: dict[str, Any]) -> MakiniError:
    err = cls.__new__(cls)
    err.__dict__.update(fields)
    Exception.__init__(err, err.one_line())
    return err


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def error_from_response(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str = "",
    path: str = "",
    secrets: Iterable[str] = (),
) -> MakiniError:
    """Build the typed error for a non-2xx response, reading each part in contract §4 order.

    Request ID: ``error.request_id``, ``request_id``, then the ``X-Request-Id`` header.
    Message: ``error.message``, ``message``, then the HTTP reason. Code: ``error.code``,
    ``code``, then the status's table row. A body that is not JSON (a proxy's HTML page, a
    truncated response) still gives the status, the header's request ID and an excerpt.
    Every text is scrubbed of ``secrets`` (and of registered ones) before it is cut short, so
    a token cannot survive half-masked at the end of an excerpt.
    """
    extra = tuple(secrets)
    parsed: Any = None
    is_json = False
    try:
        parsed = json.loads(body) if body else None
        is_json = parsed is not None
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = None
    doc: Mapping[str, Any] = parsed if isinstance(parsed, Mapping) else {}
    inner_raw = doc.get(res.ERR_ENVELOPE)
    inner: Mapping[str, Any] = inner_raw if isinstance(inner_raw, Mapping) else {}

    def first(*values: Any) -> str:
        for v in values:
            text = _text(v).strip()
            if text:
                return text
        return ""

    header_id = headers.get("x-request-id", "") or headers.get("X-Request-Id", "")
    request_id = first(inner.get(res.ERR_REQUEST_ID), doc.get(res.ERR_REQUEST_ID), header_id)
    table_code, table_type = status_row(status)
    code = first(inner.get(res.ERR_CODE), doc.get(res.ERR_CODE), table_code)
    # An unknown code keeps its text but is classified by its status row's type.
    type_ = first(inner.get(res.ERR_TYPE), doc.get(res.ERR_TYPE), table_type)
    message = first(
        inner.get(res.ERR_MESSAGE),
        doc.get(res.ERR_MESSAGE),
        inner_raw if isinstance(inner_raw, str) else None,
        reason,
        f"HTTP {status}",
    )
    excerpt = ""  # the message is scrubbed with the rest of the error below (scrub_error)
    if not is_json and body:
        excerpt = _excerpt(body, extra)
        if excerpt:
            message = f"{message} (the server's answer was not JSON: {shorten(excerpt, 80)})"
    field_errors_raw = doc.get(res.ERR_FIELDS)
    field_errors: dict[str, list[str]] | None = None
    if isinstance(field_errors_raw, Mapping):
        field_errors = {
            str(k): [_text(m) for m in (v if isinstance(v, list) else [v])]
            for k, v in field_errors_raw.items()
        }
    err = _STATUS_CLASSES.get(status, MakiniError)(
        status=status,
        code=code,
        type=type_,
        message=message,
        request_id=request_id,
        method=method,
        path=path,
        field_errors=field_errors,
        body_excerpt=excerpt,
        retry_after=None,
    )
    if isinstance(err, ConflictError):
        current = inner.get(res.ERR_CURRENT)
        err.current = dict(current) if isinstance(current, Mapping) else None
    return scrub_error(err, extra)


_STATUS_CLASSES: Mapping[int, type[MakiniError]] = {
    404: NotFoundError,
    405: NotOfferedError,
    409: ConflictError,
    422: ValidationFailedError,
    429: RateLimitedError,
}


def _excerpt(body: bytes, secrets: Iterable[str] = ()) -> str:
    """A short, single-line, tag-free excerpt of a body for a person to read, scrubbed of
    ``secrets`` before it is cut."""
    import re

    text = body[: EXCERPT_CHARS * 8].decode("utf-8", errors="replace")
    text = scrub(text, tuple(secrets))
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]*>", " ", text)
    return shorten(re.sub(r"\s+", " ", text).strip(), EXCERPT_CHARS)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with "…" when cut,
    so no half word ("n" of "nginx") reads as what the server said."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


# What the operating system's words for a failed connect mean, for a person; its own words
# follow in brackets, for support (Linux, macOS and Windows spell them differently, and
# Windows in the user's language: its error numbers are matched too).
_CONNECT_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("name or service not known", "nodename nor servname", "getaddrinfo failed",
      "no address associated", "temporary failure in name resolution", "errno 11001"),
     "its address could not be found (check the address, or the network)"),
    (("connection refused", "actively refused", "winerror 10061"),
     "nothing answers at that address (the server may be down, or the port wrong)"),
    (("network is unreachable", "no route to host", "winerror 10051", "winerror 10065"),
     "the network cannot reach it (is this computer online?)"),
)


def connect_reason(exc: BaseException) -> str:
    """Why a connection could not be made, in words, the system's own after them (those
    of the errors underneath: httpx says "All connection attempts failed" over them, one
    per address the name resolved to, in an exception group)."""
    found: list[BaseException] = []
    waiting: list[BaseException] = [exc]
    while waiting and len(found) < 20:
        link = waiting.pop(0)
        if link in found:
            continue
        found.append(link)
        waiting += list(getattr(link, "exceptions", ()))  # an ExceptionGroup's members
        cause = link.__cause__ or link.__context__
        if cause is not None:
            waiting.append(cause)
    deepest = [e for e in found[1:] if isinstance(e, OSError) and str(e)]
    shown = deepest[-1] if deepest else exc
    raw = (str(shown).strip() or type(shown).__name__)[:160]
    for link in reversed(found):
        words = _connect_words(link)
        if words:
            return f"{words} [{raw}]"
    return raw


def _connect_words(exc: BaseException) -> str | None:
    if isinstance(exc, socket.gaierror):
        return _CONNECT_WORDS[0][1]
    if isinstance(exc, ConnectionRefusedError):
        return _CONNECT_WORDS[1][1]
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return _CONNECT_WORDS[2][1]
    lowered = str(exc).lower()
    return next((words for needles, words in _CONNECT_WORDS
                 if any(n in lowered for n in needles)), None)

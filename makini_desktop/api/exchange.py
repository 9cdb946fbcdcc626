"""One HTTP exchange, wherever it runs: the request, its JSON decoded, and what went wrong
said as plain values.

An exchange runs on one of three places (see :class:`~makini_desktop.api.client.MakiniClient`):
inline on the caller's loop (a test's transport), on a thread of the caller's process
(:mod:`~makini_desktop.api.http_thread`, the command line) or in the window's HTTP helper
process (:mod:`~makini_desktop.api.http_helper`). Each calls :func:`perform`, so each sends
the same request, decodes the same way and reports a failure of the network as the same
:class:`TransportFailedError`, which holds only text and so crosses a process boundary as it
is. The client turns it into the typed error the user sees, in one place.

No Qt, no widgets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from makini_desktop.api.errors import MakiniConnectionError, MakiniError, connect_reason

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BODY_SIZE",
    "Exchange",
    "TransportFailedError",
    "body_size",
    "decode_json",
    "failure_of",
    "perform",
    "transport_error",
]

BODY_SIZE = "makini.body_size"
"""A response's extension holding its body's size where the body itself was not kept
(an answer decoded in the helper process arrives as its JSON only)."""


class Exchange:
    """One answer: the response (its body read) and its JSON, decoded where it arrived.

    Attributes:
        response: the response.
        doc: the decoded JSON (None for an empty body, or when decoding failed).
        error: the exception decoding raised (``ValueError``, ``UnicodeDecodeError``,
            ``RecursionError``), re-raised by the caller as a typed error.
    """

    __slots__ = ("doc", "error", "response")

    def __init__(self, response: httpx.Response, doc: Any, error: BaseException | None):
        self.response = response
        self.doc = doc
        self.error = error


class TransportFailedError(Exception):
    """The network failed the exchange: no answer, or an answer broken off.

    Attributes:
        kind: ``timeout`` (httpx's connect, read, write or pool timeout), ``tls`` (the
            certificate could not be verified), ``connect`` (nothing could be reached),
            ``lost`` (the connection broke off, a protocol error), ``redirects`` or
            ``helper`` (the app's HTTP helper process stopped, or did not start).
        detail: the words shown after the client's own (the kind of timeout, the reason).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def failure_of(exc: BaseException) -> TransportFailedError | None:
    """``exc`` (an httpx exception) as a :class:`TransportFailedError`; None for any other."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TransportFailedError("timeout", _exc_name(exc))
    if isinstance(exc, httpx.ConnectError):
        # Not "offline": a certificate problem does not heal by waiting, and the user
        # must see it (a TLS-inspecting proxy, an expired certificate).
        if _is_tls(exc):
            return TransportFailedError("tls", _reason(exc))
        return TransportFailedError("connect", connect_reason(exc))
    if isinstance(exc, httpx.TransportError | httpx.DecodingError):
        # A reset or truncated body mid-response, a protocol error, a proxy hiccup.
        return TransportFailedError("lost", _reason(exc))
    if isinstance(exc, httpx.TooManyRedirects):
        return TransportFailedError("redirects", "")
    return None


_READ: Any = None  # an empty httpx.ByteStream, made at the first answer


def decode_json(response: httpx.Response) -> Exchange:
    """The response (its body read) with its JSON decoded (a successful answer's only;
    errors are read by ``errors.error_from_response`` from the raw body).

    The response's stream, already read and closed, is let go: httpx's stream refers back
    to its response, a reference cycle only the cyclic garbage collector frees, and the
    app freezes what survives a collection while a list loads (``sync/page_feed.py``'s
    ``settle_garbage``), so every response in flight at that moment, its body with it, was
    kept for good (33 MB after a first load of 175k rows).
    """
    global _READ
    if response.is_stream_consumed and response.is_closed:
        if _READ is None:
            import httpx

            _READ = httpx.ByteStream(b"")
        response.stream = _READ
    if not response.is_success or not response.content:
        return Exchange(response, None, None)
    try:
        return Exchange(response, json.loads(response.content), None)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return Exchange(response, None, exc)


async def perform(
    http: httpx.AsyncClient, method: str, url: str, params: Mapping[str, Any] | None,
    body: Any, headers: Mapping[str, str], timeout: httpx.Timeout | None,
) -> Exchange:
    """The HTTP request itself and its JSON decoded.

    Raises:
        TransportFailedError: the network failed it.
    """
    import httpx

    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    try:
        response = await http.request(
            method, url, params=params, json=body, headers=headers, **extra,
        )
    except httpx.HTTPError as exc:
        failure = failure_of(exc)
        if failure is None:
            raise
        raise failure from None
    return decode_json(response)


def transport_error(
    failure: TransportFailedError, host: str, *, request_id: str, method: str, path: str,
) -> MakiniError:
    """The typed error the user sees of a failure of the network talking to ``host``."""
    where: dict[str, Any] = {"request_id": request_id, "method": method, "path": path}
    detail = failure.detail
    if failure.kind == "timeout":
        return MakiniConnectionError(
            0, "TIMEOUT", "network", f"No answer from the server in time ({detail}).", **where)
    if failure.kind == "tls":
        return MakiniError(
            0, "TLS_ERROR", "network",
            f"The certificate of {host} could not be verified: {detail}", **where)
    if failure.kind == "connect":
        return MakiniConnectionError(
            0, "CONNECTION_FAILED", "network", f"Could not connect to {host}: {detail}",
            **where)
    if failure.kind == "redirects":
        return MakiniError(0, "TOO_MANY_REDIRECTS", "invalid_request",
                           "The server redirected too often.", **where)
    if failure.kind == "helper":
        return MakiniConnectionError(
            0, "CONNECTION_LOST", "network", f"The request was lost: {detail}.", **where)
    return MakiniConnectionError(
        0, "CONNECTION_LOST", "network",
        f"The connection broke off during the response ({detail}).", **where)


def body_size(response: httpx.Response) -> int:
    """The size of the response's body, read or not."""
    size = response.extensions.get(BODY_SIZE)
    return len(response.content) if size is None else int(size)


def _exc_name(exc: BaseException) -> str:
    return type(exc).__name__.replace("Timeout", " timeout").strip().lower()


def _is_tls(exc: BaseException) -> bool:
    text = repr(exc).lower()
    return "ssl" in text or "certificate" in text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:160]

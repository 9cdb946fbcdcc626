"""The sandbox's HTTP plumbing: requests off the wire, responses (and wire faults) onto it.

:class:`SandboxHTTPServer` is a ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive, one
thread per connection, that can close every connection when it stops. Its handler turns
each request into a :class:`Request` (headers lower-cased, body read), hands it to the
server's ``handle`` callable and writes the :class:`Response` back, applying a transport
fault on the way if the response carries one (``reset``, ``truncate``, ``trickle``).

The response builders (:func:`json_response`, :func:`error_response`, the faults' own
answers in :func:`fault_response`) give every answer the contract's shape (§4) and an
``X-Request-Id``. Nothing here knows a route or holds the sandbox's data.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from makini_desktop import __version__
from makini_desktop.api.errors import status_row
from makini_desktop.sandbox.faults import Fault, corrupt_body
from makini_desktop.sandbox.ratelimit import RateDecision, RateLimiter

log = logging.getLogger(__name__)

MAX_BODY: Final = 1 << 20
JSON_TYPE: Final = "application/json"
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PROXY_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the contract's server sends it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_request_id() -> str:
    """A request ID in the contract's style: ``req_`` and a 26-character ULID (time-ordered)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "req_" + "".join(reversed(chars))


def client_request_id(raw: str | None) -> str | None:
    """The client's X-Request-Id if it is safe to echo (printable ASCII, sane length)."""
    if raw is None:
        return None
    raw = raw.strip()
    if 0 < len(raw) <= 200 and all(33 <= ord(ch) < 127 for ch in raw):
        return raw
    return None


@dataclass
class Request:
    """A parsed request; header names are lower-cased."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    host: str


@dataclass
class Response:
    """A response to write; ``transport_fault`` makes :class:`SandboxHTTPServer` break it."""

    status: int
    body: bytes
    request_id: str
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    transport_fault: str | None = None  # "reset", "truncate" or "trickle"
    fault: Fault | None = None  # the transport fault's settings


def error_response(
    status: int,
    rid: str,
    message: str,
    rate: RateDecision,
    *,
    errors: Mapping[str, list[str]] | None = None,
    code: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    current: Mapping[str, Any] | None = None,
) -> Response:
    """A contract §4 error response; ``current`` is a 409's record as the server has it
    (``error.current``, contract §6.2)."""
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
    if current is not None:
        body["error"]["current"] = dict(current)
    if errors is not None:
        body["errors"] = dict(errors)
    out = list(rate.headers())
    out.extend(headers)
    return Response(status, dumps(body), rid, JSON_TYPE, out)


def json_response(payload: Any, rid: str, rate: RateDecision, status: int = 200) -> Response:
    """A JSON success response with the rate-limit headers."""
    return Response(status, dumps(payload), rid, JSON_TYPE, rate.headers())


def method_not_allowed(rid: str, rate: RateDecision, allow: str) -> Response:
    """``405`` with ``Allow`` and the code ``METHOD_NOT_ALLOWED``."""
    return error_response(405, rid, "The method is not allowed for this path.", rate,
                          code="METHOD_NOT_ALLOWED", headers=[("Allow", allow)])


def fault_response(fault: Fault, rid: str, rate: RateDecision, token: str) -> Response:
    """The answer of a fault that replaces the response (a 5xx, a 429, a proxy page)."""
    if fault.kind == "html":
        return Response(502, _PROXY_PAGE, rid, "text/html", rate.headers())
    status = fault.http_status or 500
    if fault.kind == "echo-token":
        return _echo_token(status, rid, rate, token)
    messages = {
        429: "Rate limit exceeded for this connection.",
        500: "An unexpected error occurred. Please try again later.",
        502: "The connected system did not respond properly.",
        503: "The service is temporarily unavailable.",
    }
    if status == 429:
        wait = fault.retry_after if fault.retry_after is not None else 1
        rate = RateDecision(False, rate.limit, 0, wait, int(time.time()) + wait)
        return error_response(429, rid, messages[429], rate)
    resp = error_response(status, rid, messages.get(status, "Server error."), rate)
    if status == 503 and fault.retry_after is not None:
        resp.headers.append(("Retry-After", str(fault.retry_after)))
    return resp


def _echo_token(status: int, rid: str, rate: RateDecision, token: str) -> Response:
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
        return Response(502, page.encode("utf-8"), rid, "text/html", rate.headers())
    if status == 401:
        return error_response(401, rid, f"The credential {token} is not valid for this "
                              "tenant.", rate)
    return error_response(500, rid, f"Upstream call failed with credential {token} "
                          f"(sent as Authorization: Bearer {token}).", rate)


def with_fault(resp: Response, fault: Fault) -> Response:
    """``resp`` as a fault that lets the request through spoils it: a body fault corrupts a
    JSON success body, a transport fault is left for the wire (see :meth:`_Handler._write`)."""
    if fault.is_body_fault:
        if 200 <= resp.status < 300 and resp.content_type == JSON_TYPE:
            resp.body = corrupt_body(fault, resp.body)
    else:
        resp.transport_fault = fault.kind
        resp.fault = fault
    return resp


# ---------------------------------------------------------------------------------------
# The wire


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its connections, so stop() can close idle keep-alive
    connections and join their threads instead of leaving them blocked on a read.

    Args:
        address: (host, port) to listen on; an IPv6 host listens on IPv6.
        answer: answers one request (called on the connection's thread).
        limiter: the rate limiter whose headers the plumbing's own errors carry.
        stopping: set when the server stops: ends a trickling response early.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        answer: Callable[[Request], Response],
        limiter: RateLimiter,
        stopping: threading.Event,
    ) -> None:
        self.answer = answer
        self.limiter = limiter
        self.stopping = stopping
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
    """One connection: reads requests off it and writes the answers (keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = f"makini-sandbox/{__version__}"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    server: SandboxHTTPServer

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
        rate = self.server.limiter.peek(None)
        headers = getattr(self, "headers", None)
        raw_id = headers.get("X-Request-Id") if headers is not None else None
        rid = client_request_id(raw_id) or new_request_id()
        # The request's body (if any) was not read, so the connection cannot be reused.
        self.close_connection = True
        if code == 501:  # an HTTP method nobody implements here
            resp = method_not_allowed(rid, rate, "GET, HEAD, PUT, POST, DELETE")
        else:
            resp = error_response(code, rid, message or "The request could not be understood.",
                                  rate)
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
        server = self.server
        body = self._read_body()
        target = urlsplit(self.path)
        # Header names are case-insensitive: keep one lower-cased dict for the app.
        headers = {name.lower(): str(value) for name, value in self.headers.items()}
        host = headers.get("host") or "{}:{}".format(*server.server_address[:2])
        if body is None:
            self.close_connection = True
            rid = client_request_id(headers.get("x-request-id")) or new_request_id()
            self._write(error_response(
                400, rid, "The request body could not be read (Content-Length missing, "
                "invalid or too large).", server.limiter.peek(None)))
            return
        req = Request(
            method=self.command,
            path=target.path or "/",
            params=parse_qsl(target.query, keep_blank_values=True),
            headers=headers,
            body=body,
            host=host.strip(),
        )
        try:
            resp = server.answer(req)
        except Exception:
            log.exception("sandbox: unhandled error for %s %s", self.command, self.path)
            rid = client_request_id(headers.get("x-request-id")) or new_request_id()
            resp = error_response(500, rid, "An unexpected error occurred in the sandbox.",
                                  server.limiter.peek(None))
        self._write(resp)

    def _write(self, resp: Response) -> None:
        """Headers and body in one write, or broken as the response's transport fault says."""
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
        stopping = self.server.stopping
        self.wfile.write(head)
        size = fault.piece_bytes
        for start in range(0, len(body), size):
            self.wfile.write(body[start:start + size])
            if stopping.wait(fault.pause_ms / 1000.0):
                return

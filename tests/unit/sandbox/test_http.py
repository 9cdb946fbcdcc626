"""The sandbox's wire (sandbox/http.py): request IDs, headers, keep-alive, HEAD and
the JSON bodies of protocol errors, over real HTTP on loopback."""

from __future__ import annotations

import re
import socket

import httpx

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, assert_error

REQUEST_ID_RE = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


def test_every_response_has_request_id_and_rate_headers(shared_client: httpx.Client) -> None:
    """Responses carry a generated req_ ULID request ID and rate-limit headers."""
    response = shared_client.get(res.SITES.path)
    assert REQUEST_ID_RE.match(response.headers["x-request-id"])
    assert response.headers["x-ratelimit-limit"] == "100000"
    assert response.headers["x-ratelimit-remaining"] == "100000"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.http_version == "HTTP/1.1"
    assert "connection" not in response.headers


def test_client_request_id_is_echoed(shared_client: httpx.Client) -> None:
    """A client's X-Request-Id comes back in the header and in an error body."""
    ok = shared_client.get(res.SITES.path, headers={"X-Request-Id": "abc-123"})
    assert ok.headers["x-request-id"] == "abc-123"
    missing = shared_client.get(res.SITES.record_path("nope"), headers={"X-Request-Id": "r-9"})
    body = assert_error(missing, 404, "NOT_FOUND")
    assert body["error"]["request_id"] == "r-9"


def test_keep_alive_reuses_one_connection(shared_server: SandboxServer) -> None:
    """Several requests go over one kept-alive connection."""
    with httpx.Client(base_url=shared_server.url, headers=AUTH,
                      limits=httpx.Limits(max_connections=1)) as c:
        ports = set()
        for _ in range(3):
            response = c.get(res.SITES.path, extensions={})
            assert response.status_code == 200
            stream = response.extensions["network_stream"]
            ports.add(stream.get_extra_info("client_addr"))
        assert len(ports) == 1


def test_head_sends_headers_only(shared_client: httpx.Client) -> None:
    """HEAD answers the GET's headers and no body."""
    response = shared_client.head(res.SITES.path)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def _raw(server: SandboxServer, request: bytes) -> bytes:
    with socket.create_connection((server.config.host, server.port)) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_protocol_errors_get_json_bodies(shared_server: SandboxServer) -> None:
    """An unknown method or a garbled request line still gets a JSON error with a request ID."""
    answer = _raw(shared_server, b"BREW /api/eam/sites HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405")
    assert b"X-Request-Id: req_" in head
    assert b'"METHOD_NOT_ALLOWED"' in body
    answer = _raw(shared_server, b"this is not http\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"INVALID_REQUEST"' in answer

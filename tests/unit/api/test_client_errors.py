"""The client's typed errors (contract §4-§5), over scripted mock responses."""

from __future__ import annotations

import json

import httpx
import pytest

from makini_desktop.api.errors import MakiniError
from tests.helpers.mockapi import TOKEN, error_body, make_client, run

ERROR_TABLE = [
    # status, code, type, retried
    (400, "INVALID_REQUEST", "invalid_request", False),
    (401, "AUTHENTICATION_FAILED", "authentication", False),
    (403, "PERMISSION_DENIED", "permission", False),
    (404, "NOT_FOUND", "not_found", False),
    (409, "CONFLICT", "conflict", False),
    (422, "VALIDATION_FAILED", "validation", False),
    (429, "RATE_LIMIT_EXCEEDED", "rate_limit", True),
    (500, "INTERNAL_ERROR", "api_error", True),
    (502, "UPSTREAM_ERROR", "upstream", True),
    (503, "SERVICE_UNAVAILABLE", "unavailable", True),
]


async def _get(client):
    async with client:
        return await client.request("GET", "/api/eam/assets")


@pytest.mark.parametrize(("status", "code", "type_", "retried"), ERROR_TABLE)
def test_each_error_row_gives_typed_error_and_retries_only_when_the_contract_says(
    status, code, type_, retried
):
    """Every row of the error table becomes one typed error; only 429/5xx are retried."""

    def handler(request):
        body = json.dumps({
            "message": f"top {status}",
            "error": {"code": code, "type": type_, "message": f"inner {status}",
                      "request_id": f"req_{status}"},
        })
        return httpx.Response(status, content=body, headers={"X-Request-Id": "req_header"})

    client, rec, _ = make_client(handler)
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    err = info.value
    assert (err.status, err.code, err.type) == (status, code, type_)
    assert err.message == f"inner {status}"
    assert err.request_id == f"req_{status}"
    assert len(rec.requests) == (4 if retried else 1)
    assert err.retries == (3 if retried else 0)


def test_request_id_message_and_code_fall_back_in_contract_order():
    """Without error.*, the top-level fields are used, then the header and the reason."""
    bodies = [
        ({"request_id": "req_top", "message": "top msg", "code": "CUSTOM"}, "req_top", "top msg",
         "CUSTOM"),
        ({}, "req_hdr", "Forbidden", "PERMISSION_DENIED"),
    ]
    for body, rid, msg, code in bodies:
        client, _, _ = make_client(lambda r, b=body: httpx.Response(
            403, json=b, headers={"X-Request-Id": "req_hdr"}))
        with pytest.raises(MakiniError) as info:
            run(_get(client))
        assert (info.value.request_id, info.value.message, info.value.code) == (rid, msg, code)


def test_unknown_code_keeps_its_text_and_falls_back_to_the_status_row_for_type():
    """An unknown code is shown as sent, and classified by its HTTP status."""
    client, _, _ = make_client(lambda r: httpx.Response(
        401, json={"error": {"code": "TOKEN_EXPIRED_V9", "message": "expired"}}))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert info.value.code == "TOKEN_EXPIRED_V9"
    assert info.value.type == "authentication"
    assert info.value.is_auth


def test_html_proxy_page_still_gives_status_header_request_id_and_excerpt():
    """A proxy's HTML page yields an error with the status, header ID and readable excerpt."""
    html = b"<html><head><style>x{}</style></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    client, rec, _ = make_client(lambda r: httpx.Response(
        502, content=html, headers={"X-Request-Id": "req_proxy", "Content-Type": "text/html"}))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    err = info.value
    assert err.status == 502 and err.code == "UPSTREAM_ERROR"
    assert err.request_id == "req_proxy"
    assert err.body_excerpt == "502 Bad Gateway nginx"
    assert "<" not in err.message and "502 Bad Gateway" in err.message


def test_truncated_json_error_body_is_treated_as_text():
    """A cut-off JSON error body gives the status row's code and an excerpt, no crash."""
    client, _, _ = make_client(lambda r: httpx.Response(
        400, content=b'{"error": {"code": "INVALID_REQ', headers={"X-Request-Id": "req_t"}))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert info.value.code == "INVALID_REQUEST"
    assert info.value.request_id == "req_t"
    assert info.value.body_excerpt.startswith('{"error"')


def test_success_with_a_body_that_is_not_json_is_an_invalid_response_error():
    """A 200 whose body is not JSON fails with INVALID_RESPONSE after retries."""
    client, rec, _ = make_client(lambda r: httpx.Response(200, content=b"<html>login</html>"))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert info.value.code == "INVALID_RESPONSE"
    assert len(rec.requests) == 4


def test_error_without_any_request_id_carries_the_one_the_client_sent():
    """When the server names no request ID, the client's own X-Request-Id is kept."""
    client, rec, _ = make_client(lambda r: httpx.Response(404, content=b""))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert info.value.request_id == rec.requests[0].headers["x-request-id"]


def test_error_one_line_matches_the_cli_format_and_never_holds_the_token():
    """The one-line form is `<CODE> (HTTP <status>): <message> [request id: <id>]`."""
    client, _, _ = make_client(lambda r: httpx.Response(
        500, content=error_body(500, "INTERNAL_ERROR", "boom", "req_9")))
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert str(info.value) == "INTERNAL_ERROR (HTTP 500): boom [request id: req_9]"
    assert TOKEN not in repr(info.value)


def test_errors_survive_pickling_for_cross_thread_hand_off():
    """A MakiniError pickles with all its fields (the GUI hands errors between threads)."""
    import pickle

    err = MakiniError(429, "RATE_LIMIT_EXCEEDED", "rate_limit", "slow", request_id="r1",
                      retries=2, retry_seconds=3.0)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.status, copy.request_id, copy.retries, str(copy)) == (
        429, "r1", 2, str(err))


def test_a_certificate_failure_is_not_offline_and_not_retried():
    """A TLS verification failure is shown as such (not "offline"), and not retried."""

    def handler(request):
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate",
                                 request=request)

    client, rec, _ = make_client(handler)
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    err = info.value
    assert err.code == "TLS_ERROR" and not err.is_connection
    assert "certificate" in err.summary() and len(rec.requests) == 1


def test_a_request_can_carry_its_own_timeout():
    """A quick probe asks for a short timeout without changing the client's."""
    client, rec, _ = make_client(lambda r: httpx.Response(200, json={}))

    async def go():
        async with client:
            await client.request("GET", "/api/integrations/current",
                                 timeout=httpx.Timeout(5.0))
            await client.request("GET", "/api/integrations/current")

    run(go())
    assert rec.requests[0].extensions["timeout"]["read"] == 5.0
    assert rec.requests[1].extensions["timeout"]["read"] == 30.0


@pytest.mark.parametrize(("system", "words"), [
    ("[Errno -2] Name or service not known", "its address could not be found"),
    ("[Errno 8] nodename nor servname provided, or not known", "its address could not be found"),
    ("[Errno 11001] getaddrinfo failed", "its address could not be found"),
    ("[Errno 111] Connection refused", "nothing answers at that address"),
    ("[WinError 10061] Es konnte keine Verbindung hergestellt werden", "nothing answers at"),
    ("[Errno 101] Network is unreachable", "the network cannot reach it"),
    ("[Errno 99] Connect call failed ('10.0.0.1', 11001)", None),  # a port, not a code
    ("something else entirely", None),
])
def test_a_failed_connect_says_why_in_words(system, words):
    """A connect that fails says why as a person would put it, the system's own words
    kept after it for support; words the app does not know are said as they are."""
    from makini_desktop.api.errors import MakiniConnectionError

    def handler(request):
        raise httpx.ConnectError(system, request=request)

    client, _rec, _ = make_client(handler)
    with pytest.raises(MakiniConnectionError) as info:
        run(_get(client))
    message = info.value.message
    assert message.startswith("Could not connect to ")
    if words is None:
        assert message.endswith(f": {system}")
    else:
        assert f": {words}" in message and message.endswith(f"[{system}]")


def test_a_connect_refused_at_every_address_says_so():
    """A name that resolves to several addresses, each refusing (localhost: ::1 and
    127.0.0.1): httpx's "All connection attempts failed" sits over an exception group of
    the refusals; the message says what they mean."""
    from makini_desktop.api.errors import MakiniConnectionError

    refusals = ExceptionGroup("attempts", [
        ConnectionRefusedError(111, "Connect call failed ('::1', 8443)"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 8443)"),
    ])

    def handler(request):
        try:
            try:
                raise refusals
            except ExceptionGroup as group:
                raise OSError("All connection attempts failed") from group
        except OSError as exc:
            raise httpx.ConnectError("All connection attempts failed", request=request) from exc

    client, _rec, _ = make_client(handler)
    with pytest.raises(MakiniConnectionError) as info:
        run(_get(client))
    assert ": nothing answers at that address" in info.value.message
    assert "Connect call failed" in info.value.message

"""The client's typed errors and retries (contract §4-§5), over scripted mock responses."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

from makini_desktop.api.client import RetryEvent, RetryPolicy, parse_retry_after
from makini_desktop.api.errors import MakiniConnectionError, MakiniError
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


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("2.5", 2.5), ("garbage", None), ("", None), ("-5", 0.0)],
)
def test_retry_after_delta_seconds(header, expected):
    """Retry-After delta-seconds parse; garbage is ignored; negatives mean now."""
    assert parse_retry_after(header) == expected


def test_retry_after_http_date():
    """Retry-After as an HTTP-date gives the seconds until then."""
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30, abs=1)


def test_429_waits_retry_after_then_succeeds_and_reports_each_retry():
    """A 429 is retried after its Retry-After, and the callback hears of each retry."""
    answers = iter([
        httpx.Response(429, content=error_body(429, "RATE_LIMIT_EXCEEDED", "slow", "req_a"),
                       headers={"Retry-After": "3"}),
        httpx.Response(429, content=error_body(429, "RATE_LIMIT_EXCEEDED", "slow", "req_b"),
                       headers={"Retry-After": email.utils.formatdate(usegmt=True)}),
        httpx.Response(200, json={"data": {"id": 1}}),
    ])
    events: list[RetryEvent] = []
    client, rec, fake = make_client(lambda r: next(answers), on_retry=events.append)
    response, doc = run(_get(client))
    assert doc == {"data": {"id": 1}}
    assert [e.request_id for e in events] == ["req_a", "req_b"]
    assert events[0].delay == 3.0 and events[0].is_rate_limit
    assert events[0].describe() == "Rate limited — retrying in 3 s"
    assert fake.sleeps[0] == 3.0


def test_retry_after_is_clamped():
    """An absurd Retry-After is clamped to the policy's maximum."""
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "86400"}),
        httpx.Response(200, json={}),
    ])
    client, _, fake = make_client(
        lambda r: next(answers), retry=RetryPolicy(retry_after_cap=30, max_total_seconds=999))
    run(_get(client))
    assert fake.sleeps == [30]


def test_5xx_backoff_is_exponential_with_full_jitter_and_bounded():
    """5xx waits are random in [0, base*2^n], never above the cap."""
    client, rec, fake = make_client(
        lambda r: httpx.Response(500),
        retry=RetryPolicy(max_attempts=8, backoff_base=1, backoff_cap=4, max_total_seconds=999),
    )
    with pytest.raises(MakiniError):
        run(_get(client))
    assert len(fake.sleeps) == 7
    ceilings = [1, 2, 4, 4, 4, 4, 4]
    assert all(0 <= s <= c for s, c in zip(fake.sleeps, ceilings, strict=True))
    assert len(set(fake.sleeps)) > 1  # jittered, not a fixed schedule


def test_retries_stop_at_the_total_time_budget():
    """No retry starts that would end after the total time budget."""
    client, rec, fake = make_client(
        lambda r: httpx.Response(503, headers={"Retry-After": "10"}),
        retry=RetryPolicy(max_attempts=100, max_total_seconds=35),
    )
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert len(rec.requests) == 4  # waits 10+10+10 = 30 s, a fourth wait would pass 35 s
    assert info.value.retries == 3
    assert info.value.retry_seconds == pytest.approx(30)
    assert info.value.what_was_done() == "Retried 3 times over 30 s."


def test_connection_errors_and_timeouts_are_retried_for_get():
    """A refused connection and a timeout on a GET are retried, then succeed."""
    answers = iter(["connect", "timeout", "ok"])

    def handler(request):
        what = next(answers)
        if what == "connect":
            raise httpx.ConnectError("refused", request=request)
        if what == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"ok": True})

    client, rec, _ = make_client(handler)
    _, doc = run(_get(client))
    assert doc == {"ok": True} and len(rec.requests) == 3


def test_connection_error_that_survives_retries_is_a_connection_error():
    """Persistent failure to connect ends in a MakiniConnectionError the app can go offline on."""

    def handler(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, rec, _ = make_client(handler)
    with pytest.raises(MakiniConnectionError) as info:
        run(_get(client))
    assert info.value.is_connection and info.value.code == "CONNECTION_FAILED"
    assert TOKEN not in str(info.value)


def test_put_is_not_retried_on_5xx_or_a_broken_response():
    """A non-idempotent request is not repeated when the server may have acted on it."""
    for make in (lambda r: httpx.Response(500),
                 lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r))):
        client, rec, _ = make_client(make)

        async def put(c=client):
            async with c:
                await c.request("PUT", "/api/iwms/visitors/1", body={"status": "checked_in"})

        with pytest.raises(MakiniError):
            run(put())
        assert len(rec.requests) == 1


def test_put_is_retried_after_429_since_the_server_did_not_act():
    """A 429 on a PUT is retried: the server refused it before acting."""
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}),
                    httpx.Response(200, json={"data": {"key": "1", "status": "checked_in"}})])
    client, rec, _ = make_client(lambda r: next(answers))

    async def put():
        async with client:
            from makini_desktop.api.resources import VISITS
            return await client.set_status(VISITS, "1", "checked_in")

    assert run(put())["status"] == "checked_in"
    assert len(rec.requests) == 2
    assert json.loads(rec.requests[1].content) == {"status": "checked_in"}


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

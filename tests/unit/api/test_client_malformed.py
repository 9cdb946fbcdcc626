"""Malformed and hostile answers: each ends in one typed error, never a crash, hang or short list.

Covers a list page whose ``data`` is not a list, JSON nested too deep to parse, a body that
trickles in forever, and server text that repeats the token.
"""

from __future__ import annotations

import asyncio
import json
import pickle

import httpx
import pytest

from makini_desktop.api.client import RetryPolicy
from makini_desktop.api.errors import MakiniError, MalformedResponseError
from makini_desktop.redact import clear_secrets
from tests.helpers.mockapi import TOKEN, error_body, list_page, make_client, run

ONE_TRY = RetryPolicy(max_attempts=1)


@pytest.fixture(autouse=True)
def _no_registered_secrets():
    """The client must mask its own token without help from the global registry."""
    clear_secrets()
    yield
    clear_secrets()


async def _walk(client) -> list[dict]:
    rows: list[dict] = []
    async with client:
        async for page in client.iter_pages("/api/eam/assets"):
            rows.extend(page.rows)
    return rows


def _page_with(data, page=1, last=1, total=2) -> dict:
    doc = list_page([], page, last, total)
    doc["data"] = data
    return doc


@pytest.mark.parametrize(("data", "word"), [
    (None, "null"), ({"items": []}, "an object"), ("degraded", "a string"),
])
def test_a_page_whose_data_is_not_a_list_is_a_malformed_response(data, word):
    """data null, an object or a string raises MalformedResponseError with the request ID."""
    client, rec, _ = make_client(lambda r: httpx.Response(
        200, json=_page_with(data), headers={"X-Request-Id": "req_bad"}))
    with pytest.raises(MalformedResponseError) as info:
        run(_walk(client))
    err = info.value
    assert isinstance(err, MakiniError)
    assert err.request_id == "req_bad"
    assert word in err.message
    assert "[request id: req_bad]" in str(err)
    assert len(rec.requests) == 1


def test_a_later_page_with_null_data_fails_the_walk_instead_of_ending_it():
    """Page 2 of 3 with data null fails the whole walk; it is not taken as the end."""
    rows = [{"key": str(i)} for i in range(6)]

    def handler(request):
        page = int(request.url.params.get("page", "1"))
        doc = list_page(rows[(page - 1) * 2: page * 2], page, 3, 6)
        if page == 2:
            doc["data"] = None
        return httpx.Response(200, json=doc, headers={"X-Request-Id": f"req_p{page}"})

    client, _, _ = make_client(handler, concurrency=1)
    with pytest.raises(MalformedResponseError) as info:
        run(_walk(client))
    assert info.value.request_id == "req_p2"


def test_a_page_without_data_is_a_malformed_response():
    """A JSON object with no data at all is malformed, not an empty list."""
    client, _, _ = make_client(lambda r: httpx.Response(200, json={"meta": {"total": 3}}))
    with pytest.raises(MalformedResponseError):
        run(_walk(client))


def test_json_nested_100000_deep_is_a_malformed_response_not_a_recursion_error():
    """A success body nested 100,000 deep gives a clear error, not RecursionError."""
    deep = b'{"data":[{"key":"1","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}]}"
    client, rec, _ = make_client(lambda r: httpx.Response(
        200, content=deep, headers={"X-Request-Id": "req_deep"}))
    with pytest.raises(MalformedResponseError) as info:
        run(_walk(client))
    assert info.value.request_id == "req_deep"
    assert "deep" in info.value.message
    assert len(rec.requests) == 1


def test_an_error_body_nested_100000_deep_still_gives_the_status_error():
    """A 500 whose body is nested too deep is still the 500 error, not RecursionError."""
    deep = b'{"error":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    client, _, _ = make_client(lambda r: httpx.Response(500, content=deep), retry=ONE_TRY)
    with pytest.raises(MakiniError) as info:
        run(_walk(client))
    assert info.value.status == 500


async def _trickle():
    while True:
        yield b" "
        await asyncio.sleep(0.01)


def test_a_body_that_trickles_forever_ends_at_the_deadline():
    """A body that never finishes ends in "took too long", whatever the read timeout; the
    server answered, so it is not a connection error, and it is not retried."""
    from makini_desktop.api.errors import SlowAnswerError

    client, calls, _ = make_client(
        lambda r: httpx.Response(200, content=_trickle(), headers={"X-Request-Id": "req_slow"}),
        deadline=0.3,
    )
    with pytest.raises(SlowAnswerError) as info:
        run(_walk(client))
    err = info.value
    assert err.code == "TOO_SLOW"
    assert "took too long" in err.message
    assert err.request_id
    assert not err.is_connection and not err.retryable
    assert len(calls.requests) == 1


def test_the_client_has_a_default_deadline():
    """Without an explicit deadline every request still has one of a minute or two."""
    client, _, _ = make_client(lambda r: httpx.Response(200, json={}))
    assert 60 <= client.deadline <= 120
    run(client.aclose())


# -- the token never comes back in server text -------------------------------------------


def _assert_no_token(err: MakiniError) -> None:
    texts = [str(err), repr(err), err.message, err.body_excerpt, err.one_line(),
             err.summary(), err.what_was_done(), err.request_id, err.code, err.type,
             repr(pickle.loads(pickle.dumps(err))), repr(err.field_errors)]
    for text in texts:
        assert TOKEN not in text
        assert TOKEN[:8] not in text


@pytest.mark.parametrize("status", [500, 401, 403, 422])
def test_a_json_error_that_repeats_the_token_is_masked(status):
    """A server message quoting the token bare comes back with the token masked."""
    body = json.loads(error_body(status, "X", f"credential {TOKEN} was refused"))
    body["errors"] = {"token": [f"{TOKEN} is wrong"]}
    client, _, _ = make_client(
        lambda r: httpx.Response(status, json=body), retry=ONE_TRY)
    with pytest.raises(MakiniError) as info:
        run(_walk(client))
    err = info.value
    assert err.status == status
    assert "credential *** was refused" in err.message
    _assert_no_token(err)


@pytest.mark.parametrize("offset", [0, 60, 75, 150, 195])
def test_an_html_error_page_that_repeats_the_token_is_masked_wherever_it_is_cut(offset):
    """An HTML 502 quoting the token gives an excerpt without it, even where it is cut off."""
    page = f"<html><body><p>{'x' * offset} {TOKEN} more text</p></body></html>"
    client, _, _ = make_client(
        lambda r: httpx.Response(502, text=page, headers={"Content-Type": "text/html"}),
        retry=ONE_TRY)
    with pytest.raises(MakiniError) as info:
        run(_walk(client))
    assert info.value.status == 502
    _assert_no_token(info.value)


def test_a_success_that_is_not_json_and_repeats_the_token_is_masked():
    """The excerpt of a 200 that is not JSON holds no token."""
    client, _, _ = make_client(
        lambda r: httpx.Response(200, text=f"oops {TOKEN} oops"), retry=ONE_TRY)
    with pytest.raises(MakiniError) as info:
        run(_walk(client))
    assert info.value.code == "INVALID_RESPONSE"
    assert isinstance(info.value, MalformedResponseError)
    _assert_no_token(info.value)


def test_a_walk_short_of_the_servers_total_is_reported_incomplete():
    """A walk whose records fall short of meta.total is incomplete, with its request ID."""
    from makini_desktop.api.client import WalkTally
    from makini_desktop.api.errors import IncompleteListError

    sent = [{"key": "1"}, {"key": "2"}, "not a record"]
    client, _, _ = make_client(lambda r: httpx.Response(
        200, json=list_page(sent, 1, 1, 4), headers={"X-Request-Id": "req_short"}))

    async def go():
        async with client:
            return [p async for p in client.iter_pages("/api/eam/assets")]

    (page,) = run(go())
    assert (len(page.rows), page.skipped, page.served, page.total) == (2, 1, 3, 4)
    tally = WalkTally()
    tally.see(page)
    assert not tally.complete
    err = tally.error("assets", "/api/eam/assets")
    assert isinstance(err, IncompleteListError) and isinstance(err, MalformedResponseError)
    assert err.message == "The server sent 3 of 4 assets; the list was not saved."
    assert err.request_id == "req_short"

"""The window's HTTP helper process: the same answers and the same errors as a thread of
the window's own process, the token kept off its command line, and a helper that stops
costing a retry, not the connection."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import json
import math
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from makini_desktop.api import resources as res
from makini_desktop.api.client import MakiniClient
from makini_desktop.api.errors import MakiniError
from makini_desktop.api.http_helper import HttpHelper, read_frame, write_frame
from makini_desktop.api.ratecontrol import RetryPolicy
from tests.helpers.mockapi import run

TOKEN = "sandbox-token"
ONCE = RetryPolicy(max_attempts=1)
BOTH = pytest.mark.parametrize("helper", [False, True], ids=["thread", "helper"])


@pytest.fixture(autouse=True)
def _no_helper_left() -> Iterator[None]:
    """Every test ends with its clients closed: no helper process or reader thread left."""
    yield
    assert HttpHelper.running() is None
    assert not [t for t in threading.enumerate() if t.name == "makini-http-reader"]


def _client(url: str, helper: bool, **kwargs: object) -> MakiniClient:
    return MakiniClient(url, TOKEN, http_helper=helper, **kwargs)  # type: ignore[arg-type]


def _error_of(client: MakiniClient, dataset: res.Dataset = res.ASSETS) -> MakiniError:
    async def go() -> MakiniError:
        try:
            with pytest.raises(MakiniError) as caught:
                async for _page in client.iter_pages(dataset.path):
                    pass
            return caught.value
        finally:
            await client.aclose()

    return run(go())


@BOTH
def test_a_whole_list_arrives_as_the_sandbox_holds_it(sandbox, helper: bool) -> None:
    """Every asset, each field as the sandbox has it (JSON's view of it), in its order."""
    client = _client(sandbox.url, helper)

    async def go() -> list[dict[str, object]]:
        async with client:
            return list(await client.fetch_view(res.ASSETS_VIEW))

    rows = run(go())
    expected = [json.loads(json.dumps(r)) for r in sandbox.data.visible("assets")]
    assert [r["key"] for r in rows] == [r["key"] for r in expected]
    assert rows == expected
    assert client.stats.bytes > 100 * len(rows)  # the bodies' sizes are counted


@BOTH
@pytest.mark.parametrize(("fault", "code"), [
    ("deep", "MALFORMED_RESPONSE"),
    ("reset", "CONNECTION_LOST"),
    ("html", "UPSTREAM_ERROR"),
    ("500", "INTERNAL_ERROR"),
])
def test_a_failed_answer_is_the_same_error_wherever_the_exchange_ran(
    sandbox, helper: bool, fault: str, code: str,
) -> None:
    """Too deep to decode, a broken connection, a proxy's HTML page, a server error: the
    same code and sentence from the helper as from a thread, with a request ID."""
    sandbox.set_faults([f"{fault}:path={res.ASSETS.path}"])
    err = _error_of(_client(sandbox.url, helper, retry=ONCE))
    assert err.code == code, err.message
    assert err.request_id
    assert err.message and TOKEN not in err.message


@BOTH
def test_a_lone_surrogate_in_a_record_arrives_as_sent(sandbox, helper: bool) -> None:
    """Legal JSON that is not encodable as UTF-8 crosses the pipe unchanged."""
    sandbox.set_faults([f"surrogate:path={res.ASSETS.path}"])
    client = _client(sandbox.url, helper)

    async def go() -> list[dict[str, object]]:
        async with client:
            return list(await client.fetch_view(res.ASSETS_VIEW))

    rows = run(go())
    assert rows and any("\ud800" in str(v) for v in rows[0].values())


@BOTH
def test_a_token_the_server_repeats_is_masked(sandbox, helper: bool) -> None:
    sandbox.set_faults([f"echo-token:status=500,path={res.ASSETS.path}"])
    err = _error_of(_client(sandbox.url, helper, retry=ONCE))
    assert err.status == 500
    assert TOKEN not in err.message and TOKEN not in str(err)


@BOTH
def test_an_answer_past_the_deadline_is_too_slow(sandbox, helper: bool) -> None:
    sandbox.set_faults([f"latency:ms=3000,path={res.ASSETS.path}"])
    err = _error_of(_client(sandbox.url, helper, retry=ONCE, deadline=0.3))
    assert err.code == "TOO_SLOW"
    assert "0.3 s" in err.message


@BOTH
def test_nothing_listening_says_so_in_words(helper: bool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    err = _error_of(_client(f"http://127.0.0.1:{port}", helper, retry=ONCE))
    assert err.code == "CONNECTION_FAILED"
    assert "nothing answers at that address" in err.message


def _helper_pid() -> int:
    helper = HttpHelper.running()
    assert helper is not None
    return helper._proc.pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_token_is_on_neither_the_helpers_command_line_nor_its_environment(
    sandbox,
) -> None:
    client = _client(sandbox.url, True)

    async def go() -> tuple[bytes, bytes]:
        async with client:
            await client.integration()
            proc = Path("/proc") / str(_helper_pid())
            return (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()

    cmdline, environ = run(go())
    assert b"http_helper" in cmdline  # the helper's, read while it serves
    assert TOKEN.encode() not in cmdline
    assert TOKEN.encode() not in environ
    assert HttpHelper.running() is None  # the last session closed: the helper ended


def test_a_helper_that_stops_costs_a_retry_not_the_connection(sandbox) -> None:
    """The helper killed under a request in flight: that request fails as a lost
    connection (not a crash, not a hang), and the next one is served by a new helper."""
    sandbox.set_faults([f"latency:ms=2000,path={res.INTEGRATION_PATH}"])
    client = _client(sandbox.url, True, retry=ONCE)

    async def go() -> tuple[MakiniError, object]:
        async with client:
            await client.fetch_view(res.BUILDINGS_VIEW)  # the helper and the session open
            first_pid = _helper_pid()
            waiting = asyncio.ensure_future(client.integration())
            await asyncio.sleep(0.3)
            helper = HttpHelper.running()
            assert helper is not None and helper._proc.pid == first_pid
            helper._proc.kill()
            with pytest.raises(MakiniError) as caught:
                await waiting
            sandbox.clear_faults()
            answer = await client.integration()
            assert _helper_pid() != first_pid
            return caught.value, answer

    err, answer = run(go())
    assert err.code == "CONNECTION_LOST"
    assert "helper" in err.message
    assert answer


def test_a_cancelled_request_leaves_the_helper_serving(sandbox) -> None:
    sandbox.set_faults([f"latency:ms=3000,path={res.INTEGRATION_PATH},count=1"])
    client = _client(sandbox.url, True)

    async def go() -> object:
        async with client:
            waiting = asyncio.ensure_future(client.integration())
            await asyncio.sleep(0.3)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            return await asyncio.wait_for(client.integration(), 10)

    assert run(go())


def test_a_frame_carries_what_json_can_hold() -> None:
    """What a page's JSON decodes to crosses the pipe as it is: text with a lone
    surrogate, NaN, large integers, nesting, shared strings kept shared."""
    shared = "Building A" * 3
    doc = {"data": [{"k": "\ud800x", "n": math.nan, "big": 10**40, "t": shared},
                    {"t": shared, "nested": [[[{"a": None, "b": True}]]]}]}
    read_end, write_end = os.pipe()
    try:
        write_frame(write_end, doc)
        os.close(write_end)
        write_end = -1
        back = read_frame(read_end)
        assert read_frame(read_end) is None  # the end of the pipe
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    assert back["data"][0]["k"] == "\ud800x" and math.isnan(back["data"][0]["n"])
    assert back["data"][0]["big"] == 10**40
    assert back["data"][1]["nested"] == [[[{"a": None, "b": True}]]]
    assert back["data"][0]["t"] is back["data"][1]["t"]


def test_a_client_closed_while_its_session_opens_leaves_nothing_behind(sandbox) -> None:
    """Closed at once after its first request started (a window closed while connecting):
    the request ends, the client says closed, and the helper ends with it."""
    client = _client(sandbox.url, True)

    async def go() -> None:
        first = asyncio.ensure_future(client.integration())
        await asyncio.sleep(0)
        await client.aclose()
        assert client.closed
        await asyncio.gather(first, return_exceptions=True)
        with pytest.raises(RuntimeError, match="client has been closed"):
            await client.integration()

    run(go())


class _Gzipped(http.server.BaseHTTPRequestHandler):
    """A server that compresses its error and writes a header in more than ASCII."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = gzip.compress(json.dumps({"error": {
            "code": "SERVER_BUSY", "message": "Réessayez plus tard", "type": "api_error",
        }}).encode())
        self.send_response(500, "Erreur")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Note", "Requête")
        self.send_header("X-Request-Id", "req-gzip-1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@BOTH
def test_a_compressed_error_with_a_header_beyond_ascii_reads_as_its_message(
    helper: bool,
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        err = _error_of(_client(f"http://127.0.0.1:{server.server_address[1]}", helper,
                                retry=ONCE))
    finally:
        server.shutdown()
        server.server_close()
    assert err.status == 500
    assert err.code == "SERVER_BUSY"
    assert err.message == "Réessayez plus tard"
    assert err.request_id == "req-gzip-1"

"""Injected faults: spec parsing, triggers, and what each kind does on the wire."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.faults import Fault, FaultPlan, coerce_fault, parse_fault_spec
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, TOKEN, make_server

ASSETS = res.ASSETS.path


# -- parsing --------------------------------------------------------------------------------


def test_parse_plain_kind() -> None:
    """A bare kind is a fault that hits every /api/ request."""
    fault = parse_fault_spec("500")
    assert fault == Fault("500")
    assert (fault.p, fault.every, fault.count, fault.after, fault.path) == (1.0, None, None, 0,
                                                                            "/api/")


def test_parse_options() -> None:
    """Options after the colon set probability, triggers, scope and timings."""
    fault = parse_fault_spec("429:p=0.5,every=3,count=2,after=1,path=/api/eam/assets,"
                             "retry_after=7,ms=20")
    assert fault == Fault("429", p=0.5, every=3, count=2, after=1, path="/api/eam/assets",
                          retry_after=7, ms=20)
    assert parse_fault_spec("latency:ms=250").ms == 250
    assert parse_fault_spec(" RESET ").kind == "reset"


@pytest.mark.parametrize("spec", [
    "404", "boom", "500:p=2", "500:p=x", "500:every=0", "500:count=-1", "500:foo=1",
    "500:p", "latency", "500:path=api", "500:ms=1.5",
])
def test_invalid_specs_are_rejected(spec: str) -> None:
    """Unknown kinds or options and out-of-range values raise ValueError."""
    with pytest.raises(ValueError):
        parse_fault_spec(spec)


def test_spec_round_trips() -> None:
    """Fault.spec() writes a spec that parses back to the same fault."""
    for spec in ("503:retry_after=2", "reset:count=1,path=/api/eam/assets", "html:p=0.25"):
        fault = parse_fault_spec(spec)
        assert parse_fault_spec(fault.spec()) == fault


def test_coerce_accepts_objects() -> None:
    """JSON objects and Fault instances become fresh faults."""
    assert coerce_fault({"kind": "502", "every": 2}) == Fault("502", every=2)
    assert coerce_fault({"spec": "500:count=1"}) == Fault("500", count=1)
    used = Fault("500")
    used.fired = 3
    assert coerce_fault(used).fired == 0
    with pytest.raises(ValueError):
        coerce_fault({"kind": "500", "colour": "red"})


# -- triggers --------------------------------------------------------------------------------


def hits(plan: FaultPlan, n: int, path: str = ASSETS) -> list[bool]:
    return [plan.pick(path).fault is not None for _ in range(n)]


def test_every_nth_request() -> None:
    """every=3 hits the 3rd, 6th, ... matching request."""
    assert hits(FaultPlan(["500:every=3"]), 7) == [False, False, True, False, False, True, False]


def test_count_and_after() -> None:
    """after=2 lets two through; count=2 stops after two hits."""
    assert hits(FaultPlan(["500:after=2,count=2"]), 6) == [False, False, True, True, False,
                                                           False]


def test_path_scope_and_admin_paths() -> None:
    """A path-scoped fault spares other paths; admin paths are never hit."""
    plan = FaultPlan(["500:path=/api/eam/assets"])
    assert plan.pick(ASSETS + "/123").fault is not None
    assert plan.pick(res.SITES.path).fault is None
    assert FaultPlan(["500"]).pick("/__sandbox__/stats").fault is None


def test_probability_is_reproducible() -> None:
    """p draws from a Random seeded by the server's seed: same seed, same pattern."""
    a = hits(FaultPlan(["500:p=0.5"], seed=1), 200)
    b = hits(FaultPlan(["500:p=0.5"], seed=1), 200)
    c = hits(FaultPlan(["500:p=0.5"], seed=2), 200)
    assert a == b != c
    assert 60 < sum(a) < 140


def test_first_failing_fault_wins_and_latency_adds() -> None:
    """Latency faults all add up; only the first failing fault applies."""
    plan = FaultPlan(["latency:ms=5", "latency:ms=7", "502", "500"])
    decision = plan.pick(ASSETS)
    assert decision.delay_ms == 12 and decision.latency
    assert decision.fault is not None and decision.fault.kind == "502"
    counts = {f.kind: f.fired for f in plan.snapshot() if f.kind != "latency"}
    assert counts == {"502": 1, "500": 0}


# -- on the wire ---------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "status", "code"), [
    ("500", 500, "INTERNAL_ERROR"), ("502", 502, "UPSTREAM_ERROR"),
    ("503", 503, "SERVICE_UNAVAILABLE"), ("429", 429, "RATE_LIMIT_EXCEEDED"),
])
def test_error_faults_answer_contract_errors(server: SandboxServer, client: httpx.Client,
                                             spec: str, status: int, code: str) -> None:
    """429/500/502/503 faults answer the contract's JSON error with the request ID."""
    server.set_faults([spec])
    response = client.get(ASSETS, headers={"X-Request-Id": "fault-1"})
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == "fault-1" == response.headers["x-request-id"]
    assert server.stats.faults == {spec: 1}


def test_retry_after_on_429_and_503(server: SandboxServer, client: httpx.Client) -> None:
    """retry_after sets Retry-After on 429 (default 1) and 503 (absent unless set)."""
    server.set_faults(["429:retry_after=4"])
    response = client.get(ASSETS)
    assert response.headers["retry-after"] == "4"
    assert int(response.headers["x-ratelimit-reset"]) >= int(time.time()) + 3
    server.set_faults(["429"])
    assert client.get(ASSETS).headers["retry-after"] == "1"
    server.set_faults(["503:retry_after=2"])
    assert client.get(ASSETS).headers["retry-after"] == "2"
    server.set_faults(["503"])
    assert "retry-after" not in client.get(ASSETS).headers


def test_html_fault_is_a_proxy_page(server: SandboxServer, client: httpx.Client) -> None:
    """html answers a 502 text/html proxy page, not JSON, still with a request ID."""
    server.set_faults(["html"])
    response = client.get(ASSETS)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"502 Bad Gateway" in response.content
    assert response.headers["x-request-id"]
    with pytest.raises(ValueError):
        response.json()


def test_reset_breaks_the_transfer(server: SandboxServer, client: httpx.Client) -> None:
    """reset aborts the connection mid-body: httpx raises a transport error."""
    server.set_faults(["reset:count=1"])
    with pytest.raises(httpx.TransportError):
        client.get(ASSETS)
    assert client.get(ASSETS).status_code == 200  # a new connection works again
    assert server.stats.faults == {"reset": 1}


def test_truncate_sends_less_than_promised(server: SandboxServer, client: httpx.Client) -> None:
    """truncate closes after part of the body: httpx raises a protocol error."""
    server.set_faults(["truncate:count=1"])
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(ASSETS)
    assert client.get(ASSETS).status_code == 200


def test_latency_fault_delays_the_response(server: SandboxServer, client: httpx.Client) -> None:
    """latency:ms=N delays the answer by at least N ms and lets it through."""
    server.set_faults(["latency:ms=120"])
    start = time.perf_counter()
    response = client.get(res.SITES.path)
    assert response.status_code == 200
    assert time.perf_counter() - start >= 0.11
    assert server.stats.faults == {"latency": 1}


def test_configured_latency_delays_api_only(server: SandboxServer, client: httpx.Client) -> None:
    """set_latency delays /api/ responses but not admin ones."""
    server.set_latency(150)
    start = time.perf_counter()
    client.get("/__sandbox__/stats")
    assert time.perf_counter() - start < 0.15
    start = time.perf_counter()
    client.get(res.SITES.path)
    assert time.perf_counter() - start >= 0.14


def test_scoped_fault_spares_other_paths(server: SandboxServer, client: httpx.Client) -> None:
    """A fault with path= hits only that prefix; admin paths are never hit."""
    server.set_faults(["500:path=/api/eam/assets"])
    assert client.get(ASSETS).status_code == 500
    assert client.get(res.SITES.path).status_code == 200
    assert client.get("/__sandbox__/stats").status_code == 200


def test_faults_from_config_and_clear() -> None:
    """Faults given in the config apply from the start; clear_faults() removes them."""
    srv = make_server(faults=("503:every=2",))
    try:
        with httpx.Client(base_url=srv.url, headers=AUTH) as c:
            assert [c.get(res.SITES.path).status_code for _ in range(4)] == [200, 503, 200, 503]
            srv.clear_faults()
            assert c.get(res.SITES.path).status_code == 200
    finally:
        srv.stop()


def test_invalid_fault_leaves_the_old_ones(server: SandboxServer) -> None:
    """set_faults with an invalid spec raises and keeps the previous faults."""
    server.set_faults(["500"])
    with pytest.raises(ValueError):
        server.set_faults(["502", "nonsense"])
    assert [f.kind for f in server.faults] == ["500"]


# -- malformed and hostile answers ------------------------------------------------------------


@pytest.mark.parametrize(("spec", "expected"), [
    ("bad-data", Fault("bad-data")),
    ("bad-data:shape=string,count=1", Fault("bad-data", shape="string", count=1)),
    ("trickle:ms=200,bytes=8", Fault("trickle", ms=200, bytes=8)),
    ("deep:depth=5000,path=/api/eam/assets", Fault("deep", depth=5000, path="/api/eam/assets")),
    ("echo-token:status=401", Fault("echo-token", status=401)),
    ("surrogate:p=0.5", Fault("surrogate", p=0.5)),
    ("xml-illegal", Fault("xml-illegal")),
    ("short-total:after=1", Fault("short-total", after=1)),
])
def test_parse_new_kinds(spec: str, expected: Fault) -> None:
    """The malformed-answer kinds parse with their own keys and round-trip through spec()."""
    fault = parse_fault_spec(spec)
    assert fault == expected
    assert parse_fault_spec(fault.spec()) == fault


@pytest.mark.parametrize("spec", [
    "bad-data:shape=list", "500:shape=null", "trickle:bytes=0", "latency:ms=5,bytes=3",
    "deep:depth=0", "echo-token:status=404", "500:status=500", "bad-data:depth=3",
])
def test_invalid_new_keys_are_rejected(spec: str) -> None:
    """A kind-specific key on another kind, or an out-of-range value, raises ValueError."""
    with pytest.raises(ValueError):
        parse_fault_spec(spec)


def test_every_kind_and_key_is_documented_in_help_and_docstring() -> None:
    """`sandbox --help` and the module docstring explain every fault kind and key."""
    import argparse

    from makini_desktop.sandbox import faults
    from makini_desktop.sandbox.cli import add_sandbox_arguments

    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    text = parser.format_help()
    names = ["429", "500", "502", "503", "reset", "truncate", "html", "latency", "bad-data",
             "trickle", "surrogate", "xml-illegal", "deep", "echo-token", "short-total",
             "p", "every", "count", "after", "path", "retry_after", "ms", "shape", "bytes",
             "depth", "status"]
    for name in names:
        line = f"\n  {name} "
        assert line in text, name
        assert line in (faults.__doc__ or ""), name
    assert set(faults.FAULT_KINDS) <= set(names)


def _assets_page(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get(ASSETS, params={"per_page": "10", **params})


@pytest.mark.parametrize(("shape", "check"), [
    ("null", lambda data: data is None),
    ("object", lambda data: isinstance(data, dict)),
    ("string", lambda data: isinstance(data, str)),
])
def test_bad_data_replaces_the_records(server: SandboxServer, client: httpx.Client,
                                       shape: str, check) -> None:
    """bad-data answers 200 with its paging intact but `data` null, an object or a string."""
    server.set_faults([f"bad-data:shape={shape}"])
    response = _assets_page(client)
    assert response.status_code == 200
    body = response.json()
    assert check(body["data"])
    assert body["meta"]["total"] == len(server.data.visible(res.ASSETS.name))


def test_bad_data_keeps_count_and_path(server: SandboxServer, client: httpx.Client) -> None:
    """count= and path= scope a body fault like any other."""
    server.set_faults(["bad-data:count=1,path=/api/eam/assets"])
    assert client.get(res.SITES.path).json()["data"]
    assert _assets_page(client).json()["data"] is None
    assert len(_assets_page(client).json()["data"]) == 10
    assert server.stats.faults == {"bad-data": 1}


def test_trickle_sends_the_whole_body_in_small_pieces(server: SandboxServer,
                                                      client: httpx.Client) -> None:
    """trickle delivers the same body, a few bytes per read instead of at once."""
    clean = client.get(res.SITES.path).content
    server.set_faults(["trickle:ms=1,bytes=64"])
    with client.stream("GET", res.SITES.path) as response:
        pieces = list(response.iter_raw())
    assert b"".join(pieces) == clean
    assert len(pieces) >= len(clean) // 64 // 4  # pieces, not one block
    assert max(len(p) for p in pieces) <= len(clean) // 2


def test_surrogate_puts_a_lone_surrogate_escape_in_text_fields(
    server: SandboxServer, client: httpx.Client
) -> None:
    """surrogate sends legal JSON whose record names carry the escape \\ud800."""
    clean = _assets_page(client).json()["data"]
    server.set_faults(["surrogate"])
    response = _assets_page(client)
    assert b"\\ud800" in response.content
    rows = json.loads(response.content)["data"]
    assert [r["key"] for r in rows] == [r["key"] for r in clean]
    assert all("\ud800" in r["name"] for r in rows)
    with pytest.raises(UnicodeEncodeError):
        rows[0]["name"].encode("utf-8")


def test_xml_illegal_puts_characters_xml_forbids_in_text_fields(
    server: SandboxServer, client: httpx.Client
) -> None:
    """xml-illegal sends record names containing U+FFFE, U+FFFF and U+0001."""
    server.set_faults(["xml-illegal"])
    rows = _assets_page(client).json()["data"]
    assert rows and all(c in r["name"] for r in rows for c in ("\ufffe", "\uffff", "\x01"))


def test_deep_nests_json_too_deep_for_a_recursive_parser(
    server: SandboxServer, client: httpx.Client
) -> None:
    """deep sends a record holding an array nested 100,000 deep."""
    server.set_faults(["deep"])
    response = _assets_page(client)
    assert response.status_code == 200
    assert b"[" * 100_000 + b"]" * 100_000 in response.content
    with pytest.raises(RecursionError):
        json.loads(response.content)


@pytest.mark.parametrize(("status", "json_body"), [(500, True), (401, True), (502, False)])
def test_echo_token_repeats_the_token_in_the_error(server: SandboxServer, client: httpx.Client,
                                                   status: int, json_body: bool) -> None:
    """echo-token answers an error (JSON 500, 401, or an HTML 502) that contains the token."""
    server.set_faults([f"echo-token:status={status}"])
    response = client.get(ASSETS, headers={"X-Request-Id": "echo-1"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "echo-1"
    assert TOKEN.encode() in response.content
    if json_body:
        assert TOKEN in response.json()["error"]["message"]
    else:
        assert response.headers["content-type"].startswith("text/html")


def test_short_total_serves_fewer_rows_than_the_total(server: SandboxServer,
                                                      client: httpx.Client) -> None:
    """short-total leaves a record out of each page while meta.total still counts it."""
    clean = _assets_page(client).json()
    server.set_faults(["short-total"])
    body = _assets_page(client).json()
    assert [r["key"] for r in body["data"]] == [r["key"] for r in clean["data"][:-1]]
    assert body["meta"]["total"] == clean["meta"]["total"]

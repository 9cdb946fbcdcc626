"""Injected faults: spec parsing, triggers, and what each kind does on the wire."""

from __future__ import annotations

import time

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.faults import Fault, FaultPlan, coerce_fault, parse_fault_spec
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, make_server

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

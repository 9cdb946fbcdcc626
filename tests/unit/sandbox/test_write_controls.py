"""Running the sandbox without a module's writes (405, contract §6) and injecting faults on
writes: the config, the command line, the admin path and the fault keys method= and apply=."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.cli import add_sandbox_arguments, config_from_namespace, startup_guide
from makini_desktop.sandbox.faults import parse_fault_spec
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from tests.unit.sandbox.support import AUTH, assert_error, make_server
from tests.unit.sandbox.writes_support import new_key, pick, put


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/__sandbox__") as c:
        yield c


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    return parser.parse_args(argv)


def test_a_read_only_module_answers_its_writes_with_405_and_still_reads() -> None:
    """read_only=("visitors",): a visit's status change is 405 not_supported with Allow;
    the record is unchanged and readable; moves stay writable."""
    srv = make_server(read_only=("visitors",))
    try:
        with httpx.Client(base_url=srv.url, headers=AUTH) as c:
            visit = pick(srv, "visits", "expected")
            response = put(c, res.VISITS, visit["key"], {"status": "checked_in"}, idem=new_key())
            body = assert_error(response, 405, "METHOD_NOT_ALLOWED")
            assert body["error"]["type"] == "not_supported"
            assert "does not offer" in body["message"]
            assert response.headers["allow"] == "GET, HEAD"
            assert c.get(res.VISITS.record_path(visit["key"])).json()["data"] == visit
            move = pick(srv, "moves", "pending")
            assert put(c, res.MOVES, move["key"], {"status": "approved"}).status_code == 200
        assert srv.idempotency_log()[0]["dataset"] == "moves"  # the 405 tried nothing
    finally:
        srv.stop()


def test_read_only_modules_change_at_run_time_through_the_admin_path(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """POST /__sandbox__/read-only sets the modules; an empty list makes all writable."""
    assert admin.post("/read-only", json={"modules": ["moves"]}).json() == {
        "read_only": ["moves"]}
    move = pick(server, "moves", "pending")
    assert_error(put(client, res.MOVES, move["key"], {"status": "approved"}), 405,
                 "METHOD_NOT_ALLOWED")
    assert admin.post("/read-only", json={"modules": []}).json() == {"read_only": []}
    assert put(client, res.MOVES, move["key"], {"status": "approved"}).status_code == 200
    assert admin.post("/read-only", json={"modules": ["assets"]}).status_code == 400


def test_the_command_line_takes_read_only_modules_repeatedly() -> None:
    """--read-only moves --read-only visitors reaches the config and the start-up guide."""
    cfg = config_from_namespace(_parse("--read-only", "moves", "--read-only", "visitors"))
    assert cfg.read_only == ("moves", "visitors")
    assert config_from_namespace(_parse()).read_only == ()
    srv = SandboxServer(SandboxConfig(scale="small", read_only=cfg.read_only))
    assert srv.read_only == {"moves", "visits"}
    srv.start()
    try:
        assert "Read-only (their writes answer 405): moves, visitors." in startup_guide(srv)
    finally:
        srv.stop()
    with pytest.raises(SystemExit) as exc:
        _parse("--read-only", "assets")
    assert exc.value.code == 2


def test_sandbox_help_explains_read_only_and_the_write_fault_keys() -> None:
    """`python -m makini_desktop.sandbox --help` lists --read-only and method=/apply=."""
    out = subprocess.run([sys.executable, "-m", "makini_desktop.sandbox", "--help"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert "--read-only MODULE" in out
    assert "answer 405" in out
    assert "method" in out and "apply" in out


def test_fault_keys_method_and_apply() -> None:
    """method= narrows a fault to writes (or one method); apply=1 needs a status fault."""
    fault = parse_fault_spec("502:method=write,apply=1,count=1")
    assert fault.applies_to("/api/iwms/moves/1", "PUT")
    assert fault.applies_to("/api/iwms/visitors", "POST")
    assert not fault.applies_to("/api/iwms/moves/1", "GET")
    assert parse_fault_spec(fault.spec()) == fault
    assert parse_fault_spec("500:method=get").applies_to("/api/x", "GET")
    for bad in ("reset:apply=1", "500:method=FETCH", "500:apply=2"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def test_a_write_fault_leaves_reads_alone(client: httpx.Client, server: SandboxServer) -> None:
    """A method=write fault counts writes only: reads in between are not hit."""
    server.set_faults(["500:method=write,count=1"])
    move = pick(server, "moves", "pending")
    assert client.get(res.MOVES.path).status_code == 200
    assert_error(put(client, res.MOVES, move["key"], {"status": "approved"}), 500,
                 "INTERNAL_ERROR")
    assert server.data.get("moves", move["key"]) == move
    assert put(client, res.MOVES, move["key"], {"status": "approved"}).status_code == 200


def test_write_faults_add_to_the_faults_in_force(admin: httpx.Client,
                                                 server: SandboxServer) -> None:
    """POST /__sandbox__/write-faults adds a fault and keeps the others."""
    server.set_faults(["latency:ms=1"])
    answer = admin.post("/write-faults", json={"count": 3, "status": 429, "retry_after": 1})
    assert answer.status_code == 200
    assert parse_fault_spec(answer.json()["added"]["spec"]) == parse_fault_spec(
        "429:count=3,retry_after=1,method=write")
    assert [f.kind for f in server.faults] == ["latency", "429"]


@pytest.mark.parametrize("body", [{"status": 418}, {"count": 0}, {"status": True},
                                  {"status": "reset", "retry_after": "soon"}])
def test_bad_write_faults_are_400(admin: httpx.Client, server: SandboxServer,
                                  body: dict) -> None:
    """A status the sandbox cannot inject, or a count below 1, is refused."""
    assert admin.post("/write-faults", json=body).status_code == 400
    assert server.faults == []


def test_the_test_controls_page_shows_the_read_only_modules_and_the_write_controls(
    admin: httpx.Client, server: SandboxServer
) -> None:
    """GET /__sandbox__/ says which writes are not offered and how to fail writes."""
    server.set_read_only(["visitors"])
    page = admin.get("/").text
    assert "Writes not offered (405): visits." in page
    assert "write-faults" in page and "idempotency" in page

"""The sandbox's Idempotency-Key memory (contract §6.1), its log, and the write faults:
a replay gets the first answer and changes nothing, another body is 422, keys are per token
and last 24 hours, and an answer lost after the write was applied is replayed, never
applied twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import assert_error, make_server
from tests.unit.sandbox.writes_support import fix_clock, iso, new_key, pick, put

CHECK_IN = {"status": "checked_in", "expectedStatus": "expected"}


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/__sandbox__") as c:
        yield c


def _entry(admin: httpx.Client, idem: str) -> dict:
    (entry,) = [e for e in admin.get("/idempotency").json()["entries"]
                if e["idempotencyKey"] == idem]
    return entry


def test_the_same_key_again_returns_the_first_answer_and_changes_nothing(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """Same key, same body: same status and body bytes, marked replayed; the record keeps
    the first write's updatedAt; the log shows one application and one replay."""
    visit = pick(server, "visits", "expected")
    idem = new_key()
    first = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    after_first = server.data.get("visits", visit["key"])
    again = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert server.data.get("visits", visit["key"]) == after_first
    entry = _entry(admin, idem)
    assert (entry["record"], entry["executed"], entry["applied"], entry["replays"]) == (
        visit["key"], 1, 1, 1)
    assert entry["changes"] == ["expected -> checked_in"]


def test_an_error_answer_is_replayed_with_its_first_request_id(
    client: httpx.Client, server: SandboxServer
) -> None:
    """A 409 replayed is the same 409 (its body names the first request's ID), even after
    the record changed so that the change would now pass."""
    visit = pick(server, "visits", "checked_out")
    idem = new_key()
    first = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert_error(first, 409, "CONFLICT")
    put(client, res.VISITS, visit["key"], {"status": "checked_in"})  # departure undone
    put(client, res.VISITS, visit["key"], {"status": "expected"})  # arrival undone
    again = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert (again.status_code, again.content) == (409, first.content)
    assert again.json()["error"]["request_id"] == first.headers["x-request-id"]
    assert server.data.get("visits", visit["key"])["status"] == "expected"


@pytest.mark.parametrize("other", [
    {"status": "cancelled", "expectedStatus": "expected"},
    {"status": "checked_in", "expectedStatus": "expected", "occurredAt": iso()},
])
def test_the_same_key_with_another_body_is_422(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client, other: dict
) -> None:
    """A key reused with another body is 422 VALIDATION_FAILED and changes nothing."""
    fix_clock(server)
    visit = pick(server, "visits", "expected")
    idem = new_key()
    put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    before = server.data.get("visits", visit["key"])
    body = assert_error(put(client, res.VISITS, visit["key"], other, idem=idem), 422,
                        "VALIDATION_FAILED")
    assert body["errors"]["Idempotency-Key"]
    assert server.data.get("visits", visit["key"]) == before
    assert _entry(admin, idem)["conflicts"] == 1


def test_the_same_key_on_another_record_is_422(
    client: httpx.Client, server: SandboxServer
) -> None:
    """The path is part of what a key stands for."""
    one, two = pick(server, "visits", "expected", 0), pick(server, "visits", "expected", 1)
    idem = new_key()
    put(client, res.VISITS, one["key"], CHECK_IN, idem=idem)
    assert_error(put(client, res.VISITS, two["key"], CHECK_IN, idem=idem), 422,
                 "VALIDATION_FAILED")
    assert server.data.get("visits", two["key"]) == two


def test_keys_are_remembered_per_token() -> None:
    """The same key under another token is another write."""
    srv = make_server(tokens=("desk-a", "desk-b"))
    try:
        moves = [r for r in srv.data.visible("moves") if r["status"] == "pending"][:2]
        idem = new_key()
        for token, move in zip(("desk-a", "desk-b"), moves, strict=True):
            with httpx.Client(base_url=srv.url,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                response = put(c, res.MOVES, move["key"], {"status": "approved"}, idem=idem)
            assert response.status_code == 200
            assert "idempotent-replayed" not in response.headers
        assert [srv.data.get("moves", m["key"])["status"] for m in moves] == ["approved"] * 2
        tokens = {e["token"] for e in srv.idempotency_log()}
        assert tokens == {"token 1", "token 2"}  # never the tokens themselves
    finally:
        srv.stop()


def test_a_key_is_forgotten_after_24_hours(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """Just under 24 h the answer is replayed; after 24 h the key is new again (here the
    write then finds the status already in place, so the data still changed once)."""
    clock = {"now": 1_000_000.0}
    server.idempotency.clock = lambda: clock["now"]
    visit = pick(server, "visits", "expected")
    idem = new_key()
    put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    clock["now"] += 24 * 3600 - 1
    assert put(client, res.VISITS, visit["key"], CHECK_IN,
               idem=idem).headers.get("idempotent-replayed") == "true"
    clock["now"] += 2
    response = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    entry = _entry(admin, idem)
    assert (entry["executed"], entry["applied"], entry["replays"]) == (2, 1, 1)


def test_a_validation_failure_is_not_remembered(
    client: httpx.Client, server: SandboxServer
) -> None:
    """After a 422 the corrected body may be sent under the same key."""
    fix_clock(server)
    visit = pick(server, "visits", "expected")
    idem = new_key()
    bad = {**CHECK_IN, "occurredAt": "2020-01-01T00:00:00Z"}
    assert_error(put(client, res.VISITS, visit["key"], bad, idem=idem), 422,
                 "VALIDATION_FAILED")
    good = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert good.status_code == 200
    assert good.json()["data"]["status"] == "checked_in"


def test_the_same_key_sent_at_once_from_many_threads_is_applied_once(
    server: SandboxServer,
) -> None:
    """Eight simultaneous sends of one key: one application, seven replays, one answer."""
    move = pick(server, "moves", "pending")
    idem = new_key()
    answers: list[bytes] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send() -> None:
        with httpx.Client(base_url=server.url,
                          headers={"Authorization": "Bearer sandbox-token"}) as c:
            start.wait()
            response = put(c, res.MOVES, move["key"],
                           {"status": "approved", "expectedStatus": "pending"}, idem=idem)
        with lock:
            answers.append(response.content)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8 and len(set(answers)) == 1
    (entry,) = [e for e in server.idempotency_log() if e["idempotencyKey"] == idem]
    assert (entry["executed"], entry["applied"], entry["replays"]) == (1, 1, 7)


def test_an_answer_lost_after_the_write_was_applied_is_replayed_not_applied_again(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """write-faults after_apply: the check-in is made but the client gets a 502; the
    replay with the same key gets the success, and the log shows one application."""
    visit = pick(server, "visits", "expected")
    added = admin.post("/write-faults", json={"count": 1, "status": 502, "after_apply": True})
    assert added.status_code == 200
    idem = new_key()
    lost = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert lost.status_code == 502
    applied = server.data.get("visits", visit["key"])
    assert applied["status"] == "checked_in"
    replay = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert replay.status_code == 200
    assert replay.json()["data"] == applied
    entry = _entry(admin, idem)
    assert (entry["applied"], entry["replays"]) == (1, 1)


def test_a_connection_reset_after_the_write_was_applied_then_a_replay(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """write-faults reset: the connection breaks during the answer of an applied
    write; the replay returns its record."""
    move = pick(server, "moves", "approved")
    admin.post("/write-faults", json={"count": 1, "status": "reset"})
    idem = new_key()
    body = {"status": "in_progress", "expectedStatus": "approved"}
    with pytest.raises(httpx.HTTPError):
        put(client, res.MOVES, move["key"], body, idem=idem)
    with httpx.Client(base_url=server.url,
                      headers={"Authorization": "Bearer sandbox-token"}) as fresh:
        replay = put(fresh, res.MOVES, move["key"], body, idem=idem)
    assert replay.status_code == 200
    assert replay.json()["data"]["status"] == "in_progress"
    assert _entry(admin, idem)["applied"] == 1


def test_writes_failed_before_they_apply_change_nothing(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """write-faults without after_apply: the next two writes are 503 and nothing is
    applied; reads are not hit; the third write goes through."""
    move = pick(server, "moves", "pending")
    admin.post("/write-faults", json={"count": 2, "status": 503, "retry_after": 2})
    idem = new_key()
    body = {"status": "approved", "expectedStatus": "pending"}
    for _ in range(2):
        failed = put(client, res.MOVES, move["key"], body, idem=idem)
        assert_error(failed, 503, "SERVICE_UNAVAILABLE")
        assert failed.headers["retry-after"] == "2"
        assert client.get(res.MOVES.record_path(move["key"])).status_code == 200
    assert server.data.get("moves", move["key"]) == move
    assert put(client, res.MOVES, move["key"], body, idem=idem).status_code == 200
    entry = _entry(admin, idem)
    assert (entry["executed"], entry["applied"], entry["replays"]) == (1, 1, 0)


def test_a_write_without_a_key_is_carried_out_every_time(
    client: httpx.Client, server: SandboxServer
) -> None:
    """Without Idempotency-Key nothing is deduplicated: each send is its own entry."""
    visit = pick(server, "visits", "expected")
    for _ in range(2):
        assert put(client, res.VISITS, visit["key"], CHECK_IN).status_code == 200
    mine = [e for e in server.idempotency_log() if e["record"] == visit["key"]]
    assert [(e["idempotencyKey"], e["applied"]) for e in mine] == [(None, 1), (None, 0)]


@pytest.mark.parametrize("value", ["x" * 256, ""])
def test_an_unusable_idempotency_key_is_400(client: httpx.Client, server: SandboxServer,
                                            value: str) -> None:
    """An empty or overlong Idempotency-Key header is refused before anything happens."""
    visit = pick(server, "visits", "expected")
    assert_error(put(client, res.VISITS, visit["key"], CHECK_IN, idem=value), 400,
                 "INVALID_REQUEST")
    assert server.data.get("visits", visit["key"]) == visit


def test_the_admin_path_forgets_every_key(
    client: httpx.Client, server: SandboxServer, admin: httpx.Client
) -> None:
    """DELETE /__sandbox__/idempotency empties the log and the memory."""
    visit = pick(server, "visits", "expected")
    idem = new_key()
    put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert admin.delete("/idempotency").json() == {"entries": []}
    again = put(client, res.VISITS, visit["key"], CHECK_IN, idem=idem)
    assert "idempotent-replayed" not in again.headers
    assert len(server.idempotency) == 1

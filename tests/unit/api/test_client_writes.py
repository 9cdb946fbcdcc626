"""MakiniClient's writes (contract §6) against the sandbox over loopback, and fine-grained
fault scripts on a mock transport: the record comes back, every attempt carries the same
Idempotency-Key, a lost answer is replayed and applied once, and each refusal is an error
a caller can classify."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.client import (
    ConflictError,
    MakiniClient,
    MakiniConnectionError,
    MalformedResponseError,
    NotFoundError,
    NotOfferedError,
    RateLimitedError,
    RetryPolicy,
    ValidationFailedError,
)
from makini_desktop.api.writes import WriteFailure
from makini_desktop.sandbox.server import SandboxServer
from tests.helpers.mockapi import error_body, make_client, run
from tests.unit.sandbox.support import make_server

SANDBOX_TOKEN = "sandbox-token"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    srv = make_server()
    yield srv
    srv.stop()


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def _client(server: SandboxServer) -> MakiniClient:
    """A real client of the sandbox, with instant retry waits."""
    return MakiniClient(server.url, SANDBOX_TOKEN, sleep=_no_wait, rng=random.Random(1),
                        retry=RetryPolicy(max_attempts=4, max_total_seconds=600))


def _pick(server: SandboxServer, dataset: str, status: str) -> dict[str, Any]:
    return next(r for r in server.data.visible(dataset) if r["status"] == status)


def _entry(server: SandboxServer, idem: str) -> dict[str, Any]:
    (entry,) = [e for e in server.idempotency_log() if e["idempotencyKey"] == idem]
    return entry


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def _call(server: SandboxServer, name: str, *args: Any, **kwargs: Any) -> Any:
    async with _client(server) as client:
        return await getattr(client, name)(*args, **kwargs)


def test_check_in_returns_the_servers_record(server: SandboxServer) -> None:
    """change_visit_status sends the key and occurredAt; the record returned is the one the
    sandbox now holds, with checkedInAt the time the user acted."""
    visit = _pick(server, "visits", "expected")
    acted = _now() - timedelta(minutes=20)
    idem = writes.new_idempotency_key()
    record = run(_call(server, "change_visit_status", visit["key"], "checked_in",
                       idempotency_key=idem, expected_status="expected", occurred_at=acted))
    assert record == server.data.get("visits", visit["key"])
    assert record["checkedInAt"] == acted.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _entry(server, idem)["applied"] == 1


def test_a_move_is_rejected_with_its_reason(server: SandboxServer) -> None:
    """change_move_status with a reason: the server keeps it in statusReason."""
    move = _pick(server, "moves", "pending")
    record = run(_call(server, "change_move_status", move["key"], "rejected",
                       idempotency_key=writes.new_idempotency_key(), expected_status="pending",
                       occurred_at=_now(), reason="Destination not ready"))
    assert (record["status"], record["statusReason"]) == ("rejected", "Destination not ready")


@pytest.mark.parametrize("fault", [{"status": 502, "after_apply": True},
                                   {"status": "reset"},
                                   {"status": 503, "after_apply": True}])
def test_an_answer_lost_after_the_write_is_replayed_and_applied_once(
    server: SandboxServer, fault: dict[str, Any]
) -> None:
    """The server applies the check-out, then the answer is lost; the client retries with
    the same key and returns the record; the idempotency log shows one application."""
    visit = _pick(server, "visits", "checked_in")
    server.fail_writes(1, fault["status"], after_apply=fault.get("after_apply", False))
    idem = writes.new_idempotency_key()
    record = run(_call(server, "change_visit_status", visit["key"], "checked_out",
                       idempotency_key=idem, expected_status="checked_in", occurred_at=None))
    assert record["status"] == "checked_out"
    assert record == server.data.get("visits", visit["key"])
    entry = _entry(server, idem)
    assert (entry["executed"], entry["applied"], entry["replays"]) == (1, 1, 1)


def test_writes_refused_before_they_apply_are_retried_with_the_same_key(
    server: SandboxServer,
) -> None:
    """Two 503s before the write is carried out, then it goes through: applied once."""
    move = _pick(server, "moves", "approved")
    server.fail_writes(2, 503)
    idem = writes.new_idempotency_key()
    record = run(_call(server, "change_move_status", move["key"], "in_progress",
                       idempotency_key=idem, expected_status="approved", occurred_at=None))
    assert record["status"] == "in_progress"
    assert server.stats.responses[503] == 2
    assert _entry(server, idem)["applied"] == 1


def test_a_conflict_carries_the_servers_record(server: SandboxServer) -> None:
    """A stale check-in of a visitor another desk checked out: ConflictError with current,
    classified CONFLICT, not retried."""
    visit = _pick(server, "visits", "checked_out")
    with pytest.raises(ConflictError) as info:
        run(_call(server, "change_visit_status", visit["key"], "checked_in",
                  idempotency_key=writes.new_idempotency_key(), expected_status="expected",
                  occurred_at=None))
    err = info.value
    assert err.current == visit
    assert err.request_id.startswith(("req_", "cli_"))
    assert writes.classify(err) is WriteFailure.CONFLICT
    assert err.retries == 0


def test_a_read_only_module_is_not_offered(server: SandboxServer) -> None:
    """405 from a module without writes: NotOfferedError, NOT_OFFERED, sent once."""
    server.set_read_only(["moves"])
    move = _pick(server, "moves", "pending")
    with pytest.raises(NotOfferedError) as info:
        run(_call(server, "change_move_status", move["key"], "approved",
                  idempotency_key=writes.new_idempotency_key(), expected_status="pending",
                  occurred_at=None))
    assert writes.classify(info.value) is WriteFailure.NOT_OFFERED
    assert server.stats.requests == 1


def test_a_deleted_record_is_not_found(server: SandboxServer) -> None:
    """A check-in of a visit deleted meanwhile: NotFoundError, NOT_FOUND."""
    (gone,) = server.mutate("visits", 1, delete_share=1.0)
    with pytest.raises(NotFoundError) as info:
        run(_call(server, "change_visit_status", gone, "cancelled",
                  idempotency_key=writes.new_idempotency_key(), expected_status="expected",
                  occurred_at=None))
    assert writes.classify(info.value) is WriteFailure.NOT_FOUND


def test_an_occurred_at_too_old_is_a_validation_error_on_its_field(
    server: SandboxServer,
) -> None:
    """occurredAt eight days back: ValidationFailedError with field_errors["occurredAt"]."""
    visit = _pick(server, "visits", "expected")
    with pytest.raises(ValidationFailedError) as info:
        run(_call(server, "change_visit_status", visit["key"], "checked_in",
                  idempotency_key=writes.new_idempotency_key(), expected_status="expected",
                  occurred_at=_now() - timedelta(days=8)))
    assert info.value.field_errors is not None
    assert "7 days" in info.value.field_errors["occurredAt"][0]
    assert writes.classify(info.value) is WriteFailure.VALIDATION


def _registration(server: SandboxServer, **extra: Any) -> dict[str, Any]:
    site = server.data.visible("sites")[0]["key"]
    fields: dict[str, Any] = {"visitorName": "Jonas Berg", "visitorType": "contractor",
                              "hostName": "Mia Novak", "siteKey": site,
                              "expectedAt": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "company": None}
    fields.update(extra)
    return fields


def test_register_a_walk_in_returns_the_new_visit(server: SandboxServer) -> None:
    """register_visitor: 201's visit with its new key, checked in at the time given."""
    arrived = _now() - timedelta(minutes=2)
    idem = writes.new_idempotency_key()
    visit = run(_call(server, "register_visitor", _registration(server, status="checked_in"),
                      idempotency_key=idem, occurred_at=arrived))
    assert server.data.get("visits", visit["key"]) == visit
    assert (visit["status"], visit["checkedInAt"]) == (
        "checked_in", arrived.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert visit["company"] is None
    assert _entry(server, idem)["record"] == visit["key"]


def test_registration_field_errors_reach_the_caller(server: SandboxServer) -> None:
    """422 on a registration: field_errors name each refused field with its message."""
    fields = _registration(server, visitorType="alien", visitorEmail="nope", hostName="")
    with pytest.raises(ValidationFailedError) as info:
        run(_call(server, "register_visitor", fields,
                  idempotency_key=writes.new_idempotency_key()))
    assert set(info.value.field_errors or {}) == {"visitorType", "visitorEmail", "hostName"}
    assert info.value.field_errors["hostName"] == ["The host field is required."]


def test_registration_on_a_system_without_visitors_is_not_offered(
    server: SandboxServer,
) -> None:
    """A 404 on the registration itself (no module) is NotOfferedError; so is a 405."""
    server.set_unavailable(["visits"])
    with pytest.raises(NotOfferedError) as info:
        run(_call(server, "register_visitor", _registration(server),
                  idempotency_key=writes.new_idempotency_key()))
    assert info.value.status == 404
    server.set_unavailable([])
    server.set_read_only(["visitors"])
    with pytest.raises(NotOfferedError):
        run(_call(server, "register_visitor", _registration(server),
                  idempotency_key=writes.new_idempotency_key()))


def test_bad_arguments_fail_before_anything_is_sent(server: SandboxServer) -> None:
    """An empty key, a naive occurred_at or a dataset without statuses is a ValueError."""
    visit = _pick(server, "visits", "expected")
    bad_calls = [
        ("change_visit_status", (visit["key"], "checked_in"),
         {"idempotency_key": "", "expected_status": None, "occurred_at": None}),
        ("change_visit_status", (visit["key"], "checked_in"),
         {"idempotency_key": "k", "expected_status": None,
          "occurred_at": datetime(2026, 3, 12, 9, 0)}),
        ("change_status", (res.ASSETS, "1", "x"),
         {"idempotency_key": "k", "expected_status": None, "occurred_at": None}),
    ]
    for name, args, kwargs in bad_calls:
        with pytest.raises(ValueError):
            run(_call(server, name, *args, **kwargs))
    assert server.stats.requests == 0


# -- fault scripts on a mock transport -----------------------------------------------------

OK_VISIT = {"data": {"key": "1", "status": "checked_in"}}


def _put(client: MakiniClient, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with client:
            return await client.change_visit_status(
                "1", "checked_in", idempotency_key="key-1", expected_status="expected",
                occurred_at="2026-03-12T09:00:00Z", **kwargs)
    return run(go())


def test_a_429_waits_its_retry_after_and_resends_the_same_request() -> None:
    """429 with Retry-After: 3 is honoured; the retry has the same key and body."""
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "3"},
                       content=error_body(429, "RATE_LIMIT_EXCEEDED", "slow down")),
        httpx.Response(200, json=OK_VISIT),
    ])
    client, rec, fake = make_client(lambda r: next(answers))
    assert _put(client) == OK_VISIT["data"]
    assert fake.sleeps[0] == 3.0
    assert [r.headers["idempotency-key"] for r in rec.requests] == ["key-1", "key-1"]
    assert rec.requests[0].content == rec.requests[1].content
    assert json.loads(rec.requests[0].content) == {
        "status": "checked_in", "expectedStatus": "expected",
        "occurredAt": "2026-03-12T09:00:00Z"}


def test_rate_limited_after_every_retry() -> None:
    """A 429 that outlasts the retries is RateLimitedError with the server's wait."""
    client, rec, _ = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "2"}))
    with pytest.raises(RateLimitedError) as info:
        _put(client)
    assert info.value.retry_after == 2.0
    assert writes.classify(info.value) is WriteFailure.RATE_LIMITED
    assert len(rec.requests) == 4


def test_a_keyed_write_is_retried_after_a_broken_answer() -> None:
    """With a key, a reset mid-answer is retried (the server answers a repeat with its
    first answer); without a key the same failure is not (see test_ratecontrol)."""
    answers = iter([httpx.ReadError("reset"), httpx.Response(200, json=OK_VISIT)])

    def handler(request: httpx.Request) -> httpx.Response:
        item = next(answers)
        if isinstance(item, Exception):
            raise httpx.ReadError("reset", request=request)
        return item

    client, rec, _ = make_client(handler)
    assert _put(client) == OK_VISIT["data"]
    assert [r.headers["idempotency-key"] for r in rec.requests] == ["key-1", "key-1"]


def test_offline_is_a_connection_error_the_caller_replays() -> None:
    """No connection at all: MakiniConnectionError, classified NETWORK (replay later)."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, rec, _ = make_client(refuse)
    with pytest.raises(MakiniConnectionError) as info:
        _put(client)
    assert writes.classify(info.value) is WriteFailure.NETWORK
    assert info.value.retries == 3
    assert {r.headers["idempotency-key"] for r in rec.requests} == {"key-1"}


def test_a_success_without_a_record_is_reported_not_kept() -> None:
    """200 whose data is not a record: MalformedResponseError (SERVER), not an empty row."""
    client, _, _ = make_client(lambda r: httpx.Response(200, json={"data": None}))
    with pytest.raises(MalformedResponseError) as info:
        _put(client)
    assert writes.classify(info.value) is WriteFailure.SERVER


def test_a_write_is_paced_by_the_rate_headers_a_read_received() -> None:
    """Reads and writes share one rate control: once reads said 60 a minute with none left,
    the write is started a second after the last read, not at once."""
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"}
        if request.method == "GET":
            return httpx.Response(200, json={"data": {}}, headers=headers)
        return httpx.Response(200, json=OK_VISIT, headers=headers)

    client, rec, fake = make_client(handler)

    async def go() -> Any:
        async with client:
            await client.integration()
            await client.integration()
            read_at = fake.now
            record = await client.change_visit_status(
                "1", "checked_in", idempotency_key="k", expected_status="expected",
                occurred_at=None)
            return record, read_at

    record, read_at = run(go())
    assert record == OK_VISIT["data"]
    assert fake.now - read_at == pytest.approx(1.0)
    assert [r.method for r in rec.requests] == ["GET", "GET", "PUT"]
    assert client.stats.requests == 3

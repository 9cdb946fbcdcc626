"""The outbox's sender: in order per record, retried with the same key, refusals settled."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.api.errors import MakiniConnectionError, MakiniError
from makini_desktop.store.cache import Cache
from makini_desktop.store.outbox import Change, ChangeState, OutboxStore
from makini_desktop.sync.outbox import Backoff, Outbox, is_not_offered
from tests.helpers.mockapi import run

AT = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
FAST = Backoff(first=0.001, longest=0.005, jitter=0)


def visit(key: str, status: str = "expected", updated: str = "2026-03-14T08:00:00Z"):
    return {"key": key, "status": status, "visitorName": f"V {key}", "updatedAt": updated}


class FakeServer:
    """Applies status changes once per Idempotency-Key, as contract §6.1 asks."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records
        self.answers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str]] = []  # (key, target, idempotency key)
        self.applied: list[tuple[str, str]] = []
        self.script: list[BaseException | None] = []  # next answers: raise, or None = apply
        self.in_flight = 0
        self.most_in_flight = 0
        self.gate: asyncio.Event | None = None

    async def send(self, change: Change) -> dict[str, Any]:
        self.calls.append((change.record_key, str(change.body["status"]),
                           change.idempotency_key))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            if self.script:
                fault = self.script.pop(0)
                if fault is not None:
                    raise fault
            if change.idempotency_key in self.answers:
                return self.answers[change.idempotency_key]
            record = dict(self.records[change.record_key])
            record["status"] = change.body["status"]
            record["updatedAt"] = "2026-03-14T09:30:00Z"
            if change.body["status"] == "checked_in":
                record["checkedInAt"] = change.body["occurredAt"]
            self.records[change.record_key] = record
            self.applied.append((change.record_key, str(change.body["status"])))
            self.answers[change.idempotency_key] = record
            return record
        finally:
            self.in_flight -= 1


def _outbox(tmp_path: Path, server: FakeServer, **kw: Any) -> Outbox:
    path = tmp_path / "c.sqlite3"
    Cache.open(path).close()
    return Outbox(OutboxStore.open(path), server.send, backoff=FAST,
                  now=lambda: AT, **kw)


def test_changes_to_one_record_go_in_order_one_at_a_time(tmp_path):
    """Check in, then check out: the check-out is sent only after the check-in is confirmed."""
    server = FakeServer({"a": visit("a")})

    async def go():
        box = _outbox(tmp_path, server)
        first = box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.change_status("visits", visit("a", "checked_in"), "checked_out", "check_out")
        box.resume()
        await box.drain()
        assert server.applied == [("a", "checked_in"), ("a", "checked_out")]
        assert server.most_in_flight == 1
        assert box.changes() == [] and box.store.changes() == []
        assert first.body["expectedStatus"] == "expected"
        await box.aclose()

    run(go())


def test_different_records_go_concurrently_within_the_limit(tmp_path):
    """Ten records, concurrency 3: never more than 3 in flight, all applied once."""
    server = FakeServer({k: visit(k) for k in "abcdefghij"})

    async def go():
        box = _outbox(tmp_path, server, concurrency=3)
        server.gate = asyncio.Event()  # the server answers once three are in flight

        async def open_when_three() -> None:
            while server.in_flight < 3:
                await asyncio.sleep(0)
            server.gate.set()

        opener = asyncio.ensure_future(open_when_three())
        for k in "abcdefghij":
            box.change_status("visits", visit(k), "checked_in", "check_in")
        box.resume()
        await box.drain()
        await opener
        assert server.most_in_flight == 3
        assert sorted(server.applied) == [(k, "checked_in") for k in "abcdefghij"]
        await box.aclose()

    run(go())


def test_a_network_drop_keeps_the_change_and_resends_it_with_the_same_key(tmp_path):
    """Refused connections twice, then sent: one key, applied once, waiting meanwhile."""
    server = FakeServer({"a": visit("a")})
    down = MakiniConnectionError(0, "CONNECTION_FAILED", "network", "refused")
    server.script = [down, down, None]
    network_errors: list[MakiniError] = []
    states: list[ChangeState] = []

    async def go():
        box = _outbox(tmp_path, server, on_network_error=network_errors.append)
        box.on_change = lambda c: states.append(c.state)
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await box.drain()
        assert len({key for _, _, key in server.calls}) == 1 and len(server.calls) == 3
        assert server.applied == [("a", "checked_in")]
        assert len(network_errors) == 2
        assert ChangeState.WAITING in states[1:]
        await box.aclose()

    run(go())


def test_the_click_does_not_wait_for_the_disk_and_nothing_is_sent_before_it(tmp_path):
    """change_status returns while the disk sync is still held; the change is listed and
    shown at once, and it is sent only once the sync has finished."""
    server = FakeServer({"a": visit("a")})
    gate = threading.Event()
    synced: list[int] = []

    async def go():
        box = _outbox(tmp_path, server)
        real_sync = box.store.sync

        def slow_sync() -> None:  # a disk that takes its time (in the worker thread)
            gate.wait(10)
            real_sync()
            synced.append(len(server.calls))

        box.store.sync = slow_sync  # type: ignore[method-assign]
        box.resume()
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        assert [c.record_key for c in box.changes()] == ["a"]
        assert box.overlay("visits", [visit("a")])[0]["status"] == "checked_in"
        for _ in range(20):  # the loop runs: the sender starts, and waits for the disk
            await asyncio.sleep(0)
        assert server.calls == [] and synced == []
        gate.set()
        await box.drain()
        assert synced and synced[0] == 0  # on disk before the first call went out
        assert server.applied == [("a", "checked_in")]
        await box.aclose()

    run(go())


def test_a_5xx_and_a_429_keep_waiting_then_succeed(tmp_path):
    """Server errors are waited out; the change is confirmed in the end."""
    server = FakeServer({"a": visit("a")})
    server.script = [MakiniError(503, "SERVICE_UNAVAILABLE", "unavailable", "busy"),
                     MakiniError(429, "RATE_LIMIT_EXCEEDED", "rate_limit", "slow down",
                                 retry_after=0.001), None]

    async def go():
        box = _outbox(tmp_path, server)
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await box.drain()
        assert server.applied == [("a", "checked_in")] and box.waiting_count() == 0
        await box.aclose()

    run(go())


def _conflict(current: dict[str, Any]) -> MakiniError:
    err = MakiniError(409, "CONFLICT", "conflict", "Already checked out.", request_id="req_9")
    err.current = current  # type: ignore[attr-defined]  # as the client's ConflictError has
    return err


def test_a_409_is_a_conflict_holding_the_servers_record_and_rolls_back(tmp_path):
    """409: the change is kept as a conflict; the row takes the server's record."""
    server = FakeServer({"a": visit("a")})
    current = visit("a", "checked_out", "2026-03-14T14:02:00Z")
    server.script = [_conflict(current)]
    rolled: list[tuple[Change, Any]] = []

    async def go():
        box = _outbox(tmp_path, server)
        box.on_rolled_back = lambda c, r: rolled.append((c, r))
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await box.drain()
        [change] = box.changes()
        assert change.state is ChangeState.CONFLICT and change.request_id == "req_9"
        assert change.server_record == current
        assert rolled[0][1] == current
        # The list now shows the server's record, not the refused check-in.
        assert box.overlay("visits", [visit("a")])[0]["status"] == "checked_out"
        await box.aclose()

    run(go())


def test_a_422_fails_with_reason_and_request_id_and_holds_the_records_later_changes(tmp_path):
    """422: failed with the server's words; the record's next change waits for Retry/Discard."""
    server = FakeServer({"a": visit("a")})
    server.script = [MakiniError(422, "VALIDATION_FAILED", "validation",
                                 "occurredAt is too far in the past.", request_id="req_422",
                                 field_errors={"occurredAt": ["more than 7 days ago"]})]

    async def go():
        box = _outbox(tmp_path, server)
        first = box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.change_status("visits", visit("a", "checked_in"), "checked_out", "check_out")
        box.resume()
        await box.drain()
        failed = box.get(first.seq)
        assert failed is not None and failed.state is ChangeState.FAILED
        assert "too far in the past" in failed.reason and "7 days" in failed.reason
        assert failed.request_id == "req_422" and not is_not_offered(failed)
        assert server.applied == []  # the check-out was held behind the refused check-in
        assert box.overlay("visits", [visit("a")])[0]["status"] == "expected"
        box.retry(first.seq)
        await box.drain()
        assert server.applied == [("a", "checked_in"), ("a", "checked_out")]
        # The retry went under a new key (the server would repeat its refusal to the old).
        assert server.calls[0][2] != server.calls[1][2]
        assert server.calls[0][2] == first.idempotency_key
        await box.aclose()

    run(go())


def test_a_405_fails_as_not_offered(tmp_path):
    """405: failed, and marked as a write this system does not offer."""
    server = FakeServer({"a": visit("a")})
    server.script = [MakiniError(405, "METHOD_NOT_ALLOWED", "not_supported", "No writes.")]

    async def go():
        box = _outbox(tmp_path, server)
        change = box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await box.drain()
        failed = box.get(change.seq)
        assert failed is not None and is_not_offered(failed)
        assert "does not offer" in failed.reason
        await box.aclose()

    run(go())


def test_discard_rolls_the_row_back_and_sends_nothing(tmp_path):
    """A discarded change is gone for good; its row goes back to the record as it was."""
    server = FakeServer({"a": visit("a")})
    rolled: list[Any] = []

    async def go():
        box = _outbox(tmp_path, server)
        box.on_rolled_back = lambda c, r: rolled.append(r)
        change = box.change_status("visits", visit("a"), "checked_in", "check_in")
        assert box.discard(change.seq) is not None
        box.resume()
        await box.drain()
        assert server.calls == [] and rolled == [visit("a")] and box.store.changes() == []
        await box.aclose()

    run(go())


def test_a_refresh_landing_while_a_change_is_pending_keeps_the_change(tmp_path):
    """The refreshed (older) row is shown with the pending check-in on top, then the
    server's record once confirmed, even if the refresh was fetched before the answer."""
    server = FakeServer({"a": visit("a"), "b": visit("b")})

    async def go():
        box = _outbox(tmp_path, server)
        server.gate = asyncio.Event()
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        while not box.pending_for("visits", "a") or (
                box.pending_for("visits", "a")[0].state is not ChangeState.SENDING):
            await asyncio.sleep(0)  # until it is on its way (noted in a worker thread)
        refreshed = [visit("a"), visit("b")]  # fetched meanwhile: still "expected"
        shown = box.overlay("visits", refreshed)
        assert [r["status"] for r in shown] == ["checked_in", "expected"]
        assert shown[0]["checkedInAt"] == "2026-03-14T09:00:00Z"
        assert shown[1] is refreshed[1]  # untouched rows are the same objects
        assert box.pending_for("visits", "a")[0].state is ChangeState.SENDING
        server.gate.set()
        await box.drain()
        assert box.overlay("visits", refreshed)[0]["status"] == "checked_in"
        await box.aclose()

    run(go())


def test_a_walk_in_appears_at_once_and_takes_the_servers_key(tmp_path):
    """A registration shows a row right away; the confirmed record replaces it."""
    confirmed: list[tuple[Change, Any]] = []

    async def send(change: Change) -> dict[str, Any]:
        return {"key": "09000000077777", **change.body, "updatedAt": "2026-03-14T09:01:00Z"}

    async def go():
        path = tmp_path / "c.sqlite3"
        Cache.open(path).close()
        box = Outbox(OutboxStore.open(path), send, now=lambda: AT)
        box.on_confirmed = lambda c, r: confirmed.append((c, r))
        change = box.register({"visitorName": "Walk In", "visitorType": "visitor"},
                              walk_in=True)
        [row] = box.overlay("visits", [])
        assert row["key"] == change.record_key and row["status"] == "checked_in"
        assert row["checkedInAt"] == "2026-03-14T09:00:00Z"
        box.resume()
        await box.drain()
        assert confirmed[0][1]["key"] == "09000000077777"
        assert box.overlay("visits", []) == []
        await box.aclose()

    run(go())


def test_pause_stops_sending_and_resume_sends_with_the_same_key(tmp_path):
    """Paused mid-send: the change waits; resumed, it goes again with its key, applied once."""
    server = FakeServer({"a": visit("a")})

    async def go():
        box = _outbox(tmp_path, server)
        server.gate = asyncio.Event()
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await asyncio.sleep(0.01)
        box.pause()
        await box.drain()
        [change] = box.changes()
        assert change.state is ChangeState.WAITING and box.waiting_count() == 1
        server.gate.set()
        box.resume()
        await box.drain()
        assert server.applied == [("a", "checked_in")]
        assert len({k for _, _, k in server.calls}) == 1
        await box.aclose()

    run(go())


@pytest.mark.parametrize("naive", [datetime(2026, 3, 14, 9, 0)])
def test_a_naive_time_is_refused(tmp_path, naive):
    """occurredAt must say its time zone: a naive time is a programming error."""
    server = FakeServer({"a": visit("a")})

    async def go():
        box = _outbox(tmp_path, server)
        with pytest.raises(ValueError):
            box.change_status("visits", visit("a"), "checked_in", "check_in",
                              occurred_at=naive)
        await box.aclose()

    run(go())


def test_the_texts_count_changes_in_words():
    """Status bar, quit and remove texts say how many changes, and nothing when none."""
    from makini_desktop.sync.outbox_link import quit_text, remove_warning, waiting_text

    assert waiting_text(0) == "" and quit_text(0) == "" and remove_warning(0, "HQ") == ""
    assert waiting_text(1) == "1 change waiting to be sent"
    assert waiting_text(3) == "3 changes waiting to be sent"
    assert "sent the next time" in quit_text(2) and "2 changes" in quit_text(2)
    assert "“HQ” has 4 changes not yet sent" in remove_warning(4, "HQ")


def test_an_unusable_proxy_setting_keeps_the_change_waiting_not_refused(tmp_path, monkeypatch):
    """A proxy variable the client cannot use fails before anything is sent: the change
    waits (it is not settled as refused and rolled back), then goes once, with its key."""
    from makini_desktop.api.client import MakiniClient

    monkeypatch.setenv("HTTPS_PROXY", "socks9://proxy.example.test:1080")

    async def unusable() -> MakiniError:
        client = MakiniClient("https://api.example-makini.test", "tok-" + "x" * 20)
        try:
            await client.integration()
        except MakiniError as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("the request was sent through an unusable proxy")

    server = FakeServer({"a": visit("a")})
    states: list[ChangeState] = []
    rolled_back: list[Change] = []

    async def go():
        server.script = [await unusable(), None]
        box = _outbox(tmp_path, server, on_network_error=lambda err: None)
        box.on_change = lambda c: states.append(c.state)
        box.on_rolled_back = rolled_back.append
        box.change_status("visits", visit("a"), "checked_in", "check_in")
        box.resume()
        await box.drain()
        assert server.applied == [("a", "checked_in")]
        assert len({key for _, _, key in server.calls}) == 1 and len(server.calls) == 2
        assert ChangeState.WAITING in states[1:] and ChangeState.FAILED not in states
        assert rolled_back == []
        await box.aclose()

    run(go())

"""The outbox against the sandbox over loopback: nothing lost, nothing applied twice.

Changes made while working offline are sent when it is turned off; a check-in stored at
09:00 and sent later records 09:00; a change survives a network drop, a restart and a
process killed with SIGKILL at any point (storing it, sending it); an answer lost after the
server applied it is replayed with the same key and applied once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.api import resources as res
from makini_desktop.api.client import MakiniClient, RetryPolicy
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from makini_desktop.store.cache import Cache, cache_path_for
from makini_desktop.store.outbox import ChangeState, OutboxStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.outbox import Backoff, Outbox
from makini_desktop.sync.outbox_link import client_sender
from tests.helpers.mockapi import run
from tests.integration.test_workspace_sync import make_workspace, open_from_store, wait_for

TOKEN = "sandbox-token"
ROOT = Path(__file__).resolve().parents[2]


def expected_visits(server: SandboxServer, count: int) -> list[dict[str, Any]]:
    """Visits the sandbox has as expected (checked independently of the app's code)."""
    rows = [dict(r) for r in server.data.visible(res.VISITS.name)
            if r.get("status") == "expected" and r.get("deletedAt") is None]
    assert len(rows) >= count
    return rows[:count]


def server_record(server: SandboxServer, key: str) -> dict[str, Any]:
    record = server.data.get(res.VISITS.name, key)
    assert record is not None
    return dict(record)


def applied_writes(server: SandboxServer) -> dict[str, int]:
    """How many times the sandbox executed each Idempotency-Key (its idempotency log,
    ``GET /__sandbox__/idempotency``): a replay answered from its memory does not count."""
    import httpx

    doc = httpx.get(f"{server.url}/__sandbox__/idempotency").json()
    entries = doc if isinstance(doc, list) else next(
        v for v in doc.values() if isinstance(v, list))
    counts: dict[str, int] = {}
    for entry in entries:
        key = str(entry["idempotencyKey"])
        counts[key] = counts.get(key, 0) + int(entry["executed"])
    return counts


def replayed(server: SandboxServer) -> int:
    """How many answers the sandbox gave from its memory (a key sent again)."""
    import httpx

    doc = httpx.get(f"{server.url}/__sandbox__/idempotency").json()
    return sum(int(e["replays"]) for e in doc["entries"])


def test_changes_made_working_offline_are_sent_when_it_is_turned_off(sandbox):
    """Working offline the check-in queues (nothing sent); turned off, it reaches the
    server, and the visit records the time the user acted, not the time it was sent."""
    visit = expected_visits(sandbox, 1)[0]

    async def go():
        ws = make_workspace([])
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        box = ws.outboxes.current
        assert box is not None
        ws.set_work_offline(True)
        acted = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
        change = box.change_status("visits", visit, "checked_in", "check_in",
                                   occurred_at=acted)
        assert box.overlay_row("visits", visit)["status"] == "checked_in"
        for _ in range(10):  # the loop turns: a sender, if any, would have started
            await asyncio.sleep(0)
        assert not box.running
        assert server_record(sandbox, visit["key"])["status"] == "expected"
        assert box.waiting_count() == 1
        ws.set_work_offline(False)
        await wait_for(lambda: box.waiting_count() == 0)
        record = server_record(sandbox, visit["key"])
        assert record["status"] == "checked_in"
        assert record["checkedInAt"] == acted.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert box.get(change.seq) is None
        await ws.close()

    run(go())


def test_a_change_left_by_an_earlier_run_is_sent_at_the_next_start(sandbox):
    """Closed with a change still waiting: the next open of the connection sends it."""
    visit = expected_visits(sandbox, 1)[0]

    async def go():
        ws = make_workspace([])
        ws.work_offline = True
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        assert ws.outboxes.current is not None
        ws.outboxes.current.change_status("visits", visit, "checked_in", "check_in")
        await ws.close()
        assert server_record(sandbox, visit["key"])["status"] == "expected"

        again = make_workspace([])
        open_from_store(again, sandbox.url)
        await again.start_all()
        box = again.outboxes.current
        assert box is not None
        await wait_for(lambda: box.waiting_count() == 0)
        assert server_record(sandbox, visit["key"])["status"] == "checked_in"
        await again.close()

    run(go())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_change_made_while_the_server_is_down_is_sent_when_it_is_back():
    """The server stops: the check-in waits (the app goes offline); back, it is sent once."""
    server = SandboxServer(SandboxConfig(port=_free_port(), scale="small", seed=42,
                                         tokens=(TOKEN,)))
    server.start()
    visit = expected_visits(server, 1)[0]

    async def go():
        ws = make_workspace([])
        open_from_store(ws, server.url)
        await ws.start_all()
        box = ws.outboxes.current
        assert box is not None
        server.stop()
        change = box.change_status("visits", visit, "checked_in", "check_in")
        await wait_for(lambda: ws.reach is Reach.OFFLINE)
        stored = box.get(change.seq)
        assert stored is not None and stored.state is ChangeState.WAITING
        server.start()
        await wait_for(lambda: box.waiting_count() == 0)
        assert server_record(server, visit["key"])["status"] == "checked_in"
        assert applied_writes(server) == {change.idempotency_key: 1}
        await ws.close()

    try:
        run(go())
    finally:
        server.stop()


@pytest.mark.parametrize("fault", ["reset:method=write,count=1",
                                   "502:method=write,apply=1,count=1"])
def test_an_answer_lost_after_the_server_applied_it_is_replayed_and_applied_once(
    sandbox, fault
):
    """The server applies the check-in, then the answer is lost (a reset connection, a
    502): the outbox sends it again with the same key and it is applied once."""
    visit = expected_visits(sandbox, 1)[0]
    sandbox.set_faults([fault])

    async def go(path: Path):
        Cache.open(path).close()
        async with MakiniClient(sandbox.url, TOKEN,
                                retry=RetryPolicy(max_attempts=1)) as client:
            box = Outbox(OutboxStore.open(path), client_sender(client),
                         backoff=Backoff(first=0.01, longest=0.05))
            change = box.change_status("visits", visit, "checked_in", "check_in")
            box.resume()
            await box.drain()
            assert box.changes() == []
            await box.aclose()
            return change

    change = run(go(cache_path_for("lost-answer")))
    assert server_record(sandbox, visit["key"])["status"] == "checked_in"
    assert applied_writes(sandbox) == {change.idempotency_key: 1}


@pytest.mark.slow
def test_a_killed_process_loses_no_change_and_none_is_applied_twice(sandbox):
    """SIGKILL at random points while storing and while sending, 20 times: after the next
    start every stored check-in is on the server, each applied exactly once."""
    visits = expected_visits(sandbox, 40)
    sandbox.set_latency(20)  # a send takes a while: kills land while it is in flight
    path = cache_path_for("kill-outbox")
    rng = random.Random(2026)
    acknowledged: dict[str, str] = {}  # visit key -> Idempotency-Key, printed once stored
    phases: dict[str, int] = {"storing": 0, "sending": 0}
    for i in range(20):
        batch = [str(v["key"]) for v in visits[2 * i: 2 * i + 2]]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.outbox_worker", sandbox.url, TOKEN,
             str(path), *batch],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        kill_after = rng.randint(1, 5)  # 1-2: while storing; 3: sending; 4-5: mid-replay
        seen = 0
        phase = "storing"
        for line in proc.stdout:
            word, *rest = line.split()
            if word == "stored":
                acknowledged[rest[0]] = rest[1]
            elif word == "sending":
                phase = "sending"
            elif word == "drained":
                break
            seen += 1
            if seen >= kill_after:
                proc.send_signal(signal.SIGKILL)
                phases[phase] += 1
                break
        proc.wait(timeout=60)
    assert phases["storing"] >= 3 and phases["sending"] >= 3  # both moments were hit

    sandbox.set_latency(0)
    final = subprocess.run(
        [sys.executable, "-m", "tests.helpers.outbox_worker", sandbox.url, TOKEN, str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )
    assert final.stdout.strip().endswith("drained 0")
    with OutboxStore.open(path, read_only=True) as store:
        assert store.changes() == []  # none left behind, none stuck
    for key in acknowledged:
        assert server_record(sandbox, key)["status"] == "checked_in", key
    applied = applied_writes(sandbox)
    assert all(count == 1 for count in applied.values()), applied
    assert set(acknowledged.values()) <= set(applied)
    print(f"kills while storing / sending: {phases['storing']} / {phases['sending']}; "
          f"answers replayed from the server's memory: {replayed(sandbox)}")
    # One executed check-in per visitor at most: no change was stored twice either.
    assert len(applied) <= len(visits)


async def _send_one(server: SandboxServer, path: Path, make: Any) -> Any:
    """Store one change with ``make(outbox)``, send it, and return it as it ended."""
    Cache.open(path).close()
    async with MakiniClient(server.url, TOKEN, retry=RetryPolicy(max_attempts=1)) as client:
        box = Outbox(OutboxStore.open(path), client_sender(client),
                     backoff=Backoff(first=0.01, longest=0.05))
        rolled: list[Any] = []
        box.on_rolled_back = lambda c, r: rolled.append(r)
        change = make(box)
        box.resume()
        await box.drain()
        ended = box.get(change.seq)
        await box.aclose()
        return ended, rolled


def test_a_stale_check_in_is_a_conflict_with_the_servers_record(sandbox):
    """Another desk checked the visitor in and out meanwhile: the stale check-in is a 409
    conflict holding the server's record, and the row rolls back to it."""
    visit = expected_visits(sandbox, 1)[0]
    key = str(visit["key"])
    other = {"Authorization": f"Bearer {TOKEN}"}
    import httpx

    for target, seen in (("checked_in", "expected"), ("checked_out", "checked_in")):
        answer = httpx.put(f"{sandbox.url}/api/iwms/visitors/{key}", headers=other,
                           json={"status": target, "expectedStatus": seen})
        assert answer.status_code == 200
    ended, rolled = run(_send_one(
        sandbox, cache_path_for("conflict"),
        lambda box: box.change_status("visits", visit, "checked_in", "check_in")))
    assert ended.state is ChangeState.CONFLICT and ended.request_id
    assert ended.server_record["status"] == "checked_out"
    assert rolled[0]["status"] == "checked_out"
    assert server_record(sandbox, key)["status"] == "checked_out"  # not "departure undone"


def test_a_check_in_dated_eight_days_ago_fails_with_the_servers_reason(sandbox):
    """occurredAt more than 7 days in the past: 422, kept as failed with reason and ID."""
    visit = expected_visits(sandbox, 1)[0]
    long_ago = datetime.now(UTC) - timedelta(days=8)
    ended, rolled = run(_send_one(
        sandbox, cache_path_for("too-old"),
        lambda box: box.change_status("visits", visit, "checked_in", "check_in",
                                      occurred_at=long_ago)))
    assert ended.state is ChangeState.FAILED and ended.http_status == 422
    assert ended.request_id  # the server echoes the one the client sent
    assert "occurredAt" in ended.reason
    assert rolled == [visit]
    assert server_record(sandbox, str(visit["key"]))["status"] == "expected"


def test_a_system_without_visitor_writes_fails_as_not_offered():
    """A read-only visitors module answers 405: failed, marked "not offered"."""
    from makini_desktop.sync.outbox import is_not_offered

    server = SandboxServer(SandboxConfig(scale="small", seed=42, tokens=(TOKEN,),
                                         read_only=("visitors",)))
    server.start()
    try:
        visit = expected_visits(server, 1)[0]
        ended, _ = run(_send_one(
            server, cache_path_for("no-writes"),
            lambda box: box.change_status("visits", visit, "checked_in", "check_in")))
        assert ended.state is ChangeState.FAILED and ended.http_status == 405
        assert is_not_offered(ended)
        assert server_record(server, str(visit["key"]))["status"] == "expected"
    finally:
        server.stop()


def test_a_walk_in_registered_while_offline_gets_the_servers_key(sandbox):
    """A walk-in stored offline is created once, checked in at the time of the desk."""
    acted = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    site = next(iter(sandbox.data.visible(res.SITES.name)))
    fields = {"visitorName": "Walk In Person", "visitorType": "visitor",
              "hostName": "Front Desk", "siteKey": site["key"],
              "expectedAt": acted.strftime("%Y-%m-%dT%H:%M:%SZ")}
    ended, _ = run(_send_one(
        sandbox, cache_path_for("walk-in"),
        lambda box: box.register(fields, walk_in=True, occurred_at=acted)))
    assert ended is None  # confirmed and gone
    made = [r for r in sandbox.data.visible(res.VISITS.name)
            if r.get("visitorName") == "Walk In Person"]
    assert len(made) == 1
    assert made[0]["status"] == "checked_in"
    assert made[0]["checkedInAt"] == acted.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_refresh_landing_while_a_change_is_pending_keeps_it_on_the_row(sandbox):
    """The server refuses writes for a while (503): a full refresh of the visitors tab
    brings the visitor back as expected, yet the tab shows the pending check-in; once the
    server takes it, the row is the server's record."""
    visit = expected_visits(sandbox, 1)[0]
    key = str(visit["key"])

    async def go():
        from makini_desktop.sync.outbox_link import OutboxLink
        from makini_desktop.sync.workspace import Workspace
        from makini_desktop.table.lookups import Lookups
        from tests.integration.test_workspace_sync import ListSink, fast_retries

        # The models' owner puts the visitors model behind the outbox's overlay.
        views = [res.VIEWS[name] for name in res.TAB_VIEWS]
        link = OutboxLink()
        models = {v.name: link.sink(v, ListSink(v.dataset.name, [])) for v in views}
        ws = Workspace(views, Lookups(), models, session_factory=fast_retries)
        ws.outboxes = link
        open_from_store(ws, sandbox.url)
        await ws.start_all()
        box = ws.outboxes.current
        assert box is not None
        tab = ws.tabs["visitors"]
        assert tab.model.rows[key]["status"] == "expected"
        sandbox.set_faults(["503:method=write"])
        change = box.change_status("visits", tab.model.rows[key], "checked_in", "check_in")
        await wait_for(lambda: box.get(change.seq) is not None
                       and box.get(change.seq).attempts >= 1
                       and box.get(change.seq).state is ChangeState.WAITING)
        sandbox.mutate("visits", 5, delete_share=0)  # the refresh brings changed rows too
        await ws.refresh_tab("visitors", full=True)
        assert server_record(sandbox, key)["status"] == "expected"
        assert tab.model.rows[key]["status"] == "checked_in"  # not undone by the refresh
        sandbox.clear_faults()
        await wait_for(lambda: box.waiting_count() == 0)
        await ws.refresh_tab("visitors")
        assert tab.model.rows[key]["status"] == "checked_in"
        assert tab.model.rows[key]["updatedAt"] == server_record(sandbox, key)["updatedAt"]
        await ws.close()

    run(go())

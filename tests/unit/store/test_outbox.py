"""The outbox table: stored before sending, kept across reopenings, removed on confirmation."""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from makini_desktop.store.cache import Cache, CacheError
from makini_desktop.store.outbox import KIND_CREATE, ChangeState, OutboxStore, new_local_key
from makini_desktop.store.schema import MIGRATIONS

AT_0900 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
VISIT = {"key": "09000000000001", "status": "expected", "visitorName": "Ada Lovelace",
         "updatedAt": "2026-03-14T08:00:00Z", "customField": 7}
BODY = {"status": "checked_in", "expectedStatus": "expected", "occurredAt": "2026-03-14T09:00:00Z"}


def _store(path: Path) -> OutboxStore:
    Cache.open(path).close()  # creates and migrates the file, as the app does first
    return OutboxStore.open(path)


def test_a_stored_change_comes_back_whole_after_reopening(db_path):
    """Every field of a change survives closing and reopening the file."""
    store = _store(db_path)
    added = store.add("visits", VISIT["key"], "check_in", BODY, before=VISIT,
                      occurred_at=AT_0900)
    store.close()
    again = OutboxStore.open(db_path)
    [change] = again.changes()
    assert change.seq == added.seq
    assert change.record == ("visits", "09000000000001")
    assert change.action == "check_in"
    assert change.body == BODY
    assert change.before == VISIT
    assert change.occurred_at == AT_0900
    assert change.state is ChangeState.WAITING
    assert uuid.UUID(change.idempotency_key).version == 4
    assert change.attempts == 0
    again.close()


def test_the_change_is_committed_before_add_returns(db_path):
    """Another connection sees the change as soon as add() returns (nothing left to flush)."""
    store = _store(db_path)
    store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    other = sqlite3.connect(db_path)
    assert other.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert store._require().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    other.close()
    store.close()


def test_a_change_stored_without_waiting_for_the_disk_is_committed_and_then_synced(db_path):
    """durable=False: another connection sees it at once; sync() puts it on disk; the
    connection is back to synchronous=FULL for the next durable write."""
    store = _store(db_path)
    store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900, durable=False)
    other = sqlite3.connect(db_path)
    assert other.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    other.close()
    assert store._require().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
    store.sync()
    store.sync()  # twice is fine
    store._require().close()  # as if killed after the sync
    again = OutboxStore.open(db_path)
    assert [c.record_key for c in again.changes()] == ["k1"]
    again.close()


def test_a_change_left_sending_by_a_killed_process_waits_again_with_its_key(db_path):
    """Reopening turns 'sending' back into 'waiting'; key and attempts are kept."""
    store = _store(db_path)
    change = store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    store.mark_sending(change.seq)
    store._require().close()  # as if killed: no clean close
    again = OutboxStore.open(db_path)
    [back] = again.changes()
    assert back.state is ChangeState.WAITING
    assert back.attempts == 1
    assert back.idempotency_key == change.idempotency_key
    again.close()


def test_failed_and_conflict_states_keep_reason_request_id_and_server_record(db_path):
    """A refusal keeps why, the request ID, and for a 409 the server's record."""
    store = _store(db_path)
    one = store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    two = store.add("visits", "k2", "check_in", BODY, occurred_at=AT_0900)
    store.mark_failed(one.seq, reason="Bad time", request_id="req_1", http_status=422,
                      error_code="VALIDATION_FAILED")
    server = {"key": "k2", "status": "checked_out", "checkedOutAt": "2026-03-14T14:02:00Z"}
    store.mark_conflict(two.seq, reason="Already checked out", request_id="req_2",
                        server_record=server)
    failed, conflict = store.changes()
    assert (failed.state, failed.reason, failed.request_id, failed.http_status) == (
        ChangeState.FAILED, "Bad time", "req_1", 422)
    assert conflict.state is ChangeState.CONFLICT and conflict.server_record == server
    assert store.pending_count() == 0
    store.close()


def test_confirm_removes_the_change_and_caches_the_server_record(db_path):
    """The confirmed change is gone and the cached row is the server's, in one step."""
    cache = Cache.open(db_path)
    cache.apply_changes("visits", [VISIT], watermark=None, synced_at=AT_0900,
                        server_total=None)
    store = OutboxStore.open(db_path)
    change = store.add("visits", VISIT["key"], "check_in", BODY, before=VISIT,
                       occurred_at=AT_0900)
    server = {**VISIT, "status": "checked_in", "checkedInAt": "2026-03-14T09:00:00Z",
              "updatedAt": "2026-03-14T09:30:00Z"}
    assert store.confirm(change.seq, server) == VISIT["key"]
    assert store.changes() == []
    assert cache.load("visits").rows == [server]
    store.close()
    cache.close()


def test_a_confirmed_creation_gives_later_changes_the_new_key(db_path):
    """A walk-in's check-out queued behind its registration follows the server's key."""
    store = _store(db_path)
    local = new_local_key()
    create = store.add("visits", local, "register", {"visitorName": "Bo"}, kind=KIND_CREATE,
                       occurred_at=AT_0900)
    later = store.add("visits", local, "check_out", {"status": "checked_out"},
                      occurred_at=AT_0900)
    assert store.confirm(create.seq, {"key": "09000000099999", "visitorName": "Bo"}) == (
        "09000000099999")
    assert store.get(later.seq).record_key == "09000000099999"
    store.close()


def test_created_order_survives_removals(db_path):
    """A change added after others were removed still sorts after every remaining one."""
    store = _store(db_path)
    seqs = [store.add("visits", f"k{i}", "check_in", BODY, occurred_at=AT_0900).seq
            for i in range(3)]
    store.discard(seqs[2])
    newest = store.add("visits", "k9", "check_in", BODY, occurred_at=AT_0900)
    assert newest.seq > seqs[2]
    assert [c.record_key for c in store.changes()] == ["k0", "k1", "k9"]
    store.close()


def test_a_version_1_cache_keeps_its_rows_and_gains_an_empty_outbox(db_path):
    """Migrating an old cache loses none of its rows; its outbox starts empty."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for statement in MIGRATIONS[0][1].split(";"):  # type: ignore[union-attr]
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO rows (dataset, key, data) VALUES ('visits', 'k1', ?)",
                 ('{"key":"k1","status":"expected"}',))
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    # Readable as it is, before any migration (outbox list beside an old app).
    old = Cache.open_readonly(db_path)
    assert old.load("visits").rows == [{"key": "k1", "status": "expected"}]
    assert OutboxStore.open(db_path, read_only=True).changes() == []
    old.close()
    cache = Cache.open(db_path)
    assert cache.recovered is None
    assert cache.load("visits").rows == [{"key": "k1", "status": "expected"}]
    store = OutboxStore.open(db_path)
    assert store.changes() == []
    store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    assert store.pending_count() == 1
    store.close()
    cache.close()


def test_clearing_the_cache_keeps_the_outbox(db_path):
    """"Clear cache" drops the downloaded rows, never the user's unsent changes."""
    store = _store(db_path)
    store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    cache = Cache.open(db_path)
    cache.clear()
    assert store.pending_count() == 1
    store.close()
    cache.close()


def test_a_read_only_outbox_lists_but_refuses_to_store(db_path):
    """Read-only: the changes are listed; storing one says the file cannot be written."""
    store = _store(db_path)
    store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    store.close()
    reader = OutboxStore.open(db_path, read_only=True)
    assert len(reader.changes()) == 1
    with pytest.raises(CacheError) as caught:
        reader.add("visits", "k2", "check_in", BODY, occurred_at=AT_0900)
    assert caught.value.reason == "read_only"
    assert "cannot be written" in caught.value.message
    reader.close()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions")
def test_a_change_that_cannot_be_stored_raises_a_clear_error(db_path):
    """A file that became read-only: add() fails with a sentence, nothing half-stored."""
    store = _store(db_path)
    store.close()
    db_path.chmod(stat.S_IRUSR)
    try:
        store = OutboxStore.open(db_path)
    except CacheError as exc:
        assert "cannot be written" in exc.message
        return
    finally:
        db_path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(CacheError) as caught:
        store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
    assert caught.value.reason in ("read_only", "io")
    store.close()


def test_unsent_changes_of_a_saved_connection_are_counted_before_removing_it():
    """What removing a connection would throw away: every unconfirmed change of its files."""
    from makini_desktop.store.cache import cache_path_for
    from makini_desktop.store.outbox import unsent_in_connection

    assert unsent_in_connection("p1") == 0
    for key in ("p1-aaaa1111", "p1-bbbb2222"):  # the connection pointed at two servers
        path = cache_path_for(key)
        store = _store(path)
        store.add("visits", "k1", "check_in", BODY, occurred_at=AT_0900)
        store.close()
    assert unsent_in_connection("p1") == 2
    assert unsent_in_connection("p2") == 0

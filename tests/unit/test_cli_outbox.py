"""``makini-desktop outbox list``: the waiting and failed changes, for support, no token."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from makini_desktop.cli import TOKEN_ENV, main
from makini_desktop.store.cache import Cache, cache_path_for, profile_cache_key
from makini_desktop.store.outbox import OutboxStore
from makini_desktop.store.profiles import ProfileStore

TOKEN = "tok-live-9d8c7b6a5f4e3d2c"
AT = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
def saved(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert main(["connection", "add", "Front desk", "--base-url", "https://api.makini.io"]) == 0
    profile = ProfileStore().find_by_name("Front desk")
    path = cache_path_for(profile_cache_key(profile.id, profile.base_url))
    Cache.open(path).close()
    store = OutboxStore.open(path)
    waiting = store.add("visits", "09000000000001", "check_in",
                        {"status": "checked_in", "occurredAt": "2026-03-14T09:00:00Z"},
                        before={"key": "09000000000001", "visitorName": "Ada Lovelace"},
                        occurred_at=AT)
    failed = store.add("moves", "09000000000002", "approve", {"status": "approved"},
                       before={"key": "09000000000002", "title": "Move finance"},
                       occurred_at=AT)
    store.mark_failed(failed.seq, reason="The server rejected the values sent.",
                      request_id="req_01ABC", http_status=422)
    store.close()
    return waiting, failed


def test_list_prints_each_change_with_state_reason_and_request_id(saved, capsys):
    """Both changes are listed: state, record, who, reason, request ID, Idempotency-Key."""
    waiting, failed = saved
    assert main(["outbox", "list"]) == 0
    out = capsys.readouterr()
    assert "Front desk: 2 change(s) not yet confirmed" in out.out
    assert "waiting  check_in visits 09000000000001 (Ada Lovelace)" in out.out
    assert "failed   approve moves 09000000000002 (Move finance)" in out.out
    assert "request id: req_01ABC" in out.out
    assert waiting.idempotency_key in out.out and failed.idempotency_key in out.out
    assert "2026-03-14T09:00:00Z" in out.out
    assert TOKEN not in out.out + out.err


def test_list_for_one_connection_as_json(saved, capsys):
    """--connection NAME --json gives one document with every field support needs."""
    assert main(["outbox", "list", "--connection", "Front desk", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    states = [(c["state"], c["key"], c["occurredAt"]) for c in doc["changes"]]
    assert states == [("waiting", "09000000000001", "2026-03-14T09:00:00Z"),
                      ("failed", "09000000000002", "2026-03-14T09:00:00Z")]
    assert doc["changes"][1]["requestId"] == "req_01ABC"
    assert TOKEN not in json.dumps(doc)


def test_an_unknown_connection_is_a_usage_error(saved, capsys):
    """A name that is not saved exits 2 with a sentence."""
    assert main(["outbox", "list", "--connection", "Nope"]) == 2
    assert "no saved connection named 'Nope'" in capsys.readouterr().err


def test_nothing_waiting_says_so(capsys):
    """Without any change the command says there is nothing to send."""
    assert main(["outbox", "list"]) == 0
    assert "No changes waiting to be sent." in capsys.readouterr().out

"""`export` of records whose text a format cannot hold: a valid file and one note line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from makini_desktop.cli import main
from makini_desktop.store.cache import Cache
from makini_desktop.sync.session import adhoc_cache_key

URL = "https://api.example-makini.test"
TOKEN = "tok_hostile_text"
FFFD = "\N{REPLACEMENT CHARACTER}"


@pytest.fixture
def cached(monkeypatch):
    """A cache holding assets with lone surrogates and U+FFFF, as a sync would leave it."""
    monkeypatch.setenv("MAKINI_API_TOKEN", TOKEN)
    rows = [
        {"key": "1", "name": "Büro", "tag": "AST-1"},
        {"key": "2", "name": json.loads('"Desk \\ud800"'), "tag": "AST-2"},
        {"key": "3", "name": "ok", "tag": "A\uffff", "notes": json.loads('"\\udfff"')},
    ]
    with Cache.open_for(adhoc_cache_key(URL, TOKEN)) as cache:
        writer = cache.begin_snapshot("assets")
        writer.add(rows)
        writer.commit(server_total=3, watermark=None, synced_at=datetime.now(UTC))
    return rows


@pytest.mark.parametrize(("fmt", "cells"), [("csv", 2), ("json", 2), ("xlsx", 3)])
def test_export_replaces_what_the_format_cannot_hold_and_says_how_many(
    cached, tmp_path, capsys, fmt, cells
):
    """The export (--raw: the API's fields) exits 0 with a file that decodes, and prints one
    note with the count."""
    target = tmp_path / f"assets.{fmt}"
    assert main(["export", "assets", "--base-url", URL, "--offline", "--raw",
                 "-o", str(target)]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert notes == [f"note: {cells} cells had characters {fmt.upper()} cannot hold; "
                     f"replaced with {FFFD}"]
    if fmt != "xlsx":
        target.read_bytes().decode("utf-8", errors="strict")

"""The sandbox's live records (sandbox/records.py): visibility, change stamps, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.data import SandboxData, format_ts, generate, parse_ts
from tests.unit.sandbox.support import NOW


def test_visible_omits_soft_deleted_records(small_data: SandboxData) -> None:
    """visible() is the key-ordered records without deletedAt; dataset() has them all."""
    data = generate("small", 42, now=NOW)
    asset = dict(data.assets[3], deletedAt="2026-03-12T12:00:01Z")
    data.replace("assets", asset)
    assert asset in data.dataset("assets")
    assert asset not in data.visible("assets")
    assert len(data.visible("assets")) == len(data.assets) - 1
    with pytest.raises(KeyError):
        data.dataset("widgets")


def test_next_stamp_is_strictly_after_everything() -> None:
    """A change's stamp is after every updatedAt and after the previous stamp."""
    data = generate("small", 42, now=datetime(2099, 1, 1, tzinfo=UTC))  # clock behind data
    newest = max(r["updatedAt"] for n in res.DATASETS for r in data.dataset(n))
    first = data.next_stamp()
    second = data.next_stamp()
    assert format_ts(first) > newest
    assert second == first + 1


def test_timestamp_helpers_round_trip() -> None:
    """format_ts and parse_ts convert between Unix seconds and the contract's form."""
    assert format_ts(0) == "1970-01-01T00:00:00Z"
    assert parse_ts("2026-03-14T09:30:00Z") == parse_ts("2026-03-14T10:30:00+01:00")
    assert format_ts(parse_ts("2026-03-14T09:30:00.750Z")) == "2026-03-14T09:30:00Z"

"""Runtime changes to the sandbox's records (sandbox/changes.py, SandboxServer.mutate)."""

from __future__ import annotations

import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer


def test_mutations_are_strictly_newer_each_time(server: SandboxServer) -> None:
    """Each mutate() stamps records after everything before, so nothing is missed."""
    first = server.mutate("visits", 3, delete_share=0)
    second = server.mutate("visits", 3, delete_share=0)
    stamp1 = max(server.data.get("visits", k)["updatedAt"] for k in first)
    stamp2 = min(server.data.get("visits", k)["updatedAt"] for k in second if k not in first)
    assert stamp2 > stamp1


@pytest.mark.parametrize("dataset", list(res.DATASETS))
def test_mutate_changes_a_visible_field(server: SandboxServer, dataset: str) -> None:
    """mutate() changes more than timestamps on every dataset."""
    before = {r["key"]: r for r in server.data.visible(dataset)}
    keys = server.mutate(dataset, 2, delete_share=0)
    for key in keys:
        old, new = before[key], server.data.get(dataset, key)
        assert new is not None
        changed = {f for f in new if new.get(f) != old.get(f)} - {"updatedAt"}
        assert changed, dataset


def test_mutate_rejects_bad_arguments(server: SandboxServer) -> None:
    """Unknown dataset or a share outside 0..1 raises ValueError; count caps at visible."""
    with pytest.raises(ValueError):
        server.mutate("widgets", 1)
    with pytest.raises(ValueError):
        server.mutate("sites", 1, delete_share=2)
    assert len(server.mutate("sites", 50, delete_share=0)) == len(server.data.sites)

"""A sync killed at any moment never damages the offline cache."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from makini_desktop.store.cache import Cache, cache_path_for
from makini_desktop.sync.session import ConnectionInfo, Session
from tests.helpers.mockapi import run

TOKEN = "sandbox-token"
ROOT = Path(__file__).resolve().parents[2]


async def _full_sync(url: str, key: str):
    session = Session(ConnectionInfo("t", url, key), TOKEN)
    try:
        return await session.repository("assets").refresh(full=True)
    finally:
        await session.aclose()


def test_sigkill_in_the_middle_of_syncs_keeps_the_previous_snapshot(sandbox):
    """Killing the process mid-sync, many times, leaves the last complete list intact."""
    first = run(_full_sync(sandbox.url, "crash"))
    with Cache.open(cache_path_for("crash")) as cache:
        before = cache.dataset_info("assets")
        first_rows = cache.load("assets").rows
    assert [r["key"] for r in first_rows] == first.keys
    sandbox.mutate("assets", 40, delete_share=0.25)  # so a finished sync would differ
    sandbox.set_latency(5)
    rng = random.Random(1234)
    kills = 0
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.sync_worker", sandbox.url, TOKEN, "crash",
             "assets"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        stop_after = rng.randint(1, 4)
        seen = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("page"):
                seen += 1
                if seen >= stop_after:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                    break
            if line.startswith("committed"):
                break
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        with Cache.open(cache_path_for("crash")) as cache:
            assert cache.recovered is None
            assert cache.dataset_info("assets") == before
            assert cache.load("assets").rows == first_rows
    assert kills == 8
    # and a sync that is allowed to finish afterwards still works from that state
    sandbox.set_latency(0)
    final = run(_full_sync(sandbox.url, "crash"))
    assert sorted(final.keys) == sorted(
        r["key"] for r in sandbox.data.visible("assets"))

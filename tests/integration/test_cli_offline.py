"""`export --offline` and `cache info`: the offline cache from the command line."""

from __future__ import annotations

import pytest

from makini_desktop.cli import main
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.session import ConnectionInfo, Session
from tests.helpers.mockapi import run

TOKEN = "sandbox-token"


async def _sync(info: ConnectionInfo, datasets=("sites", "locations", "assets")):
    session = Session(info, TOKEN)
    try:
        for name in datasets:
            await session.repository(name).refresh()
    finally:
        await session.aclose()


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("MAKINI_API_TOKEN", TOKEN)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_offline_export_equals_the_online_export_of_the_same_snapshot(
    sandbox, token_env, tmp_path, fmt
):
    """With the server down, --offline writes exactly what the online export wrote."""
    run(_sync(ConnectionInfo.adhoc(sandbox.url, TOKEN)))
    online, offline = tmp_path / f"online.{fmt}", tmp_path / f"offline.{fmt}"
    assert main(["export", "spaces", "--base-url", sandbox.url, "-o", str(online)]) == 0
    url = sandbox.url
    sandbox.stop()
    assert main(["export", "spaces", "--base-url", url, "--offline", "-o", str(offline)]) == 0
    assert offline.read_bytes() == online.read_bytes()


def test_offline_export_of_a_saved_connection(sandbox, tmp_path, capsys):
    """--connection NAME --offline exports that connection's cache and says how fresh it is."""
    profile = ProfileStore().add("Head office", sandbox.url)
    TokenStore().set(profile.id, TOKEN)
    run(_sync(ConnectionInfo.from_profile(profile)))
    sandbox.stop()
    target = tmp_path / "assets.json"
    assert main(["export", "assets", "--connection", "Head office", "--offline",
                 "-o", str(target)]) == 0
    import json

    assert [r["key"] for r in json.loads(target.read_text("utf-8"))] == [
        r["key"] for r in sandbox.data.visible("assets")]
    assert "cached just now" in capsys.readouterr().err


def test_offline_export_of_a_list_never_synced_is_a_clear_error(sandbox, token_env, tmp_path,
                                                                capsys):
    """A list that was never fetched cannot be exported offline, and the message says why."""
    run(_sync(ConnectionInfo.adhoc(sandbox.url, TOKEN), datasets=("sites",)))
    code = main(["export", "moves", "--base-url", sandbox.url, "--offline",
                 "-o", str(tmp_path / "m.csv")])
    assert code == 2
    assert "no moves cached" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()


def test_another_token_on_the_same_url_sees_no_cache(sandbox, monkeypatch, tmp_path, capsys):
    """Two customers behind the same base URL never share cached rows."""
    run(_sync(ConnectionInfo.adhoc(sandbox.url, TOKEN)))
    monkeypatch.setenv("MAKINI_API_TOKEN", "someone-elses-token")
    code = main(["export", "assets", "--base-url", sandbox.url, "--offline",
                 "-o", str(tmp_path / "a.csv")])
    assert code == 2 and "nothing cached" in capsys.readouterr().err


def test_cache_info_lists_rows_and_sync_time_per_connection_and_list(sandbox, capsys):
    """`cache info` shows each connection's lists with their row counts and last sync."""
    profile = ProfileStore().add("Head office", sandbox.url)
    run(_sync(ConnectionInfo.from_profile(profile), datasets=("sites", "assets")))
    ProfileStore().add("Branch", "https://api.makini.io")
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out.splitlines()
    assets = next(line for line in out if line.startswith("Head office") and " assets " in line)
    assert f"{len(sandbox.data.visible('assets')):,}" in assets and "just now" in assets
    moves = next(line for line in out if line.startswith("Head office") and " moves " in line)
    assert "never" in moves
    assert any(line.startswith("Branch") and "never synced" in line for line in out)


def test_offline_export_keeps_the_servers_order_after_incremental_refreshes(
    sandbox, token_env, tmp_path
):
    """A record deleted and restored comes last in the cache, but in key order offline."""
    from makini_desktop.sandbox.data import format_ts

    info = ConnectionInfo.adhoc(sandbox.url, TOKEN)
    run(_sync(info, datasets=("assets",)))
    victim = sandbox.data.visible("assets")[3]
    gone = dict(victim, deletedAt=format_ts(sandbox.data.next_stamp()))
    gone["updatedAt"] = gone["deletedAt"]
    sandbox.data.replace("assets", gone)
    run(_sync(info, datasets=("assets",)))
    back = dict(victim, deletedAt=None, updatedAt=format_ts(sandbox.data.next_stamp()))
    sandbox.data.replace("assets", back)
    run(_sync(info, datasets=("assets",)))
    online, offline = tmp_path / "online.csv", tmp_path / "offline.csv"
    assert main(["export", "assets", "--base-url", sandbox.url, "--raw",
                 "-o", str(online)]) == 0
    assert main(["export", "assets", "--base-url", sandbox.url, "--offline", "--raw",
                 "-o", str(offline)]) == 0
    assert offline.read_bytes() == online.read_bytes()


def test_pointing_a_saved_connection_at_another_server_starts_another_cache(sandbox):
    """The old server's rows are never shown offline as the new server's; removing the
    connection deletes both caches."""
    profiles = ProfileStore()
    profile = profiles.add("Head office", sandbox.url)
    old = ConnectionInfo.from_profile(profile)
    run(_sync(old, datasets=("sites",)))
    profile.base_url = "https://api.other-vendor.example"
    new = ConnectionInfo.from_profile(profiles.update(profile))
    assert new.cache_key != old.cache_key
    session = Session(new, TOKEN)
    assert session.repository("sites").cached_meta() is None
    run(session.aclose())
    TokenStore().set(profile.id, TOKEN)
    assert main(["connection", "remove", "Head office"]) == 0
    from makini_desktop.store.cache import connection_cache_paths

    assert connection_cache_paths(profile.id) == []


def test_usage_errors_of_cache_commands_exit_2_also_under_python_m(tmp_path):
    """`python -m makini_desktop.cli export --offline` without a source says so, exit 2."""
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "makini_desktop.cli", "export", "assets", "--offline",
         "-o", str(tmp_path / "a.csv")],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("makini-desktop: error: ") and "Traceback" not in out.stderr

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

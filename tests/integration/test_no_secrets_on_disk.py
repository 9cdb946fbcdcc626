"""A whole session of the app leaves no token in any file under MAKINI_DESKTOP_HOME."""

from __future__ import annotations

from makini_desktop import cli
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from tests.integration.test_app import _close_when_loaded

TOKEN = "sandbox-token-7f3a9c2e5b1d4a8f"


def test_a_full_session_writes_no_token_anywhere(qapp, sandbox, _isolated_home):
    """After loading every tab, saving settings, caching and logging, no file holds the token."""
    sandbox.add_token(TOKEN)
    profiles = ProfileStore()
    profile = profiles.add("Head office", sandbox.url)
    profiles.set_active(profile.id)
    TokenStore().set(profile.id, TOKEN)
    seen: dict = {}
    timer = _close_when_loaded(seen)
    assert cli.main([]) == 0
    timer.stop()
    assert seen["rows"]["assets"] == len(sandbox.data.visible("assets"))
    files = [p for p in _isolated_home.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"connections.json", "settings.ini", "makini-desktop.log"} <= names
    assert any(n.endswith(".sqlite3") for n in names)  # the offline cache was written
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path

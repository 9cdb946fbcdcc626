"""``makini-desktop connection add|list|remove`` and saved connections for ``export``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from makini_desktop.cli import TOKEN_ENV, UsageError, main
from makini_desktop.cli_connections import saved_connection
from makini_desktop.store import cache as cache_store
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import SERVICE, TokenStore
from tests.helpers.memkeyring import MemoryKeyring

TOKEN = "tok-live-7f3a9c2e5b1d4a8f"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def env_token(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def add(name: str = "Headquarters", url: str = "https://api.makini.io", *extra: str) -> int:
    return main(["connection", "add", name, "--base-url", url, *extra])


def test_add_with_env_token_stores_it_in_the_keyring(env_token, capsys, _memory_keyring,
                                                     _isolated_home):
    """add saves the profile and puts $MAKINI_API_TOKEN in the keyring, nowhere else."""
    assert add() == 0
    profile = ProfileStore().find_by_name("Headquarters")
    assert profile is not None and profile.base_url == "https://api.makini.io"
    assert _memory_keyring.store == {(SERVICE, profile.id): TOKEN}
    out = capsys.readouterr()
    assert "Saved connection" in out.out
    assert TOKEN not in out.out + out.err
    assert not [p for p in _isolated_home.rglob("*") if p.is_file() and TOKEN.encode()
                in p.read_bytes()]


def test_add_reads_the_token_from_standard_input(monkeypatch, _memory_keyring):
    """Without $MAKINI_API_TOKEN, add reads one line from standard input, stripped."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"  {TOKEN}  \nignored\n"))
    assert add() == 0
    profile = ProfileStore().find_by_name("Headquarters")
    assert _memory_keyring.store[(SERVICE, profile.id)] == TOKEN


def test_add_prompts_without_echo_on_a_terminal(monkeypatch, _memory_keyring):
    """From a terminal, add asks for the token with getpass (no echo)."""
    monkeypatch.setattr(sys, "stdin", FakeTty())
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or TOKEN)
    assert add() == 0
    assert prompts and "Headquarters" in prompts[0]
    profile = ProfileStore().find_by_name("Headquarters")
    assert _memory_keyring.store[(SERVICE, profile.id)] == TOKEN


def test_add_refuses_an_empty_token(monkeypatch, capsys):
    """An empty standard input is a usage error and saves nothing."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert add() == 2
    assert "makini-desktop: error: the token is empty" in capsys.readouterr().err
    assert ProfileStore().list() == []


def test_add_activate_marks_the_connection_active(env_token):
    """--activate makes the new connection the one the app opens on."""
    assert add("HQ", "https://api.makini.io", "--activate") == 0
    store = ProfileStore()
    assert store.active_id == store.find_by_name("HQ").id


def test_the_first_connection_added_becomes_active_later_ones_do_not(env_token):
    """A rollout that adds one connection opens the app on it; a second one does not steal
    the first's place unless --activate says so."""
    assert add("HQ", "https://api.makini.io") == 0
    store = ProfileStore()
    first = store.find_by_name("HQ").id
    assert store.active_id == first
    assert add("Branch", "https://api.makini.io") == 0
    assert ProfileStore().active_id == first
    assert add("Lab", "https://api.makini.io", "--activate") == 0
    store = ProfileStore()
    assert store.active_id == store.find_by_name("Lab").id


def test_insecure_url_exits_2(env_token, capsys):
    """http:// to a remote host is refused with exit 2 and a one-line reason."""
    assert add("HQ", "http://makini.example.com") == 2
    err = capsys.readouterr().err
    assert err.startswith("makini-desktop: error: ")
    assert "https://" in err
    assert ProfileStore().list() == []


def test_loopback_http_is_accepted(env_token):
    """http:// to 127.0.0.1 (the sandbox) is fine."""
    assert add("Sandbox", "http://127.0.0.1:8765") == 0


def test_duplicate_name_exits_2(env_token, capsys):
    """A name already used (ignoring case) is a usage error."""
    assert add("HQ") == 0
    assert add("hq", "https://other.example.com") == 2
    assert "already exists" in capsys.readouterr().err
    assert len(ProfileStore().list()) == 1


def test_add_without_keyring_fails_clearly(env_token, capsys, monkeypatch):
    """With no keyring backend, add exits 1 with one line saying so instead of pretending
    to save."""
    keyring.set_keyring(fail.Keyring())  # the autouse fixture restores the previous one
    assert add() == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "no system keychain was found" in err
    assert TOKEN not in err
    assert ProfileStore().list() == []


def test_list_shows_connections_but_never_the_token(env_token, capsys):
    """list shows name, base URL, where the token is and the active marker, not the token."""
    assert add("HQ", "https://api.makini.io", "--activate") == 0
    store = ProfileStore()
    store.add("No token", "https://other.example.com")
    capsys.readouterr()
    assert main(["connection", "list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "BASE", "URL", "TOKEN"]
    hq = next(line for line in lines if "HQ" in line)
    assert hq.startswith("*")
    assert "https://api.makini.io" in hq
    assert "in-memory keyring" in hq
    missing = next(line for line in lines if "No token" in line)
    assert missing.rstrip().endswith("missing")
    assert TOKEN not in out + err


def test_list_with_no_connections_says_how_to_add_one(capsys):
    """An empty list explains how to add a connection."""
    assert main(["connection", "list"]) == 0
    assert "connection add" in capsys.readouterr().out


def test_remove_deletes_profile_keyring_entry_and_cache(env_token, capsys, _memory_keyring):
    """remove deletes the profile, its keyring entry and its offline cache files."""
    assert add("HQ") == 0
    profile = ProfileStore().find_by_name("HQ")
    cache_file: Path = cache_store.cache_path_for(profile.id)
    cache_file.write_bytes(b"rows")
    assert main(["connection", "remove", "hq"]) == 0
    assert ProfileStore().list() == []
    assert _memory_keyring.store == {}
    assert not cache_file.exists()
    assert "Removed connection" in capsys.readouterr().out


def test_remove_unknown_name_exits_2(capsys):
    """Removing a connection that does not exist is a usage error."""
    assert main(["connection", "remove", "Nowhere"]) == 2
    assert "no connection named" in capsys.readouterr().err


def test_saved_connection_returns_url_and_token(env_token):
    """saved_connection gives export the base URL and the stored token."""
    assert add("HQ", "https://api.makini.io/") == 0
    assert saved_connection("HQ") == ("https://api.makini.io", TOKEN)


def test_saved_connection_unknown_or_without_token_is_a_usage_error(env_token):
    """An unknown connection, or one with no stored token, is a usage error."""
    with pytest.raises(UsageError, match="no connection named"):
        saved_connection("Nowhere")
    ProfileStore().add("Bare", "https://api.makini.io")
    with pytest.raises(UsageError, match="no token is stored"):
        saved_connection("Bare")


class LockedKeyring(MemoryKeyring):
    """A keyring that exists but refuses to store anything (a locked keychain)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("keychain is locked")


def test_add_rolls_back_when_the_keyring_refuses_the_token(env_token, capsys):
    """If the keyring refuses the token, add exits 1 and leaves no half-saved connection."""
    keyring.set_keyring(LockedKeyring())  # the autouse fixture restores the previous one
    assert add() == 1
    err = capsys.readouterr().err
    assert "keychain is locked" in err
    assert TOKEN not in err
    assert ProfileStore().list() == []


def test_a_pasted_bearer_prefix_is_dropped_from_the_token(monkeypatch, _memory_keyring):
    """A token copied with its "Bearer " prefix is stored without it, as in the dialog."""
    monkeypatch.setenv("MAKINI_API_TOKEN", "  Bearer tok-abcdef-123456  ")
    assert add("HQ", "https://api.makini.io") == 0
    profile = ProfileStore().find_by_name("HQ")
    assert TokenStore().get(profile.id) == "tok-abcdef-123456"


# -- keyring's own backend resolution (nothing forced) ------------------------------------

_PROBE = """
import keyring
import makini_desktop.store.secrets as secrets  # importing the app must not pick a backend
backend = keyring.get_keyring()
ours = type(backend).__module__.startswith("makini_desktop")
print("ours" if ours else ("real" if secrets._is_usable(backend) else "none"))
"""


def _bare_desktop_env(tmp_path: Path) -> dict[str, str]:
    """A Linux desktop session without a Secret Service: no D-Bus, no keyring config."""
    home = tmp_path / "user"
    home.mkdir()
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "MAKINI_DESKTOP_HOME": str(home / "makini"),
        "LANG": "C.UTF-8",
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="macOS and Windows always "
                    "have a system keychain, which a test must never touch")
def test_without_a_system_keychain_add_refuses_and_list_shows_nothing_stored(
    tmp_path, monkeypatch
):
    """On a box without a keychain, keyring's own choice makes add fail in one line naming
    what to install, and list never shows a token as stored."""
    env = _bare_desktop_env(tmp_path)
    probe = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                           text=True, timeout=60, check=True)
    if probe.stdout.strip() == "real":
        pytest.skip("this machine offers a keychain even without D-Bus; not touching it")
    add_cmd = [sys.executable, "-m", "makini_desktop.cli", "connection", "add", "HQ",
               "--base-url", "https://api.makini.io"]
    added = subprocess.run(add_cmd, env={**env, TOKEN_ENV: TOKEN}, capture_output=True,
                           text=True, timeout=60)
    assert probe.stdout.strip() == "none"  # the tests' in-memory backend was not chosen
    assert added.returncode == 1
    assert added.stdout == ""
    lines = added.stderr.splitlines()
    assert len(lines) == 1, added.stderr
    assert "no system keychain was found" in lines[0]
    assert "GNOME Keyring" in lines[0] and "apt install gnome-keyring" in lines[0]
    assert TOKEN not in added.stderr
    # Nothing was saved; then a connection the window kept "for this session only".
    monkeypatch.setenv("MAKINI_DESKTOP_HOME", env["MAKINI_DESKTOP_HOME"])
    assert ProfileStore().list() == []
    ProfileStore().add("Branch", "https://api.makini.io")
    listed = subprocess.run([sys.executable, "-m", "makini_desktop.cli", "connection", "list"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    branch = next(line for line in listed.stdout.splitlines() if "Branch" in line)
    assert branch.split()[-1] == "missing"
    assert "No system keychain was found" in listed.stderr

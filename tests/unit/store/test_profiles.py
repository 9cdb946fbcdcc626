"""Connection profiles: CRUD, unique names, atomic and tolerant connections.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.api.errors import InsecureUrlError
from makini_desktop.store.profiles import (
    ConnectionProfile,
    InvalidBaseUrl,
    ProfileError,
    ProfileStore,
)
from makini_desktop.store.secrets import TokenStore


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "connections.json"


@pytest.fixture
def store(path: Path) -> ProfileStore:
    return ProfileStore(path)


def read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_default_path_is_in_config_dir(_isolated_home: Path) -> None:
    """Without a path the store uses <config_dir>/connections.json."""
    store = ProfileStore()
    store.add("Acme", "https://api.makini.io")
    assert (_isolated_home / "config" / "connections.json").is_file()


def test_missing_file_is_an_empty_store(store: ProfileStore, path: Path) -> None:
    """A missing file means no connections, no recovery and no file written yet."""
    assert store.list() == []
    assert store.active_id is None
    assert store.recovered_from is None
    assert not path.exists()


def test_add_saves_profile(store: ProfileStore, path: Path) -> None:
    """add() creates a profile with a uuid4-hex id, normalised URL and creation time."""
    profile = store.add("  Acme   HQ ", "https://API.makini.io/")
    assert len(profile.id) == 32 and int(profile.id, 16) >= 0
    assert profile.name == "Acme HQ"
    assert profile.base_url == "https://api.makini.io"
    assert profile.created_at.endswith("Z")
    assert profile.last_used_at is None and profile.demo is False
    doc = read(path)
    assert doc["version"] == 1
    assert doc["active"] is None
    assert doc["connections"][0]["id"] == profile.id
    assert ProfileStore(path).get(profile.id) == profile


def test_list_sorted_by_name_ignoring_case(store: ProfileStore) -> None:
    """list() sorts by name, case-insensitively."""
    for name in ("beta", "Alpha", "gamma", "Delta"):
        store.add(name, "https://api.makini.io")
    assert [p.name for p in store.list()] == ["Alpha", "beta", "Delta", "gamma"]


def test_names_unique_ignoring_case(store: ProfileStore) -> None:
    """A second connection with the same name in another case is refused with a message."""
    store.add("Acme", "https://api.makini.io")
    with pytest.raises(ProfileError) as info:
        store.add("ACME", "https://other.example")
    assert info.value.field == "name"
    assert "already exists" in str(info.value)
    assert len(store.list()) == 1


def test_empty_name_refused(store: ProfileStore) -> None:
    """A blank name is refused with a message for the name field."""
    with pytest.raises(ProfileError) as info:
        store.add("   ", "https://api.makini.io")
    assert info.value.field == "name"


def test_insecure_url_refused_and_nothing_saved(store: ProfileStore, path: Path) -> None:
    """add() refuses http:// to a remote host with InsecureUrlError and saves nothing."""
    with pytest.raises(InsecureUrlError):
        store.add("Acme", "http://api.makini.io")
    with pytest.raises(InvalidBaseUrl):
        store.add("Acme", "not a url")
    assert not path.exists()


def test_find_by_name(store: ProfileStore) -> None:
    """find_by_name matches regardless of case and surrounding spaces."""
    profile = store.add("Acme HQ", "https://api.makini.io")
    assert store.find_by_name(" acme hq ") == profile
    assert store.find_by_name("nope") is None


def test_update_renames_and_changes_url(store: ProfileStore, path: Path) -> None:
    """update() saves a changed name and URL; renaming to a different case of itself is fine."""
    profile = store.add("Acme", "https://api.makini.io")
    profile.name = "ACME"
    profile.base_url = "http://127.0.0.1:8765/"
    saved = store.update(profile)
    assert saved.base_url == "http://127.0.0.1:8765"
    assert ProfileStore(path).get(profile.id) == saved


def test_update_to_taken_name_refused(store: ProfileStore) -> None:
    """update() refuses a name another connection already has."""
    store.add("Acme", "https://api.makini.io")
    other = store.add("Globex", "https://api.makini.io")
    other.name = "acme"
    with pytest.raises(ProfileError):
        store.update(other)
    assert store.get(other.id) is not None
    assert store.get(other.id).name == "Globex"  # type: ignore[union-attr]


def test_update_unknown_profile_refused(store: ProfileStore) -> None:
    """update() of a profile that was removed raises ProfileError."""
    ghost = ConnectionProfile("0" * 32, "Ghost", "https://api.makini.io", "2026-01-01T00:00:00Z")
    with pytest.raises(ProfileError):
        store.update(ghost)


def test_returned_profiles_are_copies(store: ProfileStore) -> None:
    """Changing a returned profile does not change the store until update()."""
    profile = store.add("Acme", "https://api.makini.io")
    profile.name = "Changed"
    assert store.get(profile.id).name == "Acme"  # type: ignore[union-attr]


def test_remove_and_active(store: ProfileStore, path: Path) -> None:
    """Removing the active connection clears the active id; removing twice is harmless."""
    a = store.add("A", "https://api.makini.io")
    b = store.add("B", "https://api.makini.io")
    store.set_active(a.id)
    assert ProfileStore(path).active_id == a.id
    assert store.remove(a.id) is True
    assert store.remove(a.id) is False
    assert store.active_id is None
    assert [p.id for p in store.list()] == [b.id]
    assert read(path)["active"] is None


def test_set_active_unknown_refused(store: ProfileStore) -> None:
    """set_active() with an unknown id raises ProfileError; None clears it."""
    with pytest.raises(ProfileError):
        store.set_active("nope")
    store.set_active(None)
    assert store.active_id is None


def test_touch_sets_last_used(store: ProfileStore, path: Path) -> None:
    """touch() records the time of last use and saves it."""
    profile = store.add("Acme", "https://api.makini.io")
    store.touch(profile.id)
    used = ProfileStore(path).get(profile.id)
    assert used is not None and used.last_used_at is not None
    assert used.last_used_at.endswith("Z")


def test_demo_flag_saved(store: ProfileStore, path: Path) -> None:
    """A demo connection keeps its demo flag across a reload."""
    profile = store.add("Sandbox", "http://127.0.0.1:8765", demo=True)
    assert ProfileStore(path).get(profile.id).demo is True  # type: ignore[union-attr]


def test_write_is_atomic_and_leaves_no_temp_files(store: ProfileStore, path: Path) -> None:
    """Saving goes through a temporary file in the same folder that is renamed over the file."""
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((str(src), str(dst)))
        real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "replace", spy)
        store.add("Acme", "https://api.makini.io")
    assert len(seen) == 1
    assert Path(seen[0][0]).parent == path.parent
    assert Path(seen[0][1]) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["connections.json"]


def test_failed_write_keeps_file_and_state(
    store: ProfileStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the file cannot be written, ProfileError is raised and nothing changes."""
    first = store.add("Acme", "https://api.makini.io")
    before = path.read_bytes()

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ProfileError) as info:
        store.add("Globex", "https://api.makini.io")
    assert "could not be saved" in str(info.value)
    assert path.read_bytes() == before
    assert [p.id for p in store.list()] == [first.id]
    assert sorted(p.name for p in path.parent.iterdir()) == ["connections.json"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2, 3]", b'{"connections": {"a": 1}}', b"\xff\xfe\x00garbage", b""],
)
def test_corrupt_file_moved_aside(path: Path, content: bytes) -> None:
    """An unreadable file is moved to connections.json.corrupt-<time> and the store starts empty."""
    path.write_bytes(content)
    store = ProfileStore(path)
    assert store.list() == []
    assert store.recovered_from is not None
    assert store.recovered_from.name.startswith("connections.json.corrupt-")
    assert store.recovered_from.read_bytes() == content
    assert not path.exists()
    store.add("Acme", "https://api.makini.io")
    assert len(ProfileStore(path).list()) == 1


def test_unknown_fields_kept(path: Path) -> None:
    """Fields a newer version wrote, in the document and in each profile, survive a save."""
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "active": "a" * 32,
                "theme": "dark",
                "connections": [
                    {
                        "id": "a" * 32,
                        "name": "Acme",
                        "base_url": "https://api.makini.io",
                        "created_at": "2026-01-01T00:00:00Z",
                        "color": "#ff0000",
                    },
                    {"name": "broken entry without id"},
                ],
            }
        ),
        encoding="utf-8",
    )
    store = ProfileStore(path)
    assert store.recovered_from is None
    assert [p.name for p in store.list()] == ["Acme"]
    assert store.active_id == "a" * 32
    store.add("Globex", "https://api.makini.io")
    doc = read(path)
    assert doc["version"] == 2
    assert doc["theme"] == "dark"
    acme = next(c for c in doc["connections"] if c.get("id") == "a" * 32)
    assert acme["color"] == "#ff0000"
    assert {"name": "broken entry without id"} in doc["connections"]


def test_no_token_in_json(store: ProfileStore, path: Path) -> None:
    """The profiles file holds no token: the token lives in the keyring only."""
    token = "mk_live_SECRET_TOKEN_1234567890"
    profile = store.add("Acme", "https://api.makini.io")
    TokenStore().set(profile.id, token)
    store.touch(profile.id)
    text = path.read_text(encoding="utf-8")
    assert token not in text
    assert set(read(path)["connections"][0]) == {
        "id",
        "name",
        "base_url",
        "created_at",
        "last_used_at",
        "demo",
    }

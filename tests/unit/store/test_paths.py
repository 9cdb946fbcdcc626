"""Where the app keeps its files: MAKINI_DESKTOP_HOME or the OS's local app folders."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from makini_desktop.store import paths


def test_home_keeps_everything_together(_isolated_home: Path) -> None:
    """With MAKINI_DESKTOP_HOME set, config, cache and logs are folders under it, created."""
    assert paths.app_home() == _isolated_home
    assert paths.config_dir() == _isolated_home / "config"
    assert paths.cache_dir() == _isolated_home / "cache"
    assert paths.log_dir() == _isolated_home / "logs"
    for name in ("config", "cache", "logs"):
        assert (_isolated_home / name).is_dir()
    assert paths.settings_path() == _isolated_home / "config" / "settings.ini"


def test_empty_home_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty MAKINI_DESKTOP_HOME is treated as not set."""
    monkeypatch.setenv("MAKINI_DESKTOP_HOME", "  ")
    assert paths.app_home() is None


def test_os_folders_are_local_and_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without MAKINI_DESKTOP_HOME the platformdirs folders are used, non-roaming."""
    monkeypatch.delenv("MAKINI_DESKTOP_HOME")
    calls: dict[str, tuple[object, ...]] = {}

    def fake(kind: str):  # type: ignore[no-untyped-def]
        def folder(*args: object, **kwargs: object) -> str:
            calls[kind] = (*args, kwargs)
            return str(tmp_path / kind)

        return folder

    for kind in ("user_config_dir", "user_data_dir", "user_log_dir"):
        monkeypatch.setattr(platformdirs, kind, fake(kind))
    assert paths.config_dir() == tmp_path / "user_config_dir"
    assert paths.cache_dir() == tmp_path / "user_data_dir" / "cache"
    assert paths.log_dir() == tmp_path / "user_log_dir"
    assert (tmp_path / "user_data_dir" / "cache").is_dir()
    assert calls["user_config_dir"] == ("makini-desktop", "Makini", {"roaming": False})
    assert calls["user_data_dir"] == ("makini-desktop", "Makini", {"roaming": False})
    assert calls["user_log_dir"][:2] == ("makini-desktop", "Makini")

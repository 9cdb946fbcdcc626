"""Where makini-desktop keeps its files.

Three places, each created on first use:

* :func:`config_dir` – connection profiles (``connections.json``) and the Qt settings file.
* :func:`cache_dir` – the SQLite offline caches, one file per connection.
* :func:`log_dir` – log files.

Setting ``MAKINI_DESKTOP_HOME`` puts all three under one directory (``<home>/config``,
``<home>/cache``, ``<home>/logs``). Tests rely on that, and so can a portable install.

Without it the OS conventions apply, through platformdirs, always *local* (non-roaming): a
cache of tens of megabytes has no business in a Windows roaming profile, and the profiles
name machines reachable from this computer. On Windows everything lives under
``%LOCALAPPDATA%\\Makini\\makini-desktop``; on macOS under ``~/Library/Application Support``
and ``~/Library/Logs``.

The offline cache lives in the local *app-data* directory (``<user data dir>/cache``), not
in the OS cache directory: it is what a user reviews on a train or in a plant room without
coverage, so a disk-cleanup tool emptying it the night before would lose what they had.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "makini-desktop"
APP_AUTHOR = "Makini"
HOME_ENV = "MAKINI_DESKTOP_HOME"
SETTINGS_FILE = "settings.ini"


def app_home() -> Path | None:
    """The directory named by ``MAKINI_DESKTOP_HOME``, or None when it is unset or empty."""
    value = os.environ.get(HOME_ENV, "").strip()
    if not value:
        return None
    return Path(value).expanduser()


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The directory for connection profiles and settings (created if missing)."""
    home = app_home()
    if home is not None:
        return _ensure(home / "config")
    return _ensure(Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR, roaming=False)))


def cache_dir() -> Path:
    """The directory for the offline caches (created if missing)."""
    home = app_home()
    if home is not None:
        return _ensure(home / "cache")
    data = platformdirs.user_data_dir(APP_NAME, APP_AUTHOR, roaming=False)
    return _ensure(Path(data) / "cache")


def log_dir() -> Path:
    """The directory for log files (created if missing)."""
    home = app_home()
    if home is not None:
        return _ensure(home / "logs")
    return _ensure(Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)))


def settings_path() -> Path:
    """The QSettings ini file (``<config_dir>/settings.ini``).

    The UI opens it with ``QSettings(str(settings_path()), QSettings.Format.IniFormat)`` so
    that the settings follow ``MAKINI_DESKTOP_HOME`` like every other file, instead of the
    Windows registry or a macOS plist that tests could not isolate.
    """
    return config_dir() / SETTINGS_FILE

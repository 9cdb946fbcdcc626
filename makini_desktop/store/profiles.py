"""Connection profiles: name and base URL of each Makini connection, without secrets.

Profiles live in ``<config_dir>/connections.json``::

    {"version": 1, "active": "<id>" | null, "connections": [{"id": ..., "name": ...}, ...]}

Tokens are never in this file; they are in the OS keyring (:mod:`makini_desktop.store.secrets`).

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``), so a crash or
a full disk leaves either the old file or the new one. Reading is tolerant: a file that cannot
be parsed is moved aside as ``connections.json.corrupt-<timestamp>`` and the store starts
empty, saying so in :attr:`ProfileStore.recovered_from`; fields this version does not know
(written by a newer version) are kept and written back unchanged.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from makini_desktop.api.urls import (
    InsecureUrlError,
    InvalidBaseUrl,
    is_loopback_host,
    validate_base_url,
)
from makini_desktop.api.values import format_utc
from makini_desktop.store import paths

__all__ = [
    "ConnectionProfile",
    "InsecureUrlError",
    "InvalidBaseUrl",
    "ProfileError",
    "ProfileStore",
    "is_loopback_host",
    "validate_base_url",
]

log = logging.getLogger(__name__)

FILE_NAME = "connections.json"
FORMAT_VERSION = 1
MAX_NAME_LENGTH = 100
_KNOWN_FIELDS = frozenset({"id", "name", "base_url", "created_at", "last_used_at", "demo"})
_KNOWN_TOP = frozenset({"version", "active", "connections"})


def _now_iso() -> str:
    return format_utc(datetime.now(UTC))


class ProfileError(Exception):
    """A profile operation that cannot be done, with a message for the user.

    Attributes:
        message: the human message (also ``str(error)``).
        field: the form field the problem belongs to (``"name"``, ``"base_url"``), or None
            for problems that are not about one field (a file that cannot be written).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class ConnectionProfile:
    """One saved connection, without its token.

    Attributes:
        id: stable identifier (uuid4 hex); also the keyring user name and the cache key.
        name: the user's name for the connection, unique regardless of case.
        base_url: the normalised base URL (see :func:`validate_base_url`).
        created_at: ISO-8601 UTC creation time.
        last_used_at: ISO-8601 UTC time the connection was last opened, if ever.
        demo: the connection points at the built-in sandbox.
        extra: fields this version does not know, kept so a newer version's data survives.
    """

    id: str
    name: str
    base_url: str
    created_at: str
    last_used_at: str | None = None
    demo: bool = False
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The profile as stored in ``connections.json`` (unknown fields included)."""
        doc: dict[str, Any] = dict(self.extra)
        doc.update(
            id=self.id,
            name=self.name,
            base_url=self.base_url,
            created_at=self.created_at,
            last_used_at=self.last_used_at,
            demo=self.demo,
        )
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ConnectionProfile | None:
        """A profile from its stored form, or None when the entry is unusable."""
        ident, name, url = doc.get("id"), doc.get("name"), doc.get("base_url")
        if not (isinstance(ident, str) and ident and isinstance(name, str) and name):
            return None
        if not (isinstance(url, str) and url):
            return None
        created = doc.get("created_at")
        used = doc.get("last_used_at")
        return cls(
            id=ident,
            name=name,
            base_url=url,
            created_at=created if isinstance(created, str) else "",
            last_used_at=used if isinstance(used, str) else None,
            demo=doc.get("demo") is True,
            extra={k: v for k, v in doc.items() if k not in _KNOWN_FIELDS},
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ProfileError("Give the connection a name.", field="name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ProfileError(
            f"Use a shorter name (at most {MAX_NAME_LENGTH} characters).", field="name"
        )
    return cleaned


@dataclass
class _State:
    """Everything the file holds, so a change can be built on a copy and saved atomically."""

    active: str | None = None
    profiles: dict[str, ConnectionProfile] = field(default_factory=dict)
    # Entries this version cannot read, written back untouched.
    unreadable: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION


class ProfileStore:
    """The saved connections, backed by ``connections.json``.

    Every change is written to disk before the method returns; if the write fails, the
    store keeps its previous state and :class:`ProfileError` is raised. Profiles returned by
    the store are copies: change one and pass it to :meth:`update`.

    Args:
        path: the JSON file; defaults to ``<config_dir>/connections.json``.

    Attributes:
        path: the JSON file.
        recovered_from: when the file could not be read at start-up, where the unreadable
            file was moved (``connections.json.corrupt-<timestamp>``); otherwise None.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.config_dir() / FILE_NAME
        self.recovered_from: Path | None = None
        self._state = self._read()

    # -- reading ------------------------------------------------------------------------

    def _read(self) -> _State:
        try:
            raw = _with_windows_retry(self.path.read_bytes)
        except FileNotFoundError:
            return _State()
        except OSError as exc:
            log.warning("Cannot read %s: %s", self.path, exc.strerror or exc)
            self._move_aside()
            return _State()
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            connections = doc.get("connections", [])
            if not isinstance(connections, list):
                raise ValueError("'connections' is not a list")
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            log.warning("Connections file %s is unreadable (%s)", self.path, exc)
            self._move_aside()
            return _State()

        state = _State(extra={k: v for k, v in doc.items() if k not in _KNOWN_TOP})
        version = doc.get("version")
        if isinstance(version, int) and version > FORMAT_VERSION:
            # A newer version wrote this file. What we understand is read, and the version
            # number and every unknown field are kept so that version can still read it.
            log.info("Connections file has format version %s (ours: %s)", version, FORMAT_VERSION)
            state.version = version
        for entry in connections:
            profile = ConnectionProfile.from_json(entry) if isinstance(entry, dict) else None
            if profile is None or profile.id in state.profiles:
                log.warning("Skipping an unreadable or duplicate entry in %s", self.path)
                state.unreadable.append(entry)
                continue
            state.profiles[profile.id] = profile
        active = doc.get("active")
        state.active = active if isinstance(active, str) and active in state.profiles else None
        return state

    def _move_aside(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while target.exists():
            counter += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            # The next save overwrites the unreadable file; nothing better can be done.
            log.warning("Cannot move %s aside: %s", self.path, exc.strerror or exc)
            return
        log.warning("Moved the unreadable connections file to %s", target)
        self.recovered_from = target

    def reload(self) -> None:
        """Read the file again (another window of the app may have changed it)."""
        self._state = self._read()

    # -- writing ------------------------------------------------------------------------

    def _save(self, state: _State) -> None:
        """Write ``state`` atomically, then make it current; on failure keep the old state."""
        doc: dict[str, Any] = dict(state.extra)
        doc["version"] = state.version
        doc["active"] = state.active
        doc["connections"] = [p.to_json() for p in state.profiles.values()] + state.unreadable
        data = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            _atomic_write(self.path, data)
        except OSError as exc:
            raise ProfileError(
                f"The connections could not be saved to {self.path}: {exc.strerror or exc}."
            ) from exc
        self._state = state

    def _copy_state(self) -> _State:
        return copy.deepcopy(self._state)

    # -- queries ------------------------------------------------------------------------

    def list(self) -> builtins.list[ConnectionProfile]:
        """All profiles, sorted by name regardless of case."""
        profiles = sorted(self._state.profiles.values(), key=lambda p: (p.name.casefold(), p.id))
        return [copy.deepcopy(p) for p in profiles]

    def get(self, profile_id: str) -> ConnectionProfile | None:
        """The profile with that id, or None."""
        profile = self._state.profiles.get(profile_id)
        return copy.deepcopy(profile) if profile is not None else None

    def find_by_name(self, name: str) -> ConnectionProfile | None:
        """The profile with that name, ignoring case and surrounding spaces, or None."""
        wanted = " ".join(name.split()).casefold()
        for profile in self._state.profiles.values():
            if profile.name.casefold() == wanted:
                return copy.deepcopy(profile)
        return None

    @property
    def active_id(self) -> str | None:
        """The id of the connection opened last (restored at start-up), or None."""
        return self._state.active

    def __len__(self) -> int:
        return len(self._state.profiles)

    # -- changes ------------------------------------------------------------------------

    def _check_unique(self, name: str, except_id: str | None = None) -> None:
        folded = name.casefold()
        for profile in self._state.profiles.values():
            if profile.id != except_id and profile.name.casefold() == folded:
                raise ProfileError(
                    f"A connection named “{profile.name}” already exists. Choose another name.",
                    field="name",
                )

    def add(self, name: str, base_url: str, *, demo: bool = False) -> ConnectionProfile:
        """Create and save a new profile.

        Args:
            name: the connection's name; surrounding and repeated spaces are removed.
            base_url: the base URL, checked with :func:`validate_base_url`.
            demo: the connection points at the built-in sandbox.

        Returns:
            The new profile (a copy).

        Raises:
            ProfileError: the name is empty, too long or already used, or the file could
                not be written.
            InvalidBaseUrl: the URL is not usable.
            InsecureUrlError: the URL is ``http://`` to a host that is not loopback.
        """
        clean = _clean_name(name)
        url = validate_base_url(base_url)
        self._check_unique(clean)
        profile = ConnectionProfile(
            id=uuid.uuid4().hex, name=clean, base_url=url, created_at=_now_iso(), demo=demo
        )
        state = self._copy_state()
        state.profiles[profile.id] = profile
        self._save(state)
        log.info("Added connection %s", profile.id)
        return copy.deepcopy(profile)

    def update(self, profile: ConnectionProfile) -> ConnectionProfile:
        """Save changes to an existing profile (name, base URL, demo flag, last use).

        Returns:
            The saved profile (name and URL normalised).

        Raises:
            ProfileError: no profile has that id, the name is unusable or taken, or the file
                could not be written.
            InvalidBaseUrl, InsecureUrlError: as for :meth:`add`.
        """
        if profile.id not in self._state.profiles:
            raise ProfileError("This connection no longer exists.")
        clean = _clean_name(profile.name)
        url = validate_base_url(profile.base_url)
        self._check_unique(clean, except_id=profile.id)
        saved = replace(profile, name=clean, base_url=url, extra=copy.deepcopy(profile.extra))
        state = self._copy_state()
        state.profiles[profile.id] = saved
        self._save(state)
        return copy.deepcopy(saved)

    def remove(self, profile_id: str) -> bool:
        """Delete a profile; a missing one is not an error.

        The caller also deletes the connection's token and cache; this store only knows
        the JSON file.

        Returns:
            True if a profile was removed.
        """
        if profile_id not in self._state.profiles:
            return False
        state = self._copy_state()
        del state.profiles[profile_id]
        if state.active == profile_id:
            state.active = None
        self._save(state)
        log.info("Removed connection %s", profile_id)
        return True

    def set_active(self, profile_id: str | None) -> None:
        """Remember which connection is open (None: none).

        Raises:
            ProfileError: no profile has that id, or the file could not be written.
        """
        if profile_id is not None and profile_id not in self._state.profiles:
            raise ProfileError("This connection no longer exists.")
        if profile_id == self._state.active:
            return
        state = self._copy_state()
        state.active = profile_id
        self._save(state)

    def touch(self, profile_id: str) -> None:
        """Record that the connection was just used (``last_used_at`` = now).

        Raises:
            ProfileError: no profile has that id, or the file could not be written.
        """
        if profile_id not in self._state.profiles:
            raise ProfileError("This connection no longer exists.")
        state = self._copy_state()
        state.profiles[profile_id].last_used_at = _now_iso()
        self._save(state)


def _atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half.

    Raises:
        OSError: the directory or the file could not be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


_T = TypeVar("_T")


def _with_windows_retry(action: Callable[[], _T]) -> _T:
    """Run ``action``, retrying briefly on a Windows sharing violation.

    On Windows a virus scanner or indexer may hold the file open for a moment, and reading
    or replacing it then fails with PermissionError; a few short retries ride that out
    instead of declaring a good file unreadable.
    """
    attempts = 5 if sys.platform == "win32" else 1
    for attempt in range(attempts):
        try:
            return action()
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _replace(src: Path, dst: Path) -> None:
    _with_windows_retry(lambda: os.replace(src, dst))


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Test harness shared by every test.

Pins the Qt binding before anything imports qasync, runs Qt offscreen, keeps every test's
settings, cache and logs under a temporary MAKINI_DESKTOP_HOME, and replaces the OS keyring
with an in-memory backend so no test ever touches the real one.
"""

from __future__ import annotations

import os

os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own empty app home and never sees the developer's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MAKINI_DESKTOP_HOME", str(home))
    monkeypatch.delenv("MAKINI_API_TOKEN", raising=False)
    yield home


@pytest.fixture(autouse=True)
def _memory_keyring():
    """Replace the OS keyring with an in-memory backend for the whole test."""
    import keyring

    from tests.helpers.memkeyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def qasync_loop(qapp, qtbot):
    """A qasync event loop that counts as running while the test spins Qt (see helpers.qt)."""
    from tests.helpers.qt import drain, install_running_loop, uninstall

    loop = install_running_loop(qapp)
    yield loop
    drain(loop, qtbot)
    uninstall(loop)


@pytest.fixture
def sandbox():
    """A small sandbox server on loopback for the test; stopped afterwards."""
    from makini_desktop.sandbox.server import SandboxConfig, SandboxServer

    server = SandboxServer(SandboxConfig(scale="small", seed=42, tokens=("sandbox-token",)))
    server.start()
    yield server
    server.stop()

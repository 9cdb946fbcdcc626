"""Cached data never hides: a saved connection without a usable token (none stored, or one
the server refuses) still shows every tab's cached rows, under a banner that says why and
offers Reconnect…; a connect or a sync that fails for any reason says what failed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QPushButton

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from makini_desktop.store.profiles import ConnectionProfile
from makini_desktop.sync.session import ConnState
from makini_desktop.ui.controllers import Phase
from makini_desktop.ui.main_window import MainWindow
from tests.helpers.qt import fast_retries, quit_window, wait_loaded

TOKEN = "sandbox-token"
LOAD_TIMEOUT_MS = 30_000


def visible_counts(srv: SandboxServer) -> dict[str, int]:
    counts = {}
    for name in res.TAB_VIEWS:
        view = res.VIEWS[name]
        counts[name] = sum(1 for r in srv.data.visible(view.dataset.name) if view.accepts(r))
    return counts


def fill_cache(qtbot, make_window, srv: SandboxServer, loop) -> ConnectionProfile:
    """A saved connection whose cache holds every list of the sandbox (then the app quits)."""
    first = make_window()
    profile = first.profiles.add("Office", srv.url)
    first.tokens.set(profile.id, TOKEN)
    first.activate_profile(profile.id)
    wait_loaded(qtbot, first)
    assert {n: m.rowCount() for n, m in first.workspace.models.items()} == visible_counts(srv)
    quit_window(qtbot, loop, first)
    return profile


def banner(window: MainWindow) -> QFrame:
    found = window.findChild(QFrame, "offlineBanner")
    assert found is not None
    return found


def banner_text(window: MainWindow) -> str:
    return window.findChild(QLabel, "offlineBannerText").text()


def button(window: MainWindow, name: str) -> QPushButton:
    found = window.findChild(QPushButton, name)
    assert found is not None
    return found


def count_texts(window: MainWindow) -> dict[str, str]:
    return {name: window.findChild(QLabel, f"{name}Count").text() for name in res.TAB_VIEWS}


def expected_count_texts(srv: SandboxServer) -> dict[str, str]:
    out = {}
    for name, n in visible_counts(srv).items():
        singular, plural = res.VIEWS[name].noun
        out[name] = f"{n:,} {singular if n == 1 else plural}"
    return out


@pytest.mark.parametrize("work_offline", [False, True], ids=["online", "work-offline"])
def test_missing_token_shows_every_cached_row_with_the_reason(
    qtbot, make_window, sandbox, qasync_loop, work_offline
):
    """No token stored (wiped keychain): every tab shows its cached rows, the banner says
    why and Reconnect… opens the manager on the token; nothing is sent to the server."""
    profile = fill_cache(qtbot, make_window, sandbox, qasync_loop)
    window = make_window()
    window.tokens.delete(profile.id)
    assert window.tokens.get(profile.id) is None
    window.work_offline_action.setChecked(work_offline)
    sandbox.reset_stats()

    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)

    assert count_texts(window) == expected_count_texts(sandbox)
    assert banner_text(window).startswith(
        "No token for this connection — showing cached data, last synced at ")
    reconnect = button(window, "reconnectButton")
    assert reconnect.isVisible()
    assert not button(window, "tryNowButton").isVisible()
    for tab in window.workspace.tabs.values():
        assert tab.status.text().startswith("Cached — no token, last synced"), tab.view.name
        assert "No token for this connection" in tab.status.tooltip()
    if not work_offline:
        assert window.sync_status.text() == ConnState.NEEDS_RECONNECT.label
    assert sandbox.stats.requests == 0

    window.refresh_action.trigger()  # F5 without a token: says why, sends nothing
    assert "Reconnect" in window.statusBar().currentMessage()
    assert sandbox.stats.requests == 0

    qtbot.mouseClick(reconnect, Qt.MouseButton.LeftButton)
    dialog = window.connection_dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible()
                    and dialog.token_field.hasFocus())


def test_work_offline_toggled_off_without_a_token_keeps_the_cached_rows(
    qtbot, make_window, sandbox, qasync_loop
):
    """Turning Work offline off on a connection without a token sends nothing and hides
    nothing: the rows and the reason stay."""
    profile = fill_cache(qtbot, make_window, sandbox, qasync_loop)
    window = make_window()
    window.tokens.delete(profile.id)
    window.work_offline_action.setChecked(True)
    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    sandbox.reset_stats()
    window.work_offline_action.setChecked(False)
    wait_loaded(qtbot, window)
    assert count_texts(window) == expected_count_texts(sandbox)
    assert banner(window).isVisible()
    assert banner_text(window).startswith("No token for this connection")
    assert sandbox.stats.requests == 0


def test_revoked_token_keeps_the_cached_rows_with_the_reason(
    qtbot, make_window, sandbox, qasync_loop
):
    """A 401 at start (revoked token): the cached rows stay, the banner says the token was
    refused and offers Reconnect…."""
    profile = fill_cache(qtbot, make_window, sandbox, qasync_loop)
    sandbox.revoke(TOKEN)
    window = make_window()
    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    assert count_texts(window) == expected_count_texts(sandbox)
    assert banner_text(window).startswith(
        "The server did not accept this connection's token — showing cached data")
    assert button(window, "reconnectButton").isVisible()
    assert window.sync_status.text() == ConnState.NEEDS_RECONNECT.label
    assert any(e[2] == 401 for e in sandbox.recent_exchanges())
    for tab in window.workspace.tabs.values():  # the server answered: not "Offline"
        assert tab.status.text().startswith("Cached — token not accepted"), tab.view.name


def test_revoked_token_during_a_refresh_keeps_the_rows(
    qtbot, make_window, sandbox, qasync_loop
):
    """A 401 on a later refresh: the tab keeps its rows and the banner offers Reconnect…."""
    profile = fill_cache(qtbot, make_window, sandbox, qasync_loop)
    window = make_window()
    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    assert not banner(window).isVisible()
    sandbox.revoke(TOKEN)
    task = window.workspace.refresh_tab("assets")
    qtbot.waitUntil(task.done, timeout=LOAD_TIMEOUT_MS)
    assert count_texts(window) == expected_count_texts(sandbox)
    qtbot.waitUntil(banner(window).isVisible)
    assert banner_text(window).startswith("The server did not accept this connection's token")
    assert button(window, "reconnectButton").isVisible()


def _exploding(exc: BaseException, dataset: str = "assets"):
    """A session factory whose ``dataset`` refresh raises ``exc`` at its first page."""

    def factory(info, token, **kwargs):
        session = fast_retries(info, token, **kwargs)
        repo = session.repository(dataset)
        real = repo.refresh

        async def refresh(*, full=False, on_page=None):
            def boom(rows, progress):
                raise exc

            return await real(full=True, on_page=boom)

        repo.refresh = refresh
        return session

    return factory


@pytest.mark.parametrize("exc", [
    RuntimeError("the model broke"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
], ids=["RuntimeError", "UnicodeEncodeError"])
def test_a_sync_failing_with_any_exception_says_so_and_keeps_the_rows(
    qtbot, make_window, sandbox, qasync_loop, exc
):
    """An unexpected exception mid-sync ends the tab's "Syncing…" with "Refresh failed",
    its cached rows stay, and the exception reaches the crash path."""
    fill_cache(qtbot, make_window, sandbox, qasync_loop)
    window = make_window(_exploding(exc))
    profile = window.profiles.find_by_name("Office")
    with qtbot.capture_exceptions() as caught:
        window.activate_profile(profile.id)
        wait_loaded(qtbot, window)
    tab = window.workspace.tabs["assets"]
    assert tab.status.phase is Phase.FAILED
    assert tab.status.text().startswith("Refresh failed — cached data, last synced")
    assert tab.status.message.startswith("Refresh failed: an unexpected error (")
    assert type(exc).__name__ in tab.status.message
    assert count_texts(window)["assets"] == expected_count_texts(sandbox)["assets"]
    assert window.tabs["assets"].status.text() == tab.status.text()
    assert [type(e[1]) for e in caught] == [type(exc)]
    others = [t for n, t in window.workspace.tabs.items() if n != "assets"]
    assert all(t.status.phase is Phase.UP_TO_DATE for t in others)
    assert window.sync_status.text() == ConnState.READY.label


def test_failed_first_connect_says_what_failed_and_retry_connects(
    qtbot, make_window, sandbox
):
    """The status call failing at the first connect: no "Connecting…" for good; the status
    bar and banner say what failed, with the request ID; Retry really connects."""
    sandbox.set_faults([f"500:path={res.INTEGRATION_PATH}"])
    window = make_window()
    profile = window.profiles.add("Office", sandbox.url)
    window.tokens.set(profile.id, TOKEN)
    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    status = window.sync_status.text()
    assert status.startswith("Could not connect: ") and "Connecting" not in status
    failed_rid = [e[3] for e in sandbox.recent_exchanges() if e[2] == 500][-1]
    assert banner_text(window).startswith("Could not connect to Office: ")
    assert f"request ID {failed_rid}" in banner_text(window)
    for tab in window.workspace.tabs.values():
        assert tab.status.text() == "Refresh failed", tab.view.name
        assert "connection failed" in tab.status.tooltip()
    retry = button(window, "tryNowButton")
    assert retry.isVisible() and retry.text() == "Retry"
    assert not button(window, "reconnectButton").isVisible()

    sandbox.clear_faults()
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(t.status.phase is Phase.UP_TO_DATE
                                for t in window.workspace.tabs.values()),
                    timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.sync_status.text() == ConnState.READY.label)
    assert not banner(window).isVisible()
    assert count_texts(window) == expected_count_texts(sandbox)

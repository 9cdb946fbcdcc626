"""What the window tells the user goes through the one message bus; the status bar hears it."""

from __future__ import annotations

from makini_desktop.sync.notify import Level, Message
from makini_desktop.sync.session import ConnectionInfo
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"


def test_the_status_bar_shows_the_windows_messages_from_the_bus(window):
    """A message the window publishes is shown; one from another window is not."""
    heard: list[Message] = []
    window.workspace.notifier.subscribe(heard.append)
    try:
        window.tell("Exported 3 assets to a.csv")
        assert window.statusBar().currentMessage() == "Exported 3 assets to a.csv"
        window.workspace.notifier.publish(Level.INFO, "someone else's news", origin=object())
        assert window.statusBar().currentMessage() == "Exported 3 assets to a.csv"
        assert [m.text for m in heard] == ["Exported 3 assets to a.csv", "someone else's news"]
    finally:
        window.workspace.notifier.unsubscribe(heard.append)


def test_a_refused_refresh_is_said_on_the_bus(qtbot, window, sandbox):
    """F5 while working offline says why nothing happens, through the bus."""
    window.open_connection(ConnectionInfo("Sandbox", sandbox.url, "it-messages"), TOKEN)
    wait_loaded(qtbot, window)
    heard: list[Message] = []
    window.workspace.notifier.subscribe(heard.append)
    try:
        window.work_offline_action.setChecked(True)
        window.refresh_action.trigger()
        said = [m for m in heard if m.origin is window]
        assert said and "Working offline" in said[-1].text
        assert window.statusBar().currentMessage() == said[-1].text
    finally:
        window.workspace.notifier.unsubscribe(heard.append)


def test_a_message_takes_the_connection_states_place(qtbot, window):
    """While the status bar says something, the connection's state ("Ready") is not drawn
    under it, also for a message given before the window was shown (the demo's start
    overlapped "Ready" and its message); once the message goes, the state is back."""
    from PySide6.QtWidgets import QLabel

    state = window.findChild(QLabel, "syncStatus")
    window.hide()
    window.tell("Starting the demo sandbox…", lasting=True)
    window.show()
    qtbot.waitExposed(window)
    assert window.statusBar().currentMessage() == "Starting the demo sandbox…"
    assert not state.isVisible()
    window.tell("Exported 3 assets to a.csv", lasting=True)
    assert not state.isVisible()
    window.statusBar().clearMessage()
    assert state.isVisible()

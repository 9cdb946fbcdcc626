"""The Qt notifier re-emits the bus's messages as a signal and stops when it is gone."""

from __future__ import annotations

from makini_desktop.sync.notify import Level, Notifier
from makini_desktop.ui.notifier import QtNotifier


def test_messages_are_re_emitted_until_close(qtbot):
    """Each published message arrives as sig_message; after close() none does."""
    bus = Notifier()
    qt = QtNotifier(bus)
    with qtbot.waitSignal(qt.sig_message) as blocker:
        bus.publish(Level.WARNING, "The cache was set aside.", source="workspace")
    assert blocker.args[0].text == "The cache was set aside."
    qt.close()
    heard = []
    qt.sig_message.connect(heard.append)
    bus.publish(Level.INFO, "after close")
    assert heard == []


def test_a_deleted_notifier_unsubscribes_itself(qtbot):
    """Once the QObject is gone, the next message drops its subscription."""
    bus = Notifier()
    qt = QtNotifier(bus)
    listener = qt._listener
    del qt
    bus.publish(Level.INFO, "anyone?")
    assert listener not in bus._listeners

"""A QObject on the message bus hears it while it lives, and its subscription ends with it."""

from __future__ import annotations

from PySide6.QtCore import QObject

from makini_desktop.sync.notify import Level, Message, Notifier
from makini_desktop.ui.notifier import weak_listener


class _Shower(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[Message] = []

    def _on_notifier_message(self, message: Message) -> None:
        self.heard.append(message)


def test_a_subscribed_qobject_hears_each_message(qtbot):
    """Each published message reaches the QObject's handler."""
    bus = Notifier()
    shower = _Shower()
    weak_listener(shower, bus)
    bus.publish(Level.WARNING, "The cache was set aside.", source="workspace")
    assert [m.text for m in shower.heard] == ["The cache was set aside."]


def test_a_deleted_qobject_unsubscribes_itself(qtbot):
    """Once the QObject is gone, the next message drops its subscription."""
    bus = Notifier()
    shower = _Shower()
    listener = weak_listener(shower, bus)
    del shower
    bus.publish(Level.INFO, "anyone?")
    assert listener not in bus._listeners

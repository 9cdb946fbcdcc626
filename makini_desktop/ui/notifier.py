"""The message bus as a Qt signal, for widgets that show messages (status bar, banner).

:class:`~makini_desktop.sync.notify.Notifier` is Qt-free; a :class:`QtNotifier` subscribes
to one and re-emits each message as ``sig_message`` on the GUI thread's loop.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal

from makini_desktop.sync.notify import Message, Notifier, bus


class QtNotifier(QObject):
    """Re-emits a notifier's messages.

    Args:
        notifier: the bus to follow (default: the app's).
        parent: the Qt parent; when it is deleted, the subscription ends.

    Signals:
        sig_message(object): a :class:`~makini_desktop.sync.notify.Message` was published.
    """

    sig_message = Signal(object)

    def __init__(self, notifier: Notifier | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notifier = notifier if notifier is not None else bus
        self._listener = weak_listener(self, self.notifier)

    def _on_notifier_message(self, message: Message) -> None:
        self.sig_message.emit(message)

    def close(self) -> None:
        """Stop following the bus."""
        self.notifier.unsubscribe(self._listener)


def weak_listener(obj: QObject, notifier: Notifier) -> Callable[[Message], None]:
    """Subscribe ``obj._on_notifier_message`` without keeping ``obj`` alive: once the
    QObject is gone (deleted by Qt or collected), the next message unsubscribes it."""
    ref = weakref.ref(obj)

    def listener(message: Message) -> None:
        target = ref()
        if target is None or not shiboken6.isValid(target):
            notifier.unsubscribe(listener)
            return
        target._on_notifier_message(message)  # type: ignore[attr-defined]

    notifier.subscribe(listener)
    return listener

"""The message bus as a Qt signal, for widgets that show messages (status bar, banner).

:class:`~makini_desktop.sync.notify.Notifier` is Qt-free; a :class:`QtNotifier` subscribes
to one and re-emits each message as ``sig_message`` on the GUI thread's loop.
"""

from __future__ import annotations

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
        self.notifier.subscribe(self._on_notifier_message)

    def _on_notifier_message(self, message: Message) -> None:
        if not shiboken6.isValid(self):
            self.notifier.unsubscribe(self._on_notifier_message)
            return
        self.sig_message.emit(message)

    def close(self) -> None:
        """Stop following the bus."""
        self.notifier.unsubscribe(self._on_notifier_message)

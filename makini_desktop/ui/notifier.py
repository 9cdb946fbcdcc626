"""Qt objects on the message bus: a widget that shows messages (the window's status bar,
the workspace adapter's banner notices) subscribes without being kept alive by the bus.

:class:`~makini_desktop.sync.notify.Notifier` is Qt-free; :func:`weak_listener` ties one of
its subscriptions to a QObject's lifetime.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject

from makini_desktop.sync.notify import Message, Notifier


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

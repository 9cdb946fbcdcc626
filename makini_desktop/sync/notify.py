"""One message bus: everything that tells the user something publishes here.

A message is a level, a sentence and, for an error the server answered, its request ID.
Whatever shows messages (the status bar, the banner, a dialog, a log in the CLI) subscribes;
whoever has something to say publishes, without knowing who listens (qutebrowser's
``utils/message.py`` is the model).

No Qt: the UI re-emits messages as a signal (``ui/notifier.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger(__name__)


class Level(Enum):
    """How much a message matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_LOG_LEVELS = {Level.INFO: logging.INFO, Level.WARNING: logging.WARNING,
               Level.ERROR: logging.ERROR}


@dataclass(frozen=True)
class Message:
    """One thing to tell the user.

    Attributes:
        level: how much it matters.
        text: the sentence (no secret: it is shown and logged).
        request_id: the failed request's ID, for the user to quote.
        source: which part of the app said it (``"workspace"``, ``"export"``...).
        origin: the object that published it (a subscriber that follows one workspace
            filters on it); None when it does not matter.
        lasting: True when the message stays until the next one (work under way, or a
            result that differs from what the user sees); else it fades after a while.
    """

    level: Level
    text: str
    request_id: str | None = None
    source: str = "app"
    origin: object | None = None
    lasting: bool = False


Listener = Callable[[Message], None]


class Notifier:
    """The bus: subscribers hear every message published, in the order they subscribed."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Hear every message from now on (subscribing twice is once)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop hearing messages (unknown listeners are ignored)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(
        self,
        level: Level,
        text: str,
        *,
        request_id: str | None = None,
        source: str = "app",
        origin: object | None = None,
        lasting: bool = False,
    ) -> Message:
        """Tell every subscriber; a subscriber that fails is logged, the others still hear."""
        message = Message(level, text, request_id=request_id, source=source, origin=origin,
                          lasting=lasting)
        log.log(_LOG_LEVELS[level], "%s: %s", source, text)
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:  # one broken subscriber must not silence the rest
                log.exception("a message subscriber failed")
        return message


bus = Notifier()
"""The app's one bus."""


__all__ = ["Level", "Listener", "Message", "Notifier", "bus"]

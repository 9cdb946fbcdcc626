"""Python's cyclic garbage collector, run on the GUI thread only.

CPython runs a collection in whichever thread happens to allocate when a threshold is
crossed: in the app that can be the demo sandbox's request threads or the workers behind
``asyncio.to_thread``. If that collection frees a Qt object (a wrapper in a reference
cycle), its C++ destructor runs on the wrong thread: Qt warns "Timers cannot be stopped
from another thread" and may crash a moment later. The cure every sizeable PyQt/PySide
application uses: switch automatic collection off and collect from a timer on the GUI
thread, by the same thresholds CPython would use.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 500
"""How often the GUI thread checks whether a collection is due."""
FULL_COLLECTION_MIN_S = 10.0
"""Full collections walk every tracked object; at most one per this many seconds.

CPython itself holds back full collections until the long-lived objects grew by a quarter
(a count the gc module does not expose); a minimum interval has the same effect."""


def freeze_survivors() -> None:
    """Move every object alive now out of the collector's reach (``gc.freeze``).

    Called once the window is built: the modules, classes and widgets made so far live as
    long as the app. Automatic collection is off by then (:class:`GuiThreadCollector`), so
    they all sat in the young generation, and the first young collection before the first
    paint (:func:`~makini_desktop.sync.page_feed.settle_garbage`) walked ~18k of them (4 ms).
    CPython's documentation suggests ``gc.freeze()`` for exactly this (after the imports, of
    objects kept for the process's life); ``settle_garbage`` freezes what survives later.
    """
    gc.freeze()


class GuiThreadCollector(QObject):
    """Collects garbage on the GUI thread; automatic collection is off while it runs.

    Args:
        parent: the Qt parent (it must live on the GUI thread).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._was_enabled = gc.isenabled()
        self._last_full = time.monotonic()

    def start(self) -> None:
        """Switch automatic collection off and start collecting from the timer."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop, and give automatic collection back as it was."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def collect_if_due(self) -> int | None:
        """Collect the oldest generation whose threshold is crossed, as CPython would.

        Returns:
            The generation collected, or None when no collection was due.
        """
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return None
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 1
            now = time.monotonic()
            if counts[2] > thresholds[2] and now - self._last_full >= FULL_COLLECTION_MIN_S:
                generation = 2
                self._last_full = now
        gc.collect(generation)
        return generation

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.collect_if_due()

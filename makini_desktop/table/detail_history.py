"""Where the detail pane has been: a browser's Back/Forward over records (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HISTORY = 200
"""Places kept behind the current one (the oldest are dropped)."""


@dataclass(frozen=True)
class Place:
    """A record the detail pane can show: a view (``spaces``, ``floors``…) and a key.

    Attributes:
        view: the view whose columns describe the record (``floors`` has no tab of its own).
        key: the record's key.
        casual: reached by moving the selection (not by opening or following a link): the
            next casual place in the same view replaces it, so arrow keys through a table
            do not fill the history.
    """

    view: str
    key: str
    casual: bool = field(default=False, compare=False)


class History:
    """Back and forward stacks around the current place."""

    def __init__(self, limit: int = MAX_HISTORY) -> None:
        self._back: list[Place] = []
        self._forward: list[Place] = []
        self.current: Place | None = None
        self._limit = limit

    @property
    def can_back(self) -> bool:
        return bool(self._back)

    @property
    def can_forward(self) -> bool:
        return bool(self._forward)

    def visit(self, place: Place) -> None:
        """Go to ``place`` (a new path: what was forward is dropped).

        Visiting the current place again changes nothing; a casual place replaces a casual
        current one of the same view.
        """
        current = self.current
        if current == place:
            if not place.casual and current is not None and current.casual:
                self.current = place  # opened on purpose: it stays when the selection moves
            return
        self._forward.clear()
        if current is not None and not (
            place.casual and current.casual and current.view == place.view
        ):
            self._back.append(current)
            del self._back[:-self._limit]
        self.current = place

    def back(self) -> Place | None:
        """Step back; the place now current, or None when there is nothing behind."""
        if not self._back:
            return None
        if self.current is not None:
            self._forward.append(self.current)
        self.current = self._back.pop()
        return self.current

    def forward(self) -> Place | None:
        """Step forward; the place now current, or None when there is nothing ahead."""
        if not self._forward:
            return None
        if self.current is not None:
            self._back.append(self.current)
        self.current = self._forward.pop()
        return self.current

    def clear(self) -> None:
        """Forget every place (the connection changed)."""
        self._back.clear()
        self._forward.clear()
        self.current = None


__all__ = ["MAX_HISTORY", "History", "Place"]

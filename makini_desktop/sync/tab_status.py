"""What a tab and the offline banner say about their data, as plain text.

:class:`TabStatus` is a tab's state (its phase, when its rows were synced, progress) and its
one-line text; :func:`offline_text` and :func:`held_text` are the banner's sentences.

No Qt: times are written by a :class:`Clock`, plain ``strftime`` by default; the UI installs
one that follows the user's locale (:func:`set_clock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Protocol

from makini_desktop.api.values import relative_age
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.repository import Progress


class Phase(Enum):
    """Where a tab's load is."""

    IDLE = "idle"  # nothing loaded yet (no connection)
    READING_CACHE = "reading_cache"
    CACHED = "cached"  # cached rows shown, no refresh (yet, or it failed)
    SYNCING = "syncing"
    UP_TO_DATE = "up_to_date"
    CANCELLED = "cancelled"
    FAILED = "failed"
    OFFLINE = "offline"
    UNAVAILABLE = "unavailable"  # the connection's system has no such module


# Phases a tab rests in (no load running) that going offline turns into "Offline".
SETTLED = (Phase.IDLE, Phase.CACHED, Phase.UP_TO_DATE, Phase.CANCELLED, Phase.FAILED)

FRESH_FOR = timedelta(minutes=1)
"""How long a tab that just synced says "Up to date" before it says how long ago it was."""


@dataclass(frozen=True)
class TabStatus:
    """What a tab says about its data, for the strip above its table.

    Attributes:
        phase: where the load is.
        synced_at: when the rows shown were fetched from the server (None: never).
        progress: the refresh's progress, while syncing.
        message: a sentence for the user (an error, the unavailable module).
        request_id: the failed request's ID, when a refresh failed.
        held: when the connection, not the network, keeps the tab on cached rows, why in a
            few words ("no token", "token not accepted"); else "".
    """

    phase: Phase = Phase.IDLE
    synced_at: datetime | None = None
    progress: Progress | None = None
    message: str = ""
    request_id: str = ""
    held: str = ""

    @property
    def busy(self) -> bool:
        """True while a load runs (the tab shows progress and a Cancel button)."""
        return self.phase in (Phase.READING_CACHE, Phase.SYNCING)

    def text(self, now: datetime | None = None) -> str:
        """The one-line status, e.g. "Syncing — page 12 of 60" or "Up to date"."""
        phase = self.phase
        if phase is Phase.READING_CACHE:
            return "Reading cached data…"
        if phase is Phase.SYNCING:
            if self.progress is not None and self.progress.page:
                return f"Syncing — {self.progress.describe()}"
            return "Syncing…"
        if phase is Phase.UP_TO_DATE:
            # "Up to date" is only true for a while: later the label says how fresh it is.
            if self.synced_at is not None and _age(self.synced_at, now) >= FRESH_FOR:
                return f"Last synced {relative_age(self.synced_at, now)}"
            return "Up to date"
        if phase is Phase.UNAVAILABLE:
            return "Not available"
        ago = f"last synced {relative_age(self.synced_at, now)}" if self.synced_at else ""
        if phase is Phase.CACHED:
            return f"Cached — {ago}" if ago else "Not synced yet"
        if phase is Phase.CANCELLED:
            return f"Cancelled — cached data, {ago}" if ago else "Cancelled"
        if phase is Phase.OFFLINE:
            held = self.held
            if held:  # the server may be reachable: the connection is what cannot be used
                return f"Cached — {held}, {ago}" if ago else f"Cached — {held}"
            return f"Offline — cached data, {ago}" if ago else "Offline"
        if phase is Phase.FAILED:
            return f"Refresh failed — cached data, {ago}" if ago else "Refresh failed"
        return ""

    def tooltip(self) -> str:
        """The exact sync time and, after a failure, what went wrong."""
        lines = []
        if self.synced_at is not None:
            local = self.synced_at.astimezone()
            lines.append(f"Last synced {local:%Y-%m-%d %H:%M:%S} (local time)")
        if self.message:
            lines.append(self.message)
        if self.request_id:
            lines.append(f"Request ID: {self.request_id}")
        return "\n".join(lines)


def _age(when: datetime, now: datetime | None) -> timedelta:
    now = now or datetime.now(UTC)
    return now - (when if when.tzinfo is not None else when.replace(tzinfo=UTC))


class Clock(Protocol):
    """Writes local times for :func:`at_time` (the UI's follows the user's locale)."""

    def time(self, local: datetime) -> str:
        """The time of day, short (``09:41``)."""

    def day_month(self, local: datetime) -> str:
        """A day this year (``12 Mar``)."""

    def date(self, local: datetime) -> str:
        """A date in another year, short (``12/03/2025``)."""


class PlainClock:
    """``strftime`` formats: 24-hour time, day and abbreviated month, day/month/year."""

    def time(self, local: datetime) -> str:
        return f"{local:%H:%M}"

    def day_month(self, local: datetime) -> str:
        return f"{local.day} {local:%b}"

    def date(self, local: datetime) -> str:
        return f"{local:%d/%m/%Y}"


_clock: Clock = PlainClock()


def set_clock(clock: Clock) -> None:
    """Write times with ``clock`` from now on (the UI installs its locale's at import)."""
    global _clock
    _clock = clock


def at_time(when: datetime, now: datetime | None = None) -> str:
    """A past instant as a person says it: ``at 09:41``, ``yesterday at 09:41``,
    ``on 12 Mar at 09:41``, ``on 12/03/2025 at 09:41``.

    Local time, written by the installed :class:`Clock`.
    """
    now = (now or datetime.now(UTC)).astimezone()
    local = (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone()
    clock = _clock.time(local)
    days = (now.date() - local.date()).days
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"yesterday at {clock}"
    if local.year == now.year:
        return f"on {_clock.day_month(local)} at {clock}"
    return f"on {_clock.date(local)} at {clock}"


def offline_text(reach: Reach, cached_at: datetime | None, now: datetime | None = None) -> str:
    """The offline banner's sentence, e.g. "Offline — showing data cached at 09:41"."""
    lead = "Working offline" if reach is Reach.WORK_OFFLINE else "Offline"
    if cached_at is None:
        return f"{lead} — nothing of this connection is cached yet"
    return f"{lead} — showing data cached {at_time(cached_at, now)}"


TOKEN_REFUSED_REASON = "The server did not accept this connection's token"


def held_text(reason: str, cached_at: datetime | None, now: datetime | None = None) -> str:
    """The banner's sentence when the connection cannot be used, e.g. "No token for this
    connection — showing cached data, last synced at 09:41"."""
    if cached_at is None:
        return f"{reason} — nothing of this connection is cached yet"
    return f"{reason} — showing cached data, last synced {at_time(cached_at, now)}"


__all__ = [
    "FRESH_FOR",
    "SETTLED",
    "TOKEN_REFUSED_REASON",
    "Clock",
    "Phase",
    "PlainClock",
    "TabStatus",
    "at_time",
    "held_text",
    "offline_text",
    "set_clock",
]

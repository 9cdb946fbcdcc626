"""Online, offline, or working offline: one connection's reachability, decided once.

When a request cannot reach the API (DNS failure, connection refused, timeouts) the session
goes offline *once* - one banner, not a dialog per tab - and probes in the background with
backoff until the API answers again, then goes back online by itself. "Work offline" stops
all network use until it is turned off.

No Qt: the UI subscribes with a plain callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from makini_desktop.api.errors import MakiniConnectionError, MakiniError

T = TypeVar("T")

log = logging.getLogger(__name__)


class Reach(Enum):
    """Whether the app uses the network for this connection."""

    ONLINE = "online"
    OFFLINE = "offline"  # the API could not be reached; probing in the background
    WORK_OFFLINE = "work_offline"  # the user turned the network off


def work_offline_error() -> MakiniConnectionError:
    """What a request attempted while working offline fails with (no network is used)."""
    return MakiniConnectionError(
        0, "WORK_OFFLINE", "network", "Working offline: the network is not used."
    )


class Connectivity:
    """Tracks reachability and probes its way back online.

    Args:
        probe: a cheap call that raises :class:`MakiniError` when the API is unreachable.
        on_change: called with the new :class:`Reach` whenever it changes.
        first_delay: seconds before the first probe after going offline.
        max_delay: the longest wait between probes.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[Any]],
        *,
        on_change: Callable[[Reach], None] | None = None,
        first_delay: float = 2.0,
        max_delay: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._probe = probe
        self.on_change = on_change
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self.reach = Reach.ONLINE
        self.offline_since: datetime | None = None
        self.last_error: MakiniError | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def online(self) -> bool:
        return self.reach is Reach.ONLINE

    def _set(self, reach: Reach) -> None:
        if reach is self.reach:
            return
        self.reach = reach
        if reach is Reach.ONLINE:
            self.offline_since = None
        elif self.offline_since is None:
            self.offline_since = datetime.now(UTC)
        log.info("connectivity: %s", reach.value)
        if self.on_change is not None:
            self.on_change(reach)

    def note_error(self, err: BaseException) -> bool:
        """Tell it a request failed. True if that means offline (and it now is)."""
        if not (isinstance(err, MakiniError) and err.is_connection):
            return False
        self.last_error = err
        if self.reach is Reach.ONLINE:
            self._set(Reach.OFFLINE)
            self._start_probing()
        return True

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Make an API call unless working offline, and record whether it got through.

        Raises:
            MakiniConnectionError: working offline (nothing was sent).
            MakiniError: the call's own error (a connection error also means offline).
        """
        if self.reach is Reach.WORK_OFFLINE:
            raise work_offline_error()
        try:
            result = await call()
        except MakiniError as err:
            self.note_error(err)
            raise
        self.note_success()
        return result

    def note_success(self) -> None:
        """Tell it a request got an answer from the API."""
        if self.reach is Reach.OFFLINE:
            self._stop_probing()
            self._set(Reach.ONLINE)

    async def probe_now(self) -> bool:
        """Probe once, now (the user's "Try now"). True if the API answered.

        Offline, a failed probe starts the background backoff over from its first delay;
        a success goes back online at once.
        """
        if self.reach is Reach.WORK_OFFLINE:
            return False
        try:
            await self._probe()
        except MakiniError as err:
            if not err.is_connection:
                self.note_success()  # an HTTP answer: reachable
                return True
            self.last_error = err
            if self.reach is Reach.OFFLINE:
                self._stop_probing()
                self._start_probing()
            else:
                self.note_error(err)
            return False
        self.note_success()
        return True

    def set_work_offline(self, on: bool) -> None:
        """Turn "Work offline" on (no network at all) or off (online again: the next
        request finds out whether the API is reachable)."""
        if on:
            self._stop_probing()
            self._set(Reach.WORK_OFFLINE)
        elif self.reach is Reach.WORK_OFFLINE:
            self._set(Reach.ONLINE)

    def _start_probing(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._probe_loop())

    def _stop_probing(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not _current_task():
            task.cancel()

    async def _probe_loop(self) -> None:
        delay = self.first_delay
        while self.reach is Reach.OFFLINE:
            await self._sleep(self._rng.uniform(delay * 0.5, delay))
            if self.reach is not Reach.OFFLINE:
                return
            try:
                await self._probe()
            except MakiniError as err:
                if err.is_connection:
                    self.last_error = err
                    delay = min(self.max_delay, delay * 2)
                    continue
                # An HTTP answer, even an error, means the API is reachable again.
            self._set(Reach.ONLINE)
            return

    async def aclose(self) -> None:
        """Stop probing."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None

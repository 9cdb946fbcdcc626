"""Task slots: at most one task per key, a new one preempting the previous.

"Cancel the previous load of this tab, then start the new one" is one pattern; a
:class:`TaskSlots` holds it once (FeelUOwn's preemptive tasks are the model). The task a
slot holds is also how a coroutine tells whether it still owns its key
(:meth:`TaskSlots.owns`): a load replaced by a newer one, or discarded when its connection
closed, leaves no trace.

No Qt: plain asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

Job = Coroutine[Any, Any, None]


class TaskSlots:
    """Named slots, each holding the latest task started for its key.

    A slot keeps its task after the task ended (:meth:`get` still returns it), until a new
    one replaces it or :meth:`discard` empties the slot.
    """

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}

    def start(self, key: Hashable, job: Job) -> asyncio.Task[None]:
        """Cancel the task of ``key`` (if still running) and run ``job`` in its place."""
        old = self._tasks.get(key)
        if old is not None and not old.done():
            old.cancel()
        task = asyncio.ensure_future(job)
        self._tasks[key] = task
        return task

    def claim(self, key: Hashable) -> asyncio.Task[Any]:
        """Make the calling task the one of ``key``, cancelling the previous one: for work
        that runs in its caller's task (a button's coroutine) rather than one started here.
        """
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("TaskSlots.claim needs a running task")
        old = self._tasks.get(key)
        if old is not None and old is not task and not old.done():
            old.cancel()
        self._tasks[key] = task
        return task

    def ensure(self, key: Hashable, make: Callable[[], Job]) -> asyncio.Task[None]:
        """The running task of ``key``; when none runs, a new one of ``make()``."""
        task = self._tasks.get(key)
        if task is not None and not task.done():
            return task
        return self.start(key, make())

    def get(self, key: Hashable) -> asyncio.Task[None] | None:
        """The latest task of ``key`` (running or ended), None if the slot is empty."""
        return self._tasks.get(key)

    def running(self, key: Hashable) -> bool:
        """True while the task of ``key`` has not ended."""
        task = self._tasks.get(key)
        return task is not None and not task.done()

    def owns(self, key: Hashable, task: asyncio.Task[Any] | None = None) -> bool:
        """True if ``task`` (default: the calling task) is the one the slot holds.

        A task cancelled with :meth:`cancel` still owns its key (its handler may say it was
        cancelled); one replaced by :meth:`start` or emptied by :meth:`discard` does not.
        """
        if task is None:
            try:
                task = asyncio.current_task()
            except RuntimeError:
                return False
        return task is not None and self._tasks.get(key) is task

    def cancel(self, key: Hashable) -> None:
        """Cancel the task of ``key`` if it runs; it keeps the slot until replaced."""
        task = self._tasks.get(key)
        if task is not None and not task.done():
            task.cancel()

    def discard(self, key: Hashable) -> asyncio.Task[None] | None:
        """Cancel the task of ``key`` and empty the slot (the task owns nothing any more).

        Returns:
            The task, if it was still running (to wait for it to unwind), else None.
        """
        task = self._tasks.pop(key, None)
        if task is None or task.done():
            return None
        task.cancel()
        return task

    def release(self, key: Hashable, task: asyncio.Task[Any] | None = None) -> None:
        """Empty the slot of ``key`` without cancelling, if it holds ``task`` (default: the
        calling task): a task that ends by itself says so before its last callbacks."""
        if self.owns(key, task):
            del self._tasks[key]

    def cancel_all(self) -> list[asyncio.Task[None]]:
        """Discard every slot; returns the tasks that were still running."""
        cancelled = [t for t in (self.discard(k) for k in list(self._tasks)) if t is not None]
        return cancelled

    def running_tasks(self) -> list[asyncio.Task[None]]:
        """Every task that has not ended yet."""
        return [t for t in self._tasks.values() if not t.done()]

    async def shutdown(self) -> None:
        """Cancel every task and wait until each has unwound (whatever its outcome)."""
        tasks = self.cancel_all()
        if tasks:
            await asyncio.wait(tasks)


__all__ = ["Job", "TaskSlots"]

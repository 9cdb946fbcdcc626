"""TaskSlots: one task per key, a new one preempting the previous; cancel, discard, shutdown."""

from __future__ import annotations

import asyncio

from makini_desktop.sync.tasks import TaskSlots


async def _forever(log: list[str], name: str) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise


def test_start_cancels_the_previous_task_of_the_same_key_only():
    """A new task for a key cancels that key's running task and leaves other keys alone."""

    async def go():
        slots, log = TaskSlots(), []
        first = slots.start("a", _forever(log, "a1"))
        other = slots.start("b", _forever(log, "b"))
        await asyncio.sleep(0)
        second = slots.start("a", _forever(log, "a2"))
        await asyncio.sleep(0)
        assert first.cancelled() and not second.done() and not other.done()
        assert log == ["a1 cancelled"]
        assert slots.get("a") is second
        await slots.shutdown()
        assert second.cancelled() and other.cancelled()

    asyncio.run(go())


def test_a_cancelled_task_still_owns_its_key_a_replaced_one_does_not():
    """cancel() keeps ownership (its handler may report); start() and discard() take it away."""

    async def go():
        slots = TaskSlots()
        seen: list[bool] = []

        async def job() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append(slots.owns("k"))
                raise

        slots.start("k", job())
        await asyncio.sleep(0)
        slots.cancel("k")
        await asyncio.wait([slots.get("k")])
        slots.start("k", job())
        await asyncio.sleep(0)
        slots.start("k", job())  # replaces the second
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task = slots.get("k")
        slots.discard("k")
        await asyncio.wait([task])
        assert seen == [True, False, False]
        assert slots.get("k") is None

    asyncio.run(go())


def test_ensure_returns_the_running_task_and_starts_one_when_none_runs():
    """ensure() never preempts: it joins the running task, or starts a new one."""

    async def go():
        slots, made = TaskSlots(), []

        async def job() -> None:
            made.append(1)
            await asyncio.sleep(0)

        first = slots.ensure("p", job)
        assert slots.ensure("p", job) is first and slots.running("p")
        await first
        assert not slots.running("p") and slots.get("p") is first  # kept after it ended
        second = slots.ensure("p", job)
        await second
        assert second is not first and made == [1, 1]

    asyncio.run(go())


def test_release_empties_the_slot_without_cancelling():
    """A task that releases its slot runs to its end; the slot reads as not running."""

    async def go():
        slots = TaskSlots()

        async def job() -> str:
            slots.release("p")
            assert not slots.running("p")
            await asyncio.sleep(0)
            return "done"

        task = slots.start("p", job())
        assert await task == "done"
        assert slots.get("p") is None

    asyncio.run(go())


def test_cancel_all_returns_the_running_tasks_and_shutdown_waits_for_them():
    """cancel_all() cancels and forgets every slot; shutdown() waits until each unwound."""

    async def go():
        slots, log = TaskSlots(), []
        done = slots.start("done", asyncio.sleep(0))
        await done
        slots.start("x", _forever(log, "x"))
        slots.start("y", _forever(log, "y"))
        await asyncio.sleep(0)
        assert len(slots.running_tasks()) == 2
        await slots.shutdown()
        assert sorted(log) == ["x cancelled", "y cancelled"]
        assert slots.running_tasks() == [] and slots.get("x") is None
        assert slots.cancel_all() == []

    asyncio.run(go())


def test_a_claiming_task_preempts_the_previous_one_and_owns_its_key():
    """A coroutine running in its caller's task claims a key: the earlier claimant is
    cancelled and no longer owns it; release empties the slot without cancelling."""

    async def go():
        slots, log = TaskSlots(), []
        owned: list[bool] = []

        async def claimant(name: str, stop: asyncio.Event) -> None:
            task = slots.claim("test")
            try:
                await stop.wait()
            except asyncio.CancelledError:
                log.append(f"{name} cancelled")
                owned.append(slots.owns("test", task))
                raise
            owned.append(slots.owns("test", task))
            slots.release("test", task)

        first_stop, second_stop = asyncio.Event(), asyncio.Event()
        first = asyncio.ensure_future(claimant("first", first_stop))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(claimant("second", second_stop))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert first.cancelled() and log == ["first cancelled"] and owned == [False]
        assert slots.running("test")
        second_stop.set()
        await second
        assert owned == [False, True] and not slots.running("test") and slots.get("test") is None

    asyncio.run(go())

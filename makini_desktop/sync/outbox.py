"""The outbox's sender, Qt-free: every stored change reaches the server once, in order per record.

:class:`Outbox` takes the user's changes (:meth:`Outbox.change_status`,
:meth:`Outbox.register`), stores each in the connection's cache file first
(:class:`~makini_desktop.store.outbox.OutboxStore`) and then sends it:

* **In order per record.** A record's later change waits until its earlier one is
  confirmed; different records go concurrently (at most :attr:`Outbox.concurrency` at once,
  under the client's rate control). A refused change holds its record's later changes until
  the user retries or discards it (they were made on top of it).
* **Nothing lost, nothing twice.** A network error, a 5xx, a 429 or a 401 keeps the change
  waiting; it is sent again with the same ``Idempotency-Key`` and ``occurredAt`` after a
  backoff, and after :meth:`Outbox.resume` (back online, "Work offline" turned off, the next
  start, switching back to the connection). The server remembers the key: a change whose
  answer was lost is applied once.
* **Refusals said plainly.** 409: the change is a *conflict* holding the server's current
  record (the caller shows it and the row takes it). 405 (or a 404 for a creation): *failed*,
  "not offered" (the caller disables the action for the connection). 422, 404 and other
  4xx: *failed* with the reason and the request ID. Each is rolled back: the row goes back to
  the server's record, or to the record as it was.

Listeners are plain callbacks (the UI adapts them to signals): :attr:`Outbox.on_change`,
:attr:`Outbox.on_confirmed`, :attr:`Outbox.on_rolled_back`, :attr:`Outbox.on_count`.
:meth:`Outbox.overlay` gives a list's rows with the pending changes applied on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.errors import MakiniError
from makini_desktop.store.cache_errors import CacheError
from makini_desktop.store.outbox import (
    KIND_CREATE,
    KIND_STATUS,
    Change,
    ChangeState,
    OutboxStore,
    new_local_key,
)
from makini_desktop.sync import outbox_overlay
from makini_desktop.sync.outbox_overlay import B_EXPECTED_STATUS, B_OCCURRED_AT, B_REASON

__all__ = [
    "Backoff",
    "Outbox",
    "SendFn",
    "is_not_offered",
    "occurred_text",
]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

Row = dict[str, Any]
SendFn = Callable[[Change], Awaitable[Mapping[str, Any]]]
"""Sends one change (its body, ``Idempotency-Key`` and path) and returns the server's record;
raises :class:`MakiniError`."""

_CONFIRMED_KEPT = 2000  # server records kept for the overlay (a refresh fetched meanwhile)


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts of a change the server could not take yet.

    Attributes:
        first: seconds before the first retry.
        factor: each wait is this many times the previous.
        longest: the longest wait.
        jitter: up to this share of the wait is added at random (no synchronised storms).
    """

    first: float = 1.0
    factor: float = 2.0
    longest: float = 60.0
    jitter: float = 0.2

    def delay(self, failures: int, rng: random.Random) -> float:
        base = min(self.longest, self.first * self.factor ** max(0, failures - 1))
        return base * (1 + self.jitter * rng.random())


def occurred_text(when: datetime) -> str:
    """An ``occurredAt`` value: ISO-8601 UTC with ``Z``, whole seconds (contract §6.2).

    Raises:
        ValueError: ``when`` is naive.
    """
    return writes.format_occurred_at(when)


def is_not_offered(change: Change) -> bool:
    """The connection's system does not offer this write (405; a 404 on a creation)."""
    return change.state is ChangeState.FAILED and (
        change.http_status == 405
        or (change.http_status == 404 and change.kind == KIND_CREATE)
    )


async def _off_loop(call: Callable[..., _T], *args: Any) -> _T:
    """Run a store call in a worker thread (its commit syncs to disk); cancelled meanwhile,
    it still completes before the cancellation goes on, so the store's state is never
    changed behind a later call's back."""
    job = asyncio.ensure_future(asyncio.to_thread(call, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await job
        raise


def _quiet(*_args: Any) -> None:
    """No listener."""


def _server_current(err: MakiniError) -> Mapping[str, Any] | None:
    """A 409's ``error.current`` (the record as the server has it), if the client kept it."""
    current = getattr(err, "current", None)
    return current if isinstance(current, Mapping) else None


def _refusal_text(err: MakiniError, change: Change) -> str:
    if err.status == 405 or (err.status == 404 and change.kind == KIND_CREATE):
        return "This system does not offer this change, so it was not made."
    if err.status == 404:
        return "The record no longer exists on the server, so the change was not made."
    message = err.message.strip()
    if err.field_errors:
        fields = "; ".join(
            f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in err.field_errors.items()
        )
        message = f"{message} ({fields})" if message else fields
    return f"{err.summary()} {message}".strip() if message else err.summary()


class Outbox:
    """The changes of one connection on their way to the server.

    Args:
        store: the connection's outbox table.
        send: sends one change (see :data:`SendFn`); None: nothing is sent until
            :attr:`send` is set (a connection without a token still queues).
        concurrency: records sent at once.
        backoff: waits after a network error, a 5xx or a 429.
        on_network_error: told when a send could not reach the server (the session's
            connectivity goes offline, and calls :meth:`pause`/:meth:`resume`).

    Attributes:
        on_change: ``(change)``: a change was added or its state changed.
        on_confirmed: ``(change, server_record)``: the server confirmed a change; the row
            takes the record (its key differs from the change's for a creation).
        on_rolled_back: ``(change, record)``: a change was refused or discarded; the row
            goes back to ``record`` (the server's for a conflict, else the record as it
            was; None for a creation that never was).
        on_count: ``(n)``: the number of changes waiting to be sent changed.
        confirmed: the server's records from recent answers, by (dataset, key), for the
            overlay.
    """

    def __init__(
        self,
        store: OutboxStore,
        send: SendFn | None,
        *,
        concurrency: int = 4,
        backoff: Backoff | None = None,
        on_network_error: Callable[[MakiniError], object] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.concurrency = max(1, concurrency)
        self.backoff = backoff or Backoff()
        self.on_network_error = on_network_error or _quiet
        self.on_change: Callable[[Change], None] = _quiet
        self.on_confirmed: Callable[[Change, Mapping[str, Any]], None] = _quiet
        self.on_rolled_back: Callable[[Change, Mapping[str, Any] | None], None] = _quiet
        self.on_count: Callable[[int], None] = _quiet
        self.confirmed: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._rng = rng or random.Random()
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))
        self._changes: dict[int, Change] = {c.seq: c for c in store.changes()}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.concurrency)
        self._running = False
        self._hold_until = 0.0  # every send waits until then (network down, 429)
        self._failures = 0  # consecutive network failures (the shared backoff)
        self._last_count = self.waiting_count()
        self._errors: dict[int, MakiniError] = {}  # this run's refusals, for their dialog
        # The store's writes commit without waiting for the disk and are synced in a thread
        # (_wrote, _durable): how many were written, how many are known to be on disk, the
        # sync under way, and the write that stored each change not yet sent.
        self._written = self._synced = 0
        self._syncing: asyncio.Future[None] | None = None
        self._stored_by: dict[int, int] = {}

    # -- what is in it ----------------------------------------------------------------------

    def changes(self) -> list[Change]:
        """Every change, in created order."""
        return sorted(self._changes.values(), key=lambda c: c.seq)

    def get(self, seq: int) -> Change | None:
        return self._changes.get(seq)

    def waiting_count(self) -> int:
        """Changes waiting to be sent or being sent ("3 changes waiting to be sent")."""
        return sum(1 for c in self._changes.values() if c.pending)

    def overlay(self, dataset: str, rows: Sequence[Mapping[str, Any]]) -> list[Row]:
        """``rows`` as the user should see them: pending changes applied on top."""
        return outbox_overlay.overlay(
            rows, self._changes.values(), dataset, confirmed=self.confirmed
        )

    def overlay_row(self, dataset: str, row: Mapping[str, Any]) -> Row:
        """One row as the user should see it (a row repainted after an action)."""
        shown = outbox_overlay.overlay(
            [row], [c for c in self._changes.values()
                    if c.dataset == dataset and c.record_key == row.get(res.F_KEY)],
            dataset, confirmed=self.confirmed,
        )
        return shown[0] if shown else dict(row)

    def has_overlay(self, dataset: str) -> bool:
        """Whether :meth:`overlay` can change any row of ``dataset`` (a refresh of a list
        with nothing on its way is handed over untouched, at no cost)."""
        return any(c.dataset == dataset and c.pending for c in self._changes.values()) or any(
            ds == dataset for ds, _key in self.confirmed)

    def error_for(self, seq: int) -> MakiniError | None:
        """The error that refused a change in this run (its request ID, field messages),
        or None (refused in an earlier run: the change keeps its reason and request ID)."""
        return self._errors.get(seq)

    def pending_for(self, dataset: str, key: str) -> list[Change]:
        """The record's changes still on their way, in order (the row's "Sending…")."""
        return [c for c in self.changes() if c.record == (dataset, key) and c.pending]

    @property
    def running(self) -> bool:
        return self._running

    # -- the user's actions -----------------------------------------------------------------

    def change_status(
        self,
        dataset: str,
        row: Mapping[str, Any],
        target: str,
        action: str,
        *,
        reason: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Change:
        """Store a status change of ``row`` (as the user sees it) and send it when possible.

        The body carries ``expectedStatus`` (the status the user saw) and ``occurredAt``
        (now, or ``occurred_at``); it is the same on every attempt.

        Raises:
            CacheError: the change could not be stored: it was not made, nothing is sent.
        """
        key = str(row.get(res.F_KEY) or "")
        if not key:
            raise ValueError("The record has no key.")
        body: Row = {
            res.F_STATUS: target,
            B_EXPECTED_STATUS: row.get(res.F_STATUS),
            B_OCCURRED_AT: occurred_text(occurred_at or self._now()),
        }
        if reason:
            body[B_REASON] = reason
        return self._add(dataset, key, action, body, KIND_STATUS, dict(row), occurred_at)

    def register(
        self, fields: Mapping[str, Any], *, walk_in: bool = False,
        occurred_at: datetime | None = None, dataset: str = res.VISITS.name,
    ) -> Change:
        """Store a new visitor registration (a walk-in: already checked in) and send it.

        The row appears at once with a local key; the server's key replaces it when the
        creation is confirmed (later changes to it follow the new key).

        Raises:
            CacheError: the registration could not be stored.
        """
        body: Row = {k: v for k, v in fields.items() if v not in (None, "")}
        if walk_in:
            body[res.F_STATUS] = "checked_in"
            body[B_OCCURRED_AT] = occurred_text(occurred_at or self._now())
        return self._add(dataset, new_local_key(), "register", body, KIND_CREATE, None,
                         occurred_at)

    def _add(
        self, dataset: str, key: str, action: str, body: Row, kind: str,
        before: Row | None, occurred_at: datetime | None,
    ) -> Change:
        # Committed at once, on disk a moment later (in a thread, before it is sent): the
        # row changes under the user's click, not after an fsync of the cache file.
        change = self.store.add(
            dataset, key, action, body, kind=kind, before=before,
            occurred_at=occurred_at or self._now(), durable=False,
        )
        self._changes[change.seq] = change
        self._stored_by[change.seq] = self._wrote()
        self.on_change(change)
        self._count_changed()
        self._kick()
        return change

    def _wrote(self) -> int:
        """Note a write the store committed without waiting for the disk, and start putting
        it there (in a thread, if a loop runs: else the next send or :meth:`aclose` does).
        Returns the write's number, for :meth:`_durable`."""
        self._written += 1
        if self._syncing is None or self._syncing.done():
            with contextlib.suppress(RuntimeError):  # no running loop
                asyncio.get_running_loop()
                self._syncing = asyncio.ensure_future(self._sync())
        return self._written

    async def _sync(self) -> None:
        while self._synced < self._written:
            upto = self._written
            try:
                await _off_loop(self.store.sync)
            except CacheError as err:  # committed all the same: it survives a crash of the app
                log.warning("outbox: %s", err)
            self._synced = max(self._synced, upto)

    async def _durable(self, write: int) -> None:
        """Wait until the store's write number ``write`` is on disk."""
        while self._synced < write:
            if self._syncing is None or self._syncing.done():
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)

    def retry(self, seq: int) -> Change | None:
        """Send a failed or conflicting change again; None if it is gone.

        It goes with a new ``Idempotency-Key``: the server remembers the refusal under the
        old one and would only repeat it. The body is unchanged (``occurredAt`` and
        ``expectedStatus`` as the user acted: a stale check-in still conflicts).
        """
        change = self._changes.get(seq)
        if change is None or change.pending:
            return change
        self.store.retry(seq)
        self._stored_by[seq] = self._wrote()  # its new key on disk before it is sent
        self._refresh(seq)
        self._count_changed()
        self._kick()
        return self._changes.get(seq)

    def discard(self, seq: int) -> Change | None:
        """Give up a change (the UI confirms first): it is never sent, its row rolls back.

        A change being sent right now cannot be called back; it is discarded from the
        outbox, and if the server took it the next refresh shows it.
        """
        change = self._changes.pop(seq, None)
        if change is None:
            return None
        self.store.discard(seq)
        self._stored_by.pop(seq, None)
        self._wrote()
        rollback = change.server_record if change.server_record is not None else change.before
        self.on_rolled_back(change, rollback)
        self._count_changed()
        self._kick()  # the record's later changes were held behind it
        return change

    # -- running ----------------------------------------------------------------------------

    def resume(self) -> None:
        """Start (or go on) sending: online again, Work offline off, start, switch back."""
        self._running = True
        self._hold_until = 0.0
        self._failures = 0
        self._kick()

    def pause(self) -> None:
        """Stop sending (offline, Work offline, switched away). Changes being sent are
        cancelled and wait again: sent with the same key on resume, applied once."""
        self._running = False
        for task in list(self._workers.values()):
            task.cancel()

    async def aclose(self) -> None:
        """Pause, wait for the senders to stop and the changes to be on disk, and close
        the store."""
        self.pause()
        workers = list(self._workers.values())
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
        if not self.store.closed:
            await asyncio.gather(self._durable(self._written), return_exceptions=True)
        self.store.close()

    async def drain(self) -> None:
        """Wait until no record has a change it can send (all confirmed, refused or held)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    def _kick(self) -> None:
        if not self._running or self.send is None:
            return
        heads: dict[tuple[str, str], Change] = {}  # one pass: each record's first change
        for change in self._changes.values():
            head = heads.get(change.record)
            if head is None or change.seq < head.seq:
                heads[change.record] = change
        for record, head in sorted(heads.items(), key=lambda item: item[1].seq):
            if head.state is ChangeState.WAITING and record not in self._workers:
                task = asyncio.ensure_future(self._work(record))
                self._workers[record] = task
                task.add_done_callback(functools.partial(self._worker_done, record))

    def _worker_done(self, record: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._workers.get(record) is task:
            del self._workers[record]
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox sender failed", exc_info=task.exception())

    def _head(self, record: tuple[str, str]) -> Change | None:
        """The record's first change (the one that must go before the others)."""
        first: Change | None = None
        for change in self._changes.values():
            if change.record == record and (first is None or change.seq < first.seq):
                first = change
        return first

    async def _work(self, record: tuple[str, str]) -> None:
        """Send a record's changes one after another, until none can be sent."""
        failures = 0
        while self._running:
            change = self._head(record)
            if change is None or change.state is not ChangeState.WAITING:
                return  # done, or held behind a refused change
            wait = self._hold_until - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._slots:
                if not self._running or self.send is None:
                    return
                if self._hold_until > self._clock():
                    continue
                outcome = await self._send_one(change)
            if outcome is None:
                failures = 0
                continue
            failures += 1
            await asyncio.sleep(outcome if outcome > 0 else
                                self.backoff.delay(failures, self._rng))

    async def _send_one(self, change: Change) -> float | None:
        """Send one change. None: settled (confirmed or refused); else seconds to wait
        (0: the backoff's next wait) before it is sent again."""
        assert self.send is not None
        await self._durable(self._stored_by.get(change.seq, 0))  # on disk before it is sent
        try:
            await _off_loop(self.store.mark_sending, change.seq)
        except CacheError as err:  # only the attempt count is lost: send all the same
            log.warning("outbox: %s", err)
        self._refresh(change.seq)
        try:
            server = await self.send(change)
        except asyncio.CancelledError:
            # Paused or closed mid-send: it waits again (the server may have taken it; the
            # same key makes the resend safe). The store may be closed by now.
            with contextlib.suppress(CacheError):
                self.store.mark_waiting(change.seq)
                self._wrote()
                self._refresh(change.seq)
            raise
        except MakiniError as err:
            return self._refused(change, err)
        except CacheError as err:  # the store could not note the attempt; try again later
            log.warning("outbox: %s", err)
            return 0
        try:
            # In a thread, not on the GUI's loop (it writes the server's record to the cache).
            new_key = await _off_loop(self.store.confirm, change.seq, dict(server))
            self._confirmed(change, dict(server), new_key)
        except CacheError as err:
            # Applied on the server, not yet noted here: sent again with the same key, the
            # server answers as before and nothing is applied twice.
            log.warning("outbox: confirming a change failed: %s", err)
            return 0
        return None

    def _refresh(self, seq: int) -> None:
        fresh = self.store.get(seq)
        if fresh is None:
            self._changes.pop(seq, None)
            return
        old = self._changes.get(seq)
        self._changes[seq] = fresh
        if old is None or old.state is not fresh.state or old.reason != fresh.reason:
            self.on_change(fresh)

    def _confirmed(self, change: Change, server: Row, new_key: str | None) -> None:
        self._changes.pop(change.seq, None)
        self._stored_by.pop(change.seq, None)
        self._failures = 0
        if new_key and new_key != change.record_key:
            for seq, other in list(self._changes.items()):
                if other.record == change.record:
                    self._changes[seq] = self.store.get(seq) or other
        key = new_key or change.record_key
        self.confirmed[(change.dataset, key)] = server
        while len(self.confirmed) > _CONFIRMED_KEPT:
            self.confirmed.pop(next(iter(self.confirmed)))
        self.on_confirmed(change, server)
        self._count_changed()
        if new_key and new_key != change.record_key:
            self._kick()

    def _refused(self, change: Change, err: MakiniError) -> float | None:
        """Sort a refusal: wait and send again, or settle it as failed or a conflict."""
        if err.is_connection or err.retryable or err.is_auth:
            reason = f"Not sent yet: {err.summary()} It is sent again by itself."
            self.store.mark_waiting(change.seq, reason=reason, request_id=err.request_id)
            self._wrote()
            self._refresh(change.seq)
            if err.is_auth:  # nothing goes until the user reconnects (a new session)
                self._running = False
                self.on_network_error(err)
                return 0
            if err.is_connection:
                self._failures += 1
                self._hold_until = self._clock() + self.backoff.delay(self._failures, self._rng)
                self.on_network_error(err)
                return max(0.0, self._hold_until - self._clock())
            if err.retry_after:
                self._hold_until = max(self._hold_until, self._clock() + err.retry_after)
                return err.retry_after
            return 0
        self._errors[change.seq] = err
        del_old = [seq for seq in self._errors if seq not in self._changes]
        for seq in del_old:
            del self._errors[seq]
        if err.status == 409:
            current = _server_current(err)
            self.store.mark_conflict(
                change.seq, reason=err.message or err.summary(), request_id=err.request_id,
                server_record=current,
            )
            if current is not None:
                key = str(current.get(res.F_KEY) or change.record_key)
                self.confirmed[(change.dataset, key)] = current
        else:
            self.store.mark_failed(
                change.seq, reason=_refusal_text(err, change), request_id=err.request_id,
                http_status=err.status, error_code=err.code,
            )
        self._wrote()
        self._refresh(change.seq)
        settled = self._changes.get(change.seq, change)
        rollback = settled.server_record if settled.server_record is not None else change.before
        self.on_rolled_back(settled, rollback)
        self._count_changed()
        return None

    def _count_changed(self) -> None:
        count = self.waiting_count()
        if count != self._last_count:
            self._last_count = count
            self.on_count(count)

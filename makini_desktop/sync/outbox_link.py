"""The workspace's outboxes: one :class:`~makini_desktop.sync.outbox.Outbox` per open connection.

:class:`OutboxLink` is the workspace's small hook (three calls in ``sync/workspace.py``):
when a session's cache is open its outbox opens on the same file and, if the session is
online, starts sending what an earlier run left (the next start, switching back to the
connection); it pauses when the session goes offline or the user works offline, resumes
when it is back, and closes with the session. Changes made while offline are stored and
queue; nothing is ever dropped when a connection closes.

The UI reads :attr:`OutboxLink.current` for the active connection's outbox and sets the
listeners it wants on :attr:`OutboxLink.listeners` (applied to every outbox opened).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from makini_desktop.api import resources as res
from makini_desktop.store.cache_errors import CacheError
from makini_desktop.store.outbox import KIND_CREATE, Change, OutboxStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.outbox import Outbox, SendFn
from makini_desktop.sync.outbox_overlay import B_EXPECTED_STATUS, B_OCCURRED_AT, B_REASON
from makini_desktop.sync.outbox_sink import OverlaySink

if TYPE_CHECKING:
    from makini_desktop.api.client import MakiniClient
    from makini_desktop.sync.session import Session
    from makini_desktop.sync.tab import RowSink

__all__ = [
    "OutboxLink",
    "OutboxListeners",
    "client_sender",
    "quit_text",
    "remove_warning",
    "waiting_text",
]

log = logging.getLogger(__name__)


def client_sender(client: MakiniClient) -> SendFn:
    """Send a stored change through the connection's client (contract §6): its body's
    fields, its ``Idempotency-Key`` and ``occurredAt``, unchanged on every attempt."""

    async def send(change: Change) -> Mapping[str, Any]:
        body = dict(change.body)
        key = change.idempotency_key
        if change.kind == KIND_CREATE:
            fields = {k: v for k, v in body.items() if k != B_OCCURRED_AT}
            return await client.register_visitor(
                fields, occurred_at=body.get(B_OCCURRED_AT), idempotency_key=key,
            )
        dataset = res.MOVES if change.dataset == res.MOVES.name else res.VISITS
        return await client.change_status(
            dataset,
            change.record_key,
            str(body.get(res.W_STATUS)),
            expected_status=body.get(B_EXPECTED_STATUS),
            occurred_at=body.get(B_OCCURRED_AT),
            reason=body.get(B_REASON),
            idempotency_key=key,
        )

    return send


def _changes(count: int) -> str:
    return "1 change" if count == 1 else f"{count} changes"


def waiting_text(count: int) -> str:
    """The status bar's ``outboxStatus``: "3 changes waiting to be sent" ("" for none)."""
    return f"{_changes(count)} waiting to be sent" if count > 0 else ""


def quit_text(count: int) -> str:
    """What quitting with changes still waiting says ("" for none)."""
    if count <= 0:
        return ""
    return (f"{_changes(count)} could not be sent yet. They are kept and sent the next time "
            "you open this connection.")


def remove_warning(count: int, name: str) -> str:
    """The warning before removing a connection whose outbox is not empty ("" for none)."""
    if count <= 0:
        return ""
    return (f"“{name}” has {_changes(count)} not yet sent to the server. Removing the "
            "connection discards them: they will never be sent.")


def _quiet(*_args: Any) -> None:
    """No listener."""


@dataclass
class OutboxListeners:
    """The callbacks every outbox of the workspace gets (see :class:`Outbox`)."""

    on_change: Callable[[Change], None] = _quiet
    on_confirmed: Callable[[Change, Mapping[str, Any]], None] = _quiet
    on_rolled_back: Callable[[Change, Mapping[str, Any] | None], None] = _quiet
    on_count: Callable[[int], None] = _quiet
    on_opened: Callable[[Outbox | None], None] = _quiet
    """The active connection's outbox was opened or closed (None)."""


class OutboxLink:
    """The outbox of the workspace's active connection.

    Attributes:
        current: the active connection's outbox (None until its cache is open, and for a
            connection whose cache cannot be opened).
        problem: why the outbox could not be opened, in words for the user.
        listeners: the callbacks given to every outbox.
        sender: builds the send function of a session's client (tests substitute one).
    """

    def __init__(self) -> None:
        self.current: Outbox | None = None
        self.problem: str | None = None
        self.listeners = OutboxListeners()
        self.sender: Callable[[MakiniClient], SendFn] = client_sender
        self._session: Session | None = None

    def sink(self, view: res.View, model: RowSink) -> RowSink:
        """The tab's model, behind the outbox's overlay for a dataset the user changes.

        For the owner of the models to hand to the :class:`Workspace` (the loader then
        pushes every row through the overlay); the Qt view keeps the model itself.
        """
        if not (view.dataset.writable_status or view.dataset.creatable):
            return model
        return OverlaySink(model, view.dataset.name, lambda: self.current)

    def opened(self, session: Session) -> None:
        """The session's cache is open: open its outbox, and send if the session is online."""
        self.closed(self._session)
        cache = session.cache
        if cache is None:
            return
        try:
            store = OutboxStore.open(cache.path, read_only=cache.read_only)
        except CacheError as exc:
            self.problem = exc.message
            log.warning("outbox of %s unavailable: %s", session.info.name, exc)
            return
        send = self.sender(session.client) if session.client is not None else None
        outbox = Outbox(store, send, on_network_error=session.connectivity.note_error)
        # Through self.listeners at call time: the UI may set them after this opened.
        outbox.on_change = lambda c: self.listeners.on_change(c)
        outbox.on_confirmed = lambda c, r: self.listeners.on_confirmed(c, r)
        outbox.on_rolled_back = lambda c, r: self.listeners.on_rolled_back(c, r)
        outbox.on_count = lambda n: self.listeners.on_count(n)
        self.current, self._session, self.problem = outbox, session, None
        self.listeners.on_opened(outbox)
        self.listeners.on_count(outbox.waiting_count())
        if session.connectivity.online:
            outbox.resume()

    def reach(self, session: Session, reach: Reach) -> None:
        """Online again: send; offline or working offline: hold (changes still queue)."""
        if session is not self._session or self.current is None:
            return
        if reach is Reach.ONLINE:
            self.current.resume()
        else:
            self.current.pause()

    def closed(self, session: Session | None) -> list[asyncio.Task[None]]:
        """The session closes: its outbox stops; what it holds is sent next time.

        Returns:
            The task closing it (sends in flight are cancelled, each notes itself as
            waiting, then the store closes), for the workspace to await on its close.
        """
        if session is None or session is not self._session or self.current is None:
            return []
        outbox, self.current, self._session = self.current, None, None
        closing = asyncio.ensure_future(outbox.aclose())
        self.listeners.on_opened(None)
        return [closing]

"""The client's write calls (contract §6), mixed into
:class:`~makini_desktop.api.client.MakiniClient`.

They go through the client's :meth:`~makini_desktop.api.client.MakiniClient.request`, so a
write shares the connection's one ``httpx`` session, its pacing, its concurrency window and
its retries with the reads; with an ``Idempotency-Key`` it is retried like a read (§6.1).
The bodies, the action table and the classification of errors are in
:mod:`makini_desktop.api.writes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.errors import (
    MakiniError,
    MalformedResponseError,
    NotFoundError,
    NotOfferedError,
)
from makini_desktop.api.ratecontrol import RetryPolicy

if TYPE_CHECKING:  # annotations only: httpx is imported at a client's first request
    import httpx

Row = dict[str, Any]


class WriteCalls:
    """The writes of one connection; :class:`MakiniClient` provides :meth:`request`."""

    if TYPE_CHECKING:

        async def request(
            self,
            method: str,
            path: str,
            *,
            params: Mapping[str, Any] | None = None,
            body: Any = None,
            retry: RetryPolicy | None = None,
            timeout: httpx.Timeout | None = None,
            idempotency_key: str | None = None,
        ) -> tuple[httpx.Response, Any]: ...

    async def change_status(
        self,
        dataset: res.Dataset,
        key: str,
        status: str,
        *,
        idempotency_key: str,
        expected_status: str | None,
        occurred_at: datetime | str | None,
        reason: str | None = None,
    ) -> Row:
        """Change a visit's or a move's status (``PUT {path}/{key}``, contract §6.2).

        The same ``idempotency_key`` must be used for every retry and every later replay of
        one user action: the server then applies it once and answers a repeat with its
        first answer. Retried like a read (429 after ``Retry-After``, 5xx and connection
        failures with backoff) through the connection's shared session and rate control.

        Args:
            dataset: :data:`~resources.VISITS` or :data:`~resources.MOVES`.
            key: the record's key.
            status: the status asked for.
            idempotency_key: one uuid4 per user action (:func:`writes.new_idempotency_key`).
            expected_status: the record's status when the user acted (the app always sends
                it); None lets the server check the transition table alone.
            occurred_at: when the user acted (aware datetime, or the ISO text sent the first
                time); None: the server's time.
            reason: why (a move's rejection or cancellation; kept in ``statusReason``).

        Returns:
            The record as the server has it after the change (``updatedAt`` advanced; the
            unchanged record when it already had that status).

        Raises:
            ConflictError: 409, someone changed it meanwhile or the change is not allowed
                from its status; ``current`` holds the server's record.
            NotOfferedError: 405, the connection's system does not offer this write.
            ValidationFailedError: 422 (``occurredAt`` out of range, a key reused with
                another body ...), with ``field_errors``.
            NotFoundError: 404, the record is deleted or unknown.
            RateLimitedError: 429 that outlasted the retries.
            MakiniConnectionError: no answer; replay later with the same key.
            MakiniError: anything else (see :func:`writes.classify`).
            ValueError: an empty key or idempotency key, or a naive ``occurred_at``.
        """
        if not dataset.writable_status:
            raise ValueError(f"{dataset.name} records have no status to change")
        if not key:
            raise ValueError("a record key is required")
        body = writes.status_body(status, expected_status=expected_status,
                                  occurred_at=occurred_at, reason=reason)
        return await self._write("PUT", dataset.record_path(key), body, idempotency_key)

    async def change_visit_status(
        self,
        key: str,
        status: str,
        *,
        idempotency_key: str,
        expected_status: str | None,
        occurred_at: datetime | str | None,
        reason: str | None = None,
    ) -> Row:
        """Check a visitor in or out, undo it, mark a no-show or cancel the visit:
        :meth:`change_status` on :data:`~resources.VISITS` (same arguments and errors)."""
        return await self.change_status(
            res.VISITS, key, status, idempotency_key=idempotency_key,
            expected_status=expected_status, occurred_at=occurred_at, reason=reason,
        )

    async def change_move_status(
        self,
        key: str,
        status: str,
        *,
        idempotency_key: str,
        expected_status: str | None,
        occurred_at: datetime | str | None,
        reason: str | None = None,
    ) -> Row:
        """Approve, reject, start, complete or cancel a move: :meth:`change_status` on
        :data:`~resources.MOVES` (same arguments and errors; ``reason`` for a rejection or
        a cancellation)."""
        return await self.change_status(
            res.MOVES, key, status, idempotency_key=idempotency_key,
            expected_status=expected_status, occurred_at=occurred_at, reason=reason,
        )

    async def register_visitor(
        self,
        fields: Mapping[str, Any],
        *,
        idempotency_key: str,
        occurred_at: datetime | str | None = None,
    ) -> Row:
        """Register a visitor (``POST /api/iwms/visitors``, contract §6.3).

        Args:
            fields: ``visitorName``, ``visitorType``, ``hostName``, ``siteKey``,
                ``expectedAt`` (required by the server) and ``visitorEmail``, ``company``,
                ``locationKey``, ``notes``; ``"status": "checked_in"`` registers a walk-in
                who is already at the desk. None values are left out.
            idempotency_key: one uuid4 per registration, kept for every retry and replay
                (a replay returns the visit created the first time, never a second one).
            occurred_at: for a walk-in, when they arrived (recorded as ``checkedInAt``).

        Returns:
            The new visit, with its ``key``.

        Raises:
            ValidationFailedError: 422; ``field_errors`` maps each field to its messages.
            NotOfferedError: 405, or 404 (there is no record to be missing: the system does
                not offer registration).
            MakiniError: as :meth:`change_status`.
        """
        body = writes.registration_body(fields, occurred_at=occurred_at)
        try:
            return await self._write("POST", res.VISITS.path, body, idempotency_key)
        except NotFoundError as err:
            raise _as_not_offered(err) from None

    async def _write(self, method: str, path: str, body: Mapping[str, Any],
                     idempotency_key: str) -> Row:
        """Send one write with its key; the record under ``data`` of the answer."""
        if not idempotency_key or any(c in idempotency_key for c in "\r\n"):
            raise ValueError("a write needs a non-empty Idempotency-Key")
        response, doc = await self.request(method, path, body=dict(body),
                                           idempotency_key=idempotency_key)
        data = doc.get(res.ENV_DATA) if isinstance(doc, Mapping) else None
        if not isinstance(data, Mapping):
            # The server confirmed but sent no record: nothing to show as its state. A
            # replay with the same key gets the same answer, so this is reported, not kept.
            raise MalformedResponseError(
                response.status_code, "MALFORMED_RESPONSE", "api_error",
                "The server confirmed the change but did not send the record back.",
                request_id=response.headers.get("x-request-id", ""), method=method,
                path=path,
            )
        return dict(data)


def _as_not_offered(err: MakiniError) -> NotOfferedError:
    """A 404 on a write that names no record, as the "not offered here" it means (§6)."""
    return NotOfferedError(
        err.status, err.code, err.type, err.message, request_id=err.request_id,
        method=err.method, path=err.path, retries=err.retries,
        retry_seconds=err.retry_seconds,
    )

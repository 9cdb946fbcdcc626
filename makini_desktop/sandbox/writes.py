"""The sandbox's writes (contract §6): status changes and visitor registration over HTTP.

:class:`WriteRoutes` answers ``PUT /api/iwms/visitors/{key}``, ``PUT /api/iwms/moves/{key}``
and ``POST /api/iwms/visitors`` once :mod:`.routes` has matched the path. In order:

1. The body must be a JSON object (else ``400``, not remembered).
2. ``Idempotency-Key`` (§6.1): a key this token used before gets the first answer back
   (status and body as they were, header ``Idempotent-Replayed: true``) and changes
   nothing; with another body (or path) it is ``422 VALIDATION_FAILED``. Either way the
   key's entry in the log (:mod:`.idempotency`) counts it.
3. A module made read-only (``--read-only moves``) answers ``405 METHOD_NOT_ALLOWED``: this
   system does not offer that write (not remembered: nothing was attempted).
4. Validation (``422`` with ``errors`` per field): the status, ``expectedStatus``,
   ``occurredAt`` (at most 5 minutes ahead of the server's clock and 7 days behind it),
   ``reason``; a registration's fields (§6.3).
5. The record: unknown or soft-deleted ``404``; already in the status asked for ``200``
   unchanged; another status than ``expectedStatus`` (and not the target) or a change the
   table does not allow ``409 CONFLICT`` with ``error.current``; else the change
   (:func:`.changes.change_status`, :func:`.changes.register_visit`).

Every answer from step 5 is remembered under its key for 24 hours (the success, the 404,
the 409). A 422 from step 4 is not: nothing was tried against the data, so the corrected
form may be sent again under the same key (as Stripe does with a request that failed
validation).

Choices where the contract is silent: an ``Idempotency-Key`` longer than 255 characters or
with control characters is ``400``; a write without a key is carried out (and never
deduplicated); a registration's unknown fields are ignored; a visit's ``reason`` is
accepted and ignored (only moves keep one, in ``statusReason``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from makini_desktop.api import resources as res
from makini_desktop.api import writes as policy
from makini_desktop.sandbox import changes
from makini_desktop.sandbox.http import Request, Response, error_response, json_response
from makini_desktop.sandbox.idempotency import IdempotencyMemory, StoredAnswer, fingerprint
from makini_desktop.sandbox.ratelimit import RateDecision
from makini_desktop.sandbox.records import Record, SandboxData, format_ts, parse_ts

MAX_KEY_LENGTH: Final = 255
MAX_TEXT: Final = {res.F_NOTES: 2000, res.W_REASON: 1000}
MAX_NAME: Final = 255
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NOUN: Final = {res.VISITS.name: "visit", res.MOVES.name: "move"}
# How a field is named in a person's sentence.
FIELD_LABELS: Final[Mapping[str, str]] = {
    res.W_STATUS: "status",
    res.W_EXPECTED_STATUS: "expected status",
    res.W_OCCURRED_AT: "time of the change",
    res.W_REASON: "reason",
    res.F_VISITOR_NAME: "visitor's name",
    res.F_VISITOR_TYPE: "visitor type",
    res.F_HOST_NAME: "host",
    res.F_SITE_KEY: "building",
    res.F_EXPECTED: "expected time",
    res.F_VISITOR_EMAIL: "email address",
    res.F_COMPANY: "company",
    res.F_LOCATION_KEY: "space",
    res.F_NOTES: "notes",
}


def human_status(status: object) -> str:
    """``checked_out`` as "checked out"."""
    return str(status).replace("_", " ")


class _InvalidError(Exception):
    """Validation problems: field -> messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("invalid")
        self.errors = dict(errors)


class WriteRoutes:
    """The contract's writes over the live data.

    Args:
        data: the records to change.
        memory: the ``Idempotency-Key`` memory and log.
        clock: Unix seconds, the server's clock for ``occurredAt``'s limits.

    Attributes:
        read_only: datasets (by name) whose writes answer ``405``.
    """

    def __init__(self, data: SandboxData, memory: IdempotencyMemory,
                 clock: Callable[[], float] = time.time) -> None:
        self.data = data
        self.memory = memory
        self.clock = clock
        self.read_only: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, ds: res.Dataset, key: str | None, req: Request, token: str, rid: str,
               rate: RateDecision) -> Response:
        """Answer a write: ``PUT`` of a record's status (``key`` set) or ``POST`` of a new
        visit (``key`` None)."""
        try:
            body = json.loads(req.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return error_response(400, rid, "The request body is not valid JSON.", rate)
        if not isinstance(body, dict):
            return error_response(400, rid, "The request body must be a JSON object.", rate)
        idem = req.headers.get(res.HEADER_IDEMPOTENCY_KEY.lower())
        if idem is not None:
            idem = idem.strip()
            if not idem or len(idem) > MAX_KEY_LENGTH or any(
                    not 32 <= ord(c) < 127 for c in idem):
                return error_response(
                    400, rid, f"The {res.HEADER_IDEMPOTENCY_KEY} header must be 1 to "
                    f"{MAX_KEY_LENGTH} printable characters.", rate)
        mark = fingerprint(req.method, req.path, body)
        memory = self.memory
        # One write at a time: look-up, execution and remembering are one step, so the
        # same key sent twice at once is executed once and replayed once.
        with self._lock, memory.lock:
            if idem is not None:
                stored = memory.lookup(token, idem)
                if stored is not None:
                    entry = memory.entry(token, idem, req.method, req.path, ds.name)
                    if stored.fingerprint != mark:
                        entry.conflicts += 1
                        return _invalid(rid, rate, {res.HEADER_IDEMPOTENCY_KEY: [
                            "This Idempotency-Key was already used for a different request; "
                            "a new change needs a new key."]})
                    entry.replays += 1
                    return _replay(stored, rid, rate)
            if ds.name in self.read_only:
                what = "registrations" if key is None else f"{_NOUN[ds.name]} status changes"
                return error_response(
                    405, rid, f"This connection's system does not offer {what}.", rate,
                    headers=[("Allow", "GET, HEAD")])
            if key is None:
                resp, record_key, change = self._register(body, rid, rate)
            else:
                resp, record_key, change = self._put_status(ds, key, body, rid, rate)
            entry = memory.entry(token, idem, req.method, req.path, ds.name)
            entry.executed += 1
            if entry.executed == 1:
                entry.status = resp.status
                entry.record = record_key
            if change is not None:
                entry.applied += 1
                entry.changes.append(change)
            if idem is not None and resp.status != 422:
                memory.remember(token, idem, StoredAnswer(
                    resp.status, resp.body, resp.content_type, mark, memory.clock()))
            return resp

    # -- status changes (§6.2) --------------------------------------------------------------

    def _put_status(self, ds: res.Dataset, key: str, body: Mapping[str, Any], rid: str,
                    rate: RateDecision) -> tuple[Response, str, str | None]:
        """The answer, the record's key ("" when none) and ``from -> to`` if it changed."""
        try:
            target, expected, occurred, reason = self._status_fields(ds, body)
        except _InvalidError as exc:
            return _invalid(rid, rate, exc.errors), "", None
        data = self.data
        noun = _NOUN[ds.name]
        with data.lock:
            rec = data.get(ds.name, key)
            if rec is None or rec.get(res.F_DELETED) is not None:
                return error_response(404, rid, f"No {noun} with key {key}.", rate), "", None
            current = rec.get(res.F_STATUS)
            if current == target:
                return json_response({res.ENV_DATA: rec}, rid, rate), key, None
            if expected is not None and current != expected:
                message = (f"The {noun} is {human_status(current)} now, not "
                           f"{human_status(expected)}: someone changed it meanwhile.")
                return _conflict(rid, rate, message, rec), key, None
            if not policy.is_allowed(ds, current, target):
                message = (f"Cannot change a {noun} from {human_status(current)} to "
                           f"{human_status(target)}.")
                return _conflict(rid, rate, message, rec), key, None
            new = changes.change_status(data, ds, rec, target, occurred=occurred,
                                        reason=reason)
        return json_response({res.ENV_DATA: new}, rid, rate), key, f"{current} -> {target}"

    def _status_fields(
        self, ds: res.Dataset, body: Mapping[str, Any]
    ) -> tuple[str, str | None, int | None, str | None]:
        """The validated target, expectedStatus, occurredAt (Unix seconds) and reason."""
        errors: dict[str, list[str]] = {}
        statuses = ds.statuses
        choices = f"Expected one of: {', '.join(statuses)}."
        target = body.get(res.W_STATUS)
        if target is None:
            errors[res.W_STATUS] = ["The status field is required."]
        elif not isinstance(target, str) or target not in statuses:
            errors[res.W_STATUS] = [f"The selected status is invalid. {choices}"]
        expected = body.get(res.W_EXPECTED_STATUS)
        if expected is not None and (not isinstance(expected, str) or expected not in statuses):
            errors[res.W_EXPECTED_STATUS] = [f"The selected expected status is invalid. "
                                             f"{choices}"]
        occurred = self._occurred_at(body, errors)
        reason = _text(body, res.W_REASON, errors, MAX_TEXT[res.W_REASON])
        if errors:
            raise _InvalidError(errors)
        return str(target), expected, occurred, reason

    def _occurred_at(self, body: Mapping[str, Any], errors: dict[str, list[str]]) -> int | None:
        """``occurredAt`` as Unix seconds, None when absent; problems go into ``errors``."""
        raw = body.get(res.W_OCCURRED_AT)
        if raw is None:
            return None
        label = FIELD_LABELS[res.W_OCCURRED_AT]
        when = _timestamp(raw)
        if when is None:
            errors[res.W_OCCURRED_AT] = [
                f"The {label} must be an ISO-8601 date and time, such as 2026-03-14T09:30:00Z."]
            return None
        now = self.clock()
        if when > now + res.OCCURRED_AT_MAX_FUTURE_SECONDS:
            minutes = res.OCCURRED_AT_MAX_FUTURE_SECONDS // 60
            errors[res.W_OCCURRED_AT] = [
                f"The {label} must not be more than {minutes} minutes in the future."]
        elif when < now - res.OCCURRED_AT_MAX_PAST_SECONDS:
            days = res.OCCURRED_AT_MAX_PAST_SECONDS // 86400
            errors[res.W_OCCURRED_AT] = [
                f"The {label} must not be more than {days} days in the past."]
        return when

    # -- registration (§6.3) ----------------------------------------------------------------

    def _register(self, body: Mapping[str, Any], rid: str,
                  rate: RateDecision) -> tuple[Response, str, str | None]:
        errors: dict[str, list[str]] = {}
        fields: dict[str, Any] = {}
        for name in res.REGISTRATION_REQUIRED:
            value = body.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors[name] = [f"The {FIELD_LABELS[name]} field is required."]
            elif not isinstance(value, str):
                errors[name] = [f"The {FIELD_LABELS[name]} must be text."]
            else:
                fields[name] = value.strip()
        for name in (res.F_VISITOR_NAME, res.F_HOST_NAME):
            if len(fields.get(name, "")) > MAX_NAME:
                errors[name] = [f"The {FIELD_LABELS[name]} must not be longer than "
                                f"{MAX_NAME} characters."]
        if fields.get(res.F_VISITOR_TYPE, res.VISITOR_TYPES[0]) not in res.VISITOR_TYPES:
            errors[res.F_VISITOR_TYPE] = [f"The selected visitor type is invalid. Expected "
                                          f"one of: {', '.join(res.VISITOR_TYPES)}."]
        site = fields.get(res.F_SITE_KEY)
        if site is not None and not self._visible(res.SITES.name, site):
            errors[res.F_SITE_KEY] = ["The selected building does not exist."]
        if res.F_EXPECTED in fields:
            when = _timestamp(fields[res.F_EXPECTED])
            if when is None:
                errors[res.F_EXPECTED] = [
                    "The expected time must be an ISO-8601 date and time, such as "
                    "2026-03-14T09:30:00Z."]
            else:
                fields[res.F_EXPECTED] = format_ts(when)
        for name in (res.F_VISITOR_EMAIL, res.F_COMPANY, res.F_LOCATION_KEY, res.F_NOTES):
            value = _text(body, name, errors, MAX_TEXT.get(name, MAX_NAME))
            if value is not None and value.strip():
                fields[name] = value.strip()
        email = fields.get(res.F_VISITOR_EMAIL)
        if email is not None and not _EMAIL.match(email):
            errors[res.F_VISITOR_EMAIL] = ["The email address must be a valid email address."]
        space = fields.get(res.F_LOCATION_KEY)
        if space is not None:
            # Against a building that does not exist, only the space's own existence counts.
            problem = self._space_problem(space, None if res.F_SITE_KEY in errors else site)
            if problem:
                errors[res.F_LOCATION_KEY] = [problem]
        status = body.get(res.W_STATUS, res.REGISTRATION_STATUSES[0])
        if status is None:
            status = res.REGISTRATION_STATUSES[0]
        if status not in res.REGISTRATION_STATUSES:
            errors[res.W_STATUS] = ["A new visit is either expected or checked in (a walk-in)."]
        occurred = self._occurred_at(body, errors)
        if errors:
            return _invalid(rid, rate, errors), "", None
        rec = changes.register_visit(self.data, fields, status=str(status), occurred=occurred)
        key = str(rec[res.F_KEY])
        return json_response({res.ENV_DATA: rec}, rid, rate, status=201), key, f"new {status}"

    def _visible(self, dataset: str, key: str) -> Record | None:
        rec = self.data.get(dataset, key)
        return None if rec is None or rec.get(res.F_DELETED) is not None else rec

    def _space_problem(self, space: str, site: str | None) -> str:
        """Why ``space`` cannot be a visit's space in building ``site`` ("" if it can)."""
        rec = self._visible(res.LOCATIONS.name, space)
        if rec is None or rec.get(res.F_TYPE) == res.LOCATION_TYPE_FLOOR:
            return "The selected space does not exist."
        if site is not None and rec.get(res.F_SITE_KEY) != site:
            return "The selected space is not in that building."
        return ""


# ---------------------------------------------------------------------------------------
# Helpers


def _timestamp(raw: object) -> int | None:
    """An ISO-8601 date-time (with a time part) as Unix seconds, else None."""
    if not isinstance(raw, str) or "T" not in raw.upper():
        return None
    try:
        return parse_ts(raw)
    except (ValueError, OverflowError):
        return None


def _text(body: Mapping[str, Any], name: str, errors: dict[str, list[str]],
          limit: int) -> str | None:
    """An optional text field: None when absent or null; problems go into ``errors``."""
    value = body.get(name)
    if value is None:
        return None
    label = FIELD_LABELS.get(name, name)
    if not isinstance(value, str):
        errors[name] = [f"The {label} must be text."]
        return None
    if len(value) > limit:
        errors[name] = [f"The {label} must not be longer than {limit} characters."]
        return None
    return value


def _invalid(rid: str, rate: RateDecision, errors: Mapping[str, list[str]]) -> Response:
    """``422 VALIDATION_FAILED``: the first message (and how many more), messages per field."""
    messages = [m for ms in errors.values() for m in ms]
    message = messages[0]
    if len(messages) > 1:
        more = len(messages) - 1
        message += f" (and {more} more {'error' if more == 1 else 'errors'})"
    return error_response(422, rid, message, rate, errors=errors)


def _conflict(rid: str, rate: RateDecision, message: str, current: Record) -> Response:
    """``409 CONFLICT`` carrying the record as the server has it (``error.current``)."""
    return error_response(409, rid, message, rate, current=current)


def _replay(stored: StoredAnswer, rid: str, rate: RateDecision) -> Response:
    """The first answer to a key again: its status and body; this request's ID in the
    header, and ``Idempotent-Replayed: true``."""
    headers = list(rate.headers())
    headers.append((res.HEADER_IDEMPOTENT_REPLAYED, "true"))
    return Response(stored.status, stored.body, rid, stored.content_type, headers)

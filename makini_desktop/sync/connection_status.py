"""A connection test's answer in words: what the connection manager (and any other front
end) says after "Test connection".

No Qt: plain text from an ``IntegrationStatus`` or a
:class:`~makini_desktop.api.errors.MakiniError`, tested without a widget.
"""

from __future__ import annotations

from typing import Any

from makini_desktop.api.errors import MakiniError
from makini_desktop.redact import scrub

__all__ = ["describe_error", "describe_status", "provider_name"]


# Provider codes of /api/integrations/current as their makers spell them; an unknown code
# is shown with its first letter capitalised.
_PROVIDER_NAMES = {
    "ioffice": "iOffice",
    "eptura": "Eptura",
    "planon": "Planon",
    "archibus": "Archibus",
    "fmsystems": "FM:Systems",
    "maximo": "IBM Maximo",
    "servicenow": "ServiceNow",
    "spacewell": "Spacewell",
    "upkeep": "UpKeep",
    "maintainx": "MaintainX",
    "fiix": "Fiix",
    "limble": "Limble",
}


def provider_name(code: str) -> str:
    """The customer's system as a person knows it: ``ioffice`` → ``iOffice``."""
    text = " ".join(code.replace("_", " ").split())
    if not text:
        return ""
    known = _PROVIDER_NAMES.get(text.lower().replace(" ", "").replace("-", ""))
    return known or (text[0].upper() + text[1:])


def describe_status(status: Any) -> str:
    """A connection test's answer in words: state, then company and timing, then request ID.

    Args:
        status: an ``IntegrationStatus`` (duck-typed: the dialog may be handed a stand-in).
    """
    state = getattr(getattr(status, "state", None), "name", "")  # a ConnState member
    system = provider_name(str(getattr(status, "provider", "") or ""))
    on = f" — {system}" if system else ""
    if state == "READY":
        first = f"✓ Connected{on}, sync up to date"
    elif state == "SYNCING":
        first = f"✓ Connected{on}, sync in progress (lists may still be filling in)"
    elif state == "DEGRADED":
        first = f"⚠ Connected{on}, but its last sync failed: data may be out of date"
    elif state == "NEEDS_RECONNECT":
        which = system or "the customer's system"
        first = (f"⚠ Connected, but Makini has lost access to {which}: "
                 "reconnect it in the Makini dashboard")
    else:
        raw = str(getattr(status, "sync_status", "") or "")
        first = f"⚠ Connected{on}, sync state unknown" + (f" (“{raw}”)" if raw else "")
    facts = []
    company = str(getattr(status, "company", "") or "")
    latency = getattr(status, "latency_ms", None)
    answered = f"Answered in {latency:.0f} ms." if latency is not None else ""
    if company or answered:
        facts.append(" · ".join(p for p in (company, answered) if p))
    request_id = getattr(status, "request_id", "")
    # The ID verbatim: support searches for it exactly as the server sent it.
    facts.append(f"Request ID: {request_id}" if request_id else "No request ID was sent.")
    return first + "\n" + "\n".join(facts)


def describe_error(err: MakiniError) -> str:
    """A failed connection test in sentences, with the request ID when there is one.

    The same sentence as the error dialog (:meth:`MakiniError.summary`), then the server's
    own message (scrubbed) when it adds something; never the bare code.
    """
    lines = [f"✗ {err.summary()}"]
    message = scrub(" ".join(str(err.message or "").split()))
    if message and message != err.summary():
        if err.is_connection:
            lines.append(message if message.endswith(".") else message + ".")
        else:
            lines.append(f"The server said: {message}")
    if err.request_id:
        lines.append(f"Request ID: {err.request_id}")
    return "\n".join(lines)

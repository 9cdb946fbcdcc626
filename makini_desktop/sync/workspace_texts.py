"""What the status bar and the offline banner say about a :class:`Workspace`.

Plain functions of the workspace's state (no Qt, no side effect); the workspace's methods of
the same names call them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.session import NO_TOKEN_REASON, ConnState
from makini_desktop.sync.tab_status import TOKEN_REFUSED_REASON, Phase, at_time

if TYPE_CHECKING:
    from makini_desktop.sync.workspace import Workspace


def held_reason(ws: Workspace) -> str:
    """Why this connection cannot fetch anything until the user acts ("" when it can):
    its token is missing, or the server refused it."""
    if ws.session is None:
        return ""
    if ws.token_missing:
        return NO_TOKEN_REASON
    if ws.problem is ConnState.NEEDS_RECONNECT:
        return TOKEN_REFUSED_REASON
    return ""


def held_words(ws: Workspace) -> str:
    """:func:`held_reason` in the few words a tab's status line has room for."""
    reason = held_reason(ws)
    if reason == NO_TOKEN_REASON:
        return "no token"
    if reason == TOKEN_REFUSED_REASON:
        return "token not accepted"
    return ""


def offline_message(ws: Workspace) -> str:
    """What a tab that shows cached rows says about why (its tooltip)."""
    reason = ws.held_reason
    if reason:
        return f"{reason} — showing cached data. Choose Reconnect… to enter a token."
    err = ws.session.connectivity.last_error if ws.session is not None else None
    return err.summary() if err is not None and ws.reach is Reach.OFFLINE else ""


def cached_at(ws: Workspace) -> datetime | None:
    """When the oldest data shown was fetched (what the offline banner names)."""
    times = [t.status.synced_at for t in ws.tabs.values()
             if t.status.synced_at is not None and t.status.phase is not Phase.UNAVAILABLE]
    return min(times) if times else None


def offline_tooltip(ws: Workspace) -> str:
    """Since when, why, and what the app does about it."""
    if ws.reach is Reach.WORK_OFFLINE:
        return "Work offline is on: nothing is fetched until you turn it off."
    lines = []
    conn = ws.session.connectivity if ws.session is not None else None
    if conn is not None and conn.offline_since is not None:
        lines.append(f"Offline since {at_time(conn.offline_since).removeprefix('at ')}.")
    if conn is not None and conn.last_error is not None:
        lines.append(conn.last_error.summary())
    lines.append("The app retries by itself and refreshes every tab when it can.")
    return "\n".join(lines)


def current_state(ws: Workspace) -> ConnState:
    """The state the status bar shows (see :meth:`state_text`)."""
    if ws.session is not None and not ws.online:
        return ConnState.OFFLINE
    if ws.countdown.is_rate_limit:
        return ConnState.RATE_LIMITED
    if ws.problem is not None:
        return ws.problem
    if ws.busy:
        return ConnState.SYNCING
    if ws.connect_failure:
        return ConnState.UNKNOWN  # not "Connecting…": the attempt is over
    return ws.state


def state_text(ws: Workspace) -> str:
    """E.g. "Ready", "Syncing", "Rate limited — retrying in 12 s", "Offline"."""
    if ws.session is None:
        return "Not connected"
    if not ws.online:
        return ConnState.OFFLINE.label
    if ws.connect_failure and not ws.busy:
        return f"Could not connect: {ws.connect_failure}"
    if ws.countdown.running:
        return ws.countdown.describe()
    return ws.current_state().label


def state_tooltip(ws: Workspace) -> str:
    """Provider, company and the status call's latency and request ID."""
    status = ws.integration
    lines = []
    if ws.info is not None:
        lines.append(f"{ws.info.name} — {ws.info.base_url}")
    if ws.session is not None and not ws.online:
        lines.append(ws.offline_tooltip())
    elif status is not None:
        if status.provider or status.company:
            lines.append(" · ".join(p for p in (status.company, status.provider) if p))
        lines.append(f"Status call: {status.latency_ms:.0f} ms, request ID {status.request_id}")
    return "\n".join(lines)


__all__ = [
    "cached_at",
    "current_state",
    "held_reason",
    "offline_message",
    "offline_tooltip",
    "state_text",
    "state_tooltip",
]

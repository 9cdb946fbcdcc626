"""The integration check: is the connection reachable, is its token accepted, what state.

One quick attempt (no retries) decides whether the API is reachable at all; only when the
server answered with an error is the status asked again, with the client's retries. The
outcome is sorted here: offline goes to the connectivity (the banner says it once), a refused
token holds the connection, anything else is a failed connect every tab names.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from makini_desktop.api.errors import MakiniError
from makini_desktop.sync.session import IntegrationStatus, Session
from makini_desktop.sync.tab import failure_sentence, report_unexpected

if TYPE_CHECKING:
    from makini_desktop.sync.workspace import Workspace


async def check(ws: Workspace) -> bool:
    """Ask the connection's status; False when loading cannot go on (401, offline).

    One quick attempt decides whether the API is reachable at all (offline is said
    within a second, not after a minute of retries) and usually answers the question;
    only when the server answered with an error is the status asked again, with the
    client's retries.
    """
    session = ws.session
    if session is None or not ws.online or ws.token_missing:
        return False
    try:
        return await _check(ws, session)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug: say the connect failed, never "Connecting…" for good
        if session is ws.session:
            connect_failed(ws, failure_sentence(exc))
        report_unexpected(exc)
        return False


async def _check(ws: Workspace, session: Session) -> bool:
    status: IntegrationStatus | None = None
    try:
        status = await session.probe()
    except MakiniError as err:
        if err.is_connection:
            if session is ws.session:
                session.connectivity.note_error(err)  # offline: _on_session_reach
            return False
    if session is not ws.session or not ws.online:
        return False
    if status is not None:
        session.connectivity.note_success()
    else:
        try:
            status = await session.check()
        except MakiniError as err:
            if session is ws.session and not err.is_connection:
                if not err.is_auth:
                    connect_failed(ws, err.summary(), err.request_id)
                ws.report_error(err)
            return False
    if session is not ws.session:
        return False
    ws.integration = status
    ws.state = status.state
    ws.problem = None
    ws.connect_failure = ws.connect_request_id = ""
    ws._emit_state()
    ws._emit_reach()
    return True


def connect_failed(ws: Workspace, sentence: str, request_id: str = "") -> None:
    """The connection's status could not be had: the status bar, the banner (with
    Retry) and every tab not yet refreshed say what failed."""
    ws.connect_failure = sentence
    ws.connect_request_id = request_id
    for tab in ws.tabs.values():
        tab.mark_failed(f"Not refreshed: the connection failed. {sentence}", request_id)
    ws._emit_state()
    ws._emit_reach()


__all__ = ["check", "connect_failed"]

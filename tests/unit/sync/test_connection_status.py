"""A connection test's answer in words, without any widget."""

from __future__ import annotations

from makini_desktop.api.errors import MakiniError
from makini_desktop.sync.connection_status import describe_error, describe_status, provider_name
from makini_desktop.sync.session import ConnState, IntegrationStatus


def test_provider_names_read_as_their_makers_spell_them():
    """Known provider codes get their brand spelling; unknown ones a capital letter."""
    assert provider_name("ioffice") == "iOffice"
    assert provider_name("fm_systems") == "FM:Systems"
    assert provider_name("acme_cafm") == "Acme cafm"
    assert provider_name("  ") == ""


def test_status_names_state_company_timing_and_request_id():
    """A ready connection reads "✓ Connected — Planon, sync up to date" with its facts."""
    status = IntegrationStatus(ConnState.READY, "planon", "Acme", 12.0, "req_42", "fulldone")
    assert describe_status(status) == (
        "✓ Connected — Planon, sync up to date\nAcme · Answered in 12 ms.\nRequest ID: req_42")


def test_error_is_its_summary_then_the_servers_words():
    """A refused token reads as the error's summary, the server's message and the request ID."""
    err = MakiniError(status=401, code="AUTHENTICATION_FAILED", type="authentication",
                      message="Token expired.", request_id="req_401", method="GET",
                      path="/api/integrations/current")
    lines = describe_error(err).splitlines()
    assert lines[0] == f"✗ {err.summary()}"
    assert lines[1:] == ["The server said: Token expired.", "Request ID: req_401"]

"""A server that answers too slowly is an error the user can read, not "Offline"."""

from __future__ import annotations

from makini_desktop.api import resources as res
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.controllers import Phase
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"


def test_a_trickling_list_fails_its_tab_with_a_sentence_while_the_rest_load(
    qtbot, window, sandbox, monkeypatch
):
    """A list sent a few bytes at a time ends at the deadline: its tab says the server was
    too slow, with the request ID; the app stays online and the other tabs load."""
    import makini_desktop.api.client as client_module

    monkeypatch.setattr(client_module, "DEFAULT_DEADLINE_SECONDS", 0.5)
    sandbox.set_faults([f"trickle:ms=50,bytes=8,path={res.ASSETS.path}"])
    window.open_connection(ConnectionInfo("Sandbox", sandbox.url, "it-slow"), TOKEN)
    wait_loaded(qtbot, window)
    window.reporter.close_all()
    tabs = window.workspace.tabs
    assets = tabs["assets"].status
    assert assets.phase is Phase.FAILED
    assert "too slowly" in assets.message or "too long" in assets.message
    assert assets.request_id
    assert window.workspace.session.connectivity.reach is Reach.ONLINE
    assert tabs["spaces"].status.phase is Phase.UP_TO_DATE
    assert tabs["spaces"].model.rowCount() == len(
        [r for r in sandbox.data.visible("locations") if res.SPACES_VIEW.accepts(r)])

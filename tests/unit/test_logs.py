"""The log file lives under MAKINI_DESKTOP_HOME and never holds a token."""

from __future__ import annotations

import logging

from makini_desktop.logs import setup_logging, teardown_logging
from makini_desktop.redact import clear_secrets, register_secret

TOKEN = "tok-live-7f3a9c2e5b1d4a8f"


def test_log_file_is_under_the_app_home_and_scrubbed(_isolated_home):
    """Lines go to <home>/logs/makini-desktop.log with tokens masked, even in tracebacks."""
    path = setup_logging()
    try:
        register_secret(TOKEN)
        log = logging.getLogger("makini_desktop.test")
        log.warning("calling with token %s", TOKEN)
        log.info("header Authorization: Bearer other-secret-value-123")
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            log.exception("request failed")
    finally:
        teardown_logging()
        clear_secrets()
    assert path == _isolated_home / "logs" / "makini-desktop.log"
    text = path.read_text("utf-8")
    assert "calling with token ***" in text and "request failed" in text
    assert "RuntimeError" in text
    assert TOKEN not in text and "other-secret-value-123" not in text


def test_without_a_writable_log_folder_warnings_still_go_out_scrubbed(
    monkeypatch, capsys
):
    """If the log file cannot be made, warnings reach stderr, still without the token."""
    import makini_desktop.logs as logs

    def unwritable():
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(logs, "log_dir", unwritable)
    try:
        assert setup_logging() is None
        register_secret(TOKEN)
        logging.getLogger("makini_desktop.test").warning("refused %s", TOKEN)
    finally:
        teardown_logging()
        clear_secrets()
    err = capsys.readouterr().err
    assert "refused ***" in err and TOKEN not in err

"""The app's log file: ``<log_dir>/makini-desktop.log``, rotated, with secrets scrubbed.

Support asks for it after a problem; it holds request IDs, paths and error codes, never a
token (every line goes through :func:`makini_desktop.redact.scrub`). No Qt.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from makini_desktop.redact import scrub
from makini_desktop.store.paths import log_dir

LOG_NAME = "makini-desktop.log"
MAX_BYTES = 2_000_000
BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class ScrubFilter(logging.Filter):
    """Renders each record's message once, scrubbed, so no handler can print a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None  # the scrubbed text above replaces the raw traceback
        return True


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to the rotating file (and keep warnings on stderr). Returns the file's path.

    A log folder that cannot be written leaves the app running with stderr logging only.
    """
    root = logging.getLogger()
    if any(getattr(h, "_makini", False) for h in root.handlers):
        return _current_path(root)
    path: Path | None = None
    try:
        path = log_dir() / LOG_NAME
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        # Still scrubbed: Python's last-resort handler would print warnings unfiltered.
        fallback = logging.StreamHandler()
        fallback.setLevel(logging.WARNING)
        fallback.setFormatter(logging.Formatter(_FORMAT))
        fallback.addFilter(ScrubFilter())
        fallback._makini = True  # type: ignore[attr-defined]
        root.addHandler(fallback)
        logging.getLogger(__name__).warning("no log file: %s", exc)
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(ScrubFilter())
    handler._makini = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for noisy in ("httpx", "httpcore"):  # one line per request at INFO: too chatty
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def _current_path(root: logging.Logger) -> Path | None:
    for handler in root.handlers:
        if getattr(handler, "_makini", False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def teardown_logging() -> None:
    """Remove and close the file handler (tests, and the end of app.main)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_makini", False):
            root.removeHandler(handler)
            handler.close()

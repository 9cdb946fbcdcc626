"""Removing secrets from text before it reaches a log, the clipboard or a crash report.

Two kinds of secrets are scrubbed:

* anything that looks like an HTTP bearer credential (``Bearer abc...`` becomes
  ``Bearer ***``, ``Authorization: Basic ...`` likewise), so a token that ended up inside an
  exception message or a repr is caught even if nobody registered it;
* every exact string given to :func:`register_secret` (the tokens the app holds in memory),
  wherever it appears.

This module has no Qt import: the crash dialog, the logging setup and the CLI share it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

__all__ = [
    "MASK", "clean_token", "clear_secrets", "register_secret", "scrub", "unregister_secret",
]

MASK = "***"

# Shorter values are too likely to match ordinary text ("abc" in a traceback), and no real
# API token is this short, so they are not registered.
MIN_SECRET_LENGTH = 8

_lock = threading.Lock()
_secrets: set[str] = set()

# "Bearer <credential>" in any case, as a header value, a repr or free text. The credential
# runs to the next whitespace or quote; "***" itself is left alone so scrubbing is idempotent.
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)([^\s'\"<>,;)}\]]+)")
# The header itself, in case its value uses a scheme we do not know: an optional scheme
# word, then the credential, which (as for Bearer) runs to the next space, quote or closing
# punctuation, so the sentence around it ("... (sent as Authorization: Bearer x).") stays.
_AUTH_HEADER = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?![a-z][a-z0-9-]*\s+\*\*\*)"
    r"([a-z][a-z0-9-]*\s+)?"
    r"(?!\*\*\*)([^\s'\"<>,;)}\]]+)"
)
# token=..., api_key=..., "access_token": "...", 'password': '...'. The form with spaces
# needs a quoted value so that source lines in a traceback ("token = self._get()") and
# human sentences ("token: missing") are left readable.
_KEY_VALUE = re.compile(
    r"(?i)\b([\w-]*(?:token|secret|password|api_?key))"
    r"(=|['\"]?\s*[:=]\s*['\"])"
    r"(?!\*\*\*)([^\s'\"<>,;)}\]&]+)"
)


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`scrub` removes it from any text from now on.

    Args:
        value: the secret (a token). Empty, whitespace-only or very short values are
            ignored; surrounding whitespace is removed.
    """
    if not value:
        return
    clean = value.strip()
    if len(clean) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(clean)


def unregister_secret(value: str | None) -> None:
    """Forget a secret (its connection was removed); unknown values are fine."""
    if not value:
        return
    with _lock:
        _secrets.discard(value.strip())


def clear_secrets() -> None:
    """Forget every registered secret (tests, or the app shutting down)."""
    with _lock:
        _secrets.clear()


def clean_token(text: str) -> str:
    """A token as pasted, without surrounding spaces or a copied "Bearer " prefix."""
    token = text.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """The text with every registered secret and every bearer-looking credential masked.

    Args:
        text: any text: a traceback, a log message, error details for the clipboard.
        extra: secrets to mask besides the registered ones (an API client passes its own
            token, so server text is masked even where nobody registered it). Values
            shorter than the registry's minimum are ignored, as there.

    Returns:
        The same text with secrets replaced by ``***``.
    """
    if not text:
        return text
    with _lock:
        known_set = set(_secrets)
    known_set.update(s.strip() for s in extra if s and len(s.strip()) >= MIN_SECRET_LENGTH)
    # Longest first, so a secret that contains another is masked whole.
    known = sorted(known_set, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _AUTH_HEADER.sub(_mask_header, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def _mask_header(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2) or ''}{MASK}"

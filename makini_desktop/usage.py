"""What every entry point shares: exit codes, the token variable and the usage error.

In a module of its own, below :mod:`makini_desktop.cli`, :mod:`makini_desktop.app` and the
``cli_*`` command modules, so that none of them imports another to get these (no import
cycle), and so that ``python -m makini_desktop.cli`` (where ``cli`` runs as ``__main__``) and
the command modules share one :class:`UsageError` class.
"""

from __future__ import annotations

import os

TOKEN_ENV = "MAKINI_API_TOKEN"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with how the command was called; exit 2 with the message."""


def read_token_from_env() -> str:
    """The token from ``MAKINI_API_TOKEN``; a usage error when unset."""
    from makini_desktop.redact import clean_token, register_secret

    token = clean_token(os.environ.get(TOKEN_ENV, ""))
    if not token:
        raise UsageError(f"set {TOKEN_ENV} to the connection's API token")
    register_secret(token)
    return token

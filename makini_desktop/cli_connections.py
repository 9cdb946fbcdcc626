"""``makini-desktop connection add|list|remove``: saved connections from the command line.

For IT staff who roll the app out to many desktops::

    MAKINI_API_TOKEN=... makini-desktop connection add "Headquarters" --base-url https://api.makini.io
    printf '%s\\n' "$TOKEN" | makini-desktop connection add "Headquarters" --base-url URL
    makini-desktop connection list
    makini-desktop connection remove "Headquarters"

Tokens go only to the OS keyring through :class:`~makini_desktop.store.secrets.TokenStore`;
profiles to :class:`~makini_desktop.store.profiles.ProfileStore`. A token is never printed,
and a token given on the command line itself is impossible by design (it would end up in
shell history and in the process list).

Usage problems raise :class:`makini_desktop.usage.UsageError` (exit 2); environmental failures
(no system keychain, a keyring that refuses the token, a cache file in use) print one line and
return 1.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TextIO

from makini_desktop.redact import clean_token
from makini_desktop.store.profiles import (
    ConnectionProfile,
    InsecureUrlError,
    InvalidBaseUrl,
    ProfileError,
    ProfileStore,
    validate_base_url,
)
from makini_desktop.store.secrets import TokenStore
from makini_desktop.usage import EXIT_FAILED, EXIT_OK, TOKEN_ENV, UsageError

__all__ = ["run_connection_command", "saved_connection"]

PROG = "makini-desktop"

NO_KEYCHAIN_LINE = (
    "no system keychain was found, so the token cannot be saved; install and unlock one "
    "(on Linux a Secret Service such as GNOME Keyring or KWallet: "
    "sudo apt install gnome-keyring), then run this command again"
)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_FAILED


def run_connection_command(ns: argparse.Namespace) -> int:
    """Run ``connection add|list|remove`` as parsed by :func:`makini_desktop.cli.build_parser`.

    Returns:
        The exit code: 0 done, 1 an environmental failure (message on stderr).

    Raises:
        UsageError: an insecure or invalid URL, a duplicate or unknown name, or no token.
    """
    action = ns.connection_command
    if action == "add":
        return _add(ns.name, ns.base_url, activate=bool(getattr(ns, "activate", False)))
    if action == "list":
        return _list(sys.stdout)
    if action == "remove":
        return _remove(ns.name)
    raise UsageError(f"unknown connection action {action!r}")


# -- add --------------------------------------------------------------------------------


def read_token(prompt_name: str) -> str:
    """The token for ``connection add``: ``$MAKINI_API_TOKEN``, else standard input.

    From a terminal the token is asked for without echo; from a pipe, the first line is
    read. Surrounding whitespace is removed.

    Raises:
        UsageError: no token, an empty one, or one with spaces inside.
    """
    token = clean_token(os.environ.get(TOKEN_ENV, ""))
    if not token:
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise UsageError(f"no token: set {TOKEN_ENV} or pass the token on standard input")
        try:
            if stdin.isatty():
                token = clean_token(getpass.getpass(f"API token for {prompt_name}: "))
            else:
                token = clean_token(stdin.readline())
        except EOFError:
            token = ""
    if not token:
        raise UsageError(
            f"the token is empty: set {TOKEN_ENV} or pass the token on standard input"
        )
    if any(ch.isspace() for ch in token):
        raise UsageError("the token must be one line without spaces")
    return token


def _add(name: str, base_url: str, *, activate: bool) -> int:
    # Everything that can be refused is checked before asking for the token, so nobody
    # types a token only to be told the URL was wrong.
    try:
        url = validate_base_url(base_url)
    except (InsecureUrlError, InvalidBaseUrl) as exc:
        raise UsageError(str(exc)) from None
    profiles = ProfileStore()
    existing = profiles.find_by_name(name)
    if existing is not None:
        raise UsageError(
            f"a connection named “{existing.name}” already exists; "
            f"remove it first with: {PROG} connection remove \"{existing.name}\""
        )
    tokens = TokenStore()
    if not tokens.persistent:
        # A session-only token dies with this process: "saving" it would be a lie. Not a
        # usage error: the command was right, the machine lacks something (exit 1).
        return _fail(NO_KEYCHAIN_LINE)
    token = read_token(name)

    try:
        profile = profiles.add(name, url)
    except (InsecureUrlError, InvalidBaseUrl) as exc:
        raise UsageError(str(exc)) from None
    except ProfileError as exc:
        if exc.field is not None:
            raise UsageError(exc.message) from None
        return _fail(exc.message)
    tokens.set(profile.id, token)
    if tokens.session_only(profile.id):
        # The keyring refused the token (locked, D-Bus gone): undo rather than leave a
        # connection that has no token after this command exits.
        problem = tokens.last_problem or "the keyring refused the token"
        tokens.delete(profile.id)
        _remove_profile_quietly(profiles, profile.id)
        return _fail(problem)
    # The first connection saved is the one the app opens on: a rollout script that adds
    # one connection should not leave users facing the connection manager.
    if activate or profiles.active_id is None:
        activate = True
        try:
            profiles.set_active(profile.id)
        except ProfileError as exc:
            return _fail(exc.message)
    active = " and made it active" if activate else ""
    print(
        f"Saved connection “{profile.name}” ({profile.base_url}){active}; "
        f"token stored in {tokens.backend_name}."
    )
    return EXIT_OK


def _remove_profile_quietly(profiles: ProfileStore, profile_id: str) -> None:
    try:
        profiles.remove(profile_id)
    except ProfileError as exc:  # the add itself is reported as failed anyway
        print(f"{PROG}: warning: {exc.message}", file=sys.stderr)


# -- list -------------------------------------------------------------------------------


def _token_place(tokens: TokenStore, profile: ConnectionProfile) -> str:
    if tokens.get(profile.id) is None:
        return "missing"
    if tokens.session_only(profile.id):
        return "this session only"
    return tokens.backend_name


def _list(out: TextIO) -> int:
    profiles = ProfileStore()
    items = profiles.list()
    if not items:
        print(
            f"No saved connections. Add one with: {PROG} connection add NAME --base-url URL",
            file=out,
        )
        return EXIT_OK
    tokens = TokenStore()
    active = profiles.active_id
    rows = [("", "NAME", "BASE URL", "TOKEN")]
    for profile in items:
        rows.append(
            (
                "*" if profile.id == active else "",
                profile.name,
                profile.base_url,
                _token_place(tokens, profile),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip(), file=out)
    if active is not None:
        print("\n* the connection the app opens on", file=out)
    if tokens.last_problem:
        print(f"Note: {tokens.last_problem}", file=sys.stderr)
    return EXIT_OK


# -- remove -----------------------------------------------------------------------------


def _find(profiles: ProfileStore, name: str) -> ConnectionProfile:
    profile = profiles.find_by_name(name)
    if profile is None:
        raise UsageError(f"no connection named “{name}”; see: {PROG} connection list")
    return profile


def _remove(name: str) -> int:
    from makini_desktop.store import cache as cache_store

    profiles = ProfileStore()
    profile = _find(profiles, name)
    tokens = TokenStore()
    # The cache first: it is the step that fails when the app has the file open, and
    # failing then leaves the connection whole, so the command can simply be run again.
    try:
        cache_store.delete_connection_caches(profile.id)
    except cache_store.CacheError as exc:
        return _fail(str(exc))
    tokens.delete(profile.id)
    try:
        profiles.remove(profile.id)
    except ProfileError as exc:
        return _fail(exc.message)
    print(f"Removed connection “{profile.name}”, its token and its offline data.")
    if tokens.last_problem:
        print(f"{PROG}: warning: {tokens.last_problem}", file=sys.stderr)
    return EXIT_OK


# -- used by ``export --connection`` ------------------------------------------------------


def saved_connection(name: str) -> tuple[str, str]:
    """The base URL and token of a saved connection, for ``export --connection NAME``.

    Raises:
        UsageError: no connection has that name, or no token is stored for it.
    """
    profiles = ProfileStore()
    profile = _find(profiles, name)
    tokens = TokenStore()
    token = tokens.get(profile.id)
    if not token:
        reason = f" ({tokens.last_problem})" if tokens.last_problem else ""
        raise UsageError(
            f"no token is stored for “{profile.name}”{reason}; remove it and add it again "
            f"with: {PROG} connection add"
        )
    return profile.base_url, token

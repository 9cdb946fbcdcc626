"""Connection tokens, kept in the OS keyring.

One keyring entry per connection: service :data:`SERVICE`, user name = the connection's id.
When the OS offers no usable keyring (a Linux box without a Secret Service, a locked macOS
keychain, D-Bus missing, the keyring refusing a token that is too long), the token is kept in
memory for this session only and the app says so (:attr:`TokenStore.persistent`,
:meth:`TokenStore.session_only`, :attr:`TokenStore.last_problem`). A token is never written
to disk in clear text by this module, and never appears in a log line or an exception
message: logs name the connection id only.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from makini_desktop.redact import scrub

if TYPE_CHECKING:  # keyring is imported when a token is first looked up (see TokenStore)
    from keyring.backend import KeyringBackend

    from makini_desktop.store.memory_keyring import MemoryKeyring

__all__ = ["SERVICE", "SESSION_ONLY_NAME", "MemoryKeyring", "SessionTokens", "TokenStore"]

log = logging.getLogger(__name__)

SERVICE = "makini-desktop"
SESSION_ONLY_NAME = "in-memory (this session only)"

# Backends by module, with the name a person recognises.
_BACKEND_NAMES = {
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
}


def __getattr__(name: str) -> Any:
    """``MemoryKeyring``, defined (and keyring imported) when first asked for: a start with
    a token from the environment never needs keyring before its first paint."""
    if name == "MemoryKeyring":
        from makini_desktop.store.memory_keyring import MemoryKeyring

        return MemoryKeyring
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_usable(backend: KeyringBackend) -> bool:
    """False for the backends that store nothing, or store in clear text."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        # An empty chainer silently drops set_password: the token would be lost.
        return any(_is_usable(b) for b in backend.backends)
    # keyrings.alt's plaintext file backend would write the token to disk in clear text.
    return type(backend).__name__ != "PlaintextKeyring"


def _describe(backend: KeyringBackend) -> str:
    from keyring.backends import chainer

    if isinstance(backend, chainer.ChainerBackend):
        names = [_describe(b) for b in backend.backends if _is_usable(b)]
        return ", ".join(names) if names else SESSION_ONLY_NAME
    if not _is_usable(backend):
        return SESSION_ONLY_NAME
    module = type(backend).__module__
    return _BACKEND_NAMES.get(module, str(getattr(backend, "name", type(backend).__name__)))


class SessionTokens:
    """Tokens held in memory for this session only (the fallback when the keyring fails)."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    def get(self, connection_id: str) -> str | None:
        """The token for a connection, or None."""
        return self._tokens.get(connection_id)

    def set(self, connection_id: str, token: str) -> None:
        """Hold a token until the app quits."""
        self._tokens[connection_id] = token

    def delete(self, connection_id: str) -> None:
        """Forget a token; a missing one is fine."""
        self._tokens.pop(connection_id, None)

    def __contains__(self, connection_id: object) -> bool:
        return connection_id in self._tokens

    def __repr__(self) -> str:  # never show the tokens themselves
        return f"<SessionTokens: {len(self._tokens)} connection(s)>"


class TokenStore:
    """The tokens of all connections: in the OS keyring, else in memory for this session.

    A token held in memory (because the keyring is missing or a keyring call failed) takes
    precedence over the keyring's copy, since it is the newer one.

    Args:
        backend: the keyring backend; defaults to ``keyring.get_keyring()``, looked up when
            first needed (it imports every backend keyring knows: ~0.1 s a start from the
            cache with a token from the environment need not spend before its first paint).

    Attributes:
        last_problem: a sentence describing the last keyring failure, or None once a keyring
            call succeeds again. It never contains a token.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._chosen = backend
        self._checked = False
        self._usable_backend = False
        self._session = SessionTokens()
        self._lock = threading.RLock()
        self._last_problem: str | None = None

    def _resolve(self) -> None:
        with self._lock:
            if self._checked:
                return
            if self._chosen is None:
                import keyring

                self._chosen = keyring.get_keyring()
            self._usable_backend = _is_usable(self._chosen)
            self._checked = True
            if not self._usable_backend:
                self._last_problem = (
                    "No system keychain was found: tokens are kept only until the app quits."
                )

    @property
    def _backend(self) -> KeyringBackend:
        self._resolve()
        assert self._chosen is not None
        return self._chosen

    @property
    def _usable(self) -> bool:
        self._resolve()
        return self._usable_backend

    @property
    def last_problem(self) -> str | None:
        self._resolve()
        return self._last_problem

    @last_problem.setter
    def last_problem(self, value: str | None) -> None:
        self._resolve()
        self._last_problem = value

    @property
    def persistent(self) -> bool:
        """True if tokens survive a restart: a real keyring that did not fail last time."""
        return self._usable and self.last_problem is None

    @property
    def backend_name(self) -> str:
        """Where tokens are kept, for a person: "macOS Keychain", "in-memory (...)", ..."""
        return _describe(self._backend) if self._usable else SESSION_ONLY_NAME

    def session_only(self, connection_id: str) -> bool:
        """True if this connection's token is held in memory only and is lost on quit."""
        with self._lock:
            return connection_id in self._session

    def get(self, connection_id: str) -> str | None:
        """The connection's token, or None if none is stored (or the keyring failed)."""
        with self._lock:
            token = self._session.get(connection_id)
            if token is not None or not self._usable:
                return token
            try:
                stored = self._backend.get_password(SERVICE, connection_id)
            except Exception as exc:  # any backend failure means "no token"
                self._problem("read", connection_id, exc, None)
                return None
            self.last_problem = None
            return stored if isinstance(stored, str) and stored else None

    def set(self, connection_id: str, token: str) -> None:
        """Store a connection's token (surrounding whitespace removed).

        If the keyring fails, the token is kept in memory for this session and
        :attr:`last_problem` says why; this method does not raise for keyring failures.

        Raises:
            ValueError: the token is empty.
        """
        clean = token.strip()
        if not clean:
            raise ValueError("The token is empty.")
        with self._lock:
            if not self._usable:
                self._session.set(connection_id, clean)
                log.info("Token for connection %s kept for this session only", connection_id)
                return
            try:
                self._backend.set_password(SERVICE, connection_id, clean)
            except Exception as exc:  # locked keychain, D-Bus gone, too long
                self._session.set(connection_id, clean)
                self._problem("save", connection_id, exc, clean)
                return
            self._session.delete(connection_id)
            self.last_problem = None
            log.info("Token for connection %s saved in %s", connection_id, self.backend_name)

    def delete(self, connection_id: str) -> None:
        """Forget a connection's token, in memory and in the keyring; a missing one is fine.

        A keyring failure is recorded in :attr:`last_problem`, not raised, so that deleting a
        connection always completes.
        """
        with self._lock:
            self._session.delete(connection_id)
            if not self._usable:
                return
            from keyring.errors import PasswordDeleteError

            try:
                self._backend.delete_password(SERVICE, connection_id)
            except PasswordDeleteError:
                pass  # nothing was stored
            except Exception as exc:  # see set()
                self._problem("delete", connection_id, exc, None)
                return
            self.last_problem = None
            log.info("Token for connection %s deleted", connection_id)

    def _problem(self, action: str, connection_id: str, exc: Exception, token: str | None) -> None:
        detail = str(exc).strip() or type(exc).__name__
        if token:
            # Backends do not echo secrets, but an error text must never be the one that did.
            detail = detail.replace(token, "***")
        detail = scrub(detail)
        detail = detail[:200]
        where = _describe(self._backend)
        if action == "save":
            self.last_problem = (
                f"The token could not be saved in {where} ({detail}); "
                "it is kept only until the app quits."
            )
        elif action == "read":
            self.last_problem = f"The token could not be read from {where} ({detail})."
        else:
            self.last_problem = f"The token could not be deleted from {where} ({detail})."
        log.warning(
            "Keyring %s failed for connection %s: %s", action, connection_id, type(exc).__name__
        )

    def __repr__(self) -> str:
        return f"<TokenStore {self.backend_name!r} persistent={self.persistent}>"

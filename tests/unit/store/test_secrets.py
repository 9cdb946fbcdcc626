"""Tokens in the OS keyring, with an in-memory fallback that says so."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backends import chainer, fail, null

from makini_desktop.store.secrets import SERVICE, SESSION_ONLY_NAME, SessionTokens, TokenStore
from tests.helpers.memkeyring import MemoryKeyring

TOKEN = "mk_test_0123456789abcdefSECRET"


class BrokenKeyring(MemoryKeyring):
    """A keyring that fails like a locked keychain, optionally echoing the secret."""

    def __init__(self, echo: bool = False) -> None:
        super().__init__()
        self.broken = True
        self.echo = echo

    def _fail(self, password: str | None = None) -> None:
        detail = f" while storing {password}" if self.echo and password else ""
        raise RuntimeError(f"User interaction is not allowed{detail}")

    def get_password(self, service: str, username: str) -> str | None:
        if self.broken:
            self._fail()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.broken:
            self._fail(password)
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        if self.broken:
            self._fail()
        super().delete_password(service, username)


def test_tokens_saved_in_keyring(_memory_keyring: MemoryKeyring) -> None:
    """set/get/delete go to the keyring under service makini-desktop, user = connection id."""
    tokens = TokenStore()
    tokens.set("conn1", f"  {TOKEN}\n")
    assert _memory_keyring.store == {(SERVICE, "conn1"): TOKEN}
    assert tokens.get("conn1") == TOKEN
    assert tokens.persistent is True
    assert tokens.session_only("conn1") is False
    assert tokens.last_problem is None
    tokens.delete("conn1")
    assert _memory_keyring.store == {}
    assert tokens.get("conn1") is None


def test_delete_missing_token_is_fine() -> None:
    """Deleting a token that was never stored does nothing and reports no problem."""
    tokens = TokenStore()
    tokens.delete("never-stored")
    assert tokens.last_problem is None


def test_empty_token_refused() -> None:
    """An empty or blank token is refused."""
    with pytest.raises(ValueError):
        TokenStore().set("conn1", "   ")


def test_tokens_are_per_connection(_memory_keyring: MemoryKeyring) -> None:
    """Each connection has its own keyring entry."""
    tokens = TokenStore()
    tokens.set("a", "token-a")
    tokens.set("b", "token-b")
    assert tokens.get("a") == "token-a" and tokens.get("b") == "token-b"
    assert TokenStore().get("a") == "token-a"  # another instance reads the same keyring


def test_fail_backend_keeps_tokens_for_session_only(_memory_keyring: MemoryKeyring) -> None:
    """With no keyring (fail backend) tokens live in memory and the store says so."""
    keyring.set_keyring(fail.Keyring())
    tokens = TokenStore()
    assert tokens.persistent is False
    assert tokens.backend_name == SESSION_ONLY_NAME
    assert tokens.last_problem is not None
    tokens.set("conn1", TOKEN)
    assert tokens.get("conn1") == TOKEN
    assert tokens.session_only("conn1") is True
    assert TokenStore().get("conn1") is None  # gone for the next session
    tokens.delete("conn1")
    assert tokens.get("conn1") is None


@pytest.mark.parametrize("backend", [null.Keyring(), chainer.ChainerBackend()])
def test_backends_that_store_nothing_are_not_persistent(
    backend: keyring.backend.KeyringBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The null backend and a chainer with nothing to chain count as no keyring."""
    # The chainer would otherwise chain every backend class it can find, test ones included.
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    tokens = TokenStore(backend)
    assert tokens.persistent is False
    tokens.set("conn1", TOKEN)
    assert tokens.get("conn1") == TOKEN and tokens.session_only("conn1")


def test_keyring_error_on_save_falls_back_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    """A keyring that raises on save keeps the token in memory and records a problem."""
    backend = BrokenKeyring(echo=True)
    tokens = TokenStore(backend)
    with caplog.at_level(logging.DEBUG):
        tokens.set("conn1", TOKEN)
    assert tokens.get("conn1") == TOKEN
    assert tokens.session_only("conn1") is True
    assert tokens.persistent is False
    assert tokens.last_problem is not None
    assert "User interaction is not allowed" in tokens.last_problem
    assert TOKEN not in tokens.last_problem
    assert TOKEN not in caplog.text
    assert "conn1" in caplog.text
    assert TOKEN not in repr(tokens)


def test_keyring_recovers_after_error(_memory_keyring: MemoryKeyring) -> None:
    """Once the keyring works again, saving moves the token out of memory and clears the problem."""
    backend = BrokenKeyring()
    tokens = TokenStore(backend)
    tokens.set("conn1", "first")
    backend.broken = False
    tokens.set("conn1", "second")
    assert tokens.session_only("conn1") is False
    assert tokens.last_problem is None and tokens.persistent is True
    assert backend.store == {(SERVICE, "conn1"): "second"}


def test_session_token_wins_over_older_keyring_copy() -> None:
    """A token kept in memory after a failed save is newer than the keyring's and is used."""
    backend = BrokenKeyring()
    backend.broken = False
    tokens = TokenStore(backend)
    tokens.set("conn1", "old")
    backend.broken = True
    tokens.set("conn1", "new")
    backend.broken = False
    assert tokens.get("conn1") == "new"


def test_keyring_error_on_read_gives_none() -> None:
    """A keyring that raises on read gives no token and a problem, not an exception."""
    tokens = TokenStore(BrokenKeyring())
    assert tokens.get("conn1") is None
    assert tokens.last_problem is not None and "could not be read" in tokens.last_problem


def test_keyring_error_on_delete_is_reported() -> None:
    """A keyring that raises on delete still forgets the memory copy and records a problem."""
    tokens = TokenStore(BrokenKeyring())
    tokens.set("conn1", TOKEN)
    tokens.delete("conn1")
    assert tokens.session_only("conn1") is False
    assert tokens.last_problem is not None and "could not be deleted" in tokens.last_problem


def test_backend_name_is_human() -> None:
    """Known backends get the name people know; others fall back to keyring's own name."""
    from keyring.backends import Windows, macOS

    assert TokenStore(Windows.WinVaultKeyring()).backend_name == "Windows Credential Manager"
    assert TokenStore(macOS.Keyring()).backend_name == "macOS Keychain"
    assert TokenStore(MemoryKeyring()).backend_name


def test_chainer_with_a_real_backend_is_persistent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chainer over a usable backend stores tokens and is named after that backend."""
    from keyring.backends import macOS

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [macOS.Keyring(), null.Keyring()])
    tokens = TokenStore(chainer.ChainerBackend())
    assert tokens.persistent is True
    assert tokens.backend_name == "macOS Keychain"


def test_session_tokens_repr_hides_tokens() -> None:
    """The in-memory store never shows its tokens in a repr."""
    session = SessionTokens()
    session.set("c", TOKEN)
    assert TOKEN not in repr(session)
    assert "c" in session and session.get("c") == TOKEN

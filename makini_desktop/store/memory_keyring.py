"""An in-memory keyring backend for tests and ``--screenshots`` runs (never for real use).

Apart from :mod:`makini_desktop.store.secrets` because defining a keyring backend imports
keyring (~20 ms and more, with the backends it looks for), which a start with a token from
the environment does not need before its first paint; ``secrets.MemoryKeyring`` still
names it.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

__all__ = ["MemoryKeyring"]


class _NeverChosen:
    """A ``priority`` that raises when read, so keyring counts the backend as not viable.

    keyring registers every subclass of :class:`KeyringBackend` the moment it is defined and
    picks the viable one with the highest priority. A test backend with a number here would
    win over keyring's own "no keyring" backend merely because this module was imported,
    and a machine without a keychain would then claim to store tokens it forgets at exit.
    """

    def __get__(self, obj: object, owner: type | None = None) -> float:
        raise RuntimeError("the in-memory test keyring is never chosen automatically")


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict for the life of the object.

    Not a fallback for real use (that is
    :class:`~makini_desktop.store.secrets.SessionTokens`): it stands in for the OS
    keychain where none may be touched, in tests and in ``--screenshots`` runs, and only
    when passed explicitly (``TokenStore(MemoryKeyring())`` or ``keyring.set_keyring``):
    keyring never selects it by itself.

    Args:
        name: what the connection manager says tokens are stored in.
    """

    priority = _NeverChosen()  # a descriptor that raises: see _NeverChosen

    def __init__(self, name: str = "in-memory keyring") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring has no hints here
        self._label = name
        self.store: dict[tuple[str, str], str] = {}

    @property  # keyring's own `name` is a read-only class property
    def name(self) -> str:
        return self._label

    def __str__(self) -> str:  # keyring's own prints the priority, which raises here
        return f"{type(self).__name__} ({self._label})"

    __repr__ = __str__

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None

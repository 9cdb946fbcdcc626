"""The tests' stand-in for the OS keyring (the app's own in-memory backend)."""

from makini_desktop.store.secrets import MemoryKeyring

__all__ = ["MemoryKeyring"]

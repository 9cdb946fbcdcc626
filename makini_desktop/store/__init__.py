"""Local state of makini-desktop, without widgets.

* :mod:`~makini_desktop.store.paths` – where files live (``MAKINI_DESKTOP_HOME`` or OS folders).
* :mod:`~makini_desktop.store.profiles` – connection profiles in ``connections.json``.
* :mod:`~makini_desktop.store.secrets` – connection tokens in the OS keyring.
* :mod:`~makini_desktop.store.cache` – the SQLite offline cache, one file per connection.
"""

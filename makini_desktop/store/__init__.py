"""Local state of makini-desktop, without widgets.

* :mod:`~makini_desktop.store.paths` – where files live (``MAKINI_DESKTOP_HOME`` or OS folders).
* :mod:`~makini_desktop.store.profiles` – connection profiles in ``connections.json``.
* :mod:`~makini_desktop.store.secrets` – connection tokens in the OS keyring.
* :mod:`~makini_desktop.store.cache` – the SQLite offline cache, one file per connection;
  its rooms: :mod:`~makini_desktop.store.snapshot` (atomic full snapshots),
  :mod:`~makini_desktop.store.cache_files` (where the file lives, bad files set aside, the
  read-only fallback), :mod:`~makini_desktop.store.schema` (versioned migrations),
  :mod:`~makini_desktop.store.records` (how a record is stored) and
  :mod:`~makini_desktop.store.cache_errors` (:class:`CacheError`, SQLite failures).
"""

"""Widgets, Qt models and dialogs. Talks to ``sync/``, never to httpx directly."""

from makini_desktop.ui.pyside_fixes import protect_singleton_refcounts

# Before any widget or qasync calls into PySide6 (see pyside_fixes for the bug).
protect_singleton_refcounts()

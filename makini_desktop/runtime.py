"""Process-wide settings the window runs with, in one place: the app's start applies them,
and so do the benchmarks, so that they measure the app as it runs.

* :func:`share_the_interpreter`: the GUI thread takes the interpreter lock back within 1 ms.
* :func:`use_memory_sparingly`: glibc's allocator keeps fewer pools and hands large blocks
  back at once (Linux only; elsewhere nothing changes).
* :func:`collections_off`: no automatic garbage collection while the window runs (the GUI
  thread's collector collects instead), from the import of PySide6 on.
* :func:`import_quickly`: before the app's own modules are imported, PySide6's import hook
  reads each module's file as bytes instead of through :mod:`inspect` and :mod:`linecache`
  (:func:`check_imports_quickly`), and dataclass methods run code compiled by an earlier
  start (:mod:`makini_desktop.method_code`).
* :func:`window_built`: what the start lets go of once the window exists;
  :func:`until_built` undoes the imports' settings of a start that stops before that.

No Qt is imported here.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import Iterator
from typing import Any

__all__ = [
    "GUI_SWITCH_INTERVAL_S",
    "MALLOC_ARENAS",
    "MMAP_THRESHOLD_BYTES",
    "check_imports_quickly",
    "collections_off",
    "import_quickly",
    "share_the_interpreter",
    "until_built",
    "use_memory_sparingly",
    "window_built",
]

log = logging.getLogger(__name__)

GUI_SWITCH_INTERVAL_S = 0.001
"""How long a worker thread computing in Python (the Overview's figures, the HTTP thread's
JSON) may keep the interpreter from the GUI thread at a time."""

MALLOC_ARENAS = 2
"""glibc allocator pools (``M_ARENA_MAX``) for the whole process."""
MMAP_THRESHOLD_BYTES = 128 * 1024
"""Blocks from this size up get pages of their own, returned to the system when freed
(``M_MMAP_THRESHOLD``, fixed: glibc otherwise raises it to the largest block freed)."""

_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
_M_ARENA_MAX = -8


def share_the_interpreter() -> None:
    """Let the GUI thread take the interpreter lock back within 1 ms, not Python's 5 ms.

    A table's repaint calls into Python once per cell and role, each call taking the lock
    anew: with a worker thread computing meanwhile, each waited for its switch interval,
    and a check-in's repaint took 110-190 ms with 12 ms of its own CPU.
    """
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def use_memory_sparingly() -> bool:
    """Tell glibc's allocator to keep :data:`MALLOC_ARENAS` pools and to map blocks from
    :data:`MMAP_THRESHOLD_BYTES` up on their own. Call it before the worker threads start.

    Each thread that allocates gets a pool of its own by default (the HTTP thread, a
    writer per list, the executor's), and each keeps what it freed; a page's JSON text (a
    few hundred kB) freed into the heap leaves holes the rows around it pin. A first load
    of a large portfolio peaked about 10 MB lower with both (370 -> 360 MB).

    Returns:
        True when the settings were applied (glibc), False elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    applied = bool(mallopt(_M_ARENA_MAX, MALLOC_ARENAS)) and bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    if not applied:
        log.info("the C allocator refused the memory settings")
    return applied


@contextlib.contextmanager
def collections_off() -> Iterator[None]:
    """Automatic garbage collection off inside, as it was after.

    The start imports some 300 modules and builds the window: objects that live as long as
    the app (:func:`window_built` freezes them), not garbage, yet CPython walked them in 60
    collections (4.5 ms) before the first paint; with :func:`makini_desktop.app.run` inside
    this, 2.3 ms are left (the command line's imports before it, and the collections the
    loading itself asks for). Once the window runs, its own collector
    (:class:`~makini_desktop.ui.gc_guard.GuiThreadCollector`) collects on the GUI thread.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_quickly() -> None:
    """What the start does before it imports the app's own modules (after PySide6): see
    :func:`check_imports_quickly` and :mod:`makini_desktop.method_code`, which
    :func:`window_built` ends."""
    check_imports_quickly()  # first: PySide6's hook asks of method_code too
    from makini_desktop import method_code

    method_code.install()


@contextlib.contextmanager
def until_built() -> Iterator[None]:
    """The window's start as a block: what :func:`import_quickly` changed ends with it at
    the latest, when a start stops (at an error) before its window is built."""
    try:
        yield
    finally:
        from makini_desktop import method_code

        method_code.finish()


def check_imports_quickly() -> bool:
    """Make PySide6's import hook answer its question from the module's file, read as bytes.

    After PySide6 is imported, its hook asks of every module imported next whether the
    source contains "PySide6" (``shibokensupport.feature._mod_uses_pyside``, PYSIDE-2029,
    for its ``__feature__`` switches). It answers through ``inspect.getsource``, which finds
    the file, reads it through :mod:`linecache` and keeps every line: 16 ms of the start's
    118 ms of imports before the first paint (206 modules), and 11 MB of lines never read
    again. The same question asked of the file's bytes takes 3.5 ms and keeps nothing.
    A module without a ``.py`` file, or one that cannot be read, is asked the hook's
    own way. Call it after PySide6 is imported; without that hook (another PySide6),
    nothing changes.

    Returns:
        True when the hook now reads the files itself.
    """
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None or getattr(original, "reads_bytes", False):
        return False

    def uses_pyside(module: Any) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return bool(original(module))

    uses_pyside.reads_bytes = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True


def window_built() -> None:
    """What the start lets go of once the window is built: dataclasses compile their
    methods again (the code compiled meanwhile is kept for the next start, see
    :mod:`makini_desktop.method_code`), every object alive now is kept out of the
    collector's reach (they live as long as the app), and the source text linecache holds
    is forgotten (what PySide's import hook read of the modules it still asks through
    :mod:`inspect`, see :func:`check_imports_quickly`)."""
    from makini_desktop import method_code
    from makini_desktop.sync.page_feed import forget_source_lines
    from makini_desktop.ui.gc_guard import freeze_survivors

    method_code.finish()
    freeze_survivors()
    forget_source_lines()

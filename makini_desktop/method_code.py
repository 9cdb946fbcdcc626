"""The code of the app's dataclass methods, compiled once and kept beside its bytecode.

``@dataclass`` writes the methods of each class it makes (``__init__``, ``__repr__``,
``__eq__``, and a frozen class's ``__setattr__``, ``__delattr__`` and ``__hash__``) as
source text, and compiles that text with :func:`exec`. The window's start makes 53
dataclasses before its first paint: 267 compiles, 50 ms of the 750 ms of CPU a start from
the cache takes on a 2-core machine, at every start, for the same texts.

Python compiles a module once and keeps its bytecode in ``__pycache__``; :func:`install`
does the same for those texts while the app's modules are imported. The name ``exec`` in
:mod:`dataclasses` then compiles a text it has not seen, and for one it has runs the code
an earlier start compiled from that same text: the same text gives the same code, so
nothing but the time changes. :func:`finish` puts ``exec`` back and keeps the code of the
texts compiled, for the next start.

The code is kept in one file beside the package's bytecode (its ``__pycache__``, or under
``PYTHONPYCACHEPREFIX``), where Python keeps the code it runs of the package itself: who
can write there can change that bytecode too, so the file is trusted as much as the
bytecode and no more. Where bytecode is not kept, neither is this: nothing is written with
``PYTHONDONTWRITEBYTECODE`` set or in a folder the user cannot write (an installed app's).
A frozen app carries the file its build made (``packaging/makini-desktop.spec`` runs
:func:`build_file` with the Python it freezes) beside its own bytecode, and only reads it.
A file of another interpreter (another bytecode magic), a broken one, or one holding
anything but texts and code objects is not used, and the next start that compiles replaces
it (a frozen app's stays as built).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import marshal
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

__all__ = [
    "KEEP_AT_MOST",
    "MethodCode",
    "active",
    "build_file",
    "code_path",
    "file_name",
    "finish",
    "finish_without_keeping",
    "install",
]

log = logging.getLogger(__name__)

KEEP_AT_MOST = 4000
"""Texts kept in the file at most: a start uses about 270; once over, the file keeps only
the last start's (the texts of classes an older version of the app made are let go)."""

_MAGIC = importlib.util.MAGIC_NUMBER  # the interpreter's bytecode magic, as a .pyc starts


class MethodCode:
    """Code objects compiled from dataclass method texts, by text, read from ``path``."""

    def __init__(self, path: Path, *, writable: bool = True) -> None:
        self.path = path
        self.writable = writable  # False: a frozen app's file, read as built
        self.kept = read(path)
        self.used: dict[str, types.CodeType] = {}
        self.compiled = 0  # texts compiled in this process
        self.reused = 0  # texts run from the code kept

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /,  # noqa: A002
             **kwargs: Any) -> None:
        """:func:`exec`, running a text's kept code when there is some."""
        if isinstance(source, str):
            code = self.kept.get(source) or self.used.get(source)
            if code is None:
                # dont_inherit: not this module's `from __future__ import annotations`, which
                # would turn the methods' annotations into strings (dataclasses' own exec
                # compiles without it).
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            else:
                self.reused += 1
            self.used[source] = code
            source = code
        exec(source, globals, locals, **kwargs)  # noqa: S102 - dataclasses' own exec

    def keep(self) -> bool:
        """Write the code of this process's texts (and those kept, up to
        :data:`KEEP_AT_MOST`), when it compiled any. Returns True when the file was written."""
        if not self.compiled or not self.writable:
            return False
        code = {**self.kept, **self.used}
        if len(code) > KEEP_AT_MOST:
            code = self.used
        try:
            write(self.path, code)
        except (OSError, ValueError) as exc:  # a read-only folder, a full disk
            log.debug("dataclass method code not kept: %s", exc)
            return False
        return True


_active: MethodCode | None = None


def active() -> MethodCode | None:
    """The code :mod:`dataclasses` runs from now, between :func:`install` and :func:`finish`."""
    return _active


def install(path: Path | None = None) -> bool:
    """Let :mod:`dataclasses` run the code kept in ``path`` (by default beside the package's
    bytecode, see :func:`code_path`) until :func:`finish`.

    Returns:
        True when it does; False when installed already, when there is nowhere to keep the
        code, or when this Python's :mod:`dataclasses` compiles no text through ``exec``.
    """
    global _active
    if _active is not None or "exec" in vars(dataclasses) or not _dataclasses_exec():
        return False
    writable = path is not None or not _frozen()
    path = path if path is not None else code_path()
    if path is None:
        return False
    _active = MethodCode(path, writable=writable)
    dataclasses.exec = _active.exec  # type: ignore[attr-defined]
    return True


def finish() -> MethodCode | None:
    """Put :mod:`dataclasses`' own ``exec`` back and keep the code compiled meanwhile
    (unless Python keeps no bytecode, ``PYTHONDONTWRITEBYTECODE``). Returns what ran."""
    done = finish_without_keeping()
    if done is not None and not sys.dont_write_bytecode:
        done.keep()
    return done


def finish_without_keeping() -> MethodCode | None:
    """Put :mod:`dataclasses`' own ``exec`` back. Returns what ran, None if nothing did."""
    global _active
    done, _active = _active, None
    if done is not None and vars(dataclasses).get("exec") == done.exec:
        del dataclasses.exec  # type: ignore[attr-defined]
    return done


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def code_path() -> Path | None:
    """Where the code is kept: beside the bytecode of the package's ``__init__`` (in a
    frozen app, in its package folder); None for an interpreter that keeps no bytecode."""
    name = file_name()
    if name is None:
        return None
    if _frozen():
        bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller's folder of the app's files
        return Path(bundle, __package__ or "makini_desktop", name) if bundle else None
    init = sys.modules[__package__ or "makini_desktop"].__file__
    if not init or not init.endswith(".py"):
        return None
    return Path(importlib.util.cache_from_source(init)).with_name(name)


def file_name() -> str | None:
    """The file's name for this interpreter (None for one that keeps no bytecode)."""
    tag = sys.implementation.cache_tag
    # "-2": files of the first version held code compiled with string annotations.
    return f"dataclass-methods-2.{tag}.marshal" if tag else None


def build_file(path: Path, modules: list[str]) -> int:
    """Write the code of the dataclasses that importing ``modules`` makes to ``path``, for
    a frozen app to carry (the spec calls it in a fresh interpreter, the one it freezes).
    Returns how many texts the file holds; raises OSError when it cannot be written."""
    import importlib

    if not install(path):
        raise RuntimeError("dataclasses compiles no text through exec here, or the code "
                           "is installed already")
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        done = finish_without_keeping()
    if done is None or not done.used:
        raise RuntimeError(f"importing {modules} made no dataclass")
    write(path, done.used)
    return len(done.used)


def read(path: Path) -> dict[str, types.CodeType]:
    """The code kept in ``path``; empty when there is none, or none this Python can trust
    to be what it compiled (another magic, a broken file, anything but texts and code)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(_MAGIC):
        return {}
    try:
        kept = marshal.loads(memoryview(data)[len(_MAGIC):])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(kept, dict) or not all(
        type(text) is str and type(code) is types.CodeType for text, code in kept.items()
    ):
        return {}
    return kept


def write(path: Path, code: dict[str, types.CodeType]) -> None:
    """Replace ``path`` with ``code`` at once: a reader finds the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC)
            out.write(marshal.dumps(code))
        os.chmod(temp, 0o644)  # readable by all, as bytecode is (mkstemp makes it 0600)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _dataclasses_exec() -> bool:
    """Whether :mod:`dataclasses` compiles its texts by looking up the name ``exec`` (its
    ``_create_fn`` in Python 3.11 and 3.12, ``_FuncBuilder`` from 3.13)."""
    places = [vars(dataclasses).get("_create_fn"),
              getattr(vars(dataclasses).get("_FuncBuilder"), "add_fns_to_class", None)]
    return any("exec" in getattr(getattr(f, "__code__", None), "co_names", ())
               for f in places)

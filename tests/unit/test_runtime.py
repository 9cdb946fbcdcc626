"""The process-wide settings the window runs with (makini_desktop.runtime)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from makini_desktop import runtime


def test_memory_settings_change_nothing_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows and macOS the C allocator is left as it is."""
    monkeypatch.setattr(runtime.sys, "platform", "win32")
    assert runtime.use_memory_sparingly() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
def test_memory_settings_are_taken_by_glibc() -> None:
    """On Linux (glibc) both allocator settings are accepted, in a process of their own
    (they last for the process's life)."""
    code = "from makini_desktop import runtime; print(runtime.use_memory_sparingly())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "True"


def test_the_gui_thread_takes_the_interpreter_back_within_a_millisecond() -> None:
    """share_the_interpreter sets the switch interval the window relies on."""
    before = sys.getswitchinterval()
    try:
        runtime.share_the_interpreter()
        assert sys.getswitchinterval() == pytest.approx(runtime.GUI_SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(before)


_IMPORT_HOOK_CHECK = """
import inspect, json, linecache, sys
import PySide6.QtCore
from makini_desktop import runtime
installed = runtime.check_imports_quickly()
again = runtime.check_imports_quickly()
feature = sys.modules["shibokensupport.feature"]
before = set(feature.pyside_feature_dict)
def pyside_would_say(module):  # the hook's own answer: -1 for a module without source
    try:
        return 0 if "PySide6" in inspect.getsource(module) else -1
    except (OSError, TypeError):
        return -1
linecache.clearcache()
from makini_desktop.ui import main_window  # as the app imports it, with all it imports
marked = {n: v for n, v in feature.pyside_feature_dict.items()
          if n not in before and n.startswith("makini_desktop.")}
print(json.dumps({
    "installed": installed, "again": again,
    "lines_kept": sorted(linecache.cache),
    "marks": marked,
    "expected": {n: pyside_would_say(sys.modules[n]) for n in marked},
}))
"""


def test_pyside_import_hook_reads_files_without_keeping_their_lines() -> None:
    """After check_imports_quickly, PySide6 marks each newly imported module as it would
    have (its source names PySide6 or not), and no module's lines are kept in linecache."""
    import json

    out = subprocess.run([sys.executable, "-c", _IMPORT_HOOK_CHECK], capture_output=True,
                         text=True, check=True, env=_offscreen_env())
    found = json.loads(out.stdout)
    assert found["installed"] is True
    assert found["again"] is False  # installed once
    assert found["lines_kept"] == []
    assert found["marks"] == found["expected"]
    assert len(found["marks"]) > 20
    assert set(found["marks"].values()) == {0, -1}  # modules of both kinds were asked of


def _offscreen_env() -> dict[str, str]:
    import os

    return dict(os.environ, QT_QPA_PLATFORM="offscreen")


def test_a_start_that_stops_before_its_window_leaves_dataclasses_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """app.run installs the dataclass method code before the app's imports; a start that
    stops at a usage error (--base-url without a token) takes it out again."""
    import dataclasses

    from makini_desktop import cli, method_code

    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    assert cli.main(["--base-url", "http://127.0.0.1:9"]) == cli.EXIT_USAGE
    assert method_code.active() is None
    assert "exec" not in vars(dataclasses)

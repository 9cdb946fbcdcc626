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

"""makini_desktop.platform_check: one clear line instead of Qt's abort on a bare Linux box."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from makini_desktop import platform_check

ROOT = Path(__file__).resolve().parents[2]
X11 = {"DISPLAY": ":0"}


def _loader(missing: set[str], plugin_error: str | None = None):
    """A stand-in for the dynamic linker: ``missing`` sonames fail, so does the plugin."""

    def load(name: str) -> str | None:
        base = os.path.basename(name)
        if base == "libqxcb.so":
            if plugin_error is not None:
                return plugin_error
            if missing:
                return f"{sorted(missing)[0]}: cannot open shared object file: No such file"
            return None
        return "cannot open shared object file" if base in missing else None

    return load


def _check(environ, missing=(), plugin_error=None, system="linux"):
    return platform_check.startup_problem(
        environ=environ, system=system, load=_loader(set(missing), plugin_error),
        plugin=Path("/fake/plugins/platforms/libqxcb.so"), has_apt=True)


def test_missing_xcb_libraries_are_named_with_their_apt_packages():
    """Two xcb libraries missing: one line names both libraries and the apt line for them."""
    problem = _check(X11, missing={"libxcb-icccm.so.4", "libxcb-keysyms.so.1"})
    assert problem is not None
    assert "\n" not in problem
    assert problem.startswith("makini-desktop: Qt cannot start: missing system libraries ")
    assert "libxcb-icccm.so.4" in problem and "libxcb-keysyms.so.1" in problem
    assert problem.endswith("install them with: sudo apt install libxcb-icccm4 libxcb-keysyms1")


def test_explicit_xcb_platform_is_checked_too():
    """QT_QPA_PLATFORM=xcb with a display and libxcb-cursor missing names libxcb-cursor0."""
    problem = _check({**X11, "QT_QPA_PLATFORM": "xcb"}, missing={"libxcb-cursor.so.0"})
    assert problem is not None
    assert "libxcb-cursor.so.0" in problem
    assert problem.endswith("sudo apt install libxcb-cursor0")


def test_everything_loads_means_no_problem():
    """When the plugin and every library it needs load, the app starts as usual."""
    assert _check(X11) is None


def test_a_library_outside_the_table_is_named_from_the_loader_error():
    """A missing library the table does not know is still named, from the linker's error."""
    problem = _check(X11, plugin_error=(
        "libXau.so.6: cannot open shared object file: No such file or directory"))
    assert problem is not None
    assert "libXau.so.6" in problem
    assert "Traceback" not in problem


def test_a_plugin_that_fails_for_another_reason_is_said_in_one_line():
    """A plugin that fails to load for another reason gives one line with the linker's words."""
    problem = _check(X11, plugin_error="libqxcb.so: undefined symbol: _ZN7QWindow4showEv")
    assert problem is not None
    assert "\n" not in problem
    assert problem.startswith("makini-desktop: Qt cannot start: ")
    assert "undefined symbol" in problem


def test_no_display_at_all_is_one_clear_line():
    """Neither DISPLAY nor WAYLAND_DISPLAY: say there is no display and how to render without."""
    problem = _check({})
    assert problem is not None
    assert "\n" not in problem
    assert "no display" in problem
    assert "DISPLAY" in problem and "WAYLAND_DISPLAY" in problem
    assert "--screenshots" in problem


def test_xcb_asked_for_without_display_is_one_clear_line():
    """QT_QPA_PLATFORM=xcb on a Wayland-only session: DISPLAY is named as missing."""
    problem = _check({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})
    assert problem is not None
    assert "DISPLAY is not set" in problem


@pytest.mark.parametrize("environ", [
    {"QT_QPA_PLATFORM": "offscreen"},
    {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
    {"WAYLAND_DISPLAY": "wayland-0", **X11},
])
def test_other_platforms_are_left_to_qt(environ):
    """Offscreen, Wayland, or a Wayland session (Qt picks wayland) are not checked for xcb."""
    assert _check(environ, missing={"libxcb-cursor.so.0"}) is None


@pytest.mark.parametrize("system", ["win32", "darwin"])
def test_windows_and_macos_are_never_checked(system):
    """Windows and macOS need no system libraries: nothing is checked there."""
    assert _check({}, missing={"libxcb-cursor.so.0"}, system=system) is None


def test_without_apt_the_packages_are_named_as_debian_ones():
    """On a distribution without apt the line still names the Debian/Ubuntu package names."""
    problem = platform_check.startup_problem(
        environ=X11, system="linux", load=_loader({"libxcb-icccm.so.4"}),
        plugin=Path("/fake/plugins/platforms/libqxcb.so"), has_apt=False)
    assert problem is not None
    assert "sudo apt" not in problem
    assert "libxcb-icccm4" in problem and "Debian/Ubuntu" in problem


def test_readme_apt_line_is_the_shared_list():
    """The README's one `sudo apt install` line installs exactly the checker's package list."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()
             if line.strip().startswith("sudo apt install")]
    assert len(lines) == 1
    assert lines[0] == platform_check.apt_command()


def test_ci_installs_the_shared_list():
    """.ci/run installs the packages from the checker's own list, not a copy of it."""
    script = (ROOT / ".ci" / "run").read_text()
    assert "makini_desktop.platform_check --apt-packages" in script


def test_command_line_prints_the_package_list():
    """`python -m makini_desktop.platform_check --apt-packages` prints the list, one line."""
    out = subprocess.run(
        [sys.executable, "-m", "makini_desktop.platform_check", "--apt-packages"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=True).stdout
    assert out.split() == platform_check.apt_packages()
    assert "libxcb-cursor0" in out.split() and "libxcb-keysyms1" in out.split()


def _needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("readelf") is None,
                    reason="reads the Linux xcb plugin's ELF headers")
def test_table_covers_every_system_library_the_installed_xcb_plugin_links():
    """Every non-Qt library libqxcb.so and libQt6XcbQpa link against has an apt package."""
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    needed = _needed(qt / "plugins" / "platforms" / "libqxcb.so")
    needed |= _needed(qt / "lib" / "libQt6XcbQpa.so.6")
    needed |= _needed(qt / "lib" / "libQt6Gui.so.6")
    system = {name for name in needed if not name.startswith(("libQt6", "libicu"))}
    # The C runtime itself: present wherever Python runs.
    system -= {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "libdl.so.2",
               "libpthread.so.0", "librt.so.1", "ld-linux-aarch64.so.1"}
    known = set(platform_check.SONAME_PACKAGES)
    assert system - known == set()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux display check")
def test_app_without_display_exits_1_with_one_line(tmp_path):
    """`makini-desktop` with no display prints one line and exits 1, not a Qt abort (134)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["MAKINI_DESKTOP_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "makini_desktop.cli"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("makini-desktop: Qt cannot start: ")

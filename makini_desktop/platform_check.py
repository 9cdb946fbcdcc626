"""Can Qt's xcb platform plugin start here? One clear line instead of Qt's abort (Linux).

On a bare Debian/Ubuntu the PySide6 wheel's xcb plugin cannot load (``libxcb-cursor0``,
``libxcb-icccm4`` and others are not installed) and Qt aborts the process with exit 134 and
five lines about plugins. :func:`startup_problem` runs before the ``QApplication`` is created:
it loads the plugin the way Qt will (the dynamic linker, in this process) and, when that fails,
names the missing libraries and the ``apt`` line that installs them.

:data:`SONAME_PACKAGES` is the one list of the system libraries the xcb plugin needs: the
README's Quick start line and ``.ci/run`` (``python -m makini_desktop.platform_check
--apt-packages``) are both taken from it. Standard library only: ``.ci/run`` runs it before
anything else is installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

# Every library other than Qt's own and the C runtime that the xcb platform plugin
# (libqxcb.so), libQt6XcbQpa, libQt6Gui, libQt6Core, libQt6DBus and the xcb GL integrations of
# PySide6 6.11 link against (readelf -d ... NEEDED), with the Debian/Ubuntu package that ships
# it. Their own dependencies (libXau, libexpat, ...) come with these packages. Names hold from
# Debian 12 and Ubuntu 22.04 on (Ubuntu 24.04's libglib2.0-0t64 provides libglib2.0-0).
SONAME_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    # Always there where apt is (apt and dpkg need them); named for a complete answer.
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}
# Installed on every Debian/Ubuntu (apt itself needs them): left out of the apt line.
_ALWAYS_PRESENT = frozenset({"zlib1g", "libzstd1", "libstdc++6", "libgcc-s1"})
PLUGIN_FILE = "libqxcb.so"
_SONAME_IN_ERROR = re.compile(r"([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file")

Loader = Callable[[str], "str | None"]


def apt_packages() -> list[str]:
    """The Debian/Ubuntu packages Qt's xcb platform needs, in the README's order."""
    packages: list[str] = []
    for package in SONAME_PACKAGES.values():
        if package not in packages and package not in _ALWAYS_PRESENT:
            packages.append(package)
    return packages


def apt_command(packages: Iterable[str] | None = None) -> str:
    """``sudo apt install ...`` for ``packages`` (all of :func:`apt_packages` by default)."""
    return "sudo apt install " + " ".join(apt_packages() if packages is None else packages)


def _dlopen(name: str) -> str | None:
    """None when the dynamic linker loads ``name`` (and what it needs), else its error."""
    import ctypes  # here: only Linux on xcb gets this far (2 ms of every other start)

    try:
        ctypes.CDLL(name, mode=os.RTLD_LAZY)
    except OSError as exc:
        return str(exc)
    return None


def find_plugin(environ: Mapping[str, str]) -> Path | None:
    """The xcb plugin Qt will load: from the override, QT_PLUGIN_PATH or PySide6's own."""
    dirs: list[Path] = []
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        dirs.append(Path(environ["QT_QPA_PLATFORM_PLUGIN_PATH"]))
    for entry in environ.get("QT_PLUGIN_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry) / "platforms")
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing Qt
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            dirs.append(Path(location) / "Qt" / "plugins" / "platforms")
    return next((d / PLUGIN_FILE for d in dirs if (d / PLUGIN_FILE).is_file()), None)


def requested_platform(environ: Mapping[str, str]) -> str:
    """The platform Qt is asked for first (``xcb:opt;wayland`` -> ``xcb``), '' when unset."""
    first = environ.get("QT_QPA_PLATFORM", "").strip().split(";")[0]
    return first.split(":")[0].strip().lower()


def startup_problem(
    environ: Mapping[str, str] | None = None,
    system: str | None = None,
    load: Loader | None = None,
    plugin: Path | None = None,
    has_apt: bool | None = None,
) -> str | None:
    """The one line to print instead of starting Qt, or None when Qt can start.

    Only Linux on the xcb platform is checked: ``QT_QPA_PLATFORM`` unset (and no Wayland
    session, where Qt picks its wayland plugin) or ``xcb``. The arguments replace, for tests,
    the environment, ``sys.platform``, the library loader (None on success, else the
    linker's error), the plugin file and whether apt is installed.
    """
    environ = os.environ if environ is None else environ
    system = sys.platform if system is None else system
    if not system.startswith("linux"):
        return None
    platform = requested_platform(environ)
    if platform not in ("", "xcb") or (platform == "" and environ.get("WAYLAND_DISPLAY")):
        return None
    if not environ.get("DISPLAY"):
        if platform == "xcb":
            reason = "QT_QPA_PLATFORM is xcb but DISPLAY is not set"
        else:
            reason = "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
        return (f"makini-desktop: Qt cannot start: {reason} — run it in a desktop session, "
                "or render the windows without one: makini-desktop --demo --screenshots DIR")
    load = _dlopen if load is None else load
    plugin = find_plugin(environ) if plugin is None else plugin
    if plugin is None:
        return None  # no xcb plugin at all: Qt names the plugins it has
    # What Qt does next (dlopen, lazy binding): if this works, so will Qt's.
    error = load(str(plugin))
    if error is None:
        return None
    missing = [name for name in SONAME_PACKAGES if load(name) is not None]
    if not missing:
        match = _SONAME_IN_ERROR.search(error)
        if match is None:
            return ("makini-desktop: Qt cannot start: its xcb platform plugin does not load: "
                    f"{error}")
        missing = [match.group(1)]
    return _missing_message(missing, shutil.which("apt-get") is not None
                            if has_apt is None else has_apt)


def _missing_message(missing: Sequence[str], has_apt: bool) -> str:
    packages: list[str] = []
    for name in missing:
        package = SONAME_PACKAGES.get(name)
        if package is not None and package not in packages:
            packages.append(package)
    line = f"makini-desktop: Qt cannot start: missing system libraries {', '.join(missing)}"
    if not packages:
        return line
    if has_apt:
        return f"{line} — install them with: {apt_command(packages)}"
    return (f"{line} — Debian/Ubuntu packages: {' '.join(packages)} "
            "(install your distribution's equivalents)")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m makini_desktop.platform_check [--apt-packages]``: the list, or a check."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--apt-packages"]:
        print(" ".join(apt_packages()))
        return 0
    if args:
        print("usage: python -m makini_desktop.platform_check [--apt-packages]",
              file=sys.stderr)
        return 2
    problem = startup_problem()
    print(problem or "Qt's platform plugin can start here", file=sys.stderr if problem else None)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())

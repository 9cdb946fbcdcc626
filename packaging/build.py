"""Build the one-dir app with PyInstaller, then smoke-test the frozen executable.

    python packaging/build.py                        # dist/ and build/ in the repository
    python packaging/build.py --distpath /tmp/dist --workpath /tmp/build
    python packaging/build.py --installer            # + the Windows installer or the macOS DMG

Run it with the Python of an environment that has the app's dependencies and PyInstaller
(``pip install -e ".[build]"``); the spec freezes this checkout's source. The same command
on Windows, macOS and Linux. Exit status: 0 built and smoke-tested, 1 a step failed, 2 the
environment is not ready.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "makini-desktop.spec"
APP_NAME = "makini-desktop"
IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"
# Import names of what the frozen app needs in this environment (pyproject dependencies).
REQUIRED = ("PyInstaller", "PySide6", "shiboken6", "httpx", "qasync", "keyring", "truststore",
            "platformdirs", "openpyxl")


def version() -> str:
    """``__version__`` from the package source (what the spec and ``--version`` use)."""
    text = (ROOT / "makini_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if match is None:
        raise SystemExit("build: no __version__ in makini_desktop/__init__.py")
    return match.group(1)


def check_environment() -> list[str]:
    """The required modules this Python cannot import."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path`` (symlinks not followed, not counted twice)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def built_app(distpath: Path) -> Path:
    """What the smoke test runs: the .app on macOS, the one-dir folder elsewhere."""
    return distpath / (f"{APP_NAME}.app" if IS_MAC else APP_NAME)


def run_step(title: str, cmd: list[str], **kwargs: object) -> None:
    """Run one step, echoing the command; SystemExit(1) when it fails."""
    print(f"\n== {title}\n$ {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(cmd, **kwargs)  # type: ignore[arg-type]
    if code != 0:
        raise SystemExit(f"build: {title} failed (exit {code})")
    print(f"== {title}: done in {time.monotonic() - started:.0f} s", flush=True)


def find_iscc() -> str | None:
    """Inno Setup's compiler: on PATH, or in its default install folders."""
    found = shutil.which("ISCC") or shutil.which("iscc")
    if found:
        return found
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles"),
                 os.environ.get("LOCALAPPDATA", "") + r"\Programs"):
        if base:
            candidate = Path(base) / "Inno Setup 6" / "ISCC.exe"
            if candidate.is_file():
                return str(candidate)
    return None


def build_installer(distpath: Path, app_version: str) -> None:
    """Windows: the Inno Setup installer. macOS: the signed, notarised DMG."""
    if IS_WIN:
        iscc = find_iscc()
        if iscc is None:
            raise SystemExit("build: Inno Setup 6 (ISCC.exe) not found: install it, or put "
                             "it on PATH")
        numeric = ".".join(re.findall(r"\d+", app_version)[:4]) or "0.0.0"
        run_step("installer (Inno Setup)", [
            iscc, f"/DAppVersion={app_version}", f"/DFileVersion={numeric}",
            f"/DSourceDir={distpath / APP_NAME}", f"/DOutputDir={distpath}",
            str(HERE / "windows" / f"{APP_NAME}.iss"),
        ])
    elif IS_MAC:
        run_step("DMG (sign, notarise, staple)", [
            "bash", str(HERE / "macos" / "build_dmg.sh"),
            str(distpath / f"{APP_NAME}.app"), str(distpath / f"{APP_NAME}-{app_version}.dmg"),
        ])
    else:
        raise SystemExit("build: --installer: there is no installer for Linux; ship the "
                         f"{distpath / APP_NAME} folder (e.g. as a tarball)")


def main(argv: list[str] | None = None) -> int:
    """Build, measure, smoke-test (and optionally package)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distpath", type=Path, default=ROOT / "dist",
                        help="where the app goes (default: dist/ in the repository)")
    parser.add_argument("--workpath", type=Path, default=ROOT / "build",
                        help="PyInstaller's work folder (default: build/ in the repository)")
    parser.add_argument("--skip-smoke-test", action="store_true",
                        help="build only")
    parser.add_argument("--smoke-args", default="",
                        help="extra arguments for smoke_test.py, e.g. '--keyring'")
    parser.add_argument("--installer", action="store_true",
                        help="then make the Windows installer (Inno Setup) or the macOS DMG "
                             "(packaging/macos/build_dmg.sh: signs and notarises)")
    ns = parser.parse_args(argv)

    missing = check_environment()
    if missing:
        print(f"build: this Python ({sys.executable}) cannot import: {', '.join(missing)}\n"
              "  install them first:  python -m pip install -e '.[build]'", file=sys.stderr)
        return 2
    app_version = version()
    distpath, workpath = ns.distpath.resolve(), ns.workpath.resolve()
    print(f"makini-desktop {app_version}: building with {sys.executable} "
          f"({sys.platform}, Python {sys.version.split()[0]})")

    run_step("PyInstaller", [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", str(distpath), "--workpath", str(workpath), str(SPEC),
    ])

    app = built_app(distpath)
    if not app.exists():
        raise SystemExit(f"build: PyInstaller finished but {app} does not exist")
    size = folder_size(app)
    print(f"\nbuilt {app}: {size / 1e6:.1f} MB ({size:,} bytes)")

    if not ns.skip_smoke_test:
        run_step("smoke test", [
            sys.executable, str(HERE / "smoke_test.py"), str(app),
            "--expect-version", app_version, *ns.smoke_args.split(),
        ])
    if ns.installer:
        build_installer(distpath, app_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())

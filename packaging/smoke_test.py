"""Smoke test of the FROZEN makini-desktop: run the built executable the way a user would.

    python packaging/smoke_test.py dist/makini-desktop            # the one-dir folder,
    python packaging/smoke_test.py dist/makini-desktop.app        # the macOS bundle,
    python packaging/smoke_test.py dist/makini-desktop/makini-desktop.exe   # or the executable

Checks, each with a time limit:

1. bundle       keyring's entry-point metadata (``keyring-*.dist-info/entry_points.txt``) and
                the app icons are inside the build.
2. version      ``<exe> --version`` exits 0 and prints ``makini-desktop <version>``.
3. sandbox      ``<exe> sandbox --scale small --port 0`` prints its URL on its first line.
4. export csv   ``<exe> export buildings --base-url URL --format csv -o FILE`` against that
                sandbox (``MAKINI_API_TOKEN=sandbox-token``) writes a CSV with a header and rows.
5. export xlsx  the same as XLSX: openpyxl works in the frozen build.
6. sandbox stop the sandbox stops cleanly (exit 0) on SIGTERM (not checked on Windows, where
                the only way to stop another console program is to kill it).
7. screenshots  ``<exe> --demo --screenshots DIR`` with ``QT_QPA_PLATFORM=offscreen`` exits 0
                and writes a non-empty, valid PNG for every tab and the connection manager.
8. keyring      only with ``--keyring``: ``connection add`` stores a token in the OS keyring
                (Windows Credential Manager, macOS Keychain), ``connection list`` finds it,
                ``connection remove`` deletes it. It writes to the real keychain, so it is
                opt-in; on Linux it needs an unlocked Secret Service.

Every run gets its own ``MAKINI_DESKTOP_HOME`` in a temporary folder, so the test never
touches the user's connections, settings or offline cache. On Windows the console twin
``makini-desktop-cli.exe`` (next to ``makini-desktop.exe``) runs the commands whose output is
read; the windowed ``makini-desktop.exe`` runs ``--version`` (exit code only when it prints
nothing) and the screenshots.

Exit status 0 when every check passed, 1 when any failed (each failure on one line with what
was run and the end of its output), 2 for a usage error. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import os
import queue
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

APP_NAME = "makini-desktop"
SANDBOX_TOKEN = "sandbox-token"
TOKEN_ENV = "MAKINI_API_TOKEN"
# One PNG per tab of the main window, and the connection manager. (error.png is written too
# when the demo's failed request produces a dialog; it is checked when present.)
EXPECTED_SCREENSHOTS = ("buildings", "spaces", "assets", "moves", "visitors", "connections")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"
# Seconds; multiplied by --timeout-factor. Generous for a first start under an antivirus scan.
TIMEOUTS = {"version": 60, "sandbox": 90, "export": 180, "stop": 30, "screenshots": 420,
            "keyring": 60}


class SmokeTestError(Exception):
    """One check failed; the message says what was run and what went wrong."""


# -- finding the executables ------------------------------------------------------------------


def resolve_executables(path: Path) -> tuple[Path, Path]:
    """The app executable and the one to run console commands with (the same off Windows)."""
    path = path.resolve()
    if path.is_dir():
        if path.suffix == ".app":
            candidates = [path / "Contents" / "MacOS" / APP_NAME]
        else:
            candidates = [path / f"{APP_NAME}.exe", path / APP_NAME,
                          path / f"{APP_NAME}.app" / "Contents" / "MacOS" / APP_NAME]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise SmokeTestError(f"no {APP_NAME} executable in {path}")
        path = found[0]
    if not path.is_file():
        raise SmokeTestError(f"{path} does not exist")
    if not IS_WIN and not os.access(path, os.X_OK):
        raise SmokeTestError(f"{path} is not executable")
    cli = path
    if IS_WIN:
        twin = path.with_name(f"{APP_NAME}-cli.exe")
        if twin.is_file():
            cli = twin
    return path, cli


def app_root(exe: Path) -> Path:
    """The folder that holds everything the build ships (the .app on macOS)."""
    for parent in exe.parents:
        if parent.suffix == ".app":
            return parent
    return exe.parent


# -- running ----------------------------------------------------------------------------------


def _tail(text: str | bytes | None, lines: int = 15) -> str:
    if not text:
        return "(nothing)"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kept = text.strip().splitlines()[-lines:]
    return "\n    ".join(kept) if kept else "(nothing)"


def _show(cmd: Sequence[str | Path]) -> str:
    return " ".join(str(c) if " " not in str(c) else f'"{c}"' for c in cmd)


def base_env(home: Path) -> dict[str, str]:
    """The environment of every run: isolated home, no token, no stray Python settings."""
    env = dict(os.environ)
    # As a user starts it: nothing that would steer Python or Qt (the frozen app honours
    # PYTHONUTF8, so it is removed too: output is decoded leniently instead).
    for name in (TOKEN_ENV, "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUTF8",
                 "PYTHONIOENCODING", "QT_API", "QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH"):
        env.pop(name, None)
    env["MAKINI_DESKTOP_HOME"] = str(home)
    return env


def run(cmd: Sequence[str | Path], *, env: dict[str, str], timeout: float,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run to completion; a SmokeTestError on a timeout, a non-zero exit or a traceback."""
    try:
        proc = subprocess.run(
            [str(c) for c in cmd], env=env, input=stdin, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise SmokeTestError(
            f"`{_show(cmd)}` did not finish within {timeout:.0f} s\n"
            f"  stdout: {_tail(exc.stdout)}\n  stderr: {_tail(exc.stderr)}"
        ) from None
    except OSError as exc:
        raise SmokeTestError(f"`{_show(cmd)}` could not start: {exc}") from None
    if proc.returncode != 0 or "Traceback (most recent call last)" in (proc.stderr or ""):
        raise SmokeTestError(
            f"`{_show(cmd)}` exited {proc.returncode}\n"
            f"  stdout: {_tail(proc.stdout)}\n  stderr: {_tail(proc.stderr)}"
        )
    return proc


# -- the checks -------------------------------------------------------------------------------


def check_bundle(exe: Path) -> str:
    """keyring's entry points and the icons are in the build."""
    root = app_root(exe)
    entry_points = sorted(root.rglob("keyring-*.dist-info/entry_points.txt"))
    if not entry_points:
        raise SmokeTestError(
            f"no keyring-*.dist-info/entry_points.txt under {root}: keyring would find no "
            "backend (copy_metadata('keyring') missing from the spec?)"
        )
    text = entry_points[0].read_text(encoding="utf-8")
    if "[keyring.backends]" not in text:
        raise SmokeTestError(f"{entry_points[0]} has no [keyring.backends] section")
    icons = [p for p in root.rglob("makini-desktop*.png")
             if p.parent.name == "icons" and p.parent.parent.name == "resources"]
    if not icons:
        raise SmokeTestError(f"no makini_desktop/resources/icons/*.png under {root}")
    return f"keyring entry points and {len(icons)} icon PNGs present"


def check_version(gui: Path, cli: Path, env: dict[str, str], expected: str | None,
                  timeout: float) -> str:
    """``--version`` prints the version (and the windowed .exe at least exits 0)."""
    pattern = re.compile(rf"^{re.escape(APP_NAME)} (\S+)$")
    out = run([cli, "--version"], env=env, timeout=timeout).stdout.strip()
    match = pattern.match(out)
    if match is None:
        raise SmokeTestError(f"`{cli} --version` printed {out!r}, not '{APP_NAME} <version>'")
    if expected is not None and match.group(1) != expected:
        raise SmokeTestError(f"`{cli} --version` says {match.group(1)}, expected {expected}")
    note = ""
    if gui != cli:
        gui_out = run([gui, "--version"], env=env, timeout=timeout).stdout.strip()
        if gui_out and gui_out != out:
            raise SmokeTestError(f"`{gui} --version` printed {gui_out!r}, the console one {out!r}")
        note = f"; {gui.name} exits 0" + ("" if gui_out else " (prints nothing: windowed)")
    return out + note


class Sandbox:
    """``<exe> sandbox --scale small --port 0`` in the background; its URL from line one."""

    def __init__(self, exe: Path, env: dict[str, str], workdir: Path) -> None:
        self.cmd = [str(exe), "sandbox", "--scale", "small", "--port", "0"]
        self.env = env
        self.stderr_path = workdir / "sandbox.stderr.txt"
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.url: str | None = None
        self._stderr: TextIO | None = None

    def start(self, timeout: float) -> str:
        """Start it and wait for the URL on the first line of its stdout."""
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # Windows only
        self._stderr = open(self.stderr_path, "w", encoding="utf-8")
        try:
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=self._stderr, text=True, encoding="utf-8", errors="replace",
                creationflags=flags, start_new_session=not IS_WIN,
            )
        except OSError as exc:
            raise SmokeTestError(f"`{_show(self.cmd)}` could not start: {exc}") from None
        threading.Thread(target=self._read, daemon=True).start()
        try:
            first = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise SmokeTestError(
                f"`{_show(self.cmd)}` printed no line within {timeout:.0f} s\n"
                f"  stderr: {_tail(self._stderr_text())}"
            ) from None
        if first is None:
            code = self.proc.wait(timeout=10)
            raise SmokeTestError(
                f"`{_show(self.cmd)}` exited {code} before printing its URL\n"
                f"  stderr: {_tail(self._stderr_text())}"
            )
        match = re.search(r"(https?://[^\s]+)", first)
        if match is None:
            raise SmokeTestError(f"the sandbox's first line has no URL: {first.strip()!r}")
        self.url = match.group(1).rstrip("/")
        return first.strip()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _stderr_text(self) -> str:
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float) -> str:
        """SIGTERM and a clean exit 0 (POSIX); on Windows it is simply ended."""
        if self.proc is None:
            return "not running"
        try:
            if self.proc.poll() is not None:
                raise SmokeTestError(
                    f"the sandbox exited early with {self.proc.returncode}\n"
                    f"  stderr: {_tail(self._stderr_text())}"
                )
            if IS_WIN:
                self.proc.terminate()
                self.proc.wait(timeout=timeout)
                return "ended (terminated: Windows has no SIGTERM for console programs)"
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise SmokeTestError(
                    f"the sandbox did not stop within {timeout:.0f} s of SIGTERM"
                ) from None
            if code != 0:
                raise SmokeTestError(
                    f"the sandbox exited {code} on SIGTERM, expected 0\n"
                    f"  stderr: {_tail(self._stderr_text())}"
                )
            return "stopped cleanly on SIGTERM (exit 0)"
        finally:
            self.kill()

    def kill(self) -> None:
        """Make sure the process is gone (after a failure, or after stop)."""
        if self.proc is not None and self.proc.poll() is None:
            if IS_WIN:
                self.proc.kill()
            else:  # its own session (start_new_session): the whole group goes
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()


def check_export_csv(cli: Path, url: str, env: dict[str, str], workdir: Path,
                     timeout: float) -> str:
    """A CSV export of the buildings: a header and at least one row."""
    target = workdir / "buildings.csv"
    run([cli, "export", "buildings", "--base-url", url, "--format", "csv", "-o", target],
        env={**env, TOKEN_ENV: SANDBOX_TOKEN}, timeout=timeout)
    if not target.is_file():
        raise SmokeTestError(f"export exited 0 but {target} does not exist")
    with open(target, encoding="utf-8-sig", newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    if len(rows) < 2:
        raise SmokeTestError(f"{target} has {len(rows)} line(s): expected a header and rows")
    header, data = rows[0], rows[1:]
    if any(len(row) != len(header) for row in data):
        raise SmokeTestError(f"{target}: rows do not all have the {len(header)} header columns")
    return f"{len(data)} rows x {len(header)} columns ({', '.join(header[:4])}, ...)"


def check_export_xlsx(cli: Path, url: str, env: dict[str, str], workdir: Path,
                      timeout: float) -> str:
    """An XLSX export of the buildings: a workbook with a header row and data rows."""
    target = workdir / "buildings.xlsx"
    run([cli, "export", "buildings", "--base-url", url, "--format", "xlsx", "-o", target],
        env={**env, TOKEN_ENV: SANDBOX_TOKEN}, timeout=timeout)
    if not target.is_file() or not zipfile.is_zipfile(target):
        raise SmokeTestError(f"{target} is missing or not an XLSX (zip) file")
    with zipfile.ZipFile(target) as book:
        sheets = [n for n in book.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        if not sheets:
            raise SmokeTestError(f"{target} has no worksheet")
        rows = book.read(sheets[0]).decode("utf-8").count("<row ")
    if rows < 2:
        raise SmokeTestError(f"{target}: the sheet has {rows} row(s), expected a header and rows")
    return f"{rows - 1} rows, {target.stat().st_size:,} bytes"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:32]
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise SmokeTestError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_screenshots(gui: Path, env: dict[str, str], workdir: Path, timeout: float) -> str:
    """``--demo --screenshots DIR`` offscreen: every expected PNG, non-empty and valid."""
    folder = workdir / "screenshots"
    run([gui, "--demo", "--screenshots", folder],
        env={**env, "QT_QPA_PLATFORM": "offscreen"}, timeout=timeout)
    pngs = {p.stem: p for p in folder.glob("*.png")} if folder.is_dir() else {}
    missing = [name for name in EXPECTED_SCREENSHOTS if name not in pngs]
    if missing:
        raise SmokeTestError(
            f"screenshots missing: {', '.join(n + '.png' for n in missing)} "
            f"(found: {', '.join(sorted(pngs)) or 'none'})"
        )
    sizes = []
    for name, path in sorted(pngs.items()):
        if path.stat().st_size == 0:
            raise SmokeTestError(f"{path} is empty")
        width, height = _png_size(path)
        if width < 100 or height < 100:
            raise SmokeTestError(f"{path} is only {width}x{height} px")
        sizes.append(f"{name} {width}x{height}")
    return f"{len(pngs)} PNGs: " + ", ".join(sizes)


def check_keyring(cli: Path, env: dict[str, str], timeout: float) -> str:
    """Store, find and delete a token in the OS keyring through the frozen app."""
    name = f"smoke-test-{os.getpid()}-{int(time.time())}"
    added = run([cli, "connection", "add", name, "--base-url", "https://smoke-test.invalid"],
                env=env, timeout=timeout, stdin="smoke-test-token\n").stdout.strip()
    try:
        if "token stored in" not in added:
            raise SmokeTestError(f"`connection add` printed {added!r}")
        listed = run([cli, "connection", "list"], env=env, timeout=timeout).stdout
        line = next((ln for ln in listed.splitlines() if name in ln), "")
        if not line or "missing" in line or "session only" in line:
            raise SmokeTestError(f"`connection list` does not show a stored token: {line!r}")
    finally:
        run([cli, "connection", "remove", name], env=env, timeout=timeout)
    return added.split("token stored in", 1)[1].strip(" .")


# -- main -------------------------------------------------------------------------------------


def _expected_version() -> str | None:
    init = Path(__file__).resolve().parent.parent / "makini_desktop" / "__init__.py"
    if not init.is_file():
        return None
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init.read_text("utf-8"), re.M)
    return match.group(1) if match else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check; exit 0 only when all passed."""
    parser = argparse.ArgumentParser(
        description="Smoke test of the frozen makini-desktop build.",
    )
    parser.add_argument("path", type=Path,
                        help="the built executable, its one-dir folder or the macOS .app")
    parser.add_argument("--expect-version",
                        help="the version --version must print (default: this checkout's)")
    parser.add_argument("--skip-screenshots", action="store_true",
                        help="skip the GUI check (--demo --screenshots)")
    parser.add_argument("--keyring", action="store_true",
                        help="also store, list and delete a token in the real OS keyring")
    parser.add_argument("--timeout-factor", type=float, default=1.0,
                        help="multiply every time limit (slow CI machines)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (exports, screenshots, logs)")
    ns = parser.parse_args(argv)

    try:
        gui, cli = resolve_executables(ns.path)
    except SmokeTestError as exc:
        print(f"smoke test: error: {exc}", file=sys.stderr)
        return 2
    expected = ns.expect_version or _expected_version()
    limit = {k: v * ns.timeout_factor for k, v in TIMEOUTS.items()}
    workdir = Path(tempfile.mkdtemp(prefix="makini-smoke-"))
    env = base_env(workdir / "home")
    print(f"smoke test of {gui}" + (f" (console commands: {cli.name})" if cli != gui else ""))
    print(f"  work folder {workdir}")

    failures: list[str] = []

    def step(name: str, check: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            detail = check()
        except SmokeTestError as exc:
            failures.append(name)
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {exc}", flush=True)
            return False
        print(f"PASS {name} ({time.monotonic() - started:.1f} s): {detail}", flush=True)
        return True

    try:
        step("bundle", lambda: check_bundle(gui))
        step("version", lambda: check_version(gui, cli, env, expected, limit["version"]))
        sandbox = Sandbox(cli, env, workdir)
        try:
            if step("sandbox", lambda: sandbox.start(limit["sandbox"])):
                url = sandbox.url
                assert url is not None
                step("export csv",
                     lambda: check_export_csv(cli, url, env, workdir, limit["export"]))
                step("export xlsx",
                     lambda: check_export_xlsx(cli, url, env, workdir, limit["export"]))
                step("sandbox stop", lambda: sandbox.stop(limit["stop"]))
        finally:
            sandbox.kill()
        if not ns.skip_screenshots:
            step("screenshots",
                 lambda: check_screenshots(gui, env, workdir, limit["screenshots"]))
        if ns.keyring:
            step("keyring", lambda: check_keyring(cli, env, limit["keyring"]))
    finally:
        if ns.keep or failures:
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if failures:
        print(f"smoke test FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

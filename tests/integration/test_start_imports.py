"""A start from the cache paints its first rows without the HTTP stack or keyring: they are
imported when the first request is made (or a token is first looked up), each checked in a
fresh interpreter's ``sys.modules``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from makini_desktop.app import BENCH_FIRST_PAINT_ENV
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.usage import TOKEN_ENV

DOWN_URL = "http://127.0.0.1:1/"  # a port nothing listens on: the server is down
TOKEN = "start-imports-token"
DEFERRED = ("httpx", "httpcore", "h11", "anyio", "truststore", "keyring")
# What only a user's action needs: the file writers, the error and registration dialogs and
# the roster, printed or counted (imported when first used).
DEFERRED_OURS = ("makini_desktop.export", "makini_desktop.export_human",
                 "makini_desktop.ui.error_dialog", "makini_desktop.ui.register_visitor",
                 "makini_desktop.ui.roster", "makini_desktop.table.roster",
                 # the app icon's folder is found without it (9 ms to import)
                 "importlib.resources")

_FILL = """
import sys
from datetime import UTC, datetime
from makini_desktop.api import resources as res
from makini_desktop.sandbox.data import generate
from makini_desktop.store.cache import Cache, max_updated_at
data = generate("small", 42)
with Cache.open_for(sys.argv[1]) as cache:
    for name in res.DATASETS:
        rows = data.visible(name)
        with cache.begin_snapshot(name) as writer:
            writer.add(rows)
            writer.commit(server_total=len(rows), watermark=max_updated_at(rows),
                          synced_at=datetime.now(UTC))
"""

# Runs the app as `makini-desktop --base-url URL` does, noting which of DEFERRED are loaded
# at the moment the benchmark hook reports the first painted cached rows.
_APP = f"""
import io, runpy, sys
DEFERRED = {DEFERRED + DEFERRED_OURS!r}
seen = []
class Tap(io.TextIOBase):
    def write(self, text):
        if text.startswith("first-cached-paint"):
            seen.append(sorted(m for m in DEFERRED if m in sys.modules))
        return sys.__stdout__.write(text)
sys.stdout = Tap()
sys.argv = ["makini-desktop", "--base-url", {DOWN_URL!r}]
try:
    runpy.run_module("makini_desktop.cli", run_name="__main__")
except SystemExit:
    pass
finally:
    sys.stdout = sys.__stdout__
print("LOADED", seen)
"""


def _loaded(stdout: str) -> list[list[str]]:
    line = next(li for li in stdout.splitlines() if li.startswith("LOADED "))
    return ast.literal_eval(line.removeprefix("LOADED "))  # the names the child printed


def test_first_cached_rows_are_painted_without_httpx_or_keyring(tmp_path: Path) -> None:
    """Starting on an unsaved connection (token from the environment) with the server down,
    the first cached rows are painted before httpx, its transport or keyring is imported,
    and before the modules only a user's action needs."""
    env = dict(os.environ, MAKINI_DESKTOP_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen",
               **{TOKEN_ENV: TOKEN, BENCH_FIRST_PAINT_ENV: "assets"})
    key = ConnectionInfo.adhoc(DOWN_URL, TOKEN).cache_key
    subprocess.run([sys.executable, "-c", _FILL, key], env=env, check=True, timeout=120)
    out = subprocess.run([sys.executable, "-c", _APP], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert _loaded(out.stdout) == [[]]  # one first paint, with none of them loaded


def test_the_windows_requests_leave_the_http_stack_to_the_helper() -> None:
    """A window and a session with a token import no httpx; the session's first request
    is made by the HTTP helper process (and fails as a connection failure, as before): the
    window's process imports httpx for the answers, but never builds a client or loads the
    trust store (truststore), and keyring is never needed."""
    code = textwrap.dedent(f"""
        import asyncio, sys, tempfile
        from pathlib import Path
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        from makini_desktop.api.errors import MakiniError
        from makini_desktop.store.profiles import ProfileStore
        from makini_desktop.store.secrets import TokenStore
        from makini_desktop.sync.session import ConnectionInfo, Session
        from makini_desktop.ui.main_window import MainWindow

        def loaded():
            return sorted(m for m in {DEFERRED!r} if m in sys.modules)

        app = QApplication([])
        home = Path(tempfile.mkdtemp())
        settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(ProfileStore(home / "connections.json"), TokenStore(),
                            settings=settings)
        session = Session(ConnectionInfo.adhoc({DOWN_URL!r}, {TOKEN!r}), {TOKEN!r},
                          open_cache="never")
        print(loaded())

        async def first_request():
            try:
                await session.probe()
            except MakiniError as exc:
                print(exc.code)
            finally:
                await session.aclose()

        asyncio.run(first_request())
        print(loaded())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, code_line, after = out.stdout.splitlines()[-3:]
    assert ast.literal_eval(before) == []
    assert code_line == "CONNECTION_FAILED"
    after_modules = set(ast.literal_eval(after))
    assert "httpx" in after_modules
    assert not {"truststore", "keyring"} & after_modules

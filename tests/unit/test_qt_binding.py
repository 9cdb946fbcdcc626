"""qasync must drive PySide6: a second Qt binding in the process would crash the app."""

from __future__ import annotations

import os
import subprocess
import sys


def test_qasync_runs_on_pyside6(qapp):
    """The test run pins QT_API, and qasync picked PySide6's QtCore."""
    import PySide6.QtCore
    import qasync

    assert os.environ["QT_API"] == "pyside6"
    assert qasync.QtCore is PySide6.QtCore


def test_the_app_pins_pyside6_even_when_the_environment_says_otherwise():
    """makini-desktop sets QT_API itself before qasync is imported (PyQt6 installed or not)."""
    code = (
        "import os, sys\n"
        "from makini_desktop.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    env = {**os.environ, "QT_API": "pyqt6", "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code + "print(os.environ['QT_API'])"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "pyside6"

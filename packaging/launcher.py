"""The script PyInstaller freezes: the same entry point as the ``makini-desktop`` console script.

PyInstaller needs a script path, not an entry point. The Qt binding is pinned before anything
can import qasync, which otherwise picks the first binding it finds.
"""

import os
import sys

if __name__ == "__main__" and sys.argv[1:2] == ["--http-helper"]:
    # The window's HTTP helper process (makini_desktop/api/http_helper.py, HELPER_ARG):
    # no Qt at all, and none of the window's imports.
    from makini_desktop.api.http_helper import helper_main

    sys.exit(helper_main())

os.environ["QT_API"] = "pyside6"

from makini_desktop.cli import main  # noqa: E402  # after QT_API, on purpose

if __name__ == "__main__":
    sys.exit(main())

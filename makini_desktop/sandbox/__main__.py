"""``python -m makini_desktop.sandbox``: run the Makini stand-in (see :mod:`.cli`)."""

from makini_desktop.sandbox.cli import run_from_args

raise SystemExit(run_from_args())

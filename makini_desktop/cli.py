"""The ``makini-desktop`` command: the GUI by default, plus commands that need no window.

    makini-desktop [--demo | --base-url URL | --connection NAME] [--screenshots DIR]
    makini-desktop sandbox [--scale medium] [--port 0] ...
    makini-desktop export RESOURCE --base-url URL --format csv -o FILE
        [--raw] [--search TEXT] [--building NAME] [--view NAME]
    makini-desktop connection add|list|remove ...
    makini-desktop cache info
    makini-desktop outbox list [--connection NAME] [--json]

Exit codes: 0 success, 1 an API, network or disk error (one line on stderr), 2 a usage error.

The one place the command line is parsed: :func:`main` builds the parser, parses once and
dispatches; without a sub-command it hands the parsed namespace to
:func:`makini_desktop.app.run`, which never imports this module.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from makini_desktop import __version__
from makini_desktop.usage import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    TOKEN_ENV,
    UsageError,
    read_token_from_env,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "TOKEN_ENV",
    "UsageError",
    "build_parser",
    "main",
    "names_a_command",
    "read_token_from_env",
    "run_export",
]


_WINDOW_VALUE_OPTIONS = frozenset({"--base-url", "--connection", "--screenshots"})
"""The window's options that take a value (the next argument, or after "=")."""
_WINDOW_FLAGS = frozenset({"--demo", "--version"})
"""The window's options that take none."""


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line, GUI options and sub-commands.

    Args:
        commands: False for a command line that only holds the window's options (see
            :func:`names_a_command`): the sub-commands' parsers are not built (7 of the
            start's 9 ms of argparse, before the window can open).
    """
    parser = argparse.ArgumentParser(
        prog="makini-desktop",
        description="Spaces, assets, moves and visitors of your workplace systems, "
        "through the Makini API.",
    )
    parser.add_argument("--version", action="version", version=f"makini-desktop {__version__}")
    gui = parser.add_argument_group("window")
    source = gui.add_mutually_exclusive_group()
    source.add_argument(
        "--demo", action="store_true",
        help="start the built-in sandbox with demo data and open the app on it",
    )
    source.add_argument(
        "--base-url", dest="gui_base_url", metavar="URL",
        help=f"open on an unsaved connection to URL (token from ${TOKEN_ENV})",
    )
    source.add_argument("--connection", dest="gui_connection", metavar="NAME",
                        help="open on the saved connection NAME")
    gui.add_argument("--screenshots", metavar="DIR",
                     help="render every window offscreen to PNG files in DIR and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if not commands:
        return parser

    from makini_desktop.api.resources import VIEWS  # imported by the window's start later
    from makini_desktop.sandbox.options import add_sandbox_arguments  # not the server

    sp = sub.add_parser("sandbox", help="run the built-in Makini sandbox server")
    add_sandbox_arguments(sp)

    ep = sub.add_parser("export", help="export a whole list to CSV, JSON or XLSX")
    ep.add_argument("resource", choices=list(VIEWS), metavar="RESOURCE",
                    help="one of: " + ", ".join(VIEWS))
    src = ep.add_mutually_exclusive_group()
    src.add_argument("--base-url", metavar="URL", help=f"API base URL (token from ${TOKEN_ENV})")
    src.add_argument("--connection", metavar="NAME", help="a saved connection")
    ep.add_argument("--format", "-f", choices=["csv", "json", "xlsx"], default=None,
                    help="output format (default: from the file name, else csv)")
    ep.add_argument("-o", "--output", required=True, metavar="FILE",
                    help="the file to write, or - for standard output")
    ep.add_argument("--offline", action="store_true",
                    help="export from the offline cache without using the network")
    ep.add_argument("--raw", action="store_true",
                    help="CSV/XLSX of the API's own fields (keys, codes, UTC times) instead "
                    "of the table the app shows")
    ep.add_argument("--search", metavar="TEXT", default="",
                    help="only the rows the tab's search for TEXT shows")
    ep.add_argument("--building", metavar="NAME", default="",
                    help="only the rows of one building (its name or code)")
    ep.add_argument("--view", metavar="NAME", default="",
                    help="a saved view of the tab: its columns, search, filters and sort")

    cp = sub.add_parser("connection", help="manage saved connections")
    csub = cp.add_subparsers(dest="connection_command", metavar="ACTION", required=True)
    ca = csub.add_parser(
        "add", help=f"save a connection (token from ${TOKEN_ENV} or standard input)")
    ca.add_argument("name")
    ca.add_argument("--base-url", required=True, metavar="URL")
    ca.add_argument("--activate", action="store_true",
                    help="make it the connection the app opens on")
    csub.add_parser("list", help="list saved connections")
    cr = csub.add_parser("remove", help="remove a saved connection, its token and its cache")
    cr.add_argument("name")

    kp = sub.add_parser("cache", help="inspect the offline cache")
    ksub = kp.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    ksub.add_parser("info", help="rows and last sync time per connection and list")

    op = sub.add_parser("outbox", help="changes waiting to be sent to the server")
    osub = op.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    ol = osub.add_parser("list", help="list the waiting and failed changes (for support)")
    ol.add_argument("--connection", metavar="NAME", help="only this saved connection")
    ol.add_argument("--json", action="store_true", help="one JSON document instead of text")
    return parser


def names_a_command(args: Sequence[str]) -> bool:
    """False when ``args`` are only the window's own options, spelled out (each value
    right after its option, or after "="); True for anything else: a sub-command, help,
    an abbreviation (``--hel``), a word argparse would have to judge. The parser built for
    True parses every command line."""
    value_next = False
    for arg in args:
        if value_next:
            value_next = False
        elif arg in _WINDOW_VALUE_OPTIONS:
            value_next = True
        elif arg not in _WINDOW_FLAGS and arg.partition("=")[0] not in _WINDOW_VALUE_OPTIONS:
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: parse the command line once and run it.

    Args:
        argv: the arguments without the program name (``sys.argv[1:]`` when None).

    Returns:
        The exit code (``--help``, ``--version`` and argparse's usage errors exit through
        ``SystemExit`` as usual).
    """
    # Before anything imports qasync: it picks its Qt binding from QT_API.
    os.environ["QT_API"] = "pyside6"
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(commands=names_a_command(args))
    ns = parser.parse_args(args)
    if ns.command is None:
        from makini_desktop.app import run as run_window

        return run_window(ns)
    try:
        if ns.command == "sandbox":
            from makini_desktop.sandbox.cli import run_sandbox_command

            return run_sandbox_command(ns)
        if ns.command == "export":
            return run_export(ns)
        if ns.command == "connection":
            from makini_desktop.cli_connections import run_connection_command

            return run_connection_command(ns)
        if ns.command == "cache":
            from makini_desktop.cli_cache import run_cache_command

            return run_cache_command(ns)
        if ns.command == "outbox":
            from makini_desktop.cli_outbox import run_outbox_command

            return run_outbox_command(ns)
    except UsageError as exc:
        print(f"makini-desktop: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {ns.command}")
    return EXIT_USAGE


def _is_terminal(stream: Any) -> bool:
    """True for a terminal; a windowed Windows build has no stderr at all (None)."""
    return stream is not None and stream.isatty()


class _Progress:
    """A progress line on stderr, only when stderr is a terminal."""

    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.enabled = _is_terminal(sys.stderr)
        self.rows = 0

    def page(self, number: int, last: int | None, rows: int) -> None:
        self.rows += rows
        if self.enabled:
            of = f" of {last}" if last else ""
            sys.stderr.write(f"\r{self.resource}: page {number}{of}, {self.rows:,} rows ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run_export(ns: argparse.Namespace) -> int:
    """``makini-desktop export``: fetch a whole list and write it atomically.

    CSV and XLSX get the table the tab shows (its default columns, or a saved view's);
    ``--raw`` and JSON get the API's records. ``--search``, ``--building`` and ``--view``
    select (and, for the table, order) the rows as the tab would.
    """
    from makini_desktop.api.errors import InsecureUrlError, MakiniError
    from makini_desktop.api.resources import VIEWS
    from makini_desktop.cli_export import lookup_views, needs_table, saved_view, select_rows
    from makini_desktop.export import format_for_path, write_export
    from makini_desktop.export_human import HumanTable, write_human_export

    view = VIEWS[ns.resource]
    fmt = ns.format or format_for_path(ns.output)
    ns.fmt = fmt
    view_state = saved_view(ns.resource, ns.view) if ns.view else None
    table = needs_table(ns)
    lookups: list[Any] = lookup_views(view) if table else []
    if ns.offline:
        from makini_desktop.cli_cache import load_offline_rows, load_offline_view

        rows: list[Any] = load_offline_rows(ns, view)
        extra = [load_offline_view(ns, v) for v in lookups]
    else:
        base_url, token = _resolve_connection(ns)
        progress = _Progress(ns.resource)
        try:
            rows, *extra = asyncio.run(_fetch(base_url, token, [view, *lookups], progress))
        except InsecureUrlError as exc:
            raise UsageError(str(exc)) from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except MakiniError as exc:
            progress.done()
            print(f"error: {exc.one_line()}", file=sys.stderr)
            return EXIT_FAILED
        progress.done()
    human = None
    if table:
        lookup_rows: dict[str, list[Any]] = {}
        for other, records in zip(lookups, extra, strict=True):
            lookup_rows.setdefault(other.dataset.name, []).extend(records)
        choice = select_rows(view, rows, lookup_rows, search=ns.search, building=ns.building,
                             view_state=view_state, sort=not ns.raw or view_state is not None)
        rows = choice.rows
        if not ns.raw and fmt in ("csv", "xlsx"):
            human = HumanTable(choice.cells, choice.columns)
    try:
        if human is not None:
            written = write_human_export(ns.output, fmt, human, rows, title=view.title)
        else:
            written = write_export(ns.output, fmt, view, rows)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"error: could not write {ns.output}: {reason}", file=sys.stderr)
        return EXIT_FAILED
    if (note := written.note()) is not None:
        print(f"note: {note}", file=sys.stderr)
    if ns.output != "-" and _is_terminal(sys.stderr):
        print(f"Wrote {len(rows):,} {view.noun[1]} to {ns.output}", file=sys.stderr)
    return EXIT_OK


def _resolve_connection(ns: argparse.Namespace) -> tuple[str, str]:
    if ns.base_url:
        return ns.base_url, read_token_from_env()
    if ns.connection:
        from makini_desktop.cli_connections import saved_connection

        return saved_connection(ns.connection)
    raise UsageError("give --base-url URL (token from $MAKINI_API_TOKEN) or --connection NAME")


async def _fetch(
    base_url: str, token: str, views: list[Any], progress: _Progress
) -> list[list[Any]]:
    """Every row of each view (the first is the one exported; the others name what its
    cells refer to), each walked again once if it did not arrive whole, then reported
    (:meth:`~makini_desktop.api.client.MakiniClient.fetch_view`)."""
    from makini_desktop.api.client import MakiniClient

    def on_page(page: Any) -> None:
        if page.number == 1:
            progress.rows = 0  # a walk made again counts from the start
        progress.page(page.number, page.last_page, len(page.rows))

    async with MakiniClient(base_url, token) as client:
        first = await client.fetch_view(views[0], on_page=on_page)
        rest = [await client.fetch_view(v) for v in views[1:]]
    return [first, *rest]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The command line is parsed in one place (cli.py), and app.py never imports cli.py."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import makini_desktop
from makini_desktop import app, cli

PACKAGE = Path(makini_desktop.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from a import b``
    counts as both ``a`` and ``a.b``, since ``b`` may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_of_the_package_imports_cli() -> None:
    """cli.py is the top: app.py, the cli_*.py commands and everything else never import it
    (not even inside a function), so no import cycle can run through it."""
    importers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "cli.py" and "makini_desktop.cli" in _imported_modules(path)
    ]
    assert importers == []


def test_importing_the_app_does_not_import_cli() -> None:
    """A fresh interpreter that imports makini_desktop.app has not loaded makini_desktop.cli."""
    code = "import sys, makini_desktop.app\nprint('makini_desktop.cli' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_the_window_gets_the_namespace_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`makini-desktop --demo` parses its arguments once and hands that namespace to app.run."""
    parses: list[list[str]] = []
    real_parse = argparse.ArgumentParser.parse_args

    def counting_parse(self: argparse.ArgumentParser, args=None, namespace=None):
        parses.append(list(args or []))
        return real_parse(self, args, namespace)

    runs: list[argparse.Namespace] = []

    def fake_run(ns: argparse.Namespace) -> int:
        runs.append(ns)
        return 0

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", counting_parse)
    monkeypatch.setattr(app, "run", fake_run)
    assert cli.main(["--demo", "--screenshots", "shots"]) == 0
    assert parses == [["--demo", "--screenshots", "shots"]]
    assert len(runs) == 1
    assert runs[0].command is None and runs[0].demo and runs[0].screenshots == "shots"


def test_a_start_up_error_of_the_window_exits_2_through_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--base-url without MAKINI_API_TOKEN: cli.main returns app.run's usage exit code."""
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    shown: list[str] = []
    monkeypatch.setattr(app, "show_startup_error_box", shown.append)
    assert cli.main(["--base-url", "https://api.makini.io"]) == cli.EXIT_USAGE
    assert cli.TOKEN_ENV in capsys.readouterr().err
    assert len(shown) == 1


def test_parsing_the_command_line_loads_no_sandbox_server():
    """The window's start parses its arguments without importing the sandbox's server or
    data generator (they cost a quarter of a second); only `sandbox` itself loads them."""
    import ast

    code = ("import sys, makini_desktop.cli as cli; cli.build_parser().parse_args(['--demo']); "
            "print(sorted(m for m in sys.modules if m.startswith('makini_desktop.sandbox.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = ast.literal_eval(out)  # the module names the child printed
    assert "makini_desktop.sandbox.server" not in loaded
    assert "makini_desktop.sandbox.data" not in loaded
    assert "makini_desktop.sandbox.options" in loaded


WINDOW_LINES = [
    [],
    ["--demo"],
    ["--base-url", "http://127.0.0.1:8765"],
    ["--base-url=http://127.0.0.1:8765", "--screenshots", "/tmp/shots"],
    ["--connection", "export"],  # a saved connection named like a sub-command
    ["--connection", "--odd name"],
]
COMMAND_LINES = [
    ["export", "assets", "-o", "-"],
    ["sandbox", "--scale", "small"],
    ["cache", "info"],
    ["--help"],
    ["-h"],
    ["--base", "http://127.0.0.1:8765"],  # an abbreviation: argparse judges it
    ["--demo", "stray"],
    ["--hel"],  # argparse expands it to --help, whose text lists the sub-commands
    ["--dem"],
    ["--no-such-option"],
]


@pytest.mark.parametrize("args", WINDOW_LINES)
def test_a_window_command_line_parses_the_same_without_the_sub_commands(args) -> None:
    """A command line of window options alone is parsed by the parser without the
    sub-commands' parsers, to the same namespace the whole parser gives."""
    assert cli.names_a_command(args) is False
    lean = cli.build_parser(commands=False).parse_args(args)
    assert vars(lean) == vars(cli.build_parser().parse_args(args))
    assert lean.command is None


@pytest.mark.parametrize("args", COMMAND_LINES)
def test_anything_else_gets_the_whole_parser(args) -> None:
    """A sub-command, help, an abbreviation, an unknown option or a stray word is left to
    the whole parser."""
    assert cli.names_a_command(args) is True


def test_an_unknown_option_fails_alike_with_either_parser(capsys) -> None:
    """An option neither parser knows is refused with the same message."""
    messages = []
    for parser in (cli.build_parser(commands=False), cli.build_parser()):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(["--no-such-option"])
        assert exc.value.code == 2
        messages.append(capsys.readouterr().err.splitlines()[-1])
    assert messages[0] == messages[1]
    assert "unrecognized arguments: --no-such-option" in messages[0]


MAX_MODULE_LINES = 600
GENERATED = {PACKAGE / "sandbox" / "names.py"}  # the sandbox's generated name lists


def test_no_module_of_the_package_is_over_600_lines() -> None:
    """Every module stays a room a newcomer can read (the generated name lists excepted)."""
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if path not in GENERATED
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}

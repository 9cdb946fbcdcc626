"""The sandbox command: options, the first stdout line, and a clean stop on SIGTERM."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.cli import (
    add_sandbox_arguments,
    config_from_namespace,
    run_sandbox_command,
)
from makini_desktop.sandbox.faults import Fault

FIRST_LINE = re.compile(r"^Makini sandbox on (http://127\.0\.0\.1:\d+)((?: token \S+)+)$")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    return parser.parse_args(argv)


def test_defaults() -> None:
    """By default: loopback, a free port, medium scale, seed 42, the sandbox token, admin on."""
    cfg = config_from_namespace(parse())
    assert (cfg.host, cfg.port, cfg.scale, cfg.seed) == ("127.0.0.1", 0, "medium", 42)
    assert cfg.tokens == ("sandbox-token",)
    assert (cfg.rate_limit, cfg.latency_ms, cfg.faults, cfg.admin) == (None, 0, (), True)


def test_all_options() -> None:
    """Every option reaches the config; tokens and faults repeat."""
    cfg = config_from_namespace(parse(
        "--host", "::1", "--port", "8123", "--scale", "large", "--seed", "7", "--token", "a",
        "--token", "b", "--rate-limit", "120", "--latency-ms", "30", "--fault", "503:p=0.1",
        "--fault", "reset:count=1", "--no-admin",
    ))
    assert (cfg.host, cfg.port, cfg.scale, cfg.seed) == ("::1", 8123, "large", 7)
    assert cfg.tokens == ("a", "b")
    assert (cfg.rate_limit, cfg.latency_ms, cfg.admin) == (120, 30, False)
    assert [f.spec() for f in cfg.faults if isinstance(f, Fault)] == ["503:p=0.1",
                                                                      "reset:count=1"]


@pytest.mark.parametrize("argv", [
    ("--fault", "teapot"), ("--rate-limit", "0"), ("--scale", "huge"), ("--port", "-1"),
])
def test_bad_options_exit_2(argv: tuple[str, ...]) -> None:
    """Invalid options are argparse errors (exit status 2)."""
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


def test_run_prints_the_first_line_and_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints where it listens first and returns 0 when told to stop."""
    stop = threading.Event()
    stop.set()
    assert run_sandbox_command(parse("--scale", "small", "--token", "x", "--token", "y"),
                               stop=stop) == 0
    out, err = capsys.readouterr()
    match = FIRST_LINE.match(out.splitlines()[0])
    assert match and match.group(2) == " token x token y"
    assert "Ctrl+C" in err


def test_run_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    """A port that cannot be bound gives exit status 1 and a message."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code = run_sandbox_command(parse("--scale", "small", "--port", str(port)))
    assert code == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM semantics are POSIX")
def test_module_serves_until_sigterm() -> None:
    """python -m makini_desktop.sandbox serves, answers, and exits 0 on SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "makini_desktop.sandbox", "--scale", "small", "--token", "t1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().rstrip("\n")
        match = FIRST_LINE.match(line)
        assert match, line
        response = httpx.get(match.group(1) + res.INTEGRATION_PATH,
                             headers={"Authorization": "Bearer t1"})
        assert response.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_start_up_guide_lists_the_faults_and_links_a_page_that_answers() -> None:
    """The guide names every fault in force, and its test-controls URL opens a page."""
    from makini_desktop.sandbox.cli import startup_guide
    from makini_desktop.sandbox.server import SandboxServer

    cfg = config_from_namespace(parse("--scale", "small", "--fault", "503:p=0.05",
                                      "--fault", "latency:ms=50"))
    with SandboxServer(cfg) as server:
        guide = startup_guide(server)
        assert "Faults in force: 503:p=0.05, latency:ms=50" in guide
        urls = re.findall(r"https?://\S+", guide)
        controls = [u for u in urls if "__sandbox__" in u]
        assert len(controls) == 1
        page = httpx.get(controls[0])  # exactly as a terminal would open it
        assert page.status_code == 200 and "503" in page.text
        server.clear_faults()
        assert "No faults injected." in startup_guide(server)

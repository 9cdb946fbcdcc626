"""The ``makini-desktop sandbox`` command: run the Makini stand-in until interrupted.

The app's ``cli.py`` adds these arguments to its ``sandbox`` sub-command and calls
:func:`run_sandbox_command`; ``python -m makini_desktop.sandbox`` runs the same thing alone.

The first line on stdout is machine-readable, so scripts and tests can start the command and
read where it listens::

    Makini sandbox on http://127.0.0.1:53124 token sandbox-token

Argument destinations are prefixed ``sandbox_`` so they cannot collide with options of the
parent parser (which may well have its own ``--token``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from makini_desktop.api.urls import is_loopback_host
from makini_desktop.sandbox.options import DEFAULT_TOKEN, add_sandbox_arguments
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer


def config_from_namespace(ns: argparse.Namespace) -> SandboxConfig:
    """The :class:`SandboxConfig` the parsed options describe."""
    tokens = tuple(dict.fromkeys(ns.sandbox_tokens or [DEFAULT_TOKEN]))
    return SandboxConfig(
        host=ns.sandbox_host,
        port=ns.sandbox_port,
        scale=ns.sandbox_scale,
        seed=ns.sandbox_seed,
        tokens=tokens,
        rate_limit=ns.sandbox_rate_limit,
        latency_ms=ns.sandbox_latency_ms,
        faults=tuple(ns.sandbox_faults or ()),
        admin=ns.sandbox_admin,
        read_only=tuple(dict.fromkeys(getattr(ns, "sandbox_read_only", None) or ())),
    )


def run_sandbox_command(ns: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set); the process exit code.

    Prints ``Makini sandbox on <url> token <tok>[ token <tok2>...]`` as the first line of
    stdout once listening, then a short guide on stderr.

    Args:
        ns: options parsed with :func:`add_sandbox_arguments`.
        stop: an event that ends the command when set (for embedding and tests; signals
            are only handled when called from the main thread).
    """
    cfg = config_from_namespace(ns)
    if not is_loopback_host(cfg.host):
        print(f"warning: listening on {cfg.host}, not loopback: the sandbox speaks plain HTTP "
              "and anyone who can reach it can read its tokens off the wire.", file=sys.stderr)
    server = SandboxServer(cfg)
    try:
        server.start()
    except OSError as exc:
        print(f"makini-desktop sandbox: cannot listen on {cfg.host}:{cfg.port}: {exc}",
              file=sys.stderr)
        return 1
    done = stop if stop is not None else threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if signum is not None:
                previous[signum] = signal.signal(signum, on_signal)
    try:
        tokens = " ".join(f"token {t}" for t in cfg.tokens)
        print(f"Makini sandbox on {server.url} {tokens}", flush=True)
        print(startup_guide(server), file=sys.stderr, flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not done.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.stop()
    print("Makini sandbox stopped.", file=sys.stderr, flush=True)
    return 0


def startup_guide(server: SandboxServer) -> str:
    """What the sandbox prints under its first line: its data, how to connect, the faults
    in force and where its test controls are (the URL alone on its line, no full stop after
    it, so a terminal that makes links of URLs opens the page itself)."""
    cfg = server.config
    counts = server.data.counts()
    faults = [f.spec() for f in server.faults]
    lines = [
        f"Scale {cfg.scale}, seed {cfg.seed}: "
        + ", ".join(f"{n:,} {name}" for name, n in counts.items()) + ".",
        f"Add a connection in makini-desktop with base URL {server.url} and the token above.",
        "Faults in force: " + ", ".join(faults) if faults else "No faults injected.",
    ]
    if cfg.rate_limit:
        lines.append(f"Rate limit: {cfg.rate_limit} requests a minute per token.")
    if cfg.read_only:
        lines.append("Read-only (their writes answer 405): " + ", ".join(cfg.read_only) + ".")
    if cfg.admin:
        lines.append(f"Test controls (faults, latency, rate limit): {server.url}/__sandbox__/")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def run_from_args(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the sandbox: ``python -m``'s entry."""
    parser = argparse.ArgumentParser(
        prog="python -m makini_desktop.sandbox",
        description="Run the built-in Makini API stand-in on loopback.",
    )
    add_sandbox_arguments(parser)
    return run_sandbox_command(parser.parse_args(argv))

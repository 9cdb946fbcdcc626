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
from makini_desktop.sandbox.data import SCALES
from makini_desktop.sandbox.faults import FAULT_KINDS, Fault, describe_faults, parse_fault_spec
from makini_desktop.sandbox.server import DEFAULT_TOKEN, SandboxConfig, SandboxServer


def _fault_arg(text: str) -> Fault:
    try:
        return parse_fault_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox command's options to a parser (or sub-parser), with every fault kind
    and key explained after the options."""
    parser.epilog = describe_faults()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--host", dest="sandbox_host", default="127.0.0.1", metavar="HOST",
                        help="interface to listen on (default 127.0.0.1; keep it loopback)")
    parser.add_argument("--port", dest="sandbox_port", type=_non_negative, default=0,
                        metavar="PORT", help="TCP port (default 0: a free port)")
    parser.add_argument("--scale", dest="sandbox_scale", choices=tuple(SCALES),
                        default="medium", help="amount of data (default medium)")
    parser.add_argument("--seed", dest="sandbox_seed", type=int, default=42, metavar="N",
                        help="data seed (default 42)")
    parser.add_argument("--token", dest="sandbox_tokens", action="append", metavar="TOKEN",
                        help=f"accepted bearer token, repeatable (default {DEFAULT_TOKEN})")
    parser.add_argument("--rate-limit", dest="sandbox_rate_limit", type=_positive,
                        metavar="PER_MIN", help="requests per minute per token (default none)")
    parser.add_argument("--latency-ms", dest="sandbox_latency_ms", type=_non_negative,
                        default=0, metavar="N", help="delay added to every API response")
    parser.add_argument("--fault", dest="sandbox_faults", action="append", type=_fault_arg,
                        metavar="SPEC",
                        help="inject a fault, repeatable: KIND[:key=val,...] with KIND one of "
                             f"{', '.join(FAULT_KINDS)} (e.g. 503:p=0.1,retry_after=2; "
                             "every kind and key is explained below)")
    parser.add_argument("--no-admin", dest="sandbox_admin", action="store_false",
                        help="do not serve the /__sandbox__/ control endpoints")


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

"""The sandbox command's options: light to import, so the app's one argument parser can
offer ``makini-desktop sandbox`` without loading the server (the window's start stays fast).

Argument destinations are prefixed ``sandbox_`` so they cannot collide with options of the
parent parser (which may well have its own ``--token``).
"""

from __future__ import annotations

import argparse
from typing import Final

from makini_desktop.sandbox.faults import FAULT_KINDS, Fault, describe_faults, parse_fault_spec
from makini_desktop.sandbox.scales import SCALES

DEFAULT_TOKEN: Final = "sandbox-token"
"""The bearer token the sandbox accepts unless told otherwise."""

WRITE_MODULES: Final = {"moves": "moves", "visitors": "visits"}
"""The modules with writes (contract §6), as ``--read-only`` names them -> their dataset."""


def write_dataset(module: str) -> str:
    """The dataset of a module with writes: ``visitors`` (or ``visits``) and ``moves``.

    Raises:
        ValueError: not a module with writes.
    """
    word = module.strip().lower()
    if word in WRITE_MODULES:
        return WRITE_MODULES[word]
    if word in WRITE_MODULES.values():
        return word
    raise ValueError(f"unknown module {module!r}; expected one of {', '.join(WRITE_MODULES)}")


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
    parser.add_argument("--read-only", dest="sandbox_read_only", action="append",
                        choices=tuple(WRITE_MODULES), metavar="MODULE",
                        help="run without that module's writes, repeatable: "
                             f"{' or '.join(WRITE_MODULES)}; its status changes (and "
                             "registrations) answer 405, as a system that does not offer "
                             "them would")
    parser.add_argument("--no-admin", dest="sandbox_admin", action="store_false",
                        help="do not serve the /__sandbox__/ control endpoints")


__all__ = ["DEFAULT_TOKEN", "WRITE_MODULES", "add_sandbox_arguments", "write_dataset"]

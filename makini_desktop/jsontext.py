"""JSON text for records of any depth: the standard library first, a loop when it recurses.

The standard ``json`` module recurses once per nesting level and stops at the interpreter's
recursion limit (about 1,000 levels, fewer on a deep call stack) with a ``RecursionError``.
A record the client managed to parse can still be too deep for a later step that runs on a
deeper stack, or a record built in memory can be deeper still. :func:`dumps` and
:func:`loads` give the standard module's exact output, and fall back to an explicit-stack
encoder and decoder (slower, never recursive) only for a value that is too deep for it.

No Qt, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.encoder import encode_basestring, encode_basestring_ascii
from json.scanner import NUMBER_RE
from typing import Any

# The C string scanner json's decoder uses (not recursive); typeshed does not export it.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

__all__ = ["LONE_SURROGATE", "dumps", "loads"]

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate code point on its own: legal in JSON text (``"\\ud800"``), not in UTF-8. The
cache escapes it (lossless); exports replace it where their format cannot carry it."""

_WS = re.compile(r"[ \t\n\r]*")


def dumps(
    value: Any,
    *,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """``json.dumps`` of JSON data (dicts, lists, str, numbers, bool, None), at any depth.

    Raises:
        TypeError: a value that is not JSON data.
    """
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)
    except RecursionError:
        item_sep, key_sep = separators or ((", ", ": ") if indent is None else (",", ": "))
        return _dumps_loop(value, ensure_ascii, indent, item_sep, key_sep, sort_keys)


def loads(text: str) -> Any:
    """``json.loads`` of a text, at any depth.

    Raises:
        ValueError: the text is not JSON.
    """
    try:
        return json.loads(text)
    except RecursionError:
        return _loads_loop(text)


# -- encoding ---------------------------------------------------------------------------------


def _scalar(value: Any, string: Any) -> str:
    if isinstance(value, str):
        return str(string(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any, string: Any) -> str:
    if isinstance(key, str):
        return str(string(key))
    if isinstance(key, bool) or key is None or isinstance(key, int | float):
        return str(string(_scalar(key, string)))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _dumps_loop(
    value: Any, ensure_ascii: bool, indent: int | None, item_sep: str, key_sep: str,
    sort_keys: bool,
) -> str:
    string = encode_basestring_ascii if ensure_ascii else encode_basestring
    out: list[str] = []

    def newline(level: int) -> str:
        return "" if indent is None else "\n" + " " * (indent * level)

    # Each frame: (iterator over the container's items, is_dict, level, first item written)
    stack: list[list[Any]] = []
    pending: Any = value
    have_value = True
    while True:
        if have_value:
            have_value = False
            if isinstance(pending, dict):
                if not pending:
                    out.append("{}")
                else:
                    items = sorted(pending.items()) if sort_keys else list(pending.items())
                    out.append("{")
                    stack.append([iter(items), True, len(stack) + 1, False])
            elif isinstance(pending, list | tuple):
                if not pending:
                    out.append("[]")
                else:
                    out.append("[")
                    stack.append([iter(pending), False, len(stack) + 1, False])
            else:
                out.append(_scalar(pending, string))
        if not stack:
            return "".join(out)
        frame = stack[-1]
        items, is_dict, level, started = frame
        item: Any = next(items, _END)
        if item is _END:
            stack.pop()
            out.append(newline(level - 1) + ("}" if is_dict else "]"))
            continue
        if started:
            out.append(item_sep)
        frame[3] = True
        out.append(newline(level))
        if is_dict:
            out.append(_key(item[0], string) + key_sep)
            pending = item[1]
        else:
            pending = item
        have_value = True


_END = object()


# -- decoding ---------------------------------------------------------------------------------

_LITERALS = (("null", None), ("true", True), ("false", False), ("NaN", float("nan")),
             ("Infinity", float("inf")), ("-Infinity", float("-inf")))


def _ws(text: str, idx: int) -> int:
    match = _WS.match(text, idx)
    return match.end() if match else idx


def _fail(text: str, idx: int) -> ValueError:
    return json.JSONDecodeError("Expecting value", text, min(idx, len(text)))


def _read_key(text: str, idx: int) -> tuple[str, int]:
    if text[idx:idx + 1] != '"':
        raise _fail(text, idx)
    key, idx = _scanstring(text, idx + 1)
    idx = _ws(text, idx)
    if text[idx:idx + 1] != ":":
        raise _fail(text, idx)
    return key, _ws(text, idx + 1)


def _scalar_at(text: str, idx: int) -> tuple[Any, int]:
    ch = text[idx:idx + 1]
    if ch == '"':
        return _scanstring(text, idx + 1)
    match = NUMBER_RE.match(text, idx)
    if match is not None and match.end() > idx:
        integer, frac, exp = match.groups()
        if frac or exp:
            return float(integer + (frac or "") + (exp or "")), match.end()
        return int(integer), match.end()
    for word, literal in _LITERALS:
        if text.startswith(word, idx):
            return literal, idx + len(word)
    raise _fail(text, idx)


def _loads_loop(text: str) -> Any:
    # Each frame: [container, the key its next value goes under (objects)]
    stack: list[list[Any]] = []
    idx = _ws(text, 0)
    while True:
        ch = text[idx:idx + 1]
        if ch in ("{", "["):
            idx = _ws(text, idx + 1)
            close = "}" if ch == "{" else "]"
            if text[idx:idx + 1] == close:
                value: Any = {} if ch == "{" else []
                idx += 1
            elif ch == "{":
                key, idx = _read_key(text, idx)
                stack.append([{}, key])
                continue
            else:
                stack.append([[], None])
                continue
        else:
            value, idx = _scalar_at(text, idx)
        # A value is complete: hand it to its container, closing those that end here.
        while True:
            if not stack:
                idx = _ws(text, idx)
                if idx != len(text):
                    raise json.JSONDecodeError("Extra data", text, idx)
                return value
            frame = stack[-1]
            container = frame[0]
            if isinstance(container, dict):
                container[frame[1]] = value
            else:
                container.append(value)
            idx = _ws(text, idx)
            ch = text[idx:idx + 1]
            if ch == ",":
                idx = _ws(text, idx + 1)
                if isinstance(container, dict):
                    frame[1], idx = _read_key(text, idx)
                break
            if ch == ("}" if isinstance(container, dict) else "]"):
                idx += 1
                stack.pop()
                value = container
                continue
            raise _fail(text, idx)

"""JSON text for records of any depth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from makini_desktop import jsontext

SAMPLE: Any = {"key": "1", "name": "Büro \"Nord\"\n", "n": [1, -2.5, 1e300, True, None],
               "address": {"city": "Zürich", "lines": []}, "empty": {}, "z": "\ud800"}


def _deep(depth: int) -> Any:
    value: Any = 0
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("kw", [{}, {"indent": 1}, {"separators": (",", ":"), "sort_keys": True},
                                {"ensure_ascii": True, "indent": 2}])
def test_text_is_the_standard_modules_at_any_depth(kw):
    """Deep or not, the text is what json.dumps gives for the same value at a shallow depth."""
    inner = jsontext.dumps(SAMPLE, **kw)
    assert inner == json.dumps(SAMPLE, ensure_ascii=kw.get("ensure_ascii", False),
                               indent=kw.get("indent"), separators=kw.get("separators"),
                               sort_keys=kw.get("sort_keys", False))
    wrapped = jsontext.dumps([[SAMPLE]] + [_deep(2000)], separators=(",", ":"))
    assert wrapped.startswith("[[" + json.dumps(SAMPLE, ensure_ascii=False,
                                                separators=(",", ":")) + "]")


def test_a_value_nested_100000_deep_round_trips():
    """Text nested 100,000 deep is written and read back, without a RecursionError."""
    text = jsontext.dumps(_deep(100_000), separators=(",", ":"))
    assert text.count("[") == 50_000 and text.count("{") == 50_000
    assert jsontext.dumps(jsontext.loads(text), separators=(",", ":")) == text


@pytest.mark.parametrize("bad", ["", "[", "[1,]", '{"a" 1}', "[1] x", '{"a":1,}', "tru"])
def test_text_that_is_not_json_is_a_value_error_at_any_depth(bad):
    """Broken text is a ValueError whether or not it is deep."""
    with pytest.raises(ValueError):
        jsontext.loads("[" * 5000 + bad)

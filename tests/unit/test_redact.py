"""Scrubbing secrets out of text keeps the text around them readable."""

from __future__ import annotations

import pytest

from makini_desktop.api.errors import error_from_response, shorten
from makini_desktop.redact import MASK, scrub

TOKEN = "sk_live_0123456789abcdef"


@pytest.mark.parametrize("template, expected", [
    ("Upstream call failed (sent as Authorization: Bearer {t}).",
     "Upstream call failed (sent as Authorization: Bearer ***)."),
    ("headers={{'Authorization': 'Bearer {t}'}}", "headers={'Authorization': 'Bearer ***'}"),
    ("Authorization: {t}, then more", "Authorization: ***, then more"),
    ('authorization="Basic {t}" next', 'authorization="Basic ***" next'),
])
def test_a_masked_credential_keeps_the_sentence_around_it(template: str, expected: str):
    """Only the credential is masked: the punctuation and words after it stay."""
    assert scrub(template.format(t=TOKEN)) == expected
    assert scrub(expected) == expected  # scrubbing twice changes nothing


def test_a_cut_excerpt_ends_on_a_whole_word_with_an_ellipsis():
    """A long non-JSON error page is cut between words, and says it was cut."""
    page = ("<html><body><pre>credential: " + TOKEN + "</pre><hr>" + "nginx " * 40
            + "</body></html>").encode()
    err = error_from_response(502, "Bad Gateway", {"x-request-id": "r1"}, page,
                              secrets=(TOKEN,))
    assert TOKEN not in err.message and MASK in err.message
    inner = err.message.split("not JSON: ", 1)[1].rstrip(")")
    assert inner.endswith("…")
    assert all(word in ("credential:", MASK, "nginx") for word in inner[:-1].split())
    assert shorten("short", 80) == "short"

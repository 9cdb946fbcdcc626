"""Base URL validation (makini_desktop.api.urls), used by the profiles and the API client."""

from __future__ import annotations

import pytest

from makini_desktop.api.errors import InsecureUrlError
from makini_desktop.api.urls import InvalidBaseUrl, is_loopback_host, validate_base_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.makini.io", "https://api.makini.io"),
        ("  https://api.makini.io/  ", "https://api.makini.io"),
        ("HTTPS://API.Makini.IO:443/", "https://api.makini.io"),
        ("https://api.makini.io:8443", "https://api.makini.io:8443"),
        ("https://proxy.corp.example/makini/", "https://proxy.corp.example/makini"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("https://10.1.2.3", "https://10.1.2.3"),
        ("http://localhost:8765", "http://localhost:8765"),
        ("http://LOCALHOST./", "http://localhost"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://127.0.0.5", "http://127.0.0.5"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("http://localhost:80", "http://localhost"),
    ],
)
def test_valid_urls_are_normalised(url: str, expected: str) -> None:
    """https anywhere and http to loopback are accepted and normalised."""
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.makini.io",
        "http://10.0.0.5:8080",
        "http://[2001:db8::1]",
        "http://128.0.0.1",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
    ],
)
def test_http_to_remote_host_is_insecure(url: str) -> None:
    """http:// to anything but loopback raises InsecureUrlError naming the host."""
    with pytest.raises(InsecureUrlError) as info:
        validate_base_url(url)
    assert str(info.value).startswith("Use https:// — a token must never travel in clear text")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@api.makini.io",
        "https://user@api.makini.io",
        "http://user:pass@localhost:8765",
    ],
)
def test_credentials_in_url_rejected_without_echo(url: str) -> None:
    """A user name or password in the URL is refused and never repeated in the message."""
    with pytest.raises(InvalidBaseUrl) as info:
        validate_base_url(url)
    assert "pass" not in str(info.value).replace("password", "")
    assert "user:" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "garbage",
        "api.makini.io",
        "localhost:8765",
        "ftp://api.makini.io",
        "https://",
        "https:///path",
        "https:/api.makini.io",
        "https://api.makini.io/?x=1",
        "https://api.makini.io/#top",
        "https://api makini.io",
        "https://api.makini.io:99999",
        "https://api.makini.io:0",
        "https://api.makini.io:abc",
        "https://exa_mple..com",
        "https://-bad-.example",
        "https:\\\\api.makini.io",
        "https://api.makini.io/\nx",
    ],
)
def test_garbage_rejected(url: str) -> None:
    """Anything that is not http(s)://host[:port][/path] raises InvalidBaseUrl (a ValueError)."""
    with pytest.raises(InvalidBaseUrl):
        validate_base_url(url)
    assert issubclass(InvalidBaseUrl, ValueError)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LocalHost", True),
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("128.0.0.1", False),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("localhost.example", False),
        ("api.makini.io", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    """Only localhost, 127.0.0.0/8 and ::1 count as loopback."""
    assert is_loopback_host(host) is loopback

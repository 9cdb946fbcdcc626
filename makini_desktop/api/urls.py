"""Checking and normalising a connection's base URL (contract §1).

A token must never travel in clear text: ``http://`` is accepted only for loopback hosts (the
built-in sandbox), every other host needs ``https://``. This module has no Qt and no store
imports so that both the API client (before it sends anything) and the connection profiles
(before they save anything) use the same rule.

Error messages never repeat the URL itself: a pasted URL may carry a user name and password.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from makini_desktop.api.errors import InsecureUrlError

__all__ = ["InsecureUrlError", "InvalidBaseUrl", "is_loopback_host", "validate_base_url"]

_EXAMPLE = "https://api.makini.io"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# One DNS label: letters, digits, hyphens inside, underscores tolerated (some intranets).
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


class InvalidBaseUrl(ValueError):  # noqa: N818 - the public name others already use
    """A base URL that is not a usable ``http(s)://host[:port][/path]`` address.

    The message is written for the person who typed the URL and never contains it.
    """


def is_loopback_host(host: str) -> bool:
    """True if ``host`` names this computer: ``localhost``, 127.0.0.0/8 or ``::1``.

    Brackets around an IPv6 literal (``[::1]``), letter case and a trailing dot are ignored.
    Names that merely resolve to a loopback address (``myhost`` in a hosts file) do not count:
    only what is loopback by definition is trusted with a clear-text token.

    Args:
        host: a host name or IP literal, as found in a URL.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    name = name.rstrip(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is the IPv4 loopback seen through an IPv6 socket.
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _check_host(host: str) -> str:
    """The host in the ASCII form used on the wire, or InvalidBaseUrl."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return host
    name = host.rstrip(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidBaseUrl("The server name in the address is not valid.") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InvalidBaseUrl("The server name in the address is not valid.")
    return name


def validate_base_url(url: str) -> str:
    """Check a connection's base URL and return it normalised.

    Normalised means: scheme and host in lower case, an IDN host in its ASCII form, the
    scheme's default port dropped, no trailing slash. A path is kept (a reverse proxy may
    publish the API under a prefix).

    Args:
        url: the address as the user typed or pasted it.

    Returns:
        The normalised URL, e.g. ``https://api.makini.io``.

    Raises:
        InsecureUrlError: ``http://`` to a host that is not loopback.
        InvalidBaseUrl: anything else that is not ``http(s)://host[:port][/path]``, including
            a user name or password in the URL, a query string or a fragment.
    """
    text = url.strip()
    if not text:
        raise InvalidBaseUrl(f"Enter the server address, for example {_EXAMPLE}.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidBaseUrl("The address must not contain spaces or control characters.")
    if "\\" in text:
        raise InvalidBaseUrl("Use forward slashes (/) in the address.")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise InvalidBaseUrl("This is not a valid web address.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not text[len(scheme) :].startswith("://"):
        raise InvalidBaseUrl(f"The address must start with https://, for example {_EXAMPLE}.")
    if "@" in parts.netloc:
        raise InvalidBaseUrl(
            "Remove the user name and password from the address; the token is entered separately."
        )
    if "?" in text or "#" in text:
        raise InvalidBaseUrl("The address must not contain a query (?) or a fragment (#).")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise InvalidBaseUrl(f"The address has no server name, for example {_EXAMPLE}.")
    try:
        port = parts.port
    except ValueError:
        raise InvalidBaseUrl("The port in the address is not a number from 1 to 65535.") from None
    if port == 0:
        raise InvalidBaseUrl("The port in the address is not a number from 1 to 65535.")
    host = _check_host(raw_host)
    if scheme == "http" and not is_loopback_host(host):
        raise InsecureUrlError(f"Use https:// — a token must never travel in clear text to {host}")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    if path and not path.startswith("/"):  # pragma: no cover - urlsplit always gives "/..."
        path = "/" + path
    return f"{scheme}://{netloc}{path}"

"""The httpx side of :class:`~makini_desktop.api.client.MakiniClient`: built at its first
request, not with the client.

httpx, httpcore, h11, anyio and truststore take a tenth of a second and more to import. A
start from the offline cache creates its session's client at once, but sends nothing until
every tab shows its cached rows: so the client imports this module (and with it httpx) only
when it first needs its ``httpx.AsyncClient``.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx

from makini_desktop import __version__
from makini_desktop.api.errors import LocalSetupError

__all__ = ["BearerAuth", "default_ssl_context", "new_http_client"]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def default_ssl_context() -> ssl.SSLContext:
    """TLS through the OS trust store, so corporate TLS-inspection roots are honoured."""
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def new_http_client(
    base_url: str,
    token: str,
    *,
    timeout: httpx.Timeout | None,
    connections: int,
    transport: httpx.AsyncBaseTransport | None,
    trust_env: bool,
) -> httpx.AsyncClient:
    """The connection's one ``httpx.AsyncClient`` (a test's ``transport`` replaces the
    network and the TLS context; production code never passes one).

    Raises:
        LocalSetupError: ``PROXY_UNUSABLE``, a proxy variable of the environment httpx cannot
            use, or ``TLS_SETUP``, the system's certificate store unreadable (nothing was
            sent either way). Built at the first request, the client says so there, as an
            error the window shows, rather than failing the connection's opening.
    """
    kwargs: dict[str, Any] = {}
    if transport is not None:
        kwargs["transport"] = transport
    else:
        try:
            kwargs["verify"] = default_ssl_context()
        except (ssl.SSLError, OSError, ValueError) as exc:  # rare: a broken trust store
            raise LocalSetupError(
                0, "TLS_SETUP", "network",
                f"The certificate store of this computer could not be read "
                f"({type(exc).__name__}), so nothing was sent.",
            ) from None
    try:
        return httpx.AsyncClient(
            base_url=base_url,
            auth=BearerAuth(token, base_url),
            headers={
                "Accept": "application/json",
                "User-Agent": f"makini-desktop/{__version__}",
            },
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=True,
            max_redirects=5,
            limits=httpx.Limits(max_connections=connections,
                                max_keepalive_connections=connections),
            trust_env=trust_env,
            **kwargs,
        )
    except (ValueError, httpx.InvalidURL):  # a proxy URL httpx cannot use
        # httpx's own words quote the proxy URL, which may hold a user name and password:
        # the message names the variables instead (the log and the error dialog show it).
        raise LocalSetupError(
            0, "PROXY_UNUSABLE", "network",
            "The proxy settings of this computer cannot be used (check the HTTPS_PROXY, "
            "HTTP_PROXY, ALL_PROXY and NO_PROXY environment variables), so nothing was sent.",
        ) from None


class BearerAuth(httpx.Auth):
    """Adds the bearer token only to requests for the connection's own origin.

    httpx also drops the header on a redirect to another origin; this is the second lock.
    """

    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        parts = urlsplit(base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port)

    def __repr__(self) -> str:  # never show the token in a debugger or a log
        return "<BearerAuth ***>"

    def auth_flow(self, request: httpx.Request) -> Any:
        url = request.url
        if (url.scheme, url.host, url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        else:
            request.headers.pop("Authorization", None)
        yield request

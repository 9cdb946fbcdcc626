"""The sandbox's test controls: the ``/__sandbox__/`` endpoints and their HTML page.

Served only when :attr:`SandboxConfig.admin <makini_desktop.sandbox.server.SandboxConfig>`
is on, with no token needed. Each endpoint is a thin HTTP face of a public method of
:class:`~makini_desktop.sandbox.server.SandboxServer` (``set_faults``, ``revoke``,
``mutate`` ...), so a test in this process and a person with ``curl`` change the same
things the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any, Final

from makini_desktop.sandbox.faults import KEY_HELP, KIND_HELP
from makini_desktop.sandbox.http import (
    Request,
    Response,
    error_response,
    json_response,
    method_not_allowed,
)
from makini_desktop.sandbox.ratelimit import RateDecision

if TYPE_CHECKING:
    from makini_desktop.sandbox.server import SandboxServer

ADMIN_PREFIX: Final = "/__sandbox__/"

# Each control endpoint and the methods it answers.
ADMIN_ROUTES: Final[dict[str, tuple[str, ...]]] = {
    "faults": ("GET", "POST", "DELETE"),
    "stats": ("GET", "DELETE"),
    "revoke": ("POST",),
    "tokens": ("POST",),
    "mutate": ("POST",),
    "rate-limit": ("POST",),
    "latency": ("POST",),
    "sync-status": ("POST",),
    "unavailable": ("POST",),
    "read-only": ("POST",),
    "write-faults": ("POST",),
    "idempotency": ("GET", "DELETE"),
}


def handle_admin(
    server: SandboxServer, req: Request, rid: str, rate: RateDecision
) -> Response:
    """Answer a request under ``/__sandbox__/`` (test-only controls, no token needed).

    ``GET|POST|DELETE faults`` (POST body: a list of spec strings or objects; replaces),
    ``POST revoke {"token"}``, ``POST tokens {"token"}``,
    ``POST mutate {"dataset", "count", "delete_share"}`` -> ``{"keys": [...]}``,
    ``POST rate-limit {"per_minute": N|null}``, ``POST latency {"ms": N}``,
    ``GET|DELETE stats``, ``POST sync-status {"status"}``,
    ``POST unavailable {"datasets": [...]}``, ``POST read-only {"modules": ["moves"]}``
    (their writes answer 405), ``POST write-faults {"count", "status", "after_apply",
    "path", "retry_after"}`` (fail the next writes, before or after carrying them out;
    added to the faults), ``GET|DELETE idempotency`` (the log of every
    ``Idempotency-Key``: ``{"entries": [{"idempotencyKey", "record", "executed",
    "applied", "replays", ...}]}``; DELETE forgets every key).
    """
    route = req.path[len(ADMIN_PREFIX):].strip("/")
    if route == "" and req.method in ("GET", "HEAD"):
        return _test_controls_page(server, rid, rate)
    methods = ADMIN_ROUTES.get(route)
    if methods is None:
        return error_response(404, rid, "Unknown sandbox admin path.", rate)
    if req.method not in methods:
        return method_not_allowed(rid, rate, ", ".join(methods))
    body: Any = None
    if req.method == "POST":
        try:
            body = json.loads(req.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return error_response(400, rid, "The request body is not valid JSON.", rate)
    try:
        payload = _action(server, route, req.method, body)
    except (ValueError, TypeError, KeyError) as exc:
        return error_response(400, rid, f"Invalid sandbox admin request: {exc}", rate)
    return json_response(payload, rid, rate)


def _test_controls_page(server: SandboxServer, rid: str, rate: RateDecision) -> Response:
    """``GET /__sandbox__/``: the "Test controls" page the sandbox's start-up guide
    links to. What is in force (faults, latency, rate limit) and how to change it."""
    base = f"{server.url}{ADMIN_PREFIX}"
    faults = server.faults
    items = "".join(
        f"<li><code>{escape(f.spec())}</code> — hit {f.fired} of {f.matched} "
        "matching requests</li>" for f in faults
    ) or "<li>None</li>"
    limit = server.rate_limit
    examples = [
        ("Inject faults (replaces the current ones)",
         f"curl -X POST {base}faults -d '[\"503:p=0.1,retry_after=2\", \"latency:ms=200\"]'"),
        ("Remove every fault", f"curl -X DELETE {base}faults"),
        ("List the faults (JSON)", f"curl {base}faults"),
        ("Delay every API response", f"curl -X POST {base}latency -d '{{\"ms\": 50}}'"),
        ("Rate limit per token", f"curl -X POST {base}rate-limit -d '{{\"per_minute\": 60}}'"),
        ("Revoke a token (its next request gets 401)",
         f"curl -X POST {base}revoke -d '{{\"token\": \"sandbox-token\"}}'"),
        ("Change records (incremental sync)",
         f"curl -X POST {base}mutate -d '{{\"dataset\": \"assets\", \"count\": 5}}'"),
        ("Request counters", f"curl {base}stats"),
        ("Run without the moves module's writes (they answer 405)",
         f"curl -X POST {base}read-only -d '{{\"modules\": [\"moves\"]}}'"),
        ("Fail the next 2 writes with 503 before carrying them out",
         f"curl -X POST {base}write-faults -d '{{\"count\": 2, \"status\": 503}}'"),
        ("Carry the next write out, then lose its answer (502)",
         f"curl -X POST {base}write-faults -d "
         f"'{{\"count\": 1, \"status\": 502, \"after_apply\": true}}'"),
        ("What each Idempotency-Key did (executed, applied, replayed)",
         f"curl {base}idempotency"),
    ]
    rows = "".join(f"<dt>{escape(what)}</dt><dd><code>{escape(cmd)}</code></dd>"
                   for what, cmd in examples)
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Makini sandbox — test controls</title></head><body>"
        "<h1>Makini sandbox — test controls</h1>"
        "<h2>In force</h2>"
        f"<h3>Faults</h3><ul id=\"faults\">{items}</ul>"
        f"<p>Latency: {server.latency_ms} ms added to every API response.</p>"
        "<p id=\"read-only\">Writes not offered (405): "
        + (escape(", ".join(sorted(server.read_only))) or "none") + ".</p>"
        "<p>Rate limit: "
        + (f"{limit} requests per minute per token." if limit else "none.") + "</p>"
        "<h2>How to change them</h2>"
        "<p>A fault is <code>KIND[:key=value,...]</code>. The same specs work with "
        "<code>makini-desktop sandbox --fault SPEC</code>.</p>"
        f"<h3>Kinds</h3><dl id=\"kinds\">{_help_list(KIND_HELP)}</dl>"
        f"<h3>Keys</h3><dl id=\"keys\">{_help_list(KEY_HELP)}</dl>"
        f"<dl>{rows}</dl></body></html>"
    )
    return Response(200, page.encode("utf-8"), rid, "text/html; charset=utf-8",
                    rate.headers())


def _help_list(table: Mapping[str, str]) -> str:
    """One ``<dt>``/``<dd>`` pair per entry of a help table (the one ``--help`` uses)."""
    return "".join(f"<dt><code>{escape(name)}</code></dt><dd>{escape(text)}</dd>"
                   for name, text in table.items())


def _action(server: SandboxServer, route: str, method: str, body: Any) -> Any:
    """Do what a control request asks; its JSON answer."""
    obj: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    if route == "faults":
        if method == "POST":
            specs = body.get("faults") if isinstance(body, Mapping) and "faults" in body \
                else body
            if isinstance(specs, str | Mapping):
                specs = [specs]
            if not isinstance(specs, list):
                raise ValueError("expected a list of fault specs")
            server.set_faults(specs)
        elif method == "DELETE":
            server.clear_faults()
        return {"faults": [f.to_json() for f in server.faults]}
    if route == "stats":
        if method == "DELETE":
            server.reset_stats()
        return server.stats.to_json()
    if route in ("revoke", "tokens"):
        token = obj.get("token")
        if not isinstance(token, str) or not token:
            raise ValueError("expected {\"token\": \"...\"}")
        if route == "revoke":
            server.revoke(token)
        else:
            server.add_token(token)
        return {"ok": True, "tokens": len(server.tokens)}
    if route == "mutate":
        dataset = obj.get("dataset")
        if not isinstance(dataset, str):
            raise ValueError("expected a dataset name")
        count = _as_int(obj.get("count", 1), "count")
        share = obj.get("delete_share", 0.2)
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise ValueError("delete_share must be a number")
        return {"keys": server.mutate(dataset, count, float(share))}
    if route == "rate-limit":
        per_minute = obj.get("per_minute")
        server.set_rate_limit(None if per_minute is None else _as_int(per_minute, "per_minute"))
        return {"per_minute": server.rate_limit}
    if route == "latency":
        ms = _as_int(obj.get("ms", 0), "ms")
        server.set_latency(ms)
        return {"ms": ms}
    if route == "sync-status":
        server.set_sync_status(str(obj.get("status")))
        return {"sync_status": server.data.integration["sync_status"]}
    if route == "unavailable":
        datasets = obj.get("datasets", [])
        if not isinstance(datasets, list):
            raise ValueError("expected {\"datasets\": [...]}")
        server.set_unavailable(str(d) for d in datasets)
        return {"unavailable": sorted(server.unavailable)}
    if route == "read-only":
        modules = obj.get("modules", [])
        if not isinstance(modules, list):
            raise ValueError("expected {\"modules\": [\"moves\", \"visitors\"]}")
        server.set_read_only(str(m) for m in modules)
        return {"read_only": sorted(server.read_only)}
    if route == "write-faults":
        status = obj.get("status", 503)
        if not isinstance(status, int | str) or isinstance(status, bool):
            raise ValueError("status must be 429, 500, 502, 503, \"reset\" or \"truncate\"")
        retry_after = obj.get("retry_after")
        fault = server.fail_writes(
            _as_int(obj.get("count", 1), "count"), status,
            after_apply=bool(obj.get("after_apply", False)),
            path=None if obj.get("path") is None else str(obj.get("path")),
            retry_after=None if retry_after is None else _as_int(retry_after, "retry_after"),
        )
        return {"added": fault.to_json(), "faults": [f.to_json() for f in server.faults]}
    if route == "idempotency":
        if method == "DELETE":
            server.idempotency.forget_all()
        return {"entries": server.idempotency_log()}
    raise KeyError(route)  # pragma: no cover - ADMIN_ROUTES and this agree


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{name} must be an integer")
    return int(value)


"""Starting, stopping and concurrent use of the sandbox server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from tests.unit.sandbox.support import AUTH, NOW, make_server


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("makini-sandbox")]


def test_stop_leaves_no_thread_and_frees_the_port() -> None:
    """stop() closes idle keep-alive connections, joins every thread and frees the port."""
    before = set(threading.enumerate())
    srv = make_server()
    url = srv.url
    clients = [httpx.Client(base_url=url, headers=AUTH) for _ in range(3)]
    for c in clients:  # each leaves an idle kept-alive connection behind
        assert c.get(res.SITES.path).status_code == 200
    assert _sandbox_threads()
    srv.stop()
    assert _sandbox_threads() == []
    assert set(threading.enumerate()) <= before
    with pytest.raises(httpx.TransportError):
        clients[0].get(res.SITES.path)
    for c in clients:
        c.close()
    assert not srv.running


def test_stop_interrupts_a_delayed_response() -> None:
    """A long injected delay does not hold up stop()."""
    srv = make_server(latency_ms=60_000)
    errors: list[BaseException] = []
    delaying = threading.Event()
    original_wait = srv._wait

    def wait(ms: int) -> None:
        delaying.set()
        original_wait(ms)

    srv._wait = wait  # type: ignore[method-assign]  # observe the delay starting

    def call() -> None:
        try:
            httpx.get(srv.url + res.SITES.path, headers=AUTH, timeout=30)
        except httpx.TransportError as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert delaying.wait(10)  # the request is being held by the injected delay
    srv.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert len(errors) <= 1  # answered at once or dropped, but never held for a minute
    assert _sandbox_threads() == []


def test_context_manager_starts_and_stops() -> None:
    """with SandboxServer(...) serves inside the block and stops after it."""
    with SandboxServer(SandboxConfig(now=NOW)) as srv:
        assert httpx.get(srv.url + res.SITES.path, headers=AUTH).status_code == 200
        url = srv.url
    assert not srv.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + res.SITES.path, headers=AUTH)


def test_lifecycle_misuse() -> None:
    """url before start raises; start twice raises; stop twice is fine; restart works."""
    srv = SandboxServer(SandboxConfig(now=NOW))
    with pytest.raises(RuntimeError):
        _ = srv.url
    srv.stop()
    srv.start()
    with pytest.raises(RuntimeError):
        srv.start()
    srv.stop()
    srv.stop()
    srv.start()
    assert httpx.get(srv.url + res.SITES.path, headers=AUTH).status_code == 200
    srv.stop()


def test_concurrent_reads_and_writes(server: SandboxServer) -> None:
    """Many threads reading pages while records change all get consistent answers."""
    def read(page: int) -> int:
        with httpx.Client(base_url=server.url, headers=AUTH) as c:
            for p in range(1, 6):
                response = c.get(res.ASSETS.path, params={"page": p + page % 3,
                                                          "sort[name]": page % 2})
                assert response.status_code == 200
                assert response.json()["meta"]["per_page"] == 50
        return page

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(read, i) for i in range(12)]
        for _ in range(10):
            server.mutate("assets", 5)
        assert sorted(f.result() for f in futures) == list(range(12))
    assert server.stats.responses == {200: 60}


def test_unknown_unavailable_dataset_is_rejected() -> None:
    """A config naming an unknown dataset as unavailable raises ValueError."""
    with pytest.raises(ValueError):
        SandboxServer(SandboxConfig(now=NOW, unavailable=("widgets",)))

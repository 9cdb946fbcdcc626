"""The window's HTTP exchanges in a process of their own: the HTTP helper.

httpx, httpcore and the JSON decoding of every page hold Python's interpreter lock, which
the window's thread needs to paint and to take the rows in: on a thread of the window's
process (:mod:`~makini_desktop.api.http_thread`) they made a first load of 175k rows take
the sum of both threads' time, the event loop waiting its turn. The helper is a second
Python process (this module run as a program, or the frozen app started with
:data:`HELPER_ARG`) that holds each connection's one ``httpx.AsyncClient`` and answers
exchanges over a pipe; the window's process keeps everything that decides (the concurrency
window, the pacer, retries, typed errors) and only reads the answers.

An answer comes back as its decoded JSON in :mod:`marshal`'s format (decoding it again is
a tenth of the cost of the JSON; equal strings the helper shares stay shared), its body
only when the window needs the text (an error, or JSON that did not decode).

* One helper per process (:meth:`HttpHelper.shared`), one session per client in it.
* The token crosses the pipe once, when a session opens; it is never on a command line,
  in the environment or in a log line. The helper inherits the environment at its start
  (the proxy variables and the trust store are read there).
* The helper ends when the window's process closes its end of the pipe, or dies.
* A helper that stopped fails what was waiting as a lost connection (which the client's
  retries cover) and a new one is started for the next request.

Frames, each a 4-byte little-endian length and a :func:`marshal.dumps` value:
to the helper ``("open", id, session, base_url, token, timeout, connections, trust_env)``,
``("send", id, session, method, url, params, body, headers, timeout, deadline)``,
``("cancel", id)``, ``("close", id, session)``; from it ``(id, "answer", status, reason,
headers, body, body_size, doc, decode_error)``, ``(id, "failed", kind, detail)``,
``(id, "deadline")``, ``(id, "setup", code, message)``, ``(id, "bug", text)`` and
``(id, "done")``.

No Qt, no widgets.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import itertools
import logging
import marshal
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from makini_desktop.api.errors import LocalSetupError
from makini_desktop.api.exchange import BODY_SIZE, Exchange, TransportFailedError, perform

if TYPE_CHECKING:
    import httpx

__all__ = ["HELPER_ARG", "HelperSession", "HttpHelper", "helper_main"]

HELPER_ARG = "--http-helper"
"""The frozen app's first argument that makes it the helper (see packaging/launcher.py)."""

_HEAD = struct.Struct("<I")
_CHUNK = 1 << 20
_LOST = "the app's HTTP helper process stopped"
_SILENT = "the app's HTTP helper process did not answer"
_ANSWER_LIMIT = 60.0
"""Seconds an answer to open or close a session may take (an exchange: its deadline and
this much more): a helper that is alive but silent fails the request, never hangs it."""

log = logging.getLogger(__name__)

_BODY_HEADERS = (b"content-encoding", b"content-length", b"transfer-encoding")

TimeoutTuple = tuple[float | None, float | None, float | None, float | None]


# -- frames -------------------------------------------------------------------------------


def _read_exact(fd: int, size: int) -> bytes | None:
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, _CHUNK))
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def read_frame(fd: int) -> Any:
    """The next frame's value, or None at the end of the pipe (or a frame cut short)."""
    head = _read_exact(fd, _HEAD.size)
    if head is None:
        return None
    body = _read_exact(fd, _HEAD.unpack(head)[0])
    return None if body is None else marshal.loads(body)


def frame_bytes(value: Any) -> bytes:
    """One frame. Raises ``ValueError`` for what marshal cannot write (nesting too deep, a
    type JSON does not have)."""
    data = marshal.dumps(value)
    return _HEAD.pack(len(data)) + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_frame(fd: int, value: Any) -> None:
    """Write one frame (whole, blocking). Raises ``OSError`` when the other end is gone."""
    _write_all(fd, frame_bytes(value))


def _timeout_tuple(timeout: httpx.Timeout | None) -> TimeoutTuple | None:
    if timeout is None:
        return None
    return (timeout.connect, timeout.read, timeout.write, timeout.pool)


def _timeout_of(values: TimeoutTuple | None) -> httpx.Timeout | None:
    import httpx

    if values is None:
        return None
    connect, read, write, pool = values
    return httpx.Timeout(None, connect=connect, read=read, write=write, pool=pool)


# -- the window's side --------------------------------------------------------------------


class HttpHelper:
    """The helper process, seen from the window's process: started at once, its answers
    read on a thread of their own (``makini-http-reader``) and handed to the loop that
    asked. Sessions are opened with :meth:`open_session`; the helper ends with the last
    one's close (and with the process), so a window that closed its connections leaves
    no process or thread behind."""

    _shared: ClassVar[HttpHelper | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
        else:  # a Ctrl-C in the terminal is the window's to handle; the helper follows it
            kwargs["start_new_session"] = True
        try:
            self._proc = subprocess.Popen(
                helper_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, bufsize=0, close_fds=True, **kwargs,
            )
        except OSError as exc:
            raise TransportFailedError(
                "helper", f"the app's HTTP helper process could not start ({exc.strerror})",
            ) from None
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._to = self._proc.stdin
        self._from = self._proc.stdout
        self._ids = itertools.count(1)
        self._sessions = itertools.count(1)
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self._lock = threading.Lock()  # the waiting table and the pipe to the helper
        self.alive = True
        self._users = 0  # sessions open or opening (the shared lock held)
        self._reader = threading.Thread(target=self._read, name="makini-http-reader",
                                        daemon=True)
        self._reader.start()

    @classmethod
    def running(cls) -> HttpHelper | None:
        """This process's helper, if one runs."""
        helper = cls._shared
        return helper if helper is not None and helper.alive else None

    @classmethod
    def _acquire(cls) -> HttpHelper:
        """This process's helper (started, again if it stopped), with one more user."""
        with cls._shared_lock:
            helper = cls._shared
            if helper is None or not helper.alive:
                helper = cls._shared = cls()
                atexit.register(helper.stop)  # (a stopped helper's stop does nothing)
            helper._users += 1
            return helper

    async def _release(self) -> None:
        """One user fewer; the last one stops the helper (waited for off the loop)."""
        with HttpHelper._shared_lock:
            self._users -= 1
            last = self._users <= 0
            if last and HttpHelper._shared is self:
                HttpHelper._shared = None
        if last:
            await asyncio.to_thread(self.stop)

    @classmethod
    async def open_session(
        cls, base_url: str, token: str, *, timeout: httpx.Timeout | None,
        connections: int, trust_env: bool,
    ) -> HelperSession:
        """A new session: one ``httpx.AsyncClient`` in the helper.

        Raises:
            LocalSetupError: the helper could not build it (an unusable proxy setting, an
                unreadable certificate store).
            TransportFailedError: the helper stopped.
        """
        # The answers are httpx responses: imported off the window's thread (0.1 s).
        await asyncio.to_thread(importlib.import_module, "httpx")
        helper = cls._acquire()
        session = next(helper._sessions)
        try:
            await helper.call("open", session, base_url, token, _timeout_tuple(timeout),
                              connections, trust_env)
        except BaseException:
            await helper._release()
            raise
        return HelperSession(helper, session)

    async def call(self, op: str, *args: Any, limit: float = _ANSWER_LIMIT) -> Any:
        """Send one frame and await its answer (cancelling the await cancels it there).

        Args:
            limit: seconds to wait for the answer at most, whatever the helper does.

        Raises:
            TransportFailedError: the helper stopped, did not answer within ``limit``, or
                its answer says the network failed.
            TimeoutError: the helper's deadline passed.
            LocalSetupError: see :meth:`open_session`.
            ValueError: the request holds what cannot be sent (not JSON data).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        ident = next(self._ids)
        frame = frame_bytes((op, ident, *args))  # raises here, for this request alone
        with self._lock:
            if not self.alive:
                raise TransportFailedError("helper", _LOST)
            self._waiting[ident] = (loop, future)
            try:
                _write_all(self._to.fileno(), frame)
            except (OSError, ValueError):  # the pipe is gone (ValueError: closed file)
                del self._waiting[ident]
                self._lost()
                raise TransportFailedError("helper", _LOST) from None
        try:
            async with asyncio.timeout(limit):
                answer = await future
        except (asyncio.CancelledError, TimeoutError) as exc:
            with self._lock:
                if self._waiting.pop(ident, None) is not None and self.alive:
                    try:
                        write_frame(self._to.fileno(), ("cancel", ident))
                    except (OSError, ValueError):
                        pass
            if isinstance(exc, TimeoutError):
                raise TransportFailedError("helper", _SILENT) from None
            raise
        return _outcome(answer)

    def _read(self) -> None:
        fd = self._from.fileno()
        while True:
            try:
                frame = read_frame(fd)
            except (OSError, ValueError, EOFError):
                frame = None
            if frame is None:
                break
            with self._lock:
                entry = self._waiting.pop(frame[0], None)
            if entry is not None:
                _hand_over(entry, frame)
        with self._lock:
            self._lost()
        self._from.close()  # (only this thread reads it)
        try:
            self._proc.wait(5)  # reaped, whoever stopped it
        except subprocess.TimeoutExpired:
            pass

    def _lost(self) -> None:
        """(The lock held.) The helper stopped: what waits fails as a lost connection."""
        if self.alive:
            log.warning("The HTTP helper process stopped (exit code %s)", self._proc.poll())
        self.alive = False
        waiting, self._waiting = self._waiting, {}
        for entry in waiting.values():
            _hand_over(entry, (0, "failed", "helper", _LOST))

    def stop(self) -> None:
        """Close the pipe (the helper ends), wait for it and for the reader. Idempotent."""
        with self._lock:
            self.alive = False
            try:
                self._to.close()
            except OSError:
                pass
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._reader is not threading.current_thread():
            self._reader.join(5)


def _hand_over(entry: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]],
               frame: Any) -> None:
    loop, future = entry
    try:
        loop.call_soon_threadsafe(_settle, future, frame)
    except RuntimeError:  # the loop that asked is closed: nobody waits
        pass


def _settle(future: asyncio.Future[Any], frame: Any) -> None:
    if not future.done():
        future.set_result(frame)


def _outcome(frame: Any) -> Any:
    """An answer frame's value, or the exception it reports."""
    kind = frame[1]
    if kind == "failed":
        raise TransportFailedError(frame[2], frame[3])
    if kind == "deadline":
        raise TimeoutError
    if kind == "setup":
        raise LocalSetupError(0, frame[2], "network", frame[3])
    if kind == "bug":
        raise RuntimeError(f"The HTTP helper process failed: {frame[2]}")
    return frame


class HelperSession:
    """One client's ``httpx.AsyncClient`` in the helper."""

    def __init__(self, helper: HttpHelper, session: int) -> None:
        self._helper = helper
        self._session = session
        self.closed = False

    @property
    def usable(self) -> bool:
        """False once closed, or once its helper stopped (a new session is needed)."""
        return not self.closed and self._helper.alive

    async def exchange(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any,
        headers: Mapping[str, str], timeout: httpx.Timeout | None, deadline: float,
    ) -> Exchange:
        """One exchange (see :func:`~makini_desktop.api.exchange.perform`), the deadline
        kept in the helper.

        Raises:
            TransportFailedError: the network failed it, or the helper stopped.
            TimeoutError: no whole answer within ``deadline`` seconds.
        """
        import httpx

        frame = await self._helper.call(
            "send", self._session, method, url, None if params is None else dict(params),
            body, dict(headers), _timeout_tuple(timeout), deadline,
            limit=deadline + _ANSWER_LIMIT,
        )
        _, _, status, reason, answer_headers, content, size, doc, decode_error = frame
        response = httpx.Response(
            status, headers=answer_headers, content=content,
            request=httpx.Request(method, url),
            extensions={BODY_SIZE: size, "reason_phrase": reason},
        )
        error: BaseException | None = None
        if decode_error == "RecursionError":
            error = RecursionError()
        elif decode_error is not None:
            error = ValueError(decode_error)
        return Exchange(response, doc, error)

    async def aclose(self) -> None:
        """Close the session's connections in the helper (the last session closed ends the
        helper). Safe to repeat."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._helper.alive:
                await self._helper.call("close", self._session)
        except TransportFailedError:  # the helper stopped: nothing left to close
            pass
        finally:
            await self._helper._release()


def helper_command() -> list[str]:
    """The command that starts a helper: this module, or the frozen app as the helper."""
    if getattr(sys, "frozen", False):
        return [sys.executable, HELPER_ARG]
    # -P: never a module of the current folder in place of the app's own.
    return [sys.executable, "-P", "-m", "makini_desktop.api.http_helper"]


# -- the helper's side --------------------------------------------------------------------


def helper_main() -> int:
    """Run the helper on this process's standard input and output until the input ends."""
    # The pipes are descriptors 0 and 1, taken over; nothing else may write to the one the
    # frames travel on.
    fd_in, fd_out = os.dup(0), os.dup(1)
    quiet = os.open(os.devnull, os.O_RDWR)  # what else writes to 1 (C code too) is lost
    os.dup2(quiet, 0)
    os.dup2(quiet, 1)
    sys.stdout = sys.stderr
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    helper = _Helper(loop, fd_out)

    def read() -> None:
        while True:
            try:
                frame = read_frame(fd_in)
            except (OSError, ValueError, EOFError):
                frame = None
            loop.call_soon_threadsafe(helper.take, frame)
            if frame is None:
                return

    threading.Thread(target=read, name="makini-http-helper-input", daemon=True).start()
    try:
        loop.run_forever()
        loop.run_until_complete(helper.close_all())
    finally:
        loop.close()
    return 0


class _Helper:
    """The helper's sessions and the exchanges in flight, on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd_out: int) -> None:
        self._loop = loop
        self._out = fd_out
        self._sessions: dict[int, httpx.AsyncClient] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._handlers: dict[str, Callable[..., Awaitable[tuple[Any, ...]]]] = {
            "open": self._open, "send": self._send, "close": self._close,
        }

    def take(self, frame: Any) -> None:
        if frame is None:  # the window's process closed the pipe, or died
            for running in self._tasks.values():
                running.cancel()
            self._loop.stop()
            return
        op, ident = frame[0], frame[1]
        if op == "cancel":
            cancelled = self._tasks.pop(ident, None)
            if cancelled is not None:
                cancelled.cancel()
            return
        work = self._handlers[op](*frame[2:])
        self._tasks[ident] = self._loop.create_task(self._answer(ident, work))

    def _reply(self, value: Any) -> None:
        try:
            write_frame(self._out, value)
        except OSError:  # the window's process is gone: the input ends next
            pass

    async def _answer(self, ident: int, work: Awaitable[tuple[Any, ...]]) -> None:
        try:
            answer = (ident, *await work)
            try:
                self._reply(answer)
            except ValueError:  # JSON nested deeper than marshal writes (Python 3.13)
                if answer[1] != "answer":
                    raise
                self._reply((*answer[:5], b"", answer[6], None, "RecursionError"))
        except asyncio.CancelledError:
            pass
        except TransportFailedError as failure:
            self._reply((ident, "failed", failure.kind, failure.detail))
        except TimeoutError:
            self._reply((ident, "deadline"))
        except LocalSetupError as exc:
            self._reply((ident, "setup", exc.code, exc.message))
        except Exception as exc:  # noqa: BLE001 - said to the window, never lost
            self._reply((ident, "bug", f"{type(exc).__name__}: {exc}"[:300]))
        finally:
            self._tasks.pop(ident, None)

    async def _open(
        self, session: int, base_url: str, token: str, timeout: TimeoutTuple | None,
        connections: int, trust_env: bool,
    ) -> tuple[str]:
        from makini_desktop.api.transport import new_http_client

        self._sessions[session] = new_http_client(
            base_url, token, timeout=_timeout_of(timeout),
            connections=connections, transport=None, trust_env=trust_env,
        )
        return ("done",)

    async def _send(
        self, session: int, method: str, url: str, params: dict[str, Any] | None,
        body: Any, headers: dict[str, str], timeout: TimeoutTuple | None, deadline: float,
    ) -> tuple[Any, ...]:
        http = self._sessions[session]
        async with asyncio.timeout(deadline):
            answer = await perform(http, method, url, params, body, headers,
                                   _timeout_of(timeout))
        response = answer.response
        content = response.content
        decode_error = None if answer.error is None else type(answer.error).__name__
        kept = b"" if answer.doc is not None else content
        # The body goes decoded: its encoding and length headers would have it decoded
        # again. The headers as sent (bytes: any text, the names' case kept).
        sent = [(name, value) for name, value in response.headers.raw
                if name.lower() not in _BODY_HEADERS]
        reason = response.extensions.get("reason_phrase", b"")
        return ("answer", response.status_code, bytes(reason), sent, kept, len(content),
                answer.doc, decode_error)

    async def _close(self, session: int) -> tuple[str]:
        http = self._sessions.pop(session, None)
        if http is not None:
            await http.aclose()
        return ("done",)

    async def close_all(self) -> None:
        for http in self._sessions.values():
            await http.aclose()
        self._sessions.clear()


if __name__ == "__main__":
    sys.exit(helper_main())

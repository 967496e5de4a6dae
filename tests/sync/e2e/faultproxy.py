"""A fault-injecting HTTP proxy for end-to-end tests: 127.0.0.1 only, one thread per connection.

    >>> proxy = FaultProxy(upstream_port=8000).start()
    >>> proxy.url                                   # point the kiosk here
    'http://127.0.0.1:41234'
    >>> proxy.set("drop", every=2)                  # every 2nd request: forwarded, answer lost
    >>> proxy.set("pass")

Modes, applied per request (to every `every`-th one, at most `limit` times, then "pass"):

- ``pass``    forward the request, relay the answer.
- ``drop``    forward the request and wait until the server answered (it has committed),
              then close the kiosk's connection without a byte: the answer is lost.
- ``error``   answer 503 (or `status`) without forwarding.
- ``delay``   forward, then hold the answer `delay` seconds (beyond the client's timeout).
- ``refuse``  stop listening: connections are refused until the mode changes.

`on_forward(n)`, when set, is called with the request count once a request has been sent
upstream and before its answer is read: a test kills the server there, mid-batch.

The proxy speaks just enough HTTP/1.1 to find request boundaries (Content-Length bodies,
as the sync client sends) and forwards each request on its own upstream connection
with ``Connection: close``, so one fault touches exactly one request.
"""

from __future__ import annotations

import socket
import threading
import time

MODES = ("pass", "drop", "error", "delay", "refuse")


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", port: int = 0):
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.requests = 0                      # requests seen
        self.faults = 0                        # faults injected
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._closing = False
        self.on_forward = None                 # called once a request reached the server (a test's hook)
        self.set("pass")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control ---------------------------------------------------------------------

    def set(self, mode: str, every: int = 1, limit: int | None = None, status: int = 503,
            delay: float = 5.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        with self._lock:
            self.mode, self.every, self.limit, self.status, self.delay = mode, every, limit, status, delay
            self._seen_in_mode = 0
        if mode == "refuse":
            self._close_listener()
        elif self._listener is None and not self._closing and self.port:
            self._listen()

    def start(self) -> "FaultProxy":
        self._listen()
        return self

    def stop(self) -> None:
        self._closing = True
        self._close_listener()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- listening -------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(256)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return                                       # closed: refuse or stop
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # --- one kiosk connection ----------------------------------------------------------

    def _decide(self) -> str:
        with self._lock:
            self.requests += 1
            self._seen_in_mode += 1
            faulty = self.mode != "pass" and self._seen_in_mode % self.every == 0
            if faulty and (self.limit is None or self.limit > 0):
                if self.limit is not None:
                    self.limit -= 1
                self.faults += 1
                return self.mode
            return "pass"

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            reader = conn.makefile("rb")
            while True:
                request = read_request(reader)
                if request is None:
                    return
                mode = self._decide()
                if mode == "error":
                    conn.sendall(error_answer(self.status))
                    continue
                try:
                    answer = self._forward(request)
                except OSError:
                    return                                   # upstream down: the kiosk sees a reset
                if mode == "drop":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")  # RST
                    return
                if mode == "delay":
                    time.sleep(self.delay)
                try:
                    conn.sendall(answer)
                except OSError:
                    return
                return                                       # the answer says Connection: close

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(request)
            if self.on_forward is not None:
                self.on_forward(self.requests)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def read_request(reader) -> bytes | None:
    """One HTTP/1.1 request with its Connection header set to close; None at EOF."""
    head = []
    while True:
        line = reader.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        if not line.lower().startswith(b"connection:"):
            head.append(line)
    length = next((int(line.split(b":", 1)[1]) for line in head if line.lower().startswith(b"content-length:")), 0)
    body = reader.read(length) if length else b""
    return b"".join(head) + b"Connection: close\r\n\r\n" + body


def error_answer(status: int) -> bytes:
    body = b'{"code": "proxy_fault", "message": "injected by the fault proxy"}'
    return (f"HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body

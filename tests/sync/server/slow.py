"""Slow senders: connections that declare a request body and trickle it, as an attacker
(or a very bad network) would, to see what the server does with them. Raw sockets on
127.0.0.1; every loop is bounded and `close()` ends them all."""

from __future__ import annotations

import json
import select
import socket
import threading
import time

BODY_BYTES = 100_000     # declared; never more than MAX_BYTES of it is sent
MAX_BYTES = 1_000


class SlowSenders:
    """One connection per `authorizations` entry (None: no Authorization header), each a
    POST to `path` that declares a BODY_BYTES body and sends one byte of it at once,
    then one more every `every` seconds (one thread for all), until the server closes
    it, MAX_BYTES went, or `close()`."""

    def __init__(self, url: str, path: str, authorizations: list[str | None], every: float = 2.0):
        host, port = url.removeprefix("http://").split(":")
        self.socks: list[socket.socket] = []
        self.sent: list[int] = []
        self.data: list[bytes] = []
        self.closed: list[bool] = []
        for authorization in authorizations:
            sock = socket.create_connection((host, int(port)), timeout=5)
            head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                    f"Content-Length: {BODY_BYTES}"] + ([f"Authorization: {authorization}"] if authorization else [])
            sock.sendall(("\r\n".join(head) + "\r\n\r\n{").encode())
            self.socks.append(sock)
            self.sent.append(1)
            self.data.append(b"")
            self.closed.append(False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, args=(every,), daemon=True)
        self._thread.start()

    def __enter__(self) -> "SlowSenders":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _trickle(self, every: float) -> None:
        while not self._stop.wait(every):
            for i, sock in enumerate(self.socks):
                if self.closed[i] or self.sent[i] >= MAX_BYTES:
                    continue
                try:
                    sock.send(b" ")
                    self.sent[i] += 1
                except OSError:      # the server closed it
                    pass

    def answers(self, within: float) -> list[tuple[int, str | None, bool]]:
        """Per connection (status, error code, closed): what the server answered (0: nothing
        yet) and whether it closed the connection, collected until every connection is
        closed or `within` seconds passed."""
        deadline = time.monotonic() + within
        while not all(self.closed) and time.monotonic() < deadline:
            open_socks = [s for i, s in enumerate(self.socks) if not self.closed[i]]
            ready, _, _ = select.select(open_socks, [], [], min(0.5, max(0.0, deadline - time.monotonic())))
            for sock in ready:
                i = self.socks.index(sock)
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):   # closed with our trickle unread
                    chunk = b""
                if chunk:
                    self.data[i] += chunk
                else:
                    self.closed[i] = True
        return [(*self._parse(data), closed) for data, closed in zip(self.data, self.closed)]

    @staticmethod
    def _parse(data: bytes) -> tuple[int, str | None]:
        if not data:
            return 0, None
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), json.loads(body).get("code") if body.startswith(b"{") else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.socks:
            sock.close()

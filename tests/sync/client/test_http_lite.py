"""sync.http_lite, the agent's HTTP on the standard library: keep-alive, both timeouts, and
every failure an OSError the agent turns into its stable codes (timeout, network)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from sync.client import Api, SyncError
from sync.http_lite import Session


class TinyServer:
    """A real socket server: answers each request on a connection with `body` (keep-alive),
    or waits `delay` s first; counts connections and requests."""

    def __init__(self, body: bytes = b'{"ok": true}', delay: float = 0.0, close_after: int | None = None):
        self.body, self.delay, self.close_after = body, delay, close_after
        self.connections = self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        served = 0
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                self.requests += 1
                time.sleep(self.delay)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(self.body)).encode() + b"\r\n\r\n" + self.body)
                except OSError:
                    return
                served += 1
                if self.close_after and served >= self.close_after:
                    return          # the server closes a kept-alive connection while the client idles

    def close(self):
        self.sock.close()


def test_one_connection_carries_many_requests():
    server = TinyServer()
    http = Session()
    try:
        for i in range(5):
            answer = http.request("POST", server.url + "/api/v1/events", json={"n": i}, timeout=(2, 2))
            assert answer.status_code == 200 and answer.json() == {"ok": True}
        answer = http.request("GET", server.url + "/api/v1/changes", params={"cursor": 3, "limit": 500}, timeout=(2, 2))
        assert answer.json() == {"ok": True}
        assert server.requests == 6 and server.connections == 1
    finally:
        http.close()
        server.close()


def test_a_connection_the_server_closed_while_idle_is_replaced():
    server = TinyServer(close_after=1)
    http = Session()
    try:
        for _ in range(3):
            assert http.request("GET", server.url + "/x", timeout=(2, 2)).status_code == 200
            time.sleep(0.05)
        assert server.requests == 3 and server.connections == 3
    finally:
        http.close()
        server.close()


def test_a_slow_answer_is_a_timeout_and_a_closed_port_a_network_error(unused_port):
    server = TinyServer(delay=1.0)
    try:
        with pytest.raises(TimeoutError):
            Session().request("GET", server.url + "/x", timeout=(2, 0.2))
        api = Api(server.url, retries=1, timeout=(2, 0.2))
        with pytest.raises(SyncError) as slow:
            api.pull(0)
        assert slow.value.code == "timeout" and slow.value.retryable
    finally:
        server.close()
    with pytest.raises(ConnectionError):
        Session().request("GET", f"http://127.0.0.1:{unused_port}/x", timeout=(2, 2))
    with pytest.raises(SyncError) as refused:
        Api(f"http://127.0.0.1:{unused_port}", retries=1).pull(0)
    assert refused.value.code == "network" and refused.value.retryable


def test_a_truncated_answer_is_a_network_error():
    server = TinyServer()
    server.body = b'{"ok": tr'
    original = server._handle

    def short(conn):      # announce more than is sent, then hang up
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\": tr")
    server._handle = short
    try:
        with pytest.raises(ConnectionError):
            Session().request("GET", server.url + "/x", timeout=(2, 2))
    finally:
        server._handle = original
        server.close()

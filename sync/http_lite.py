"""The part of `requests.Session` the sync agent uses, on the standard library's http.client.

    http = Session()
    answer = http.request("POST", "http://center:8000/api/v1/events", headers={...},
                          timeout=(5.0, 30.0), json={...})        # or params={...} for a GET
    answer.status_code, answer.headers.get("Retry-After"), answer.json(), answer.text

Why: requests with urllib3, idna, charset_normalizer and certifi is about 9 MB of the kiosk's
memory for two kinds of request to one server. What the agent relies on stays as it was:
keep-alive (one connection per server, reused while the server keeps it open), a connect
timeout and a read timeout (the `(connect, read)` pair), certificates checked against
certifi's bundle when it is installed (else the system's), and every failure raised as an
OSError: `TimeoutError` when a timeout ran out (connect or read), `ConnectionError` for
everything else on the way (refused, reset, a truncated or garbled answer). Retries and
backoff are the agent's (tenacity, sync.client), not this module's. `sync.client` still
takes any object with the same `request` (a `requests.Session`: tests and benches use one to
count or slow requests).
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import threading
from urllib.parse import urlencode, urlsplit

__all__ = ["Session", "Response"]


def _dropped(conn) -> bool:
    """An idle keep-alive connection the other end has closed (or sent something unasked)."""
    import select
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Response:
    def __init__(self, status: int, headers, content: bytes):
        self.status_code = status
        self.headers = headers          # http.client.HTTPMessage: .get() ignores case
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return jsonlib.loads(self.content)     # ValueError when it is not JSON, as requests


class Session:
    def __init__(self):
        self._idle: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._lock = threading.Lock()
        self._ssl = None

    def request(self, method: str, url: str, headers: dict | None = None, timeout=None, json=None,
                params: dict | None = None) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionError(f"not an http(s) URL: {url[:100]}")
        path = parts.path or "/"
        query = "&".join(q for q in (parts.query, urlencode(params) if params else "") if q)
        if query:
            path += "?" + query
        body = None
        sent = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        connect_s, read_s = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        with self._lock:
            conn = self._idle.pop(key, None)
        if conn is not None and _dropped(conn):   # the server closed it while idle (as urllib3 checks)
            conn.close()
            conn = None
        try:
            if conn is None:
                conn = self._connect(key, connect_s)
            conn.sock.settimeout(read_s)
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            content = answer.read()
        except (socket.timeout, TimeoutError) as exc:
            conn and conn.close()
            raise TimeoutError(f"{method} {url[:100]}: timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn and conn.close()
            raise ConnectionError(f"{method} {url[:100]}: {type(exc).__name__}: {exc}") from exc
        if answer.will_close:
            conn.close()
        else:
            with self._lock:
                old = self._idle.pop(key, None)
                self._idle[key] = conn
            if old is not None:
                old.close()
        return Response(answer.status, answer.headers, content)

    def _connect(self, key, connect_s) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=connect_s, context=self._context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect_s)
        try:
            conn.connect()
        except (socket.timeout, TimeoutError) as exc:
            conn.close()
            raise TimeoutError(f"connecting to {host}:{port}: timed out") from exc
        except OSError as exc:
            conn.close()
            raise ConnectionError(f"connecting to {host}:{port}: {exc}") from exc
        return conn

    def _context(self):
        if self._ssl is None:
            import ssl
            try:
                import certifi       # the bundle requests used (an Android kiosk has no system one)
                self._ssl = ssl.create_default_context(cafile=certifi.where())
            except ImportError:
                self._ssl = ssl.create_default_context()
        return self._ssl

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conn in idle.values():
            conn.close()

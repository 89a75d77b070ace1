"""Warden's HTTP API and webhooks in the integration tests: sentinels with an `http-port`,
a webhook receiver the test starts (Python's http.server on a thread of the test process,
answering with the statuses the test chooses), and /metrics read with prometheus_client.
"""

from __future__ import annotations

import http.client
import http.server
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from prometheus_client.parser import text_string_to_metric_families

from harness import HOST, Sentinel, Topology, free_port, wait_until

#: A Standard Webhooks secret (24 random bytes, base64) and a bearer token for the tests.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "test-token-0123456789abcdef"


# --------------------------------------------------------------------------------------
# Sentinels with the HTTP API


class HTTPSentinel(Sentinel):
    """A sentinel with `http-port` (a free port of its own) and more lines for its file."""

    def __init__(self, *args: Any, http_lines: Iterable[str] = (), token: Optional[str] = TOKEN, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_port = free_port()
        self.token = token
        self.http_lines = list(http_lines)

    def header_lines(self) -> list[str]:
        lines = super().header_lines() + [f"http-port {self.http_port}"]
        if self.token:
            lines.append(f"http-token {self.token}")
        return lines + self.http_lines

    def api(self, path: str, method: str = "GET", token: Optional[str] = None, body: Optional[bytes] = None,
            headers: Optional[dict[str, str]] = None, timeout: float = 5.0) -> "APIResponse":
        """One request on a new connection; the body is JSON-decoded when it is JSON."""
        return request(self.http_port, path, method=method, token=token, body=body, headers=headers, timeout=timeout)

    def metrics(self) -> "Metrics":
        response = self.api("/metrics", token=self.token)
        assert response.status == 200, response
        assert response.headers.get("content-type", "").startswith("text/plain; version=0.0.4"), response.headers
        return Metrics.parse(response.text)


@dataclass
class APIResponse:
    status: int
    headers: dict[str, str]
    text: str
    json: Any = None


def request(port: int, path: str, method: str = "GET", token: Optional[str] = None, body: Optional[bytes] = None,
            headers: Optional[dict[str, str]] = None, timeout: float = 5.0) -> APIResponse:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        fields = dict(headers or {})
        if token:
            fields["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=body, headers=fields)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        fields_back = {k.lower(): v for k, v in response.getheaders()}
        parsed = None
        if fields_back.get("content-type", "").startswith("application/json") and text:
            parsed = json.loads(text)
        return APIResponse(response.status, fields_back, text, parsed)
    finally:
        connection.close()


class HTTPTopology(Topology):
    """A topology whose sentinels all have the HTTP API; `http_lines` go in every file."""

    def __init__(self, *args: Any, http_lines: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_lines = list(http_lines)

    def new_sentinel(self) -> Sentinel:
        return HTTPSentinel(masters=[self.monitor()], extra=self.extra, binary=self.binary, http_lines=self.http_lines)


# --------------------------------------------------------------------------------------
# /metrics


class Metrics:
    """Samples of a /metrics page, parsed by prometheus_client's text parser."""

    def __init__(self, families: dict[str, Any]) -> None:
        self.families = families

    @staticmethod
    def parse(text: str) -> "Metrics":
        return Metrics({family.name: family for family in text_string_to_metric_families(text)})

    def value(self, name: str, default: Optional[float] = None, **labels: str) -> Optional[float]:
        """The value of the sample `name` (`..._total`, `..._bucket`, `..._count` included)
        whose labels include `labels`."""
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return default

    def names(self) -> set[str]:
        return {sample.name for family in self.families.values() for sample in family.samples}


# --------------------------------------------------------------------------------------
# A webhook receiver


@dataclass
class Received:
    at: float                 # time.monotonic() when the request was read whole
    path: str
    headers: dict[str, str]   # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event(self) -> str:
        return self.json["data"]["event"]


@dataclass
class Receiver:
    """A webhook receiver on loopback. Each POST is recorded, then answered with the next
    status of `statuses`, or `default` once they are used up. `stop()` closes the port (a
    receiver that is down: connections are refused) and `start()` opens it again."""

    statuses: list[int] = field(default_factory=list)
    default: int = 200
    port: int = 0
    tls: Optional[ssl.SSLContext] = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.server: Optional[http.server.ThreadingHTTPServer] = None
        self.thread: Optional[threading.Thread] = None

    def url(self, path: str = "/hook", host: str = HOST) -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(Received(time.monotonic(), self.path,
                                                      {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((HOST, self.port), Handler)
        if self.tls:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    def received(self, event: Optional[str] = None) -> list[Received]:
        with self.lock:
            items = list(self.requests)
        return [r for r in items if event is None or r.event == event]

    def wait_for(self, count: int, timeout: float, event: Optional[str] = None) -> list[Received]:
        return wait_until(lambda: len(self.received(event)) >= count and self.received(event), timeout,
                          interval=0.02, message=lambda: f"{count} deliveries of {event or 'any event'} to {self.url()}; "
                                                         f"got {[(r.event, r.webhook_id) for r in self.received()]}")


def verify_signature(delivery: Received, secret: str = SECRET) -> dict[str, Any]:
    """Checks the Standard Webhooks signature with the `standardwebhooks` package; returns the payload."""
    from standardwebhooks.webhooks import Webhook

    return Webhook(secret).verify(delivery.body, {k: v for k, v in delivery.headers.items() if k.startswith("webhook-")})


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def read_sse(sock: socket.socket, until: Callable[[list[dict[str, str]]], bool], timeout: float) -> list[dict[str, str]]:
    """Reads Server-Sent Events (chunked HTTP/1.1 body, read as raw text) until `until(events)`."""
    buffer = b""
    deadline = time.monotonic() + timeout
    events: list[dict[str, str]] = []
    while not until(events):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching event in {timeout} s; got {events}; raw {buffer[-500:]!r}")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"stream closed; got {events}")
        buffer += chunk
        events = []
        for block in buffer.replace(b"\r\n", b"\n").split(b"\n\n"):
            event: dict[str, str] = {}
            for line in block.decode(errors="replace").split("\n"):
                name, _, value = line.partition(": ")
                if name in ("id", "event", "data"):
                    event[name] = value
            if "data" in event:
                events.append(event)
    return events

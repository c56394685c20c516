"""What every sandbox API server shares: routing, credential checks, a clock, fault switches and a
request log. Each server (`ga4.py`, `hubspot.py`, ...) declares its routes and speaks its real
API's shapes; this module knows nothing about any API.

Servers run in a thread (`with HubSpotServer(world) as server: server.url`) for tests, or all
together in the foreground for the demo (`pulse sandbox serve`). They bind 127.0.0.1 only.

Control endpoints (no credentials needed, loopback only):
- `POST /_sandbox/clock {"clock": "2026-01-31T12:00:00Z"}` serves the world as of that moment;
- `POST /_sandbox/faults {...}` sets fault switches (see `Faults`); `{}` clears them;
- `GET /_sandbox/requests` returns the request log; `GET /_sandbox/health` answers 200.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pulse.sandbox.world_io import World
from pulse.sources.connections import SourceConnection


@dataclass
class Faults:
    """Fault switches. Counters apply to the next N API requests (control endpoints excluded)."""

    latency_ms: int = 0  # added to every response
    rate_limited: int = 0  # next N requests answer 429 with Retry-After
    retry_after_seconds: int = 1
    server_errors: int = 0  # next N requests answer 500
    truncate_request: int | None = None  # the Nth request from now (1-based) gets half its body
    malformed_record: bool = False  # each server puts one bad value in its first record
    rename_field: tuple[str, str] | None = None  # (field, new name) in every record
    drop_field: str | None = None  # removed from every record

    def shape(self, record: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
        """Apply rename/drop to one record; `path` reaches into nested objects (e.g. HubSpot
        `properties`)."""
        target = record
        for key in path:
            target = target.get(key, {})
        if self.drop_field and self.drop_field in target:
            del target[self.drop_field]
        if self.rename_field and self.rename_field[0] in target:
            old, new = self.rename_field
            target[new] = target.pop(old)
        return record


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


Handler = Callable[[Request, re.Match], Response]


class SandboxServer:
    """Subclasses set `name`, register routes in `routes()` and implement `authorized()`."""

    name = "sandbox"

    def __init__(self, world: World, *, host: str = "127.0.0.1", port: int = 0,
                 credentials: dict[str, str] | None = None):
        self.world = world
        self.credentials = credentials or self.default_credentials()
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self._clock: dt.datetime | None = None
        self._view: World | None = None
        self._lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern, Handler]] = [
            (method, re.compile(f"^{pattern}$"), handler) for method, pattern, handler in self.routes()
        ]
        self._http = ThreadingHTTPServer((host, port), self._handler_class())
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- what subclasses provide -----------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    def default_credentials(self) -> dict[str, str]:
        """Fresh random credentials, unless the caller passes the demo's."""
        return {}

    def source_connection(self) -> SourceConnection:
        """The Airflow-style connection a connector needs to reach this server with its credentials."""
        raise NotImplementedError

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorized(self, request: Request) -> Response:
        return Response(401, {"status": "error", "message": "Authentication credentials not found or invalid."})

    def not_found(self, request: Request) -> Response:
        return Response(404, {"status": "error", "message": f"no route for {request.method} {request.path}"})

    # --- the world as of the clock ---------------------------------------------------------------
    @property
    def clock(self) -> dt.datetime:
        return self._clock or self.world.meta.now

    def set_clock(self, clock: dt.datetime | None) -> None:
        with self._lock:
            self._clock, self._view = clock, None

    def prepare(self) -> None:
        """Compute now what answers at the current clock need (computed on the first request
        otherwise, which at scale 10 can take longer than a client waits)."""
        _ = self.view

    @property
    def view(self) -> World:
        """The world as it was at the clock (cached until the clock moves)."""
        with self._lock:
            if self._view is None:
                self._view = self.world if self._clock is None else self.world.as_of(self._clock)
            return self._view

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._http.server_address[0]

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._http.serve_forever, name=f"sandbox-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- dispatch --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path, "query": request.query,
                                  "at": dt.datetime.now(dt.UTC).isoformat()})
            faults = self.faults
            if faults.truncate_request is not None:
                faults.truncate_request -= 1
            truncate = faults.truncate_request == 0
            if truncate:
                faults.truncate_request = None
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                return Response(429, {"status": "error", "message": "Too many requests"},
                                {"Retry-After": str(faults.retry_after_seconds)})
            if faults.server_errors > 0:
                faults.server_errors -= 1
                return Response(500, {"status": "error", "message": "Internal server error"})
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if not self.authorized(request):
            return self.unauthorized(request)
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                response = handler(request, match)
                if truncate:
                    body = response.encoded()
                    response = Response(response.status, body[: len(body) // 2], response.headers, response.content_type)
                return response
        return self.not_found(request)

    def _control(self, request: Request) -> Response:
        if request.path == "/_sandbox/health":
            return Response(200, {"name": self.name, "clock": self.clock})
        if request.path == "/_sandbox/requests":
            return Response(200, self.requests)
        if request.path == "/_sandbox/clock" and request.method == "POST":
            value = request.json().get("clock")
            self.set_clock(dt.datetime.fromisoformat(value) if value else None)
            return Response(200, {"clock": self.clock})
        if request.path == "/_sandbox/faults" and request.method == "POST":
            settings = request.json()
            for key in ("rename_field",):
                if settings.get(key):
                    settings[key] = tuple(settings[key])
            with self._lock:
                self.faults = Faults(**settings)
            return Response(200, asdict(self.faults))
        return self.not_found(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without this each keep-alive request waits out
            # Nagle's algorithm against the client's delayed ACK (about 40 ms on loopback)
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()}, body=self.rfile.read(length) if length else b"",
                )
                try:
                    response = server.handle(request)
                except Exception as error:  # a sandbox bug must show up as a 500, like a real API's
                    response = Response(500, {"status": "error", "message": f"sandbox error: {error!r}"})
                body = response.encoded()
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is in memory
                pass

        return _Handler

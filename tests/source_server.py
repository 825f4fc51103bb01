"""A small HTTP server on 127.0.0.1 standing in for GIAS, GOV.UK and Explore Education Statistics in tests.

Each route answers like the real service: a body with ETag and Last-Modified, 304 to a matching If-None-Match,
404 for anything not published. A route can also stall (to test timeouts) or stream a huge body (size limit).
Every request is recorded with its headers so tests can check what the client asked for.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/csv"
    status: int = 200
    stall_s: float = 0  # wait this long before answering (a stalled server)
    stream_bytes: int = 0  # instead of body, stream this many bytes
    send_length: bool = True  # send Content-Length (a streamed body may come without one)
    gzip: bool = False  # answer Content-Encoding: gzip, as CDNs do (Content-Length then counts compressed bytes)
    etag: str = ""
    last_modified: str = field(default_factory=lambda: formatdate(1767225600, usegmt=True))

    def __post_init__(self):
        if not self.etag and self.body:
            self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class SourceServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        self.posts: list[tuple[str, bytes]] = []  # e.g. alerts sent to a webhook route
        self.release = threading.Event()  # set at shutdown so stalled handlers end
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def headers_for(self, path: str) -> list[dict]:
        return [h for p, h in self.requests if p == path]


def _handler(state: SourceServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.posts.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            path = self.path.split("?")[0]
            state.requests.append((path, {k: v for k, v in self.headers.items()}))
            route = state.routes.get(path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            if route.stall_s:
                state.release.wait(route.stall_s)
            if route.status != 200:
                self.send_error(route.status)
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", route.last_modified)
            body = route.body
            if route.gzip:
                import gzip
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            size = route.stream_bytes or len(body)
            if route.send_length:
                self.send_header("Content-Length", str(size))
            else:
                self.close_connection = True
            self.end_headers()
            try:
                if route.stream_bytes:
                    chunk = b"x" * (1 << 16)
                    sent = 0
                    while sent < size and not state.release.is_set():
                        part = chunk[: size - sent]
                        self.wfile.write(part)
                        sent += len(part)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client refused the rest: as it should
                pass

    return Handler


@contextmanager
def source_server():
    state = SourceServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    # shutdown() waits for serve_forever's next poll: every 0.5 s by default, half a second of idle in every test
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()

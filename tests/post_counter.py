"""A loopback HTTP server that counts the POSTs it gets (answering ``post-N``): how the
journal tests see whether a side effect was repeated after a kill and a resume."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Counter(http.server.BaseHTTPRequestHandler):
    posts: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.posts.append(self.rfile.read(length).decode())
        body = f"post-{len(self.posts)}".encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def counting_server(posts: list[str]) -> Iterator[str]:
    """A URL whose POSTs' bodies are appended to ``posts`` while the block runs."""
    handler = type("Counter", (_Counter,), {"posts": posts})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()

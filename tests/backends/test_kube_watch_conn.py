"""A stopped watch never hands its connection back to the pool (real urllib3, loopback server).

The watch's reader thread and ``Watch.stop`` (the waiting thread) both clean the response
up. A connection returned to the pool while the other thread still held it could be closed
under the next request that took it: that request then failed with urllib3's "file
descriptor cannot be a negative integer (-1)" (seen once in a 1,000-app controller run).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
import urllib3

from pyvela._backends.kube.transport import Watch


class _Streaming(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/watch"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(200):  # an open watch: an event now and then, for 10 s
                    line = b'{"type":"BOOKMARK","object":{}}\n'
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                    time.sleep(0.05)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client went away: what stop() does
            return
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Streaming)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_stopped_watch_connection_is_never_pooled(server: str) -> None:
    manager = urllib3.PoolManager(maxsize=1)
    response = manager.request("GET", f"{server}/watch", preload_content=False)
    watched = response.connection
    watch = Watch(response)
    seen: list[bytes] = []
    ended = threading.Event()

    def read() -> None:
        try:
            for chunk in watch.chunks():
                seen.append(chunk)
        except Exception:  # the reader's own error is the stream's end here
            pass
        ended.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen, "the watch delivered nothing"
    watch.stop()
    assert ended.wait(5), "stop() did not end the reader"
    pool = manager.connection_from_url(server)
    pooled = [c for c in list(pool.pool.queue) if c is not None]  # type: ignore[union-attr]
    assert watched not in pooled
    # and the pool still serves the next request (a connection of its own)
    again = manager.request("GET", f"{server}/plain")
    assert again.status == 200
    assert again.connection is not watched


def test_a_watch_read_to_its_end_is_not_pooled_either(server: str) -> None:
    manager = urllib3.PoolManager(maxsize=1)
    response = manager.request("GET", f"{server}/plain", preload_content=False)
    watched = response.connection
    watch = Watch(response)
    assert b"".join(watch.chunks()) == b"{}"
    watch.stop()  # after the end: nothing to unblock, nothing raised
    pool = manager.connection_from_url(server)
    assert watched not in list(pool.pool.queue)  # type: ignore[union-attr]

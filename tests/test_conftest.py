"""The suite's own fixtures: a server the tests start is waited for patiently."""

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

ServerRunner = Callable[..., AbstractContextManager[str]]

SLOW_TO_BE_READY = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

started = time.monotonic()


class Readiness(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if time.monotonic() - started > 1.5 else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Readiness).serve_forever()
"""


def test_a_server_answering_503_while_it_warms_up_is_waited_for(
    server_runner: ServerRunner,
) -> None:
    """`/readyz` says 503 for its first 1.5 s: the wait sleeps between tries whatever the
    answer, rather than spending its tries in a few milliseconds."""
    began = time.monotonic()
    command = [sys.executable, "-c", SLOW_TO_BE_READY, "{port}"]
    with server_runner("sqlite://", command) as base:
        assert base.startswith("http://127.0.0.1:")
    assert time.monotonic() - began >= 1.5

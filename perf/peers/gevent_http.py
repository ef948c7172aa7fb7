#!/usr/bin/env python3
"""perf/peers/gevent_http.py — the gevent pywsgi peer for perf/http_bench.py: the same
command line and routes as examples/http_server (GET / "Hello, world!", POST|PUT /echo
with a Content-Length or chunked body, GET /stream?n=K as K chunked lines, 404
otherwise; SIGINT/SIGTERM stop gracefully). One process, one hub, like gevent serves.
Run: /usr/bin/python3 perf/peers/gevent_http.py --port P [--threads N] [--host H]
(--threads is accepted for the contract and must be 1: a gevent process has one hub)."""
import argparse
import signal
import socket
import sys
from urllib.parse import parse_qs

import gevent
from gevent.pywsgi import WSGIServer

HELLO = b"Hello, world!"


def app(environ, start_response):
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if path == "/":
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
        return [HELLO]
    if path == "/echo":
        if method not in ("POST", "PUT"):
            start_response("405 Method Not Allowed", [("Allow", "POST, PUT"), ("Content-Length", "0")])
            return [b""]
        body = environ["wsgi.input"].read()   # pywsgi decodes a chunked body itself
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path == "/stream":
        try:
            n = int(parse_qs(environ.get("QUERY_STRING", "")).get("n", [""])[0])
        except ValueError:
            n = -1
        if not 0 <= n <= 1000000:
            start_response("400 Bad Request", [("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain")])   # no length: chunked
        return (b"line %d\n" % i for i in range(n))
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


class Server(WSGIServer):
    """pywsgi sends the headers and the body in two writes: without TCP_NODELAY, Nagle
    holds the body until the client's delayed ACK (40 ms a request). Go and nginx set
    it on every connection; so does this peer."""

    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--host", default="127.0.0.1")
    a = ap.parse_args()
    if a.threads != 1:
        sys.exit("gevent_http: a gevent process has one hub; --threads must be 1")
    server = Server((a.host, a.port), app, log=None, backlog=4096)
    server.start()
    print(f"listening on {a.host}:{server.server_port}", flush=True)
    gevent.signal_handler(signal.SIGINT, server.stop, 5)
    gevent.signal_handler(signal.SIGTERM, server.stop, 5)
    server.serve_forever()


if __name__ == "__main__":
    main()

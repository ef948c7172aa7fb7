#!/usr/bin/env python3
"""tests/examples/check_https_example.py — examples/http_server --tls-cert C --tls-key K
keeps the whole HTTP contract of check_http_example.py over TLS, spoken to with Python's
ssl + http.client (trusting a certificate generated here with the openssl CLI; no key is
committed) and with curl --cacert (several URLs on one connection); ALPN picks http/1.1;
a plain-HTTP client is dropped while others are served; SIGTERM and SIGINT stop it, with
1 and 2 hubs. Usage: check_https_example.py BINARY"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_http_example import HOST, check_contract, expect, start, stop  # noqa: E402


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def check_python(port, cert):
    ctx = ssl.create_default_context(cafile=cert)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    check_contract(port, lambda p: http.client.HTTPSConnection(HOST, p, timeout=10, context=ctx))
    c = http.client.HTTPSConnection(HOST, port, timeout=10, context=ctx)
    c.request("GET", "/")
    expect(c.getresponse().read() == b"Hello, world!", "GET / over TLS")
    expect(c.sock.selected_alpn_protocol() == "http/1.1", f"ALPN {c.sock.selected_alpn_protocol()}")
    # A plain-HTTP client is dropped at the handshake; the TLS connection goes on.
    with socket.create_connection((HOST, port), timeout=10) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        got = b""
        try:
            while len(got) < 1 << 16:
                piece = plain.recv(4096)
                if not piece:
                    break
                got += piece
        except ConnectionResetError:
            pass
        expect(b"HTTP/1.1" not in got, f"a plain client got no HTTP answer: {got!r}")
    c.request("GET", "/")
    expect(c.getresponse().read() == b"Hello, world!", "the TLS client is still served")
    c.close()


def check_curl(port, cert):
    base = f"https://127.0.0.1:{port}"
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", cert,
                          "-w", "|%{num_connects}|%{http_code}\n",
                          f"{base}/", f"{base}/stream?n=3", f"{base}/nowhere", f"{base}/"],
                         capture_output=True, check=True).stdout.decode()
    expect(out == "Hello, world!|1|200\nline 0\nline 1\nline 2\n|0|200\nNot Found\n|0|404\nHello, world!|0|200\n",
           f"curl: four URLs over one kept-alive connection: {out!r}")
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", cert, "--data-binary", "hello tls",
                          f"{base}/echo"], capture_output=True, check=True).stdout
    expect(out == b"hello tls", f"curl POST /echo: {out!r}")


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="gev-https-")
    try:
        cert, key = make_cert(d)
        for threads, sig in ((1, signal.SIGTERM), (2, signal.SIGINT)):
            p, port = start(binary, threads, ["--tls-cert", cert, "--tls-key", key])
            try:
                check_python(port, cert)
                if shutil.which("curl"):
                    check_curl(port, cert)
            except BaseException:
                p.kill()
                raise
            stop(p, sig)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tests/examples/check_tls_examples.py — runs tls_echo_server and tls_client against
each other, against `openssl s_client`/`s_server` and Python's ssl module, over loopback
(127.0.0.1 only), under the poller named by $GEV_POLLER. Certificates are made here with
the openssl CLI in a temp dir (no key is committed). Every server stops by itself (or by
SIGINT here) and every wait has a timeout.
Usage: check_tls_examples.py TLS_ECHO_SERVER TLS_CLIENT"""
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_net_examples import HOST, Server, expect, free_port, run  # noqa: E402


def sh(cmd, cwd):
    p = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, timeout=30)
    expect(p.returncode == 0, f"{cmd} failed", (p.stdout + p.stderr).decode(errors="replace"))


def make_pki(d):
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    for name, cn in (("ca", "examples CA"), ("other", "unrelated CA")):
        sh(f"openssl req -x509 {ec} -days 1 -keyout {name}.key -out {name}.pem -subj '/CN={cn}' "
           "-addext basicConstraints=critical,CA:TRUE", d)
    sh("printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > leaf.ext && "
       f"openssl req {ec} -keyout leaf.key -out leaf.csr -subj /CN=localhost && "
       "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out leaf.pem "
       "-extfile leaf.ext", d)
    return {n: os.path.join(d, n) for n in ("ca.pem", "other.pem", "leaf.pem", "leaf.key")}


def check_client_against_server(bins, pki):
    port = free_port()
    server = Server([bins["tls_echo_server"], "--port", str(port), "--cert", pki["leaf.pem"], "--key",
                     pki["leaf.key"], "--seconds", "30"], "listening on")
    client = [bins["tls_client"], HOST, str(port), "--ca", pki["ca.pem"]]
    rc, out, err = run(client, b"hi\nhello world\n")
    lines = out.splitlines()
    expect(rc == 0, f"tls_client exit status {rc}: {err}", out)
    expect(lines[0] == f"connected to {HOST}:{port}" and lines[1] == "version TLSv1.3" and
           lines[2].startswith("cipher TLS_") and lines[3] == "alpn gev-echo" and lines[4] == "subject CN=localhost",
           "connection lines", out)
    expect(lines[5:] == ["received: hi", "received: hello world"], "echoed lines", out)

    rc, out, err = run([bins["tls_client"], HOST, str(port), "--ca", pki["other.pem"]], b"hi\n")
    expect(rc == 1 and f"tls handshake {HOST}:{port}: certificate verify failed" in err,
           "a client trusting another CA fails with OpenSSL's reason", out + err)

    # openssl s_client: verified, its line echoed; it leaves when its stdin ends.
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile", pki["ca.pem"],
                          "-verify_return_error", "-verify_ip", HOST, "-quiet", "-no_ign_eof"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"from s_client\n")
    p.stdin.flush()
    got = p.stdout.readline()
    p.stdin.close()
    p.wait(timeout=10)
    expect(got == b"from s_client\n", "openssl s_client's line echoed", got.decode(errors="replace"))

    # Python's ssl module, with ALPN.
    ctx = ssl.create_default_context(cafile=pki["ca.pem"])
    ctx.set_alpn_protocols(["gev-echo"])
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            expect(s.version() == "TLSv1.3" and s.selected_alpn_protocol() == "gev-echo", "python: version, alpn")
            data = bytes(range(256)) * 400
            s.sendall(data)
            back = b""
            while len(back) < len(data):
                chunk = s.recv(65536)
                expect(chunk != b"", "python: the echo ended early")
                back += chunk
            expect(back == data, "python: 100 KiB echoed")

    with socket.create_connection((HOST, port), timeout=5) as raw:   # garbage instead of a ClientHello
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
    rc, out, err = run(client, b"still there\n")
    expect(rc == 0 and out.splitlines()[-1] == "received: still there", "served after a garbage client", out + err)
    server.p.send_signal(signal.SIGINT)   # done: stop it now (--seconds is the safety net)
    out = server.finish(timeout=15).decode()
    expect("handshake failures: 2\n" in out, "the wrong-CA client and the garbage one counted", out)


def check_client_against_s_server(bins, pki):
    port = free_port()
    argv = ["openssl", "s_server", "-accept", str(port), "-cert", pki["leaf.pem"], "-key", pki["leaf.key"], "-rev",
            "-naccept", "1"]
    server = Server(argv, "ACCEPT")
    rc, out, err = run([bins["tls_client"], "localhost", str(port), "--ca", pki["ca.pem"]], b"abc\nhello\n")
    expect(rc == 0, f"tls_client against s_server: exit status {rc}: {err}", out)
    lines = out.splitlines()
    expect(lines[1] == "version TLSv1.3" and lines[3] == "alpn (none)", "s_server: version, no alpn", out)
    expect(lines[5:] == ["received: cba", "received: olleh"], "s_server -rev reverses each line", out)
    try:
        server.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.p.kill()
        expect(False, "s_server did not exit after its one connection", server.text())


def check_sigint(bins, pki):
    port = free_port()
    server = Server([bins["tls_echo_server"], "--port", str(port), "--cert", pki["leaf.pem"], "--key",
                     pki["leaf.key"], "--quiet"], "listening on")
    time.sleep(0.05)
    server.p.send_signal(signal.SIGINT)
    out = server.finish().decode()
    expect("handshake failures: 0" in out, "SIGINT stops it gracefully", out)


def main():
    bins = {os.path.basename(p): p for p in sys.argv[1:]}
    expect("tls_echo_server" in bins and "tls_client" in bins, f"binaries on the command line, got {sorted(bins)}")
    with tempfile.TemporaryDirectory(prefix="gev-tls-") as d:
        pki = make_pki(d)
        check_client_against_server(bins, pki)
        check_client_against_s_server(bins, pki)
        check_sigint(bins, pki)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Memory of `fymo serve` while a 100 MiB upload streams through it.

The demo's /upload route (a Rust controller that hashes the file) is given a 200 MiB
limit in a copy of the app; the upload is sent chunked over a raw socket at full speed
while the server's RSS is sampled every 20 ms. Prints RSS before, peak during, after.

usage: bench/upload_memory.py [MiB]      (default 100)
"""
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import REPO, build_demo, free_port, rss_mib, start, stop

MIB = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def copy_app(to):
    for name in ("templates", "controllers", "static"):
        shutil.copytree(os.path.join(REPO, name), os.path.join(to, name))
    shutil.copy(os.path.join(REPO, "fymo.yml"), to)
    with open(os.path.join(REPO, "routes.yml")) as f:
        routes = f.read().replace("max_size: 5 MiB", "max_size: 200 MiB")
    with open(os.path.join(to, "routes.yml"), "w") as f:
        f.write(routes)


def session(port):
    """A session cookie and its CSRF token, from the upload page."""
    response = urllib.request.urlopen(f"http://127.0.0.1:{port}/upload")
    cookie = response.headers["Set-Cookie"].split(";")[0]
    body = response.read().decode()
    token = body.split('"csrf":"')[1].split('"')[0]
    return cookie, token


def upload(port, cookie, token, size):
    boundary = "bench-boundary"
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())

    def chunk(data):
        sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    chunk(
        f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    block = bytes(range(256)) * 4096  # 1 MiB
    digest = hashlib.sha256()
    for _ in range(size // len(block)):
        chunk(block)
        digest.update(block)
    chunk(f"\r\n--{boundary}--\r\n".encode())
    sock.sendall(b"0\r\n\r\n")
    response = b""
    while b"</html>" not in response:
        data = sock.recv(65536)
        if not data:
            break
        response += data
    sock.close()
    return response, digest.hexdigest()


def main():
    demo = build_demo()
    with tempfile.TemporaryDirectory() as app:
        copy_app(app)
        port = free_port()
        servers = [start("fymo", [demo, "--root", app, "serve", "--port", str(port), "--engines", "1"], port, "/upload", cwd=app)]
        pid = servers[0][1].pid
        try:
            cookie, token = session(port)
            before = rss_mib(pid)[0]
            peak = [before]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_mib(pid)[0])
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.time()
            response, expected = upload(port, cookie, token, MIB * 1024 * 1024)
            took = time.time() - started
            done.set()
            sampler.join()
            after = rss_mib(pid)[0]
            ok = response.startswith(b"HTTP/1.1 200") and expected.encode() in response
            print(f"{MIB} MiB upload, chunked, hashed by the demo's Rust controller ({'ok' if ok else 'FAILED'}, {took:.1f} s)")
            print(f"{'RSS before':<16}{before:>8.1f} MiB")
            print(f"{'RSS peak during':<16}{peak[0]:>8.1f} MiB  (+{peak[0] - before:.1f} MiB for {MIB} MiB streamed)")
            print(f"{'RSS after':<16}{after:>8.1f} MiB")
            if not ok:
                print(response[:500])
                sys.exit(1)
        finally:
            stop(servers)


if __name__ == "__main__":
    main()

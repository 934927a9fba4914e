"""Shared helpers for the benchmark scripts: ports, readiness, wrk, RSS."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The demo's product list as a Python controller (the same props as controllers/products.rs),
# for the benchmarks that compare Python with Rust.
PY_CONTROLLER = '''
TAGS = ["new", "sale", "eco", "gift"]


def product(i):
    return {
        "id": i,
        "name": f"Product {i}",
        "price": (i % 200) * 1.25 + 0.99,
        "tags": TAGS[: i % 3],
        "description": f"Product {i} is a fine <thing> & worth every cent.",
    }


def get_context(request):
    n = min(int(request["query"].get("n", "10")), 10000)
    return {"products": [product(i) for i in range(1, n + 1)], "total": n}
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early: {proc.args}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"server not ready: {url}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def to_ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, duration, connections, threads=1):
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s", url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if errors or socket_errors:
        print(f"  warning: {url}: {errors.group(0) if errors else ''} {socket_errors.group(0) if socket_errors else ''}")
    return rps, p50, p99


def start(name, cmd, port, ready_path="/products?n=10", cwd=REPO):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}{ready_path}", proc)
    return name, proc, port


def stop(servers):
    for _, proc, _ in servers:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def build_demo(root=REPO, features=()):
    """Builds the release demo binary and the app at `root`; returns the binary's path."""
    flags = ["--features", ",".join(features)] if features else []
    subprocess.run(["cargo", "build", "--release", "--bin", "fymo-demo", *flags], cwd=REPO, check=True)
    demo = os.path.join(REPO, "target/release/fymo-demo")
    subprocess.run([demo, "--root", root, "build"], check=True)
    return demo

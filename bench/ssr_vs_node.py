#!/usr/bin/env python3
"""Fymo vs a plain Node server on the same product-list page, in the same run.

Serves /products?n=10 and /products?n=1000 from `fymo-demo serve` (QuickJS engine pool)
and from bench/node-server.mjs (node:http + svelte/server render()), loads each with wrk
on 127.0.0.1 for a fixed time, and prints req/s, p50, p99 and RSS side by side with the
ratio to Node. Every server is stopped at the end.

usage: bench/ssr_vs_node.py [--duration 10] [--connections 8]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def wrk(url, duration, connections):
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s", url],
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


def start(name, cmd, port, cwd=REPO):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/products?n=10", proc)
    return name, proc, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")

    subprocess.run(["cargo", "build", "--release", "--bin", "fymo-demo"], cwd=REPO, check=True)
    demo = os.path.join(REPO, "target/release/fymo-demo")
    subprocess.run([demo, "--root", REPO, "build"], check=True)

    servers = []
    try:
        p = free_port()
        servers.append(start("node (node:http)", ["node", "bench/node-server.mjs", str(p)], p))
        for engines in (1, 2):
            p = free_port()
            servers.append(start(
                f"fymo ({engines} engine{'s' if engines > 1 else ''})",
                [demo, "--root", REPO, "--log-format", "json", "serve", "--port", str(p), "--engines", str(engines)],
                p,
            ))
        # Warm up every server on both pages before measuring.
        for _, _, port in servers:
            for n in (10, 1000):
                wrk(f"http://127.0.0.1:{port}/products?n={n}", 2, args.connections)

        print(f"\nwrk: 1 thread, {args.connections} connections, {args.duration}s per row, 127.0.0.1, {os.cpu_count()} cores\n")
        print(f"{'page':<12}{'server':<20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'RSS MiB':>10}{'peak MiB':>10}{'vs node':>10}")
        for n in (10, 1000):
            baseline = None
            for name, proc, port in servers:
                rps, p50, p99 = wrk(f"http://127.0.0.1:{port}/products?n={n}", args.duration, args.connections)
                rss, peak = rss_mib(proc.pid)
                baseline = baseline or rps
                print(f"{n:>5} items  {name:<20}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{rss:>10.1f}{peak:>10.1f}{rps / baseline:>9.2f}x")
    finally:
        for _, proc, _ in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()

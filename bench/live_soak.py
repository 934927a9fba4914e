#!/usr/bin/env python3
"""Live pages under a bounded soak: 1,000 concurrent live connections on one worker
(a single `fymo serve` process), a publish every 100 ms for 60 s, from an outside
process (`POST /_fymo/live/publish`). Reports publish -> delivered p50/p99, lost and
duplicated messages, the server's memory per idle connection and its CPU.

Targets: p99 < 50 ms, < 20 KiB per idle connection, zero lost or duplicated.

usage: bench/live_soak.py [--connections 1000] [--seconds 60] [--interval-ms 100]
"""
import argparse
import os
import subprocess

from benchlib import REPO, build_demo, free_port, start, stop

SECRET = "soak-secret-0123456789abcdef0123456789abcdef"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--interval-ms", type=int, default=100)
    args = ap.parse_args()
    demo = build_demo()
    subprocess.run(["cargo", "build", "--release", "--example", "live_soak"], cwd=REPO, check=True)
    client = os.path.join(REPO, "target/release/examples/live_soak")
    port = free_port()
    os.environ["FYMO_SECRET"] = SECRET
    cmd = [demo, "--root", REPO, "--log-format", "json", "serve", "--port", str(port), "--engines", "1",
           "--python-workers", "1", "--live-max-per-ip", str(args.connections + 10)]
    env_log = os.environ.get("FYMO_LOG")
    os.environ["FYMO_LOG"] = "warn"  # no access log line per publish
    servers = [start("fymo", cmd, port, ready_path="/pulse")]
    try:
        pid = servers[0][1].pid
        print(f"\nserver pid {pid} on 127.0.0.1:{port}, {os.cpu_count()} cores (client and server share them)\n")
        subprocess.run([client, f"http://127.0.0.1:{port}", str(pid), SECRET, str(args.connections),
                        str(args.seconds), str(args.interval_ms)], check=True)
    finally:
        stop(servers)
        if env_log is None:
            os.environ.pop("FYMO_LOG", None)


if __name__ == "__main__":
    main()

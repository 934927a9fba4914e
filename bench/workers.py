#!/usr/bin/env python3
"""Throughput of `fymo serve --workers N` beside the single-process `fymo serve`.

Serves the demo's product-list page (10 and 1000 items) from each configuration in turn,
loads it with wrk on 127.0.0.1, and prints req/s, p50, p99 and the RSS of each worker
process (the master's RSS separately). All servers are stopped at the end.

usage: bench/workers.py [--duration 8] [--connections 16]
"""
import argparse
import os
import shutil
import sys
import time

from benchlib import REPO, build_demo, free_port, rss_mib, start, stop, wrk

CONFIGS = [
    ("single process, 2 engines", ["--engines", "2"]),
    ("--workers 1, 2 engines", ["--workers", "1", "--engines", "2"]),
    ("--workers 2, 1 engine each", ["--workers", "2", "--engines", "1"]),
    ("--workers 2, 2 engines each", ["--workers", "2", "--engines", "2"]),
]


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    demo = build_demo()

    print(f"\nwrk: 2 threads, {args.connections} connections, {args.duration}s per row, 127.0.0.1, {os.cpu_count()} cores\n")
    print(f"{'page':<11}{'configuration':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'worker RSS MiB':>16}{'master MiB':>12}")
    for name, extra in CONFIGS:
        port = free_port()
        cmd = [demo, "--root", REPO, "--log-format", "json", "serve", "--port", str(port), "--python-workers", "1", *extra]
        servers = [start(name, cmd, port)]
        try:
            time.sleep(1)
            for n in (10, 1000):
                url = f"http://127.0.0.1:{port}/products?n={n}"
                wrk(url, 2, args.connections)
                rps, p50, p99 = wrk(url, args.duration, args.connections, threads=2)
                pid = servers[0][1].pid
                workers = [p for p in children(pid) if open(f"/proc/{p}/comm").read().strip().startswith("fymo")]
                if workers:
                    rss = " / ".join(f"{rss_mib(p)[0]:.0f}" for p in workers)
                    master = f"{rss_mib(pid)[0]:.1f}"
                else:
                    rss, master = f"{rss_mib(pid)[0]:.0f}", "-"
                print(f"{n:>5} items {name:<30}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}{rss:>16}{master:>12}")
        finally:
            stop(servers)


if __name__ == "__main__":
    main()

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
import shutil
import sys

from benchlib import REPO, build_demo, free_port, rss_mib, start, stop, wrk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")

    demo = build_demo()

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
        stop(servers)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""QuickJS and V8 side by side, in one run.

1. `cargo bench --bench engines`: cold start of one instance, render µs for the product
   list with 10 and 1000 items, RSS per instance (in-process, no HTTP).
2. The same demo served by `fymo serve --engine quickjs` and `--engine v8` in turn
   (2 engines each): time from spawn to the first page, req/s and p99 under wrk for 10
   and 1000 items, and the server's RSS after the load.

V8 needs the `v8` feature and, without internet, an archive from scripts/build-v8.sh:
    RUSTY_V8_ARCHIVE=~/.cache/fymo-v8/librusty_v8.a.gz bench/engines.py
Without RUSTY_V8_ARCHIVE the crate downloads its own archive (needs GitHub); pass
--quickjs-only to measure QuickJS alone.

usage: bench/engines.py [--duration 8] [--connections 16] [--quickjs-only]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from benchlib import REPO, build_demo, free_port, rss_mib, stop, wait_ready, wrk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--quickjs-only", action="store_true")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    features = () if args.quickjs_only else ("v8",)
    engines = ["quickjs"] if args.quickjs_only else ["quickjs", "v8"]
    demo = build_demo(features=features)

    flags = ["--features", ",".join(features)] if features else []
    subprocess.run(["cargo", "bench", "--bench", "engines", *flags], cwd=REPO, check=True)

    print(f"\nfymo serve --engines 2; wrk: 2 threads, {args.connections} connections, {args.duration}s per row, "
          f"127.0.0.1, {os.cpu_count()} cores\n")
    print(f"{'engine':<9}{'first page ms':>14}{'page':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'RSS MiB':>9}")
    for engine in engines:
        port = free_port()
        cmd = [demo, "--root", REPO, "--log-format", "json", "serve", "--port", str(port), "--engine", engine,
               "--engines", "2", "--python-workers", "1"]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers = [(engine, proc, port)]
        try:
            wait_ready(f"http://127.0.0.1:{port}/products?n=10", proc)
            first_page_ms = (time.perf_counter() - started) * 1e3
            for n in (10, 1000):
                url = f"http://127.0.0.1:{port}/products?n={n}"
                wrk(url, 2, args.connections)
                rps, p50, p99 = wrk(url, args.duration, args.connections, threads=2)
                rss, _ = rss_mib(proc.pid)
                print(f"{engine:<9}{first_page_ms:>14.0f}{n:>7}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}{rss:>9.0f}")
        finally:
            stop(servers)


if __name__ == "__main__":
    main()

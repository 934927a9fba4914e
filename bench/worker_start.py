#!/usr/bin/env python3
"""How soon a prefork worker serves after it is spawned, with and without the V8
startup snapshot, and its RSS: one run, both configurations side by side.

Starts `fymo-demo serve --workers 2` on V8 (release build with `--features v8`), kills a
worker with SIGKILL a number of times, and reads from the JSON logs the time from the
master's "worker spawned" to the worker's "worker booted" (its engine threads all have
their instance by then). RSS is read from /proc for each worker once idle, then again
after a load of the 1,000-item page, and once more 4 s later (idle engine threads give
memory back after 2 s). Every server is stopped at the end.

usage: bench/worker_start.py [--kills 8] [--engines 2]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

from benchlib import REPO, build_demo, free_port, rss_mib, wait_ready, wrk


def stamp(line):
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()


class Server:
    """`fymo-demo serve --workers 2`, its JSON log read on a thread."""

    def __init__(self, demo, engines, env):
        self.port = free_port()
        cmd = [demo, "--root", REPO, "--log-format", "json", "serve", "--engine", "v8", "--port", str(self.port),
               "--workers", "2", "--engines", str(engines), "--python-workers", "1"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.spawned, self.booted = {}, {}
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()
        wait_ready(f"http://127.0.0.1:{self.port}/products?n=10", self.proc)
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.booted) >= 2, timeout=60):
                sys.exit("the workers' boot lines did not come within 60 s")

    def read(self):
        for raw in self.proc.stderr:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            fields = line.get("fields", {})
            with self.cond:
                if fields.get("message") == "worker spawned":
                    self.spawned[fields["pid"]] = stamp(line)
                elif fields.get("message") == "worker booted":
                    self.booted[fields["pid"]] = stamp(line)
                self.cond.notify_all()

    def workers(self):
        with self.cond:
            return [pid for pid in self.booted if os.path.exists(f"/proc/{pid}")]

    def replace_one(self):
        """Kills a worker; the milliseconds from its replacement's spawn to its boot."""
        victim = self.workers()[0]
        with self.cond:
            before = set(self.booted)
        os.kill(victim, signal.SIGKILL)
        with self.cond:
            if not self.cond.wait_for(lambda: set(self.booted) - before, timeout=60):
                sys.exit("no replacement worker booted within 60 s")
            pid = (set(self.booted) - before).pop()
            return (self.booted[pid] - self.spawned[pid]) * 1000

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=8)
    ap.add_argument("--engines", type=int, default=2)
    args = ap.parse_args()
    demo = build_demo(features=("v8",))
    cache = tempfile.mkdtemp(prefix="fymo-bench-cache-")
    rows = []
    for name, snapshot in (("without snapshot", "0"), ("with snapshot", "1")):
        env = dict(os.environ, FYMO_CACHE_DIR=cache, FYMO_V8_SNAPSHOT=snapshot)
        env.setdefault("FYMO_SECRET", "bench-secret-0123456789abcdef0123456789abcdef")
        server = Server(demo, args.engines, env)
        try:
            times = []
            for _ in range(args.kills):
                time.sleep(1)  # the last replacement's Python interpreters finish starting first
                times.append(server.replace_one())
            time.sleep(1)  # let the last replacement settle before reading its RSS
            idle = statistics.median(rss_mib(pid)[0] for pid in server.workers())
            wrk(f"http://127.0.0.1:{server.port}/products?n=1000", 6, 16, threads=2)
            loaded = statistics.median(rss_mib(pid)[0] for pid in server.workers())
            time.sleep(4)  # past the engines' idle release (2 s)
            rested = statistics.median(rss_mib(pid)[0] for pid in server.workers())
        finally:
            server.stop()
        rows.append((name, statistics.median(times), max(times), idle, loaded, rested))

    print(f"\nV8, --workers 2 --engines {args.engines}; {args.kills} workers killed and replaced per row; "
          f"{os.cpu_count()} cores\n")
    print(f"{'':<18}{'boot p50 ms':>12}{'boot max ms':>12}{'idle RSS MiB':>14}{'RSS after load':>16}"
          f"{'4 s later':>11}")
    for name, p50, worst, idle, loaded, rested in rows:
        print(f"{name:<18}{p50:>12.1f}{worst:>12.1f}{idle:>14.1f}{loaded:>16.1f}{rested:>11.1f}")
    base = rows[0][1]
    print(f"\nboot p50 with the snapshot: {rows[1][1] / base:.2f}x the time without")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fymo (V8 and QuickJS; Rust and Python controllers) beside a plain Node server and
SvelteKit (adapter-node), all built and run here, in the same run.

The page is the demo's product list, 10 and 1000 items; no cache on any side. Before
measuring, the HTML is checked:
  - every Fymo variant and the plain Node server (bench/node-server.mjs) send the same
    document byte for byte, once the per-response CSP nonce and CSRF token (and the
    Python route's own path in the page object) are masked;
  - SvelteKit sends the same page markup (the layout's <header> and the page's <h1>…</ul>)
    inside its own shell.
Then each row is loaded with wrk (2 threads, 32 connections by default) in turn, `--runs`
times, interleaved; the table shows medians, and the ratios the performance targets name.

Fymo's own cost per request beyond the render: the server's CPU time per request minus
that of its engine threads (`fymo-engine-*`: parsing props, rendering, serializing),
from /proc, during the Rust-controller rows.

A render cache row (`--cache`) serves the same page from a route with `cache:` set; it is
reported apart and never counts toward the targets.

SvelteKit is installed from the npm registry (bench/sveltekit/package.json, pinned) into
a temp dir kept between runs (/tmp/fymo-bench-sveltekit), with the demo's components.

V8 needs `--features v8`: RUSTY_V8_ARCHIVE must name the archive (see bench/engines.py),
or pass --no-v8.

usage: bench/side_by_side.py [--duration 10] [--connections 32] [--runs 3] [--no-v8] [--cache]
"""
import argparse
import filecmp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

from benchlib import PY_CONTROLLER, REPO, build_demo, free_port, rss_mib, start, stop, wrk


EXTRA_ROUTES = """routes:
  /py/products:
    controller: pyproducts
    template: products/index.svelte
  /cached/products:
    controller: products.index
    template: products/index.svelte
    cache:
      ttl: 10s
"""

SVELTEKIT_DIR = os.path.join(tempfile.gettempdir(), "fymo-bench-sveltekit")
TICK = os.sysconf("SC_CLK_TCK")


def make_app(app, cache):
    for part in ("templates", "controllers"):
        shutil.copytree(os.path.join(REPO, part), os.path.join(app, part))
    shutil.copy(os.path.join(REPO, "fymo.yml"), app)
    with open(os.path.join(REPO, "routes.yml")) as f:
        extra = EXTRA_ROUTES if cache else EXTRA_ROUTES.split("  /cached/")[0]
        routes = f.read().replace("routes:\n", extra, 1)
    with open(os.path.join(app, "routes.yml"), "w") as f:
        f.write(routes)
    with open(os.path.join(app, "controllers", "pyproducts.py"), "w") as f:
        f.write(PY_CONTROLLER)


def build_sveltekit(app):
    """Installs (when package.json changed) and builds the SvelteKit peer; returns its dir."""
    src = os.path.join(REPO, "bench", "sveltekit")
    os.makedirs(SVELTEKIT_DIR, exist_ok=True)
    fresh = not os.path.exists(os.path.join(SVELTEKIT_DIR, "package.json")) or not filecmp.cmp(
        os.path.join(src, "package.json"), os.path.join(SVELTEKIT_DIR, "package.json"), shallow=False)
    for name in ("package.json", "svelte.config.js", "vite.config.js"):
        shutil.copy(os.path.join(src, name), SVELTEKIT_DIR)
    shutil.rmtree(os.path.join(SVELTEKIT_DIR, "src"), ignore_errors=True)
    shutil.copytree(os.path.join(src, "src"), os.path.join(SVELTEKIT_DIR, "src"))
    for part in ("products", "components", "layouts"):
        shutil.copytree(os.path.join(app, "templates", part), os.path.join(SVELTEKIT_DIR, "src/lib/templates", part))
    if fresh or not os.path.isdir(os.path.join(SVELTEKIT_DIR, "node_modules")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SVELTEKIT_DIR, check=True)
    subprocess.run(["npx", "vite", "build", "--logLevel", "error"], cwd=SVELTEKIT_DIR, check=True)
    return SVELTEKIT_DIR


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def masked(html):
    """`html` without what must differ: CSRF token, CSP nonce, the route's path in the page object."""
    html = html.replace('"/py/products?', '"/products?')
    html = re.sub(r"[0-9a-f]{64}", "CSRF", html)
    return re.sub(r"nonce=\"[0-9a-f]{32}\"", 'nonce="N"', html)


def markup(html):
    """The page's markup any Svelte server renders the same: the layout's header, the list."""
    header = re.search(r"<header .*?</header>", html, re.S)
    page = re.search(r"<h1 .*?</ul>", html, re.S)
    if not header or not page:
        sys.exit("HTML check: page markup not found")
    return header.group(0) + page.group(0)


def check_html(rows, n):
    """Same document (masked) from Fymo and plain Node; same page markup from SvelteKit."""
    pages = {label: fetch(url.replace("{n}", str(n))) for label, _, url, _ in rows}
    reference = masked(pages["node"])
    for label, html in pages.items():
        if label == "sveltekit":
            same = markup(html) == markup(pages["node"])
        else:
            same = masked(html) == reference
        if not same:
            path = os.path.join(tempfile.gettempdir(), f"fymo-bench-{label.replace(' ', '_').replace('/', '_')}-{n}.html")
            with open(path, "w") as f:
                f.write(html)
            sys.exit(f"HTML check failed: {label} at n={n} differs from node (saved to {path})")
    print(f"HTML check, {n} items: {len(pages) - 1} servers match node "
          f"({len(reference.encode())} bytes masked; sveltekit: page markup only)")


def cpu_ticks(pid):
    """(whole process, engine threads) CPU ticks so far."""
    total = engine = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        total += ticks
        if name.startswith("fymo-engine"):
            engine += ticks
    return total, engine


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-v8", action="store_true")
    ap.add_argument("--cache", action="store_true", help="add a row served from the render cache")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    if not args.no_v8 and not os.environ.get("RUSTY_V8_ARCHIVE"):
        sys.exit("set RUSTY_V8_ARCHIVE (see bench/engines.py) or pass --no-v8")

    with tempfile.TemporaryDirectory() as app:
        make_app(app, args.cache)
        demo = build_demo(app, features=() if args.no_v8 else ("v8",))
        kit = build_sveltekit(app)

        servers, rows = [], []
        try:
            p = free_port()
            servers.append(start("node", ["node", os.path.join(REPO, "bench/node-server.mjs"), str(p), app], p))
            rows.append(("node", servers[-1], f"http://127.0.0.1:{p}/products?n={{n}}", False))
            p = free_port()
            env = dict(os.environ, PORT=str(p), HOST="127.0.0.1")
            proc = subprocess.Popen(["node", "build/index.js"], cwd=kit, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers.append(("sveltekit", proc, p))
            from benchlib import wait_ready
            wait_ready(f"http://127.0.0.1:{p}/products?n=10", proc)
            rows.append(("sveltekit", servers[-1], f"http://127.0.0.1:{p}/products?n={{n}}", False))
            for engine in ["quickjs"] + ([] if args.no_v8 else ["v8"]):
                p = free_port()
                servers.append(start(f"fymo {engine}", [
                    demo, "--root", app, "--log-format", "json", "serve", "--port", str(p), "--engine", engine,
                ], p, cwd=app))
                rows.append((f"{engine} rust", servers[-1], f"http://127.0.0.1:{p}/products?n={{n}}", True))
                rows.append((f"{engine} python", servers[-1], f"http://127.0.0.1:{p}/py/products?n={{n}}", False))
                if args.cache:
                    rows.append((f"{engine} cached", servers[-1],
                                 f"http://127.0.0.1:{p}/cached/products?n={{n}}", False))

            sizes = (10, 1000)
            for n in sizes:
                check_html([r for r in rows if "cached" not in r[0]], n)
            for _, _, url, _ in rows:  # warm up
                for n in sizes:
                    wrk(url.replace("{n}", str(n)), 2, args.connections, args.threads)

            results = {}  # (label, n) -> list of (rps, p50, p99, overhead_us)
            for run in range(args.runs):
                for n in sizes:
                    for label, (_, proc, _), url, own_cost in rows:
                        before = cpu_ticks(proc.pid) if own_cost else None
                        rps, p50, p99 = wrk(url.replace("{n}", str(n)), args.duration, args.connections, args.threads)
                        overhead = None
                        if before:
                            after = cpu_ticks(proc.pid)
                            requests = rps * args.duration
                            outside = (after[0] - before[0]) - (after[1] - before[1])
                            overhead = outside / TICK / requests * 1e6
                        results.setdefault((label, n), []).append((rps, p50, p99, overhead))
                print(f"run {run + 1}/{args.runs} done", flush=True)

            med = lambda xs: statistics.median(xs) if xs else float("nan")
            print(f"\nwrk: {args.threads} threads, {args.connections} connections, {args.duration}s per row, "
                  f"median of {args.runs} runs, 127.0.0.1, {os.cpu_count()} cores; no cache unless 'cached'\n")
            print(f"{'items':>5}  {'server':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'RSS MiB':>9}"
                  f"{'vs node':>9}{'vs kit':>9}{'own µs':>8}")
            for n in sizes:
                node = med([r[0] for r in results[("node", n)]])
                kit_rps = med([r[0] for r in results[("sveltekit", n)]])
                for label, (_, proc, _), _, own_cost in rows:
                    rs = results[(label, n)]
                    rps = med([r[0] for r in rs])
                    own = med([r[3] for r in rs if r[3] is not None]) if own_cost else None
                    rss = rss_mib(proc.pid)[0]
                    print(f"{n:>5}  {label:<16}{rps:>9.0f}{med([r[1] for r in rs]):>9.2f}{med([r[2] for r in rs]):>9.2f}"
                          f"{rss:>9.1f}{rps / node:>8.2f}x{rps / kit_rps:>8.2f}x"
                          f"{'' if own is None else f'{own:>8.1f}'}")
            print("\nown µs: server CPU per request outside the engine threads (Rust controller rows)")
            print("targets: v8 >= 1.5x node and >= 4x (10) / 3x (1000) sveltekit; quickjs > sveltekit; own < 20 µs")
        finally:
            stop(servers)


if __name__ == "__main__":
    main()

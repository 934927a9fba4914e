#!/usr/bin/env python3
"""The same product-list page with a Python controller and with a Rust controller.

Copies the demo app to a temp dir, adds `/py/products` served by a Python controller that
builds the same props as the Rust `products.index`, serves it with `fymo-demo serve`, and
loads both routes with wrk in the same run: req/s, p50, p99 side by side. Then runs the
per-call microbenchmark (`cargo bench --bench python_call`) for the added cost of one
Python call in microseconds.

usage: bench/python_vs_rust.py [--duration 8] [--connections 8]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from benchlib import PY_CONTROLLER, REPO, build_demo, free_port, start, stop, wrk



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")

    with tempfile.TemporaryDirectory() as app:
        for part in ("templates", "controllers"):
            shutil.copytree(os.path.join(REPO, part), os.path.join(app, part))
        with open(os.path.join(REPO, "routes.yml")) as f:
            routes = f.read().replace("routes:\n", "routes:\n  /py/products:\n    controller: pyproducts\n    template: products/index.svelte\n", 1)
        with open(os.path.join(app, "routes.yml"), "w") as f:
            f.write(routes)
        with open(os.path.join(app, "controllers", "pyproducts.py"), "w") as f:
            f.write(PY_CONTROLLER)

        demo = build_demo(app)
        port = free_port()
        servers = [start("fymo", [demo, "--root", app, "serve", "--port", str(port), "--engines", "2", "--python-workers", "2"], port)]
        try:
            for path in ("/products", "/py/products"):
                for n in (10, 1000):
                    wrk(f"http://127.0.0.1:{port}{path}?n={n}", 2, args.connections)
            print(f"\nwrk: 1 thread, {args.connections} connections, {args.duration}s per row; 2 engines, 2 Python workers\n")
            print(f"{'page':<12}{'controller':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs rust':>10}")
            for n in (10, 1000):
                baseline = None
                for label, path in (("rust", "/products"), ("python", "/py/products")):
                    rps, p50, p99 = wrk(f"http://127.0.0.1:{port}{path}?n={n}", args.duration, args.connections)
                    baseline = baseline or rps
                    print(f"{n:>5} items  {label:<12}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{rps / baseline:>9.2f}x")
        finally:
            stop(servers)

    print("\nper-call cost (cargo bench --bench python_call):")
    subprocess.run(["cargo", "bench", "--bench", "python_call"], cwd=REPO, check=True)


if __name__ == "__main__":
    main()

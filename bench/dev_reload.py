#!/usr/bin/env python3
"""Edit-to-served latency of `fymo dev`, beside a cold `fymo build` of the same app.

For the demo app and for a generated app of 200 templates: starts `fymo dev`, then 20
times writes a changed .svelte file and polls the page until the change is served;
prints the median and p90 of those times, and the median of 3 cold `fymo build` runs.
Each app runs twice: with fymo dev's module-table bundles (the default) and, as the
baseline, with esbuild relinking every entry on each edit (FYMO_DEV_BUNDLE=esbuild).

usage: bench/dev_reload.py [--edits 20] [--templates 200]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

from benchlib import REPO, free_port, stop, wait_ready

PAGE = """<script>
\timport Row from './lib/Row.svelte';
\tlet {{ items = [1, 2, 3] }} = $props();
\tlet count = $state(0);
</script>

<h1 id="title">Page {i} MARK0</h1>
<button onclick={{() => count++}}>{{count}}</button>
<ul>
\t{{#each items as item}}<Row {{item}} />{{/each}}
</ul>

<style>
\th1 {{ color: #{i:03x}; }}
</style>
"""

ROW = """<script>
\tlet { item } = $props();
</script>

<li class="row">Row {item}</li>

<style>
\t.row { padding: 2px; }
</style>
"""


def generate(root, count):
    os.makedirs(os.path.join(root, "templates", "gen", "lib"))
    with open(os.path.join(root, "templates", "gen", "lib", "Row.svelte"), "w") as f:
        f.write(ROW)
    routes = ["routes:"]
    for i in range(count):
        with open(os.path.join(root, "templates", "gen", f"p{i}.svelte"), "w") as f:
            f.write(PAGE.format(i=i))
        routes.append(f"  /p/{i}: gen.p{i}")
    with open(os.path.join(root, "routes.yml"), "w") as f:
        f.write("\n".join(routes) + "\n")


def fetch(url):
    try:
        return urllib.request.urlopen(url, timeout=5).read().decode()
    except Exception:
        return ""


MODES = [("module table", {}), ("esbuild relink", {"FYMO_DEV_BUNDLE": "esbuild"})]


def edit_latencies(binary, root, template, url, marker_from, edits, env):
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--root", root, "dev", "--port", str(port), "--engines", "1", "--python-workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env},
    )
    servers = [("dev", proc, port)]
    try:
        wait_ready(f"http://127.0.0.1:{port}{url}", proc, timeout=120)
        path = os.path.join(root, template)
        times = []
        current = marker_from
        for n in range(1, edits + 1):
            marker = f"MARK{n}"
            with open(path) as f:
                text = f.read()
            started = time.perf_counter()
            with open(path, "w") as f:
                f.write(text.replace(current, marker, 1))
            deadline = started + 30
            while marker not in fetch(f"http://127.0.0.1:{port}{url}"):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"edit {n} was not served within 30 s")
                time.sleep(0.002)
            times.append((time.perf_counter() - started) * 1000)
            current = marker
            time.sleep(0.1)  # let the watcher settle between edits
        # Leave the file as it was for the next mode.
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(current, marker_from, 1))
        return times
    finally:
        stop(servers)


def cold_builds(binary, root, runs=3):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([binary, "--root", root, "build"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--templates", type=int, default=200)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--bin", "fymo-demo"], cwd=REPO, check=True)
    binary = os.path.join(REPO, "target/release/fymo-demo")

    rows = []
    with tempfile.TemporaryDirectory() as demo:
        for part in ("templates", "controllers", "routes.yml"):
            src = os.path.join(REPO, part)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(demo, part))
        with open(os.path.join(demo, "templates/counter.svelte")) as f:
            text = f.read()
        with open(os.path.join(demo, "templates/counter.svelte"), "w") as f:
            f.write(text.replace("<h1>Counter</h1>", "<h1>Counter MARK0</h1>"))
        cold = cold_builds(binary, demo)
        for mode, env in MODES:
            times = edit_latencies(binary, demo, "templates/counter.svelte", "/counter", "MARK0", args.edits, env)
            rows.append(("demo app (12 templates)", mode, times, cold))

    with tempfile.TemporaryDirectory() as gen:
        generate(gen, args.templates)
        cold = cold_builds(binary, gen)
        for mode, env in MODES:
            times = edit_latencies(binary, gen, "templates/gen/p7.svelte", "/p/7", "MARK0", args.edits, env)
            rows.append((f"generated ({args.templates + 1} templates)", mode, times, cold))

    print(f"\n{args.edits} edits each; time from writing the .svelte file to the page serving the change\n")
    print(f"{'app':<30}{'dev bundles':<16}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}{'cold build ms':>15}{'speedup':>9}")
    for name, mode, times, cold in rows:
        median = statistics.median(times)
        p90 = sorted(times)[int(len(times) * 0.9) - 1]
        print(f"{name:<30}{mode:<16}{median:>11.0f}{p90:>9.0f}{max(times):>9.0f}{cold:>15.0f}{cold / median:>8.1f}x")


if __name__ == "__main__":
    main()

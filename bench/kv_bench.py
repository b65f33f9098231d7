#!/usr/bin/env python3
"""Side-by-side benchmark: checksync-kv under each persistence scheme versus
redis-server, all driven by the same redis-benchmark runs on this machine.

    bench/kv_bench.py PREFIX OUTDIR [--requests N] [--keys N] [--repeats N]

Writes OUTDIR/kv_bench.md (the table) and OUTDIR/kv_bench.png (the chart, if
matplotlib is installed). Every configuration runs each workload --repeats
times; the table shows medians.
"""
import argparse
import csv
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SECRET = "bench-secret"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    sys.exit("nothing listening on port %d" % port)


def info(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO"], capture_output=True,
                         text=True).stdout
    return dict(l.split(":", 1) for l in out.replace("\r", "").splitlines() if ":" in l)


class Setup:
    """Starts one configuration; .port is where clients go."""

    def __init__(self, name, prefix, work):
        self.name, self.prefix, self.work = name, prefix, work
        self.procs = []
        self.port = free_port()
        rt = os.path.join(prefix, "bin", "checksync-rt")
        kv = os.path.join(prefix, "bin", "checksync-kv")
        d = os.path.join(work, name)
        os.makedirs(d)
        log = open(os.path.join(d, "log"), "w")
        env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
        for k in ("CHECKSYNC_DIR", "CHECKSYNC_BACKUP"):
            env.pop(k, None)

        def start(cmd, e=env):
            self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=log, env=e))

        def backup():
            slog = os.path.join(d, "serve.log")
            f = open(slog, "w")
            self.procs.append(subprocess.Popen(
                [rt, "serve", "--listen", "127.0.0.1:0", "--dir", os.path.join(d, "backup")],
                stdout=f, stderr=f, env=env))
            for _ in range(500):
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(slog).read())
                if m:
                    return m.group(1)
                time.sleep(0.01)
            sys.exit("serve did not start")

        kvp = [kv, "--port", str(self.port)]
        self.kind = "kv"
        if name == "kv none":
            start(kvp + ["--snapshot=none"])
        elif name.startswith("kv checksync"):
            ms = re.search(r"(\d+) ms", name).group(1)
            port = backup()
            start([rt, "run", "--backup", "127.0.0.1:" + port, "--"] + kvp +
                  ["--checkpoint-ms", ms])
        elif name == "kv --sync":
            port = backup()
            start([rt, "run", "--backup", "127.0.0.1:" + port, "--"] + kvp + ["--sync"])
        elif name == "kv full snapshot":
            start(kvp + ["--snapshot=full", "--checkpoint-ms", "100", "--dir", d])
        elif name == "kv fork snapshot":
            start(kvp + ["--snapshot=fork", "--checkpoint-ms", "100", "--dir", d])
        else:
            self.kind = "redis"
            base = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", d,
                    "--save", "", "--protected-mode", "no", "--daemonize", "no"]
            if name == "redis none":
                start(base + ["--appendonly", "no"])
            elif name == "redis AOF everysec":
                start(base + ["--appendonly", "yes", "--appendfsync", "everysec"])
            elif name == "redis AOF always":
                start(base + ["--appendonly", "yes", "--appendfsync", "always"])
            elif name == "redis + replica":
                start(base + ["--appendonly", "no"])
                rport = free_port()
                rd = os.path.join(d, "replica")
                os.makedirs(rd)
                wait_port(self.port)
                start(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", rd,
                       "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1",
                       str(self.port)])
            else:
                sys.exit("unknown setup " + name)
        wait_port(self.port)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["pkill", "-f", "checksync-kv --port %d" % self.port])


def run_benchmark(port, tests, n, keys):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", tests, "-n", str(n), "-r", str(keys), "-d",
         "100", "-P", "16", "-c", "50", "--csv"], capture_output=True, text=True, timeout=600)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if not rows:
        sys.exit("redis-benchmark failed: " + out.stderr)
    total_rps = sum(float(r["rps"]) for r in rows) / len(rows)
    p50 = statistics.mean(float(r["p50_latency_ms"]) for r in rows)
    p99 = max(float(r["p99_latency_ms"]) for r in rows)
    return total_rps, p50, p99


SETUPS = ["kv none", "kv checksync 100 ms", "kv checksync 10 ms", "kv --sync",
          "kv full snapshot", "kv fork snapshot", "redis none", "redis AOF everysec",
          "redis AOF always", "redis + replica"]
WORKLOADS = [("SET", "set"), ("GET/SET", "set,get")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix")
    ap.add_argument("outdir")
    ap.add_argument("--requests", type=int, default=2000000)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--replot", action="store_true", help="only redraw the chart from the table")
    a = ap.parse_args()
    if a.replot:
        plot(a.outdir)
        return
    os.makedirs(a.outdir, exist_ok=True)
    setups = [s for s in SETUPS if not a.only or re.search(a.only, s)]
    results = {}  # (setup, workload) -> dict
    for rep in range(a.repeats):
        for name in setups:
            work = tempfile.mkdtemp(prefix="kvbench-")
            try:
                s = Setup(name, a.prefix, work)
                # Untimed preload: every key exists and the first (full)
                # checkpoint is behind us before measuring.
                subprocess.run(["redis-benchmark", "-p", str(s.port), "-t", "set", "-n",
                                str(2 * a.keys), "-r", str(a.keys), "-d", "100", "-P", "16",
                                "-q"], capture_output=True, timeout=600)
                time.sleep(0.5)
                for wl, tests in WORKLOADS:
                    before = info(s.port) if s.kind == "kv" else {}
                    t0 = time.time()
                    rps, p50, p99 = run_benchmark(s.port, tests, a.requests, a.keys)
                    secs = time.time() - t0
                    after = info(s.port) if s.kind == "kv" else {}
                    r = results.setdefault((name, wl), {"rps": [], "p50": [], "p99": [],
                                                        "Bps": [], "page_Bps": [],
                                                        "pause_p99": [], "pause_max": []})
                    r["rps"].append(rps)
                    r["p50"].append(p50)
                    r["p99"].append(p99)
                    if after:
                        d = lambda k: int(after.get(k, 0)) - int(before.get(k, 0))
                        r["Bps"].append(d("total_checkpoint_bytes") / secs)
                        r["page_Bps"].append(d("total_pages_touched_bytes") / secs)
                        r["pause_p99"].append(int(after.get("pause_us_p99", 0)))
                        r["pause_max"].append(int(after.get("pause_us_max", 0)))
                    print("%-22s %-8s rep %d: %9.0f req/s p50 %.3f ms p99 %.3f ms" %
                          (name, wl, rep, rps, p50, p99), flush=True)
                s.stop()
            finally:
                shutil.rmtree(work, ignore_errors=True)

    med = lambda v: statistics.median(v) if v else None
    lines = ["| server | workload | req/s (median) | loss vs. no persistence | p50 ms | p99 ms | "
             "checkpoint MB/s | page-granular MB/s | pause p99 / max ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in setups:
        base = "kv none" if name.startswith("kv") else "redis none"
        for wl, _ in WORKLOADS:
            r = results.get((name, wl))
            if not r:
                continue
            b = results.get((base, wl))
            loss = ("%+.1f%%" % ((med(r["rps"]) / med(b["rps"]) - 1) * 100)) if b else "-"
            mbps = "%.1f" % (med(r["Bps"]) / 1e6) if r["Bps"] and med(r["Bps"]) else "-"
            pmbps = "%.1f" % (med(r["page_Bps"]) / 1e6) if r["page_Bps"] and med(
                r["page_Bps"]) else "-"
            pause = ("%.2f / %.2f" % (med(r["pause_p99"]) / 1000, med(r["pause_max"]) / 1000)
                     if r["pause_max"] and med(r["pause_max"]) else "-")
            lines.append("| %s | %s | %.0f | %s | %.3f | %.3f | %s | %s | %s |" %
                         (name, wl, med(r["rps"]), loss if name != base else "(baseline)",
                          med(r["p50"]), med(r["p99"]), mbps, pmbps, pause))
    kv_none = results.get(("kv none", "SET"))
    redis_none = results.get(("redis none", "SET"))
    cmd = " ".join(["bench/kv_bench.py", a.prefix, a.outdir, "--requests", str(a.requests),
                    "--keys", str(a.keys), "--repeats", str(a.repeats)])
    md = ["# checksync-kv vs. redis-server (`%s`)" % cmd, "",
          "redis-benchmark -t set|set,get -n %d -r %d -d 100 -P 16 -c 50; medians of %d runs; "
          "loss is against the same server without persistence." % (a.requests, a.keys,
                                                                    a.repeats), ""] + lines
    if kv_none and redis_none:
        md += ["", "kv none / redis none (SET): %.2f" % (med(kv_none["rps"]) / med(redis_none["rps"]))]
    text = "\n".join(md) + "\n"
    open(os.path.join(a.outdir, "kv_bench.md"), "w").write(text)
    print(text)
    plot(a.outdir)


def plot(outdir):
    """Draws OUTDIR/kv_bench.png from the table in OUTDIR/kv_bench.md."""
    rows = []
    for line in open(os.path.join(outdir, "kv_bench.md")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[2].replace(".", "").isdigit():
            rows.append((cells[0], cells[1], float(cells[2])))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (apt-get install python3-matplotlib; "
              "run with /usr/bin/python3)")
        return
    names = list(dict.fromkeys(r[0] for r in rows))
    workloads = list(dict.fromkeys(r[1] for r in rows))
    fig, ax = plt.subplots(figsize=(11, 5))
    for i, wl in enumerate(workloads):
        vals = [next((r[2] / 1000 for r in rows if r[0] == n and r[1] == wl), 0) for n in names]
        ax.bar([x + i * 0.4 for x in range(len(names))], vals, width=0.4, label=wl)
    ax.set_xticks([x + 0.2 for x in range(len(names))])
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("thousand requests/s (median)")
    ax.set_title("checksync-kv vs. redis-server: redis-benchmark -P 16, 100-byte values")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "kv_bench.png"), dpi=110)
    print("chart: " + os.path.join(outdir, "kv_bench.png"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Side-by-side benchmark: checksync-kv under each persistence scheme versus
redis-server, all driven by the same redis-benchmark runs on this machine.

    bench/kv_bench.py PREFIX OUTDIR [--requests N] [--keys N] [--repeats N] [--only RE]

Writes OUTDIR/kv_bench-KEYS.md (the table) and OUTDIR/kv_bench-KEYS.png (the
chart, if matplotlib is installed). Every configuration runs each workload
--repeats times, configurations alternating within each repeat; the table
shows medians. Workloads: SET (50 clients) and a 90/10 GET/SET mix (45 GET
and 5 SET clients at once). Besides throughput and latency it reports, so
that noise on a shared machine can be seen, the CPU time per request of the
server (all its threads), of the backup (checksync-rt serve or the redis
replica) and of the client, and the fraction of wall time the serving thread
was stopped in checkpoints (checksync-kv's INFO total_pause_us).
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


def tree_cpu(pids):
    """CPU seconds (user + system) of these processes and their descendants."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open("/proc/%s/stat" % d).read()
            except OSError:
                continue
            fields = f[f.rindex(")") + 2:].split()
            parent[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    want, ticks, changed = set(pids), 0, True
    while changed:
        changed = False
        for pid, (pp, _) in parent.items():
            if pp in want and pid not in want:
                want.add(pid)
                changed = True
    for pid in want:
        if pid in parent:
            ticks += parent[pid][1]
    return ticks / os.sysconf("SC_CLK_TCK")


class Setup:
    """Starts one configuration; .port is where clients go."""

    def __init__(self, name, prefix, work):
        self.name, self.prefix, self.work = name, prefix, work
        self.procs = []
        self.backup_pids = []  # checksync-rt serve, or the redis replica
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
            self.backup_pids.append(self.procs[-1].pid)
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
                start(base + ["--appendonly", "no", "--repl-diskless-sync-delay", "0"])
                rport = free_port()
                rd = os.path.join(d, "replica")
                os.makedirs(rd)
                wait_port(self.port)
                start(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", rd,
                       "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1",
                       str(self.port)])
                self.backup_pids.append(self.procs[-1].pid)
                deadline = time.time() + 30  # measured only once the replica is in sync
                while "state=online" not in info(self.port).get("slave0", ""):
                    if time.time() > deadline:
                        sys.exit("the redis replica did not come online")
                    time.sleep(0.05)
            else:
                sys.exit("unknown setup " + name)
        wait_port(self.port)

    def server_pids(self):
        return [p.pid for p in self.procs if p.pid not in self.backup_pids]

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


def start_client(port, test, n, keys, clients):
    return subprocess.Popen(
        ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-r", str(keys), "-d",
         "100", "-P", "16", "-c", str(clients), "--csv"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def finish_client(p):
    """(csv rows, client CPU seconds) once the client exits."""
    out = p.stdout.read()
    err = p.stderr.read()
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    rows = list(csv.DictReader(io.StringIO(out)))
    if not rows:
        sys.exit("redis-benchmark failed: " + err)
    return rows, ru.ru_utime + ru.ru_stime


def run_workload(port, workload, n, keys):
    """Runs one workload; returns (req/s, p50 ms, p99 ms, client CPU s, wall s)."""
    t0 = time.time()
    if workload == "SET":
        clients = [start_client(port, "set", n, keys, 50)]
    else:  # 90/10 GET/SET mix from concurrent clients
        clients = [start_client(port, "get", n * 9 // 10, keys, 45),
                   start_client(port, "set", n // 10, keys, 5)]
    done = [finish_client(c) for c in clients]
    wall = time.time() - t0
    rows = [r for d in done for r in d[0]]
    p50 = statistics.mean(float(r["p50_latency_ms"]) for r in rows)
    p99 = max(float(r["p99_latency_ms"]) for r in rows)
    return n / wall, p50, p99, sum(d[1] for d in done), wall


SETUPS = ["kv none", "kv checksync 100 ms", "kv checksync 10 ms", "kv --sync",
          "kv full snapshot", "kv fork snapshot", "redis none", "redis AOF everysec",
          "redis AOF always", "redis + replica"]
WORKLOADS = ["SET", "90/10 GET/SET"]


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
        plot(a.outdir, "kv_bench-%d" % a.keys)
        return
    os.makedirs(a.outdir, exist_ok=True)
    setups = [s for s in SETUPS if not a.only or re.search(a.only, s)]
    results = {}  # (setup, workload) -> dict of lists
    for rep in range(a.repeats):
        for name in setups:
            work = tempfile.mkdtemp(prefix="kvbench-")
            try:
                s = Setup(name, a.prefix, work)
                # Untimed preload: every key exists and the first (full)
                # checkpoint is behind us before measuring.
                subprocess.run(["redis-benchmark", "-p", str(s.port), "-t", "set", "-n",
                                str(2 * a.keys), "-r", str(a.keys), "-d", "100", "-P", "16",
                                "-q"], capture_output=True, timeout=900)
                time.sleep(0.5)
                for wl in WORKLOADS:
                    before = info(s.port) if s.kind == "kv" else {}
                    cpu0 = (tree_cpu(s.server_pids()), tree_cpu(s.backup_pids))
                    rps, p50, p99, client_cpu, secs = run_workload(s.port, wl, a.requests,
                                                                    a.keys)
                    cpu1 = (tree_cpu(s.server_pids()), tree_cpu(s.backup_pids))
                    after = info(s.port) if s.kind == "kv" else {}
                    r = results.setdefault((name, wl), {k: [] for k in (
                        "rps", "p50", "p99", "Bps", "paused", "cpu_server", "cpu_backup",
                        "cpu_client", "pause_p99")})
                    us = 1e6 / a.requests
                    r["rps"].append(rps)
                    r["p50"].append(p50)
                    r["p99"].append(p99)
                    r["cpu_server"].append((cpu1[0] - cpu0[0]) * us)
                    r["cpu_backup"].append((cpu1[1] - cpu0[1]) * us)
                    r["cpu_client"].append(client_cpu * us)
                    if after:
                        d = lambda k: int(after.get(k, 0)) - int(before.get(k, 0))
                        r["Bps"].append(d("total_checkpoint_bytes") / secs)
                        r["paused"].append(d("total_pause_us") / 1e6 / secs)
                        r["pause_p99"].append(int(after.get("pause_us_p99", 0)))
                    print("%-22s %-14s rep %d: %9.0f req/s p50 %.3f ms p99 %.3f ms "
                          "cpu us/req server %.2f backup %.2f client %.2f paused %s" %
                          (name, wl, rep, rps, p50, p99, r["cpu_server"][-1],
                           r["cpu_backup"][-1], r["cpu_client"][-1],
                           "%.1f%%" % (r["paused"][-1] * 100) if r["paused"] else "-"),
                          flush=True)
                s.stop()
            finally:
                shutil.rmtree(work, ignore_errors=True)

    med = lambda v: statistics.median(v) if v else None
    lines = ["| server | workload | req/s (median) | loss vs. no persistence | p50 ms | "
             "p99 ms | paused | CPU us/req: server | backup | client | total | "
             "checkpoint MB/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in setups:
        base = "kv none" if name.startswith("kv") else "redis none"
        for wl in WORKLOADS:
            r = results.get((name, wl))
            if not r:
                continue
            b = results.get((base, wl))
            loss = ("%+.1f%%" % ((med(r["rps"]) / med(b["rps"]) - 1) * 100)) if b else "-"
            mbps = "%.1f" % (med(r["Bps"]) / 1e6) if r["Bps"] and med(r["Bps"]) else "-"
            paused = "%.1f%%" % (med(r["paused"]) * 100) if r["paused"] and name.startswith(
                "kv checksync") or name == "kv --sync" else "-"
            cpu = [med(r[k]) for k in ("cpu_server", "cpu_backup", "cpu_client")]
            lines.append("| %s | %s | %.0f | %s | %.3f | %.3f | %s | %.2f | %s | %.2f | %.2f | "
                         "%s |" %
                         (name, wl, med(r["rps"]), loss if name != base else "(baseline)",
                          med(r["p50"]), med(r["p99"]), paused, cpu[0],
                          "%.2f" % cpu[1] if r["cpu_backup"] and cpu[1] else "-", cpu[2],
                          sum(cpu), mbps))
    cmd = " ".join(["bench/kv_bench.py", a.prefix, a.outdir, "--requests", str(a.requests),
                    "--keys", str(a.keys), "--repeats", str(a.repeats)] +
                   (["--only", "'%s'" % a.only] if a.only else []))
    md = ["# checksync-kv vs. redis-server, %d keys (`%s`)" % (a.keys, cmd), "",
          "redis-benchmark -n %d -r %d -d 100 -P 16: SET with 50 clients; 90/10 = 45 GET "
          "and 5 SET clients at once. Medians of %d runs, configurations alternating; loss is "
          "against the same server without persistence. paused: the serving thread's time in "
          "checkpoint() over wall time. CPU per request of the server (all threads), the "
          "backup (checksync-rt serve or the redis replica) and redis-benchmark, all on this "
          "machine's %d cores." % (a.requests, a.keys, a.repeats, os.cpu_count()), ""] + lines
    kv_none = results.get(("kv none", "SET"))
    redis_none = results.get(("redis none", "SET"))
    if kv_none and redis_none:
        md += ["", "kv none / redis none (SET): %.2f" % (med(kv_none["rps"]) / med(redis_none["rps"]))]
    text = "\n".join(md) + "\n"
    name = "kv_bench-%d" % a.keys
    open(os.path.join(a.outdir, name + ".md"), "w").write(text)
    print(text)
    plot(a.outdir, name)


def plot(outdir, name):
    """Draws OUTDIR/NAME.png from the table in OUTDIR/NAME.md."""
    rows = []
    for line in open(os.path.join(outdir, name + ".md")):
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
    fig.savefig(os.path.join(outdir, name + ".png"), dpi=110)
    print("chart: " + os.path.join(outdir, name + ".png"))


if __name__ == "__main__":
    main()

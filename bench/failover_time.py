#!/usr/bin/env python3
"""Failover time: kill -9 of the primary -> the new primary answering, over
repeated runs on loopback; with --etcd, leadership on a local etcd (issue 16).

Each run starts `checksync-rt serve --takeover --timeout T -- checksync-kv`
(the backup), a primary `checksync-kv` shipping to it, writes KEYS keys,
keeps writing, kills the primary with SIGKILL at a random instant, and polls
the backup's kv port (connect + GET of a key written before the kill, every
2 ms) until it answers. Reports the distribution of kill -> answering, and
serve's own split (detection = the primary's silence, takeover = fencing +
starting the program), plus the CPU time of each side per run (serve's
includes the resumed kv, up to its first answer). Bounded:
RUNS runs, each at most 30 s.

With --etcd LEASE_MS, etcd (one member, data on /dev/shm) is started once;
serve runs with --coordinator and --lease-ms LEASE_MS, the primary with
`run --coordinator --lease-ms LEASE_MS`, each run under its own service name;
the detection is then how long serve saw the leader key stand still.

  python3 bench/failover_time.py build/prefix --runs 20 --timeout 300
  python3 bench/failover_time.py build/prefix --runs 20 --etcd 500
"""
import argparse, os, random, re, signal, socket, subprocess, sys, tempfile, time

from kv_bench import free_port, tree_cpu  # same directory

# The tests' local etcd (lit-tests/e2e/Inputs/etcd_harness.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lit-tests",
                                "e2e", "Inputs"))

SECRET = "failover-bench"


def call(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    buf = b""
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    line = buf.split(b"\r\n", 1)[0]
    if line.startswith(b"$"):
        n = int(line[1:])
        while n >= 0 and len(buf) < len(line) + 2 + n + 2:
            buf += sock.recv(65536)
    return line


def connect(port, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.002)


def one_run(prefix, timeout_ms, keys, rng, work, etcd=None, lease_ms=0, service=""):
    rt = os.path.join(prefix, "bin", "checksync-rt")
    kv = os.path.join(prefix, "bin", "checksync-kv")
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
    for k in [k for k in env if k.startswith("CHECKSYNC_") and k != "CHECKSYNC_SECRET"]:
        del env[k]
    bkv = free_port()
    slog = os.path.join(work, "serve.log")
    coordinated = ["--coordinator", etcd.url(), "--service", service,
                   "--lease-ms", str(lease_ms)] if etcd else []
    serve = subprocess.Popen([rt, "serve", "--listen", "127.0.0.1:0", "--dir",
                              os.path.join(work, "store"), "--takeover", "--timeout",
                              str(timeout_ms), "--program-log", os.path.join(work, "program.log"),
                              *coordinated, "--", kv, "--port", str(bkv)],
                             stdout=subprocess.DEVNULL, stderr=open(slog, "w"), env=env)
    primary = None
    try:
        port = None
        for _ in range(1000):
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(slog).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.005)
        pport = free_port()
        primary = subprocess.Popen([rt, "run", "--backup", "127.0.0.1:%d" % port, *coordinated,
                                    "--", kv, "--port", str(pport), "--sync"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        c = connect(pport, 10)
        for i in range(keys):
            call(c, "SET", "key:%d" % i, "value-%d" % i)
        # Keep writing; kill at a random instant 100-400 ms from now.
        kill_at = time.monotonic() + rng.uniform(0.1, 0.4)
        i = 0
        while time.monotonic() < kill_at:
            call(c, "SET", "key:%d" % (i % keys), "v%d" % i)
            i += 1
        primary_cpu = tree_cpu([primary.pid])
        primary.send_signal(signal.SIGKILL)
        t_kill = time.monotonic()
        primary.wait()
        c.close()
        while time.monotonic() - t_kill < 30:
            try:
                s = connect(bkv, 0)
                if call(s, "GET", "key:1").startswith(b"$"):
                    t_up = time.monotonic()
                    s.close()
                    break
                s.close()
            except OSError:
                time.sleep(0.002)
        else:
            raise RuntimeError("no answer within 30 s:\n" + open(slog).read())
        log = open(slog).read()
        m = re.search(r"detection (\d+) ms \+ takeover (\d+) ms", log)
        detection, takeover = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
        if etcd:  # the key stood still this long; takeover: the win -> the program's start
            m = re.search(r"stood still for (\d+) ms", log)
            detection = int(m.group(1)) if m else -1
        serve_cpu = tree_cpu([serve.pid])  # with the resumed kv, its child
        return ((t_up - t_kill) * 1000, detection, takeover, primary_cpu, serve_cpu)
    finally:
        if primary and primary.poll() is None:
            primary.kill()
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
        subprocess.run(["pkill", "-f", "checksync-kv --port %d" % bkv])


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefix")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--timeout", type=int, default=300, help="serve --timeout, ms")
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--etcd", type=int, default=0, metavar="LEASE_MS",
                    help="leadership on a local etcd with this lease (0: heartbeats)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    etcd = None
    if a.etcd:
        from etcd_harness import EtcdCluster
        etcd_work = tempfile.mkdtemp(prefix="checksync-failover-etcd.")
        etcd = EtcdCluster(etcd_work, 1)
    totals, detect, take, pcpu, scpu = [], [], [], [], []
    for r in range(a.runs):
        with tempfile.TemporaryDirectory(prefix="checksync-failover.") as work:
            t, d, k, pc, sc = one_run(a.prefix, a.timeout, a.keys, rng, work, etcd, a.etcd,
                                      "bench%d-%d" % (os.getpid(), r))
        totals.append(t)
        detect.append(d)
        take.append(k)
        pcpu.append(pc)
        scpu.append(sc)
        print("run %2d: kill -> answering %6.1f ms (serve: detection %d ms + takeover %d ms); "
              "CPU primary %.2f s, serve %.2f s" % (r + 1, t, d, k, pc, sc), flush=True)
    if etcd:
        etcd.close()
    how = "etcd, lease %d ms" % a.etcd if a.etcd else "--timeout %d ms" % a.timeout
    print("failover over %d runs, %s: min %.0f, p50 %.0f, p90 %.0f, p99 %.0f, "
          "max %.0f ms (kill -9 -> the new primary answers a GET)" %
          (a.runs, how, min(totals), pct(totals, 50), pct(totals, 90), pct(totals, 99),
           max(totals)))
    print("serve's detection p50 %d ms, takeover p50 %d ms%s" % (
        pct(detect, 50), pct(take, 50), " (etcd: -1, not split)" if a.etcd else ""))


if __name__ == "__main__":
    main()

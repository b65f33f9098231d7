#!/usr/bin/env python3
"""A Jepsen-style fault loop for leadership on etcd (issue 16).

    ha_fault_loop.py CHECKSYNC_RT CHECKSYNC_KV WORKDIR --mode sync|async
                     [--seconds S] [--etcd-members 1|3] [--seed N]

Four "hosts" on loopback, each with its own checksync-kv port, serve port,
store and proxies to every etcd member (so a host can be cut off from etcd
alone). Host 0 starts as the primary (`checksync-rt run --coordinator`,
shipping to hosts 1-3, quorum majority); the others run `serve --coordinator
--takeover --ship-to <every other host>`. A supervisor restarts `serve` on a
host whose process ended, so a host that lost the primary rejoins as a backup
and is caught up by the new primary.

One writer per host port SETs unique keys as fast as the server answers and
records every +OK: the key, when the request was sent and the answer came,
and the pid that answered (INFO at connection). Faults at random instants,
for S seconds: kill -9 or SIGSTOP of the primary; the primary's host cut off
from etcd; delays on every etcd link; kill -9 of a backup; SIGSTOP or kill -9
(and restart) of an etcd member. Then everything heals and the checker reads
every acknowledged key from the final primary.

Checks:
- double-primary windows: an acknowledgement by a leader of generation g
  whose request was sent after a newer generation had already answered one
  (the generation of each pid comes from the runtime's "leading service"
  line). Must be 0.
- lost writes: acknowledged keys missing at the end. --sync: must be 0.
  async: each lost write must have been acknowledged within the stated
  window before its primary's last acknowledgement (the lease, the takeover
  margin and the checkpoint interval: docs/protocol.md).
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_harness import EtcdCluster, Proxy, free_port  # noqa: E402
from kv_harness import Client  # noqa: E402

SECRET = "fault-loop-secret"
SERVICE = "loop"
LEASE_MS = 500
TIMEOUT_MS = 500      # serve --timeout: the link lease a backup confirms
CHECKPOINT_MS = 20
# Async: what a primary can acknowledge that never reaches the backup that
# takes over: writes in the last lease of its leadership, plus the takeover
# margin (leadership.cpp), plus one checkpoint interval and its shipping.
ASYNC_WINDOW_MS = LEASE_MS + LEASE_MS // 5 + 50 + 2 * CHECKPOINT_MS + 100


class Host:
    def __init__(self, i, work, etcd):
        self.i = i
        self.kv_port = free_port()
        self.serve_port = free_port()
        self.dir = os.path.join(work, "host%d" % i)
        self.proxies = [Proxy(m.client_port) for m in etcd.members]
        self.url = etcd.url([p.port for p in self.proxies])
        self.proc = None
        self.log = os.path.join(work, "host%d.log" % i)
        self.prog_log = os.path.join(work, "host%d.program.log" % i)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.serve_port


class Loop:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        os.makedirs(a.work, exist_ok=True)
        self.etcd = EtcdCluster(a.work, a.etcd_members)
        self.hosts = [Host(i, a.work, self.etcd) for i in range(4)]
        self.env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
        self.acks = []  # (key, sent, answered, pid)
        self.lock = threading.Lock()
        self.next_key = 0
        self.stop = threading.Event()
        self.supervise = threading.Event()
        self.counts = {}
        self.restarts = 0
        self.tryagain = 0

    def kv_args(self, h):
        return [self.a.kv, "--port", str(h.kv_port), "--checkpoint-ms", str(CHECKPOINT_MS)] + \
            (["--sync"] if self.a.mode == "sync" else [])

    def start_primary(self, h):
        backups = ",".join(o.addr for o in self.hosts if o is not h)
        with open(h.log, "a") as f:
            h.proc = subprocess.Popen(
                [self.a.rt, "run", "--backup", backups, "--coordinator", h.url, "--service",
                 SERVICE, "--lease-ms", str(LEASE_MS), "--"] + self.kv_args(h),
                stdout=open(h.prog_log, "a"), stderr=f, env=self.env)

    def start_serve(self, h):
        others = ",".join(o.addr for o in self.hosts if o is not h)
        with open(h.log, "a") as f:
            h.proc = subprocess.Popen(
                [self.a.rt, "serve", "--listen", h.addr, "--dir", h.dir, "--coordinator", h.url,
                 "--service", SERVICE, "--takeover", "--timeout", str(TIMEOUT_MS),
                 "--lease-ms", str(LEASE_MS), "--ship-to", others,
                 "--program-log", h.prog_log, "--"] + self.kv_args(h),
                stdout=subprocess.DEVNULL, stderr=f, env=self.env)

    # --- the client -----------------------------------------------------
    def writer(self, h):
        c = None
        pid = None
        while not self.stop.is_set():
            try:
                if c is None:
                    c = Client(h.kv_port, timeout=1)
                    c.s.settimeout(2)
                    info = c.call("INFO")
                    pid = int(re.search(r"process_id:(\d+)", info).group(1))
                with self.lock:
                    key = "w%d" % self.next_key
                    self.next_key += 1
                sent = time.time()
                r = c.call("SET", key, key)
                answered = time.time()
                if r == "OK":
                    with self.lock:
                        self.acks.append((key, sent, answered, pid))
                else:
                    if isinstance(r, tuple) and r[1].startswith("TRYAGAIN"):
                        with self.lock:
                            self.tryagain += 1
                    time.sleep(0.01)
            except (OSError, ConnectionError, ValueError, AttributeError):
                if c is not None:
                    try:
                        c.s.close()
                    except OSError:
                        pass
                c = None
                time.sleep(0.05)

    # --- leadership -----------------------------------------------------
    def leader_pid(self):
        v = self.etcd.get("/checksync/%s/leader" % SERVICE)
        m = re.search(r'"holder":"\S+ (\d+)@', v or "")
        return int(m.group(1)) if m else None

    def host_of_pid(self, pid):
        """The host whose process is `pid` (run execs the program) or its parent
        (serve forks `resume`, which execs it)."""
        try:
            ppid = int(re.search(r"PPid:\s+(\d+)", open("/proc/%d/status" % pid).read()).group(1))
        except (OSError, AttributeError):
            return None
        for h in self.hosts:
            if h.proc and h.proc.poll() is None and h.proc.pid in (pid, ppid):
                return h
        return None

    def supervisor(self):
        while not self.stop.is_set():
            for h in self.hosts:
                if h.proc and h.proc.poll() is not None and self.supervise.is_set():
                    time.sleep(0.2)
                    self.start_serve(h)
                    self.restarts += 1
            time.sleep(0.1)

    # --- faults ---------------------------------------------------------
    def fault(self):
        kinds = ["kill-primary", "stop-primary", "partition-primary", "delay-etcd",
                 "kill-backup", "stop-etcd", "kill-etcd"]
        kind = self.rng.choice(kinds)
        pid = self.leader_pid()
        h = self.host_of_pid(pid) if pid else None
        if kind in ("kill-primary", "stop-primary", "partition-primary") and not h:
            kind = "delay-etcd"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "kill-primary":
            os.kill(pid, signal.SIGKILL)
        elif kind == "stop-primary":
            os.kill(pid, signal.SIGSTOP)
            time.sleep(self.rng.uniform(0.3, 2.0))
            os.kill(pid, signal.SIGCONT)
        elif kind == "partition-primary":
            for p in h.proxies:
                p.cut()
            time.sleep(self.rng.uniform(0.3, 2.0))
            for p in h.proxies:
                p.heal()
        elif kind == "delay-etcd":
            d = self.rng.uniform(0.05, 0.3)
            for x in self.hosts:
                for p in x.proxies:
                    p.delay = d
            time.sleep(self.rng.uniform(0.5, 1.5))
            for x in self.hosts:
                for p in x.proxies:
                    p.delay = 0.0
        elif kind == "kill-backup":
            backups = [x for x in self.hosts if x.proc and x.proc.poll() is None and x is not h]
            if backups:
                self.rng.choice(backups).proc.kill()
        elif kind == "stop-etcd":
            m = self.rng.choice(self.etcd.members)
            m.signal(signal.SIGSTOP)
            time.sleep(self.rng.uniform(0.2, 1.0))
            m.signal(signal.SIGCONT)
        elif kind == "kill-etcd":
            m = self.rng.choice(self.etcd.members)
            m.kill()
            time.sleep(self.rng.uniform(0.2, 1.0))
            m.start(self.etcd.cluster)

    def answered_since(self, t):
        with self.lock:
            return any(a[2] > t for a in self.acks[-50:])

    def run(self):
        a = self.a
        for h in self.hosts[1:]:
            self.start_serve(h)
        time.sleep(0.5)
        self.start_primary(self.hosts[0])
        writers = [threading.Thread(target=self.writer, args=(h,), daemon=True)
                   for h in self.hosts]
        for w in writers:
            w.start()
        deadline = time.time() + 20
        while not self.answered_since(0):
            if time.time() > deadline:
                sys.exit("no primary answered within 20 s; see %s" % self.hosts[0].log)
            time.sleep(0.05)
        self.supervise.set()
        threading.Thread(target=self.supervisor, daemon=True).start()
        iterations = 0
        longest_gap = 0.0
        end = time.time() + a.seconds
        while time.time() < end:
            time.sleep(self.rng.uniform(0.3, 1.2))
            self.fault()
            iterations += 1
            t = time.time()
            while not self.answered_since(t) and time.time() < t + 20:
                time.sleep(0.02)
            if not self.answered_since(t):
                sys.exit("no primary answered within 20 s after fault %d; see %s" %
                         (iterations, a.work))
            longest_gap = max(longest_gap, time.time() - t)
        # Heal, settle, stop writing.
        time.sleep(1.0)
        self.stop.set()
        for w in writers:
            w.join()
        self.check(iterations, longest_gap)

    # --- the checker ----------------------------------------------------
    def generations(self):
        gen = {}
        for h in self.hosts:
            for path in (h.log, h.prog_log):
                if os.path.exists(path):
                    for m in re.finditer(r"leading service '\S+' as pid (\d+) \(generation (\d+)",
                                         open(path, errors="replace").read()):
                        gen[int(m.group(1))] = int(m.group(2))
        return gen

    def check(self, iterations, longest_gap):
        gen = self.generations()
        unknown = {p for (_, _, _, p) in self.acks if p not in gen}
        if unknown:
            sys.exit("acknowledgements from pids without a leadership line: %s" % unknown)
        # Double primaries: an ack by generation g sent after a newer one answered.
        first_answer = {}
        last_answer = {}
        for (_, s, r, p) in self.acks:
            g = gen[p]
            first_answer[g] = min(first_answer.get(g, r), r)
            last_answer[g] = max(last_answer.get(g, r), r)
        gens = sorted(first_answer)
        newer_min = {}
        m = float("inf")
        for g in reversed(gens):
            newer_min[g] = m
            m = min(m, first_answer[g])
        double = [(k, gen[p]) for (k, s, r, p) in self.acks if s > newer_min[gen[p]]]
        # The final primary holds every acknowledged key?
        pid = None
        deadline = time.time() + 20
        final = None
        while time.time() < deadline and final is None:
            pid = self.leader_pid()
            h = self.host_of_pid(pid) if pid else None
            if h:
                try:
                    c = Client(h.kv_port, timeout=2)
                    if c.call("PING") == "PONG" and c.call("GET", "nothing") is None:
                        final = c
                except (OSError, ConnectionError):
                    pass
            if final is None:
                time.sleep(0.1)
        if final is None:
            sys.exit("no final primary answered")
        lost = []
        for i in range(0, len(self.acks), 500):
            batch = self.acks[i:i + 500]
            for (k, _, _, _) in batch:
                final.send("GET", k)
            for ack in batch:
                if final.reply() != ack[0]:
                    lost.append(ack)
        window = 0.0
        for (k, s, r, p) in lost:
            window = max(window, last_answer[gen[p]] - r)
        print("fault loop (%s, %d etcd member%s): %d iterations (%s), %d restarts of serve; "
              "%d acknowledged writes, %d lost (loss window %.0f ms, bound %d ms); "
              "%d generations; %d double-primary windows; %d TRYAGAIN; longest wait for a "
              "primary %.0f ms" % (
                  self.a.mode, len(self.etcd.members), "" if len(self.etcd.members) == 1 else "s",
                  iterations, ", ".join("%s %d" % kv for kv in sorted(self.counts.items())),
                  self.restarts, len(self.acks), len(lost), window * 1000, ASYNC_WINDOW_MS,
                  len(gens), len(double), self.tryagain, longest_gap * 1000))
        bad = double or (lost and self.a.mode == "sync") or window * 1000 > ASYNC_WINDOW_MS
        # The history, for a failure's post-mortem: every acknowledgement.
        with open(os.path.join(self.a.work, "history.txt"), "w") as f:
            lost_keys = {k for (k, _, _, _) in lost}
            for (k, s, r, p) in self.acks:
                f.write("%s %.6f %.6f pid %d gen %d%s\n" % (k, s, r, p, gen[p],
                                                          " LOST" if k in lost_keys else ""))
        if bad:
            print("FAILED: double %s lost %s" % (double[:5], lost[:5]))
            sys.exit(1)

    def close(self):
        self.stop.set()
        self.supervise.clear()
        for h in self.hosts:
            if h.proc and h.proc.poll() is None:
                try:
                    os.killpg(h.proc.pid, 0)
                except OSError:
                    pass
        subprocess.run(["pkill", "-CONT", "-f", self.a.kv], check=False)
        for h in self.hosts:
            if h.proc and h.proc.poll() is None:
                h.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # The resumed programs are children of serve: end them by their ports.
        for h in self.hosts:
            subprocess.run(["pkill", "-9", "-f", "%s --port %d " % (self.a.kv, h.kv_port)],
                           check=False)
            if h.proc and h.proc.poll() is None:
                h.proc.kill()
        self.etcd.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rt")
    ap.add_argument("kv")
    ap.add_argument("work")
    ap.add_argument("--mode", choices=["sync", "async"], default="sync")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--etcd-members", type=int, choices=[1, 3], default=1)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    print("seed %d" % a.seed, file=sys.stderr)
    loop = Loop(a)
    try:
        loop.run()
    finally:
        loop.close()


if __name__ == "__main__":
    main()

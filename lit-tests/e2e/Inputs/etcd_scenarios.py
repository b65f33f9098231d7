#!/usr/bin/env python3
"""Leadership on etcd, one behaviour at a time (issue 16).

    etcd_scenarios.py CHECKSYNC_RT CHECKSYNC_KV WORKDIR SCENARIO

refused:      a second primary for a led service does not start; a primary
              without --coordinator is refused by a coordinated backup.
quorum:       three backups; with one killed, --quorum majority keeps
              acknowledging --sync writes and --quorum all holds them until
              it is back.
outage:       etcd stopped: the primary answers nothing (reads included)
              once its lease ran out, and serves again, still the same
              generation, when etcd is back (nobody could take the key).
restart:      the primary and its only backup killed, the backup restarted:
              it finds the leader gone and takes over with the state.
late-ack:     a --sync write whose acknowledgement arrives after the
              primary's lease ran out (etcd stopped) is not answered OK
              until the lease is renewed.
slow-resume:  a resumed program that takes 2 s to start (longer than the
              lease): serve renews the key for it, so no other backup takes
              over and it is not deposed.
answers:      with --quorum 1 of 2 backups, a backup does not take over
              while the other answers nothing (it may hold the newest
              epoch); it does once the other is back.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_harness import EtcdCluster, free_port  # noqa: E402
from kv_harness import Client  # noqa: E402

SECRET = "etcd-scenario-secret"


class Env:
    def __init__(self, rt, kv, work):
        self.rt, self.kv, self.work = rt, kv, work
        os.makedirs(work, exist_ok=True)
        self.etcd = EtcdCluster(work, 1)
        self.env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
        self.procs = []
        self.kv_ports = []

    def serve(self, name, takeover=True, port=None, kv_port=None, extra=(), env=None):
        port = port or free_port()
        kv_port = kv_port or free_port()
        self.kv_ports.append(kv_port)
        args = [self.rt, "serve", "--listen", "127.0.0.1:%d" % port,
                "--dir", os.path.join(self.work, name), "--coordinator", self.etcd.url(),
                "--service", "svc", *extra]
        if takeover:
            args += ["--takeover", "--program-log", os.path.join(self.work, name + ".program.log"),
                     "--", self.kv, "--port", str(kv_port), "--checkpoint-ms", "20", "--sync"]
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.work, name + ".log"), "a"),
                             env=dict(self.env, **(env or {})))
        self.procs.append(p)
        return p, port, kv_port

    def primary(self, backups, extra=(), coordinated=True, log="primary.log"):
        port = free_port()
        self.kv_ports.append(port)
        args = [self.rt, "run", "--backup", ",".join("127.0.0.1:%d" % b for b in backups)]
        if coordinated:
            args += ["--coordinator", self.etcd.url(), "--service", "svc", "--lease-ms", "500"]
        args += [*extra, "--", self.kv, "--port", str(port), "--checkpoint-ms", "20", "--sync"]
        out = open(os.path.join(self.work, log), "a")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append(p)
        return p, port

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for port in self.kv_ports:  # programs resumed by serve are not ours to wait for
            subprocess.run(["pkill", "-9", "-f", "--", "--port %d --checkpoint-ms" % port], check=False)
        self.etcd.close()


def wait_ok(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = Client(port, timeout=1)
            c.s.settimeout(2)
            if c.call("SET", "probe", "1") == "OK":
                return c
        except (OSError, ConnectionError):
            pass
        time.sleep(0.05)
    sys.exit("port %d never answered OK" % port)


def first_answering(ports, key, value, timeout):
    """The first of `ports` whose kv answers GET key with value, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for k in ports:
            try:
                c = Client(k, timeout=0.2)
                c.s.settimeout(1)
                if c.call("GET", key) == value:
                    return k
            except (OSError, ConnectionError):
                pass
        time.sleep(0.05)
    return None


def refused(e):
    _, b1, _ = e.serve("b1", takeover=False)
    p1, port1 = e.primary([b1])
    c = wait_ok(port1)
    p2, _ = e.primary([b1], log="second.log")
    rc2 = p2.wait(timeout=20)
    msg2 = open(os.path.join(e.work, "second.log")).read()
    assert "has a leader" in msg2, msg2
    p3, _ = e.primary([b1], coordinated=False, log="uncoordinated.log")
    rc3 = p3.wait(timeout=20)
    msg3 = open(os.path.join(e.work, "uncoordinated.log")).read()
    assert "follows the leader on etcd" in msg3, msg3
    assert c.call("SET", "still", "1") == "OK"
    print("refused: second primary exit %d (\"has a leader\"); uncoordinated primary exit %d "
          "(\"follows the leader on etcd\"); the leader still answers" % (rc2, rc3))


def quorum(e):
    backups = [e.serve("q%d" % i, takeover=False) for i in range(3)]
    ports = [b[1] for b in backups]
    results = []
    for q in ("majority", "all"):
        p, port = e.primary(ports, extra=["--quorum", q], log="primary-%s.log" % q)
        c = wait_ok(port)
        victim = backups[2][0]
        victim.send_signal(signal.SIGSTOP)  # a backup that answers nothing
        time.sleep(0.1)
        c.s.settimeout(1.5)
        try:
            r = c.call("SET", "k-" + q, "v")
        except OSError:
            r = "no answer in 1.5 s"
        victim.send_signal(signal.SIGCONT)
        if q == "all":
            c.s.settimeout(10)
            try:
                late = c.reply()  # the held answer arrives once the backup is back
            except OSError:
                late = "none"
            r = "%s, then %s once it is back" % (r, late)
        results.append("%s: %s" % (q, r))
        p.kill()
        p.wait()
        # The next primary needs the key free: a killed primary leaves it for the election.
        subprocess.run(["etcdctl", "--endpoints", e.etcd.url()[7:], "del", "/checksync/svc/leader"],
                       env=dict(os.environ, ETCDCTL_API="3"), stdout=subprocess.DEVNULL, check=True)
    print("quorum with one of 3 backups stopped: " + "; ".join(results))


def outage(e):
    _, b1, _ = e.serve("o1", takeover=False)
    p, port = e.primary([b1])
    c = wait_ok(port)
    c.call("SET", "k", "v")
    m = e.etcd.members[0]
    m.signal(signal.SIGSTOP)
    t0 = time.time()
    last_ok = t0
    first_refusal = None
    while time.time() < t0 + 2.0:
        r = c.call("GET", "k")
        if r == "v":
            last_ok = time.time()
        elif isinstance(r, tuple) and r[1].startswith("TRYAGAIN") and first_refusal is None:
            first_refusal = time.time()
        time.sleep(0.005)
    refused_now = c.call("GET", "k")
    m.signal(signal.SIGCONT)
    deadline = time.time() + 10
    back = None
    while time.time() < deadline:
        if c.call("GET", "k") == "v":
            back = time.time()
            break
        time.sleep(0.02)
    gens = re.findall(r"generation (\d+)", open(os.path.join(e.work, "primary.log")).read())
    assert first_refusal and back and isinstance(refused_now, tuple), (first_refusal, back)
    assert (last_ok - t0) * 1000 < 500, "answered %d ms into the outage" % ((last_ok - t0) * 1000)
    print("outage: last read answered %d ms after etcd stopped (lease 500 ms), then TRYAGAIN; "
          "answering again %d ms after etcd is back; generations seen: %s" %
          ((last_ok - t0) * 1000, (back - t0 - 2.0) * 1000, sorted(set(gens))))


def restart(e):
    sp = free_port()
    kvp = free_port()
    s, _, _ = e.serve("r1", port=sp, kv_port=kvp)
    p, port = e.primary([sp])
    c = wait_ok(port)
    for i in range(100):
        assert c.call("SET", "r%d" % i, str(i)) == "OK"
    s.kill()
    s.wait()
    p.kill()
    p.wait()
    time.sleep(0.5)
    t0 = time.time()
    e.serve("r1", port=sp, kv_port=kvp)
    c2 = wait_ok(kvp, timeout=20)
    took = time.time() - t0
    ok = sum(c2.call("GET", "r%d" % i) == str(i) for i in range(100))
    log = open(os.path.join(e.work, "r1.log")).read()
    assert "won the leadership" in log, log
    print("restart: the restarted backup took over %d ms after its start; %d of 100 "
          "acknowledged keys there" % (took * 1000, ok))


def late_ack(e):
    s, b1, _ = e.serve("l1", takeover=False)
    p, port = e.primary([b1])
    c = wait_ok(port)
    s.send_signal(signal.SIGSTOP)  # its acknowledgements wait
    c.send("SET", "late", "1")      # taken while the lease holds
    time.sleep(0.05)
    m = e.etcd.members[0]
    m.signal(signal.SIGSTOP)        # no renewal: the lease runs out
    time.sleep(1.0)
    s.send_signal(signal.SIGCONT)   # the acknowledgement arrives now
    c.s.settimeout(1.0)
    try:
        early = c.reply()
    except socket.timeout:
        early = "none"
    m.signal(signal.SIGCONT)
    c.s.settimeout(10)
    late = c.reply() if early == "none" else "-"
    print("late-ack: answer while the lease was out: %s; once etcd is back: %s" % (early, late))


def slow_resume(e):
    delay = {"CHECKSYNC_TEST_START_DELAY_MS": "2000"}
    s1, b1, k1 = e.serve("s1", env=delay)
    s2, b2, k2 = e.serve("s2", env=delay)
    p, port = e.primary([b1, b2])
    c = wait_ok(port)
    for i in range(50):
        assert c.call("SET", "s%d" % i, str(i)) == "OK"
    p.kill()
    t0 = time.time()
    assert first_answering((k1, k2), "s49", "49", 20), "no backup took over"
    time.sleep(1.0)
    logs = "".join(open(os.path.join(e.work, n)).read()
                   for n in os.listdir(e.work) if n.endswith(".log"))
    print("slow-resume: answering %d ms after the kill; %d win(s), %d deposed" % (
        (time.time() - 1.0 - t0) * 1000, logs.count("won the leadership"),
        logs.count("deposed")))


def answers(e):
    s1, b1, k1 = e.serve("a1")
    s2, b2, k2 = e.serve("a2")
    p, port = e.primary([b1, b2], extra=["--quorum", "1"])
    c = wait_ok(port)
    for i in range(50):
        assert c.call("SET", "a%d" % i, str(i)) == "OK"
    s2.send_signal(signal.SIGSTOP)  # answers nothing, may hold the newest epoch
    p.kill()
    time.sleep(3.0)
    logs = [open(os.path.join(e.work, n + ".log")).read() for n in ("a1", "a2")]
    waited = ["a takeover"] if any("won the leadership" in l for l in logs) else []
    log1 = logs[0]
    m = re.search(r"heard from 1 backup\(s\) of the 2 needed", log1)
    s2.send_signal(signal.SIGCONT)
    back = first_answering((k1, k2), "a49", "49", 15)
    print("answers: with one of 2 backups silent for 3 s: %s, log %s; after it is back: %s" % (
        ", ".join(waited) or "no takeover", "says why" if m else "silent",
        "taken over" if back else "nothing"))


def main():
    rt, kv, work, scenario = sys.argv[1:5]
    e = Env(rt, kv, work)
    try:
        {"refused": refused, "quorum": quorum, "outage": outage, "restart": restart,
         "late-ack": late_ack, "slow-resume": slow_resume, "answers": answers}[scenario](e)
    finally:
        e.close()


if __name__ == "__main__":
    main()

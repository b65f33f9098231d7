#!/usr/bin/env python3
"""checksync-kv scenarios with a minimal RESP client (no redis-tools needed).

    kv_harness.py CHECKSYNC_RT CHECKSYNC_KV WORKDIR SCENARIO

commands:       every command's replies, expiry, pipelining, errors.
resume:         state survives kill -9 + `checksync-rt resume` (local dir).
sync-failover:  --sync primary shipping to `serve --takeover`; a client writes
                as fast as it can; kill -9; every write the client saw +OK for
                is on the taken-over server, with its value.
partition:      a primary cut off from its backup (a relay that stops
                forwarding, connections left open): the backup takes over,
                and the cut-off primary answers no request (reads included)
                from the moment the backup could take over.
hostile:        clients an exposed server must survive: expire times that
                overflow, a bulk string without its CRLF or longer than the
                limit, a request that never ends, a client that never reads
                its replies, and --requirepass / AUTH.
"""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

SECRET = "kv-test-secret"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, port, timeout=10):
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.02)
        self.buf = b""

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return ("ERR", rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v.decode()
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.reply()


def expect(got, want, what):
    if got != want:
        sys.exit("%s: got %r, want %r" % (what, got, want))


def start_kv(kv, port, args, env, log):
    f = open(log, "w")
    p = subprocess.Popen([kv, "--port", str(port), *args], stdout=f, stderr=subprocess.STDOUT,
                         env=env)
    return p, f


def commands(rt, kv, work):
    port = free_port()
    env = dict(os.environ, CHECKSYNC_DIR=os.path.join(work, "ckpt"))
    p, f = start_kv(kv, port, [], env, os.path.join(work, "kv.log"))
    c = Client(port)
    expect(c.call("PING"), "PONG", "PING")
    expect(c.call("ping", "hi"), "hi", "PING msg")
    expect(c.call("SET", "k", "v"), "OK", "SET")
    expect(c.call("GET", "k"), "v", "GET")
    expect(c.call("GET", "nope"), None, "GET missing")
    expect(c.call("SET", "k", "w", "NX"), None, "SET NX existing")
    expect(c.call("SET", "k2", "x", "XX"), None, "SET XX missing")
    expect(c.call("SET", "n", "41"), "OK", "SET n")
    expect(c.call("INCR", "n"), 42, "INCR")
    expect(c.call("INCR", "fresh"), 1, "INCR fresh")
    expect(c.call("INCR", "k")[0], "ERR", "INCR non-integer")
    expect(c.call("EXISTS", "k", "n", "nope"), 2, "EXISTS")
    expect(c.call("TTL", "k"), -1, "TTL no expiry")
    expect(c.call("TTL", "nope"), -2, "TTL missing")
    expect(c.call("EXPIRE", "k", "100"), 1, "EXPIRE")
    ttl = c.call("TTL", "k")
    if not 99 <= ttl <= 100:
        sys.exit("TTL after EXPIRE 100: %r" % ttl)
    expect(c.call("SET", "short", "s", "PX", "150"), "OK", "SET PX")
    expect(c.call("GET", "short"), "s", "GET before expiry")
    time.sleep(0.3)
    expect(c.call("GET", "short"), None, "GET after expiry")
    expect(c.call("DEL", "k", "nope"), 1, "DEL")
    expect(c.call("DBSIZE"), 2, "DBSIZE")
    expect(c.call("BOGUS")[0], "ERR", "unknown command")
    expect(c.call("SET", "x")[0], "ERR", "SET arity")
    # Pipelining: 1000 requests in one write, replies in order.
    for i in range(1000):
        c.send("SET", "p%d" % i, "v%d" % i)
    for i in range(1000):
        c.send("GET", "p%d" % i)
    got = [c.reply() for _ in range(2000)]
    expect(got[:1000], ["OK"] * 1000, "pipelined SETs")
    expect(got[1000:], ["v%d" % i for i in range(1000)], "pipelined GETs")
    info = c.call("INFO")
    for field in ("db0:keys=1002", "snapshot_mode:checksync", "checkpoint_epoch:",
                  "# Persistence", "rdb_last_bgsave_status:ok", "last_checkpoint_status:ok",
                  "rdb_changes_since_last_save:", "backup_state:none", "loading:0"):
        if field not in info:
            sys.exit("INFO lacks %s:\n%s" % (field, info))
    saved = int(re.search(r"rdb_last_save_time:(\d+)", info).group(1))
    if abs(saved - time.time()) > 60:
        sys.exit("rdb_last_save_time %d is not now" % saved)
    expect(c.call("FLUSHALL"), "OK", "FLUSHALL")
    expect(c.call("DBSIZE"), 0, "DBSIZE after FLUSHALL")
    p.kill()
    p.wait()
    f.close()
    print("commands: ok")


def resume(rt, kv, work):
    port = free_port()
    ckpt = os.path.join(work, "ckpt")
    env = dict(os.environ, CHECKSYNC_DIR=ckpt)
    p, f = start_kv(kv, port, ["--checkpoint-ms", "20"], env, os.path.join(work, "kv.log"))
    c = Client(port)
    rng = random.Random(3)
    model = {}
    for i in range(3000):
        k = "key:%d" % rng.randrange(1500)
        if rng.random() < 0.2:
            c.call("DEL", k)
            model.pop(k, None)
        else:
            v = "v%d-%s" % (i, "x" * rng.randrange(120))
            c.call("SET", k, v)
            model[k] = v
    c.call("SET", "ttl-key", "t", "EX", "1000")
    model["ttl-key"] = "t"
    time.sleep(0.2)  # let a checkpoint cover everything (no client waits for it here)
    p.kill()
    p.wait()
    f.close()
    port2 = free_port()
    env2 = dict(os.environ)
    env2.pop("CHECKSYNC_DIR", None)
    log2 = open(os.path.join(work, "kv2.log"), "w")
    p2 = subprocess.Popen([rt, "resume", "--from", ckpt, "--dir", ckpt + ".2", "--", kv,
                           "--port", str(port2)], stdout=log2, stderr=subprocess.STDOUT, env=env2)
    c2 = Client(port2)
    expect(c2.call("DBSIZE"), len(model), "DBSIZE after resume")
    for k, v in model.items():
        expect(c2.call("GET", k), v, "GET %s after resume" % k)
    ttl = c2.call("TTL", "ttl-key")
    if not 990 <= ttl <= 1000:
        sys.exit("TTL after resume: %r" % ttl)
    p2.kill()
    p2.wait()
    print("resume: %d keys identical after kill -9 and resume" % len(model))


def takeover_serve(rt, kv, work):
    """`serve --takeover --timeout 300 -- kv` on loopback: (process, its port,
    the port the taken-over kv will listen on, its log path, open log files)."""
    store = os.path.join(work, "store")
    port_backup_kv = free_port()
    slog = os.path.join(work, "serve.log")
    sf = open(slog, "w")
    tout = open(os.path.join(work, "takeover.out"), "w")
    serve = subprocess.Popen(
        [rt, "serve", "--listen", "127.0.0.1:0", "--dir", store, "--takeover", "--timeout", "300",
         "--", kv, "--port", str(port_backup_kv)],
        stdout=tout, stderr=sf, env=dict(os.environ, CHECKSYNC_SECRET=SECRET))
    bport = None
    for _ in range(500):
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(slog).read())
        if m:
            bport = int(m.group(1))
            break
        time.sleep(0.01)
    if bport is None:
        sys.exit("serve did not start:\n" + open(slog).read())
    return serve, bport, port_backup_kv, slog, sf, tout


def sync_failover(rt, kv, work):
    serve, bport, port_backup_kv, slog, sf, tout = takeover_serve(rt, kv, work)
    port = free_port()
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
    f = open(os.path.join(work, "primary.log"), "w")
    p = subprocess.Popen([rt, "run", "--backup", "127.0.0.1:%d" % bport, "--", kv, "--port",
                          str(port), "--sync"], stdout=f, stderr=subprocess.STDOUT, env=env)
    c = Client(port)
    acked, n_acked, sent = {}, 0, {}
    rng = random.Random(11)
    deadline = time.time() + rng.uniform(0.8, 1.5)
    i = 0
    killed = False
    try:
        while True:
            # Pipelined bursts of 16, as a busy client would send them.
            batch = [("key:%d" % rng.randrange(5000), "value-%d" % (i + j)) for j in range(16)]
            i += 16
            for k, v in batch:
                c.send("SET", k, v)
                sent.setdefault(k, []).append(v)
            if not killed and time.time() > deadline:
                p.kill()  # mid-burst: some of these writes are never acknowledged
                t_kill = time.monotonic()
                killed = True
            for k, v in batch:
                if c.reply() == "OK":
                    acked[k] = v
                    n_acked += 1
    except (ConnectionError, OSError):
        pass
    p.wait()
    f.close()
    c2 = Client(port_backup_kv, timeout=10)
    t_up = time.monotonic()
    # A key must hold its last acknowledged value or one sent after it (a
    # write can be durable on the backup before its +OK reaches the client).
    lost = []
    for k, v in acked.items():
        got = c2.call("GET", k)
        later = sent[k][len(sent[k]) - 1 - sent[k][::-1].index(v):]
        if got not in later:
            lost.append((k, v, got))
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=10)
    subprocess.run(["pkill", "-f", "checksync-kv --port %d" % port_backup_kv])
    sf.close()
    tout.close()
    if lost:
        sys.exit("%d acknowledged keys lost, e.g. %s" % (len(lost), lost[:5]))
    print("sync-failover: %d acknowledged writes (%d keys), none lost; serving again %.0f ms "
          "after the kill" % (n_acked, len(acked), (t_up - t_kill) * 1000))
    print([l for l in open(slog).read().splitlines() if "failover:" in l][-1])


class Relay:
    """A TCP relay from a local port to `target`; cut() makes it forward
    nothing more, both ways, keeping the connections open (a partition)."""

    def __init__(self, target):
        self.target = target
        self.cut_at = None
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.cut_at = time.time()

    def _accept(self):
        while True:
            try:
                a, _ = self.ls.accept()
                b = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                return
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self.cut_at is None:
                try:
                    dst.sendall(data)
                except OSError:
                    return


def log_time(line):
    """The UTC timestamp a runtime or serve log line starts with, as time.time()."""
    stamp = line.split(" ", 1)[0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def partition(rt, kv, work):
    serve, bport, port_backup_kv, slog, sf, tout = takeover_serve(rt, kv, work)
    relay = Relay(bport)
    port = free_port()
    f = open(os.path.join(work, "primary.log"), "w")
    p = subprocess.Popen([rt, "run", "--backup", "127.0.0.1:%d" % relay.port, "--", kv, "--port",
                          str(port), "--checkpoint-ms", "20"], stdout=f, stderr=subprocess.STDOUT,
                         env=dict(os.environ, CHECKSYNC_SECRET=SECRET))
    c = Client(port)
    answered = []  # wall-clock times of the old primary's data replies
    refused = 0
    i = 0
    start = time.time()
    while time.time() - start < 3.0:  # bounded: 0.7 s connected, then cut off
        if relay.cut_at is None and time.time() - start > 0.7:
            relay.cut()
        i += 1
        k = "key:%d" % (i % 100)
        r = c.call("SET", k, "v%d" % i) if i % 2 else c.call("GET", k)
        if isinstance(r, tuple):
            if not r[1].startswith("TRYAGAIN"):
                sys.exit("unexpected error from the primary: %r" % (r,))
            refused += 1
        else:
            answered.append(time.time())
    took_over = [l for l in open(slog).read().splitlines() if "failover: program started" in l]
    serve_up = Client(port_backup_kv, timeout=10).call("PING") if took_over else None
    p.kill()
    p.wait()
    f.close()
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=10)
    subprocess.run(["pkill", "-f", "checksync-kv --port %d" % port_backup_kv])
    sf.close()
    tout.close()
    if not took_over:
        sys.exit("the backup did not take over:\n" + open(slog).read())
    t_takeover = log_time(took_over[0])
    before = sum(1 for t in answered if t < relay.cut_at)
    window = sum(1 for t in answered if relay.cut_at <= t < t_takeover)
    after = sum(1 for t in answered if t >= t_takeover)
    last = max(answered) if answered else 0
    print("partition: %d answers before the cut, %d in the lease window, %d after the takeover; "
          "%d TRYAGAIN; last answer %.0f ms after the cut, takeover %.0f ms after it; the new "
          "primary answers %s" % (before, window, after, refused, (last - relay.cut_at) * 1000,
                                  (t_takeover - relay.cut_at) * 1000, serve_up))
    if after:
        sys.exit("the cut-off primary answered %d requests after the backup took over" % after)


def closed(c, timeout=10):
    """True once the server has closed c (replies before the close are skipped)."""
    c.s.settimeout(timeout)
    try:
        while True:
            chunk = c.s.recv(1 << 20)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def hostile(rt, kv, work):
    port = free_port()
    env = dict(os.environ, CHECKSYNC_DIR=os.path.join(work, "ckpt"))
    env.pop("KV_REQUIREPASS", None)
    p, f = start_kv(kv, port, ["--proto-max-bulk-len", "4096", "--client-query-buffer-limit",
                               "65536", "--client-output-buffer-limit", "1048576"], env,
                    os.path.join(work, "kv.log"))
    c = Client(port)
    # Expire times that do not fit: Redis' errors, and no key is left behind.
    expect(c.call("SET", "k", "v", "EX", "9223372036854775"),
           ("ERR", "ERR invalid expire time in 'set' command"), "SET EX overflow")
    expect(c.call("SET", "k", "v", "PX", "9223372036854775807"),
           ("ERR", "ERR invalid expire time in 'set' command"), "SET PX overflow")
    expect(c.call("SET", "k", "v", "EX", "0"),
           ("ERR", "ERR invalid expire time in 'set' command"), "SET EX 0")
    expect(c.call("SET", "k", "v", "EX", "ten"),
           ("ERR", "ERR value is not an integer or out of range"), "SET EX not a number")
    expect(c.call("GET", "k"), None, "no key after refused SETs")
    expect(c.call("SET", "k", "v"), "OK", "SET")
    expect(c.call("EXPIRE", "k", "9223372036854775"),
           ("ERR", "ERR invalid expire time in 'expire' command"), "EXPIRE overflow")
    expect(c.call("TTL", "k"), -1, "TTL unchanged")
    # A bulk string not followed by CRLF is a protocol error, and the end.
    bad = Client(port)
    bad.s.sendall(b"*1\r\n$4\r\nPINGxx")
    expect(bad.reply(), ("ERR", "ERR Protocol error"), "missing CRLF")
    expect(closed(bad), True, "closed after missing CRLF")
    # Longer than --proto-max-bulk-len.
    big = Client(port)
    big.s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5000\r\n")
    expect(big.reply(), ("ERR", "ERR Protocol error"), "bulk over the limit")
    expect(closed(big), True, "closed after a bulk over the limit")
    # A request that never ends (a million arguments announced, 70 KB sent):
    # disconnected at the query buffer limit, nobody else waits.
    endless = Client(port)
    endless.s.sendall(b"*1000000\r\n" + b"$100\r\n" + b"x" * 100 + b"\r\n" * 1 +
                      (b"$100\r\n" + b"x" * 100 + b"\r\n") * 700)
    expect(closed(endless), True, "closed at the query buffer limit")
    expect(c.call("PING"), "PONG", "others served")
    # A client that pipelines GETs and never reads: its replies (~10 MB) stay
    # bounded by --client-output-buffer-limit; it is dropped, others are served.
    expect(c.call("SET", "v", "y" * 1000), "OK", "SET 1000 bytes")
    before = rss_kb(p.pid)
    lazy = Client(port)
    req = b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n"
    lazy.s.settimeout(10)
    try:
        for _ in range(20):
            lazy.s.sendall(req * 500)
    except OSError:
        pass  # dropped while still sending
    t0 = time.time()
    expect(c.call("PING"), "PONG", "others served while a client does not read")
    if time.time() - t0 > 1:
        sys.exit("PING took %.1f s while a client did not read" % (time.time() - t0))
    grew = rss_kb(p.pid) - before
    if grew > 32 * 1024:
        sys.exit("server grew by %d KB for a client that does not read" % grew)
    expect(closed(lazy), True, "non-reading client dropped")
    p.terminate()
    p.wait()
    log = open(os.path.join(work, "kv.log")).read()
    for what in ("--client-query-buffer-limit", "--client-output-buffer-limit"):
        if what not in log:
            sys.exit("no log line about " + what)

    # --requirepass: nothing but AUTH and QUIT before authenticating.
    port = free_port()
    p, f = start_kv(kv, port, ["--requirepass", "s3cret"], env, os.path.join(work, "kv2.log"))
    a = Client(port)
    expect(a.call("GET", "k"), ("ERR", "NOAUTH Authentication required."), "NOAUTH")
    expect(a.call("FLUSHALL"), ("ERR", "NOAUTH Authentication required."), "FLUSHALL")
    expect(a.call("AUTH", "wrong"),
           ("ERR", "WRONGPASS invalid username-password pair or user is disabled."), "WRONGPASS")
    expect(a.call("AUTH", "s3cret"), "OK", "AUTH")
    expect(a.call("SET", "k", "v"), "OK", "SET after AUTH")
    b = Client(port)
    expect(b.call("AUTH", "default", "s3cret"), "OK", "AUTH default")
    expect(b.call("GET", "k"), "v", "GET after AUTH")
    expect(Client(port).call("QUIT"), "OK", "QUIT without AUTH")
    p.terminate()
    p.wait()
    print("hostile: ok")


def main():
    rt, kv, work, scenario = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    {"commands": commands, "resume": resume, "sync-failover": sync_failover,
     "partition": partition, "hostile": hostile}[scenario](rt, kv, work)


if __name__ == "__main__":
    main()

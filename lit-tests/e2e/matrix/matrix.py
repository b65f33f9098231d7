#!/usr/bin/env python3
"""The end-to-end test matrix (zdtm-style): every program in programs/*.cpp
runs in every mode at -O0 and -O2.

    matrix.py --csrt CHECKSYNC_RT --config CHECKSYNC_CONFIG --cxx CLANGXX
              --work DIR [--cache DIR] [--modes m1,m2|all] [--programs p1,p2]
              [--opts -O0,-O2] [--seed N|random] [--rounds N]

A program follows the protocol of matrix.h: `prog SEED TOTAL [--kill-at R]
[--first-checkpoint R] [--sleep-ms N] [--no-checkpoint]` prints
`round R digest D objects N` for every round (and round 0), `durable R` once
round R's checkpoint is durable, and, when resumed, `resumed R digest D
objects N` first. The history is deterministic in (program, seed): a
reference run without checkpoints gives every round's digest, and

  - every round line of every run equals the reference's;
  - a resumed digest equals the reference's digest of its round, and that
    round is the one acknowledged before a deliberate kill (--kill-at), or
    acknowledged-or-later after a kill at a random instant;
  - the run continued after the resume ends at round TOTAL with the
    reference's final digest (the uninterrupted run's), and a last resume of
    the directory the continued run wrote gives the same final digest;
  - no process reports an error (`error:` lines, `checksync:` errors such as
    a failed compaction).

Modes:
  full          the only checkpoint is one full image (--first-checkpoint K --kill-at K)
  deltas        a full image and K-1 deltas, no compaction
  compact       CHECKSYNC_COMPACT_AFTER=1: compaction after every delta
  full_every    CHECKSYNC_FULL_EVERY=3
  backup        shipped to `checksync-rt serve` on loopback, resumed from its store
  takeover      shipped, kill -9 at a random instant, `serve --takeover` resumes it
  resume_twice  killed, resumed, continued, killed at a random instant, resumed
  verify        CHECKSYNC_VERIFY=1 (every epoch checked against a full image)
  cow           --no-wait: each round's writes race with the previous delta's
                encoding, slowed down (CHECKSYNC_TEST_ENCODE_DELAY_US); with
                CHECKSYNC_VERIFY_COW=1 the runtime aborts if a delta differs
                from the one encoded at its checkpoint()
  upgrade       killed, resumed by a newer build (the other opt level, with
                -DMX_UPGRADE: matrix.h adds a persistent type and two roots),
                continued; the older build is then refused the newer build's
                directory (exit 3: a type it lacks has an object); the final
                resume is the newer build's

One line per program x opt x mode; a summary; on failure the seed and the
commands to reproduce. Exit status 1 if any combination failed.
"""
import argparse
import atexit
import fcntl
import glob
import hashlib
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ["full", "deltas", "compact", "full_every", "backup", "takeover", "resume_twice",
         "verify", "cow", "upgrade"]
SECRET = "matrix-secret"
STATE = re.compile(r"^(round|resumed) (\d+) digest ([0-9a-f]{16}) objects (\d+)$", re.M)
DURABLE = re.compile(r"^durable (\d+)$", re.M)
# Runtime messages that mean something went wrong even when the exit status is 0.
BAD = re.compile(r"^(error:.*|checksync:.*(fail|corrupt|error|cannot|not in the checkpoint).*)$",
                 re.M | re.I)
PROC_TIMEOUT = 120  # seconds, any single process
SERVE_START = 10

LIVE = []  # every process we started (each leads its own process group)


def kill_group(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def cleanup():
    for p in LIVE:
        kill_group(p)
    del LIVE[:]


atexit.register(cleanup)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, lambda *_: sys.exit(2))


class Failure(Exception):
    pass


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKSYNC_")}
    return env


class Combo:
    """One program x opt x mode: its work dir, the commands it ran (for the
    reproduction recipe) and their outputs."""

    def __init__(self, work, name):
        self.work = work
        self.name = name
        self.commands = []
        self.n = 0
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)

    def start(self, argv, env_extra, label):
        self.n += 1
        out = os.path.join(self.work, "%02d-%s.out" % (self.n, label))
        err = os.path.join(self.work, "%02d-%s.err" % (self.n, label))
        env = base_env()
        env.update(env_extra)
        self.commands.append("env %s %s" % (
            " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env_extra.items())),
            " ".join(shlex.quote(a) for a in argv)))
        fo, fe = open(out, "w"), open(err, "w")
        p = subprocess.Popen(argv, stdout=fo, stderr=fe, env=env, start_new_session=True)
        fo.close()
        fe.close()
        LIVE.append(p)
        p.out, p.err, p.label = out, err, label
        return p

    def run(self, argv, env_extra, label, timeout=PROC_TIMEOUT):
        p = self.start(argv, env_extra, label)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(p)
            raise Failure("%s: no exit within %d s\n%s" % (label, timeout, tail(p)))
        return p


def text(path):
    with open(path, errors="replace") as f:
        return f.read()


def dedup(lines):
    out = []
    for l in lines:
        if out and out[-1][0] == l:
            out[-1][1] += 1
        else:
            out.append([l, 1])
    return [l if n == 1 else "%s   (x%d)" % (l, n) for l, n in out]


def tail(p, n=6):
    """The last lines of a process's stdout and stderr, for a failure report."""
    return "\n".join("    | " + l for l in (
        text(p.out).splitlines()[-n:] + ["-- stderr --"] + dedup(text(p.err).splitlines())[-n:]))


def states(p):
    return [(m.group(1), int(m.group(2)), m.group(3)) for m in STATE.finditer(text(p.out))]


def last_durable(p):
    return max((int(x) for x in DURABLE.findall(text(p.out))), default=0)


def check_clean(p):
    bad = BAD.findall(text(p.out)) + BAD.findall(text(p.err))
    if bad:
        raise Failure("%s reported: %s\n%s" % (p.label, bad[0], tail(p)))


class Program:
    def __init__(self, src, binary, seed, total, ref, upgrade=None):
        self.src, self.binary, self.seed, self.total, self.ref = src, binary, seed, total, ref
        self.upgrade = upgrade  # a newer build's binary (mode upgrade)

    def argv(self, *extra):
        return [self.binary, str(self.seed), str(self.total), *map(str, extra)]


def check_history(prog, p):
    """Every state the run printed is the reference's at that round."""
    for kind, r, d in states(p):
        if prog.ref.get(r) != d:
            raise Failure("%s: %s %d digest %s, the uninterrupted run has %s\n%s" %
                          (p.label, kind, r, d, prog.ref.get(r), tail(p)))


def expect_exit(p, code):
    if p.returncode != code:
        what = ("killed by signal %d" % -p.returncode) if p.returncode < 0 else \
            "exit status %d" % p.returncode
        raise Failure("%s: %s, expected %s\n%s" % (
            p.label, what, "SIGKILL" if code == -9 else "status %d" % code, tail(p)))


def expect_resumed(prog, p, at_least, exactly=None):
    s = states(p)
    if not s or s[0][0] != "resumed":
        raise Failure("%s: no `resumed` line\n%s" % (p.label, tail(p)))
    r = s[0][1]
    if exactly is not None and r != exactly:
        raise Failure("%s: resumed round %d, expected the acknowledged round %d\n%s" %
                      (p.label, r, exactly, tail(p)))
    if r < at_least:
        raise Failure("%s: resumed round %d, but round %d was acknowledged\n%s" %
                      (p.label, r, at_least, tail(p)))
    return r


def expect_final(prog, p):
    s = states(p)
    if not s or s[-1][1] != prog.total:
        raise Failure("%s: did not reach round %d\n%s" % (p.label, prog.total, tail(p)))


def finished(prog, p, code=0):
    """A continued run: exits `code`, its history is the reference's, it ends at TOTAL."""
    expect_exit(p, code)
    check_clean(p)
    check_history(prog, p)
    expect_final(prog, p)


def killed(prog, p):
    expect_exit(p, -9)
    check_clean(p)
    check_history(prog, p)


def resume_argv(csrt, frm, prog, *extra, out_dir=None):
    argv = [csrt, "resume", "--from", frm]
    if out_dir:
        argv += ["--dir", out_dir]
    return argv + ["--", *prog.argv(*extra)]


def final_resume(c, csrt, prog, d, env=None):
    """The directory a finished run wrote resumes to the final state."""
    argv = resume_argv(csrt, d, prog, out_dir=os.path.join(c.work, "final.d"))
    p = c.run(argv, env or {}, "final-resume")
    expect_exit(p, 0)
    check_clean(p)
    try:
        check_history(prog, p)
    except Failure as e:
        raise Failure(str(e) + "\n" + first_difference(c, prog, argv, env or {}))
    expect_resumed(prog, p, prog.total, exactly=prog.total)


def first_difference(c, prog, argv, env):
    """Runs the resume again and the reference, both tracing the digest of the
    final round (MX_TRACE), and names the first value that differs."""
    traces = []
    for label, cmd in (("trace-reference", [prog.binary, str(prog.seed), str(prog.total),
                                            "--no-checkpoint"]), ("trace-resume", argv)):
        t = os.path.join(c.work, label + ".txt")
        c.run(cmd, dict(env, MX_TRACE=t, MX_TRACE_ROUND=str(prog.total)), label)
        traces.append(text(t).split() if os.path.exists(t) else [])
    a, b = traces
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return ("  first difference: folded value #%d is %s, the uninterrupted run's %s "
                    "(values before it: %s)" % (i, b[i], a[i], " ".join(a[max(0, i - 4):i])))
    return "  traces: %d and %d values, equal prefix" % (len(a), len(b))


def files(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def ckpt_epochs(d):
    return [int(re.search(r"(\d+)", f).group(1)) for f in files(d) if f.startswith("ckpt-")
            and not f.endswith(".tmp")]


# ----------------------------------------------------------------------------- modes

def local_kill_resume(c, csrt, prog, rng, env, kill_at, run_extra=(), precondition=None):
    d = os.path.join(c.work, "ckpt.d")
    p = c.run(prog.argv("--kill-at", kill_at, *run_extra), dict(env, CHECKSYNC_DIR=d), "run")
    killed(prog, p)
    if last_durable(p) != kill_at:
        raise Failure("run: last durable round %d, expected %d\n%s" %
                      (last_durable(p), kill_at, tail(p)))
    if precondition:
        try:
            precondition(d)
        except Failure as e:  # the run's stderr says why (e.g. a delta that fell back to full)
            raise Failure("%s\n%s" % (e, tail(p)))
    q = c.run(resume_argv(csrt, d, prog, *run_extra), env, "resume")
    expect_resumed(prog, q, kill_at, exactly=kill_at)
    finished(prog, q)
    final_resume(c, csrt, prog, d, env)


def mode_full(c, csrt, prog, rng):
    k = rng.randint(2, prog.total - 2)
    d = os.path.join(c.work, "ckpt.d")

    def one_full(_):
        if [f for f in files(d) if f.startswith(("ckpt-", "delta-"))] != \
                ["ckpt-%020d.csk" % 1]:
            raise Failure("precondition: expected exactly one full checkpoint, found %s" %
                          files(d))
    local_kill_resume(c, csrt, prog, rng, {}, k, ("--first-checkpoint", k),
                      precondition=one_full)


def mode_deltas(c, csrt, prog, rng):
    k = rng.randint(prog.total // 2, prog.total - 2)
    d = os.path.join(c.work, "ckpt.d")
    env = {"CHECKSYNC_COMPACT_AFTER": "0", "CHECKSYNC_COMPACT_RATIO": "0"}

    def chain(_):
        deltas = [f for f in files(d) if f.startswith("delta-")]
        if ckpt_epochs(d) != [1] or len(deltas) != k - 1:
            raise Failure("precondition: expected a full image and %d deltas, found %s" %
                          (k - 1, files(d)))
    local_kill_resume(c, csrt, prog, rng, env, k, precondition=chain)


def mode_compact(c, csrt, prog, rng):
    k = rng.randint(prog.total // 2, prog.total - 2)
    d = os.path.join(c.work, "ckpt.d")
    env = {"CHECKSYNC_COMPACT_AFTER": "1"}

    def compacted(_):
        if not [e for e in ckpt_epochs(d) if e > 1]:
            raise Failure("precondition: no compacted base (ckpt-E, E > 1) after %d rounds: %s"
                          % (k, files(d)))
    # A little time per round lets the background compactor run between rounds.
    local_kill_resume(c, csrt, prog, rng, env, k, ("--sleep-ms", 5), precondition=compacted)


def mode_full_every(c, csrt, prog, rng):
    # A kill after a delta that follows a forced full image.
    k = rng.choice([r for r in range(5, prog.total - 1) if r % 3 != 0])
    d = os.path.join(c.work, "ckpt.d")
    env = {"CHECKSYNC_FULL_EVERY": "3"}

    def fulls(_):
        if not [e for e in ckpt_epochs(d) if e > 1]:
            raise Failure("precondition: no forced full image: %s" % files(d))
    local_kill_resume(c, csrt, prog, rng, env, k, precondition=fulls)


def mode_verify(c, csrt, prog, rng):
    k = rng.randint(prog.total // 2, prog.total - 2)
    local_kill_resume(c, csrt, prog, rng, {"CHECKSYNC_VERIFY": "1"}, k)


def mode_cow(c, csrt, prog, rng):
    k = rng.randint(prog.total // 2, prog.total - 2)
    env = {"CHECKSYNC_VERIFY_COW": "1", "CHECKSYNC_TEST_ENCODE_DELAY_US": "2",
           "CHECKSYNC_COMPACT_AFTER": "0", "CHECKSYNC_COMPACT_RATIO": "0"}
    local_kill_resume(c, csrt, prog, rng, env, k, ("--no-wait",))


def mode_resume_twice(c, csrt, prog, rng):
    d = os.path.join(c.work, "ckpt.d")
    env = {"CHECKSYNC_DIR": d}
    k1 = rng.randint(2, prog.total // 2 - 1)
    p = c.run(prog.argv("--kill-at", k1), env, "run")
    killed(prog, p)
    # Resumed and continued, then killed at a random instant after round k2 is durable.
    k2 = rng.randint(k1 + 2, prog.total - 2)
    q = c.start(resume_argv(csrt, d, prog, "--sleep-ms", 2), {}, "resume-1")
    wait_durable_line(q, k2, rng)
    kill_group(q)
    killed(prog, q)
    expect_resumed(prog, q, k1, exactly=k1)
    acked = last_durable(q)
    s = c.run(resume_argv(csrt, d, prog), {}, "resume-2")
    expect_resumed(prog, s, acked)
    finished(prog, s)
    final_resume(c, csrt, prog, d)


def wait_durable_line(p, k, rng, timeout=60):
    """Waits until p printed `durable k`, then a random 0-3 ms more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if last_durable(p) >= k:
            time.sleep(rng.uniform(0, 0.003))
            return
        if p.poll() is not None:
            raise Failure("%s exited (%s) before round %d was durable\n%s" %
                          (p.label, p.returncode, k, tail(p)))
        time.sleep(0.001)
    raise Failure("%s: round %d not durable within %d s\n%s" % (p.label, k, timeout, tail(p)))


class Serve:
    def __init__(self, c, csrt, store, extra=(), label="serve"):
        self.p = c.start([csrt, "serve", "--listen", "127.0.0.1:0", "--dir", store, *extra],
                         {"CHECKSYNC_SECRET": SECRET}, label)
        self.port = None
        deadline = time.monotonic() + SERVE_START
        while time.monotonic() < deadline and self.port is None:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text(self.p.err))
            if m:
                self.port = int(m.group(1))
            elif self.p.poll() is not None:
                break
            else:
                time.sleep(0.005)
        if self.port is None:
            kill_group(self.p)
            raise Failure("serve did not start\n%s" % tail(self.p))

    def env(self):
        return {"CHECKSYNC_BACKUP": "127.0.0.1:%d" % self.port, "CHECKSYNC_SECRET": SECRET}

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(self.p)
                raise Failure("serve did not stop on SIGTERM\n%s" % tail(self.p))


def mode_backup(c, csrt, prog, rng):
    store = os.path.join(c.work, "store")
    k = rng.randint(prog.total // 2, prog.total - 2)
    serve = Serve(c, csrt, store)
    try:
        p = c.run(prog.argv("--kill-at", k), serve.env(), "primary")
        killed(prog, p)
        if last_durable(p) != k:
            raise Failure("primary: last acknowledged round %d, expected %d\n%s" %
                          (last_durable(p), k, tail(p)))
        # Resumed from the backup's store, shipping to the same backup.
        q = c.run(resume_argv(csrt, store, prog), serve.env(), "resume")
        expect_resumed(prog, q, k, exactly=k)
        finished(prog, q)
    finally:
        serve.stop()
    check_clean(serve.p)
    final_resume(c, csrt, prog, store)


def mode_upgrade(c, csrt, prog, rng):
    d = os.path.join(c.work, "ckpt.d")
    k = rng.randint(2, prog.total - 2)
    p = c.run(prog.argv("--kill-at", k), {"CHECKSYNC_DIR": d}, "run")
    killed(prog, p)
    newer = Program(prog.src, prog.upgrade, prog.seed, prog.total, prog.ref)
    q = c.run(resume_argv(csrt, d, newer), {}, "resume-newer-build")
    expect_resumed(newer, q, k, exactly=k)
    finished(newer, q)
    for want, where in (("resume across builds: roots added (initial values kept): "
                         "mx_release, mx_upgraded_at", q.err),
                        ("upgrade: resumed round %d into release 2 'v2'" % k, q.out)):
        if want not in text(where):
            raise Failure("resume-newer-build: no `%s`\n%s" % (want, tail(q)))
    old = c.run(resume_argv(csrt, d, prog, out_dir=os.path.join(c.work, "old.d")), {},
                "resume-older-build")
    expect_exit(old, 3)
    if "type MxRelease is not a persistent type of this program" not in text(old.err):
        raise Failure("resume-older-build: not refused for MxRelease\n%s" % tail(old))
    final_resume(c, csrt, newer, d)


def mode_takeover(c, csrt, prog, rng):
    store = os.path.join(c.work, "store")
    k = rng.randint(2, prog.total - 3)
    serve = Serve(c, csrt, store, ("--takeover", "--timeout", "300", "--", *prog.argv()),
                  label="serve-takeover")
    try:
        p = c.start(prog.argv("--sleep-ms", 2), serve.env(), "primary")
        wait_durable_line(p, k, rng)
        kill_group(p)  # kill -9 at a random instant after round k is acknowledged
        killed(prog, p)
        try:
            serve.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failure("serve --takeover: the taken-over program did not finish in 60 s\n%s"
                          % tail(serve.p))
        if "takeover:" not in text(serve.p.err):
            raise Failure("serve: no takeover\n%s" % tail(serve.p))
        # serve's stdout is the taken-over program's
        expect_resumed(prog, serve.p, last_durable(p))
        finished(prog, serve.p)
    finally:
        kill_group(serve.p)
    final_resume(c, csrt, prog, store)


MODE_FUNCS = {m: globals()["mode_" + m] for m in MODES}

# ----------------------------------------------------------------------------- builds


def file_hash(paths):
    h = hashlib.sha256()
    for path in paths:
        h.update(path.encode())
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def compile_programs(args, progs, opts, upgrade=False):
    """Compiles every program at every opt level, as a user would, into a cache
    shared by the matrix's lit tests (keyed by the sources, the flags and the
    installed plugin and runtime; a lock per key, so parallel drivers build
    each binary once)."""
    cxxflags = subprocess.run([args.config, "--cxxflags"], capture_output=True, text=True,
                              check=True).stdout.split()
    ldflags = subprocess.run([args.config, "--ldflags"], capture_output=True, text=True,
                             check=True).stdout.split()
    prefix = subprocess.run([args.config, "--prefix"], capture_output=True, text=True,
                            check=True).stdout.strip()
    # The installed plugin and runtime, and the public headers (codec.h's
    # templates are compiled into every program).
    tool_files = [f for d in ("lib", "include")
                  for f in glob.glob(os.path.join(prefix, d, "**", "*"), recursive=True)
                  if os.path.isfile(f) and ("checksync" in f)]
    tools = file_hash(sorted(tool_files) + [os.path.join(HERE, "matrix.h")])
    os.makedirs(args.cache, exist_ok=True)
    jobs = []
    # A newer build for mode upgrade: the other opt level, with -DMX_UPGRADE.
    variants = [(opt, [opt]) for opt in opts]
    if upgrade:
        variants += [(opt + "+upgrade", [opts[(i + 1) % len(opts)], "-DMX_UPGRADE"])
                     for i, opt in enumerate(opts)]
    for src in progs:
        for opt, opt_flags in variants:
            flags = ["-std=c++20", *opt_flags, *cxxflags]
            key = hashlib.sha256((file_hash([src]) + tools + " ".join(flags + ldflags) +
                                  args.cxx).encode()).hexdigest()[:16]
            name = "%s%s-%s" % (os.path.splitext(os.path.basename(src))[0],
                                "".join(opt_flags).replace("-DMX_UPGRADE", "+upgrade"), key)
            binary = os.path.join(args.cache, name)
            cmd = [args.cxx, *flags, src, "-o", binary + ".tmp", *ldflags]
            jobs.append((src, opt, binary, cmd))
    out = {}
    pending = list(jobs)
    random.Random(os.getpid()).shuffle(pending)  # parallel drivers start apart
    deadline = time.monotonic() + 900
    while pending:
        if time.monotonic() > deadline:
            sys.exit("matrix: compiling took over 15 minutes")
        progressed = False
        for job in list(pending):
            src, opt, binary, cmd = job
            lock = open(binary + ".lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            try:
                if not os.path.exists(binary):
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
                    if r.returncode != 0:
                        out[(src, opt)] = Failure("compile failed: %s\n%s" % (
                            " ".join(map(shlex.quote, cmd)), r.stderr[-3000:]))
                    else:
                        os.rename(binary + ".tmp", binary)
                if (src, opt) not in out:
                    out[(src, opt)] = binary
            finally:
                lock.close()
            pending.remove(job)
            progressed = True
        if not progressed:
            time.sleep(0.2)
    return out


def reference(c, prog):
    """The uninterrupted history without any checkpoint: every round's digest."""
    p = c.run([prog.binary, str(prog.seed), str(prog.total), "--no-checkpoint"], {},
              "reference")
    expect_exit(p, 0)
    check_clean(p)
    ref = {}
    for kind, r, d in states(p):
        ref[r] = d
    if sorted(ref) != list(range(prog.total + 1)):
        raise Failure("reference: rounds %s, expected 0..%d\n%s" % (sorted(ref), prog.total,
                                                                   tail(p)))
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csrt", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--cxx", default="clang++-19")
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache")
    ap.add_argument("--modes", default="all")
    ap.add_argument("--programs", default="all")
    ap.add_argument("--opts", default="-O0,-O2")
    ap.add_argument("--seed", default=os.environ.get("MATRIX_SEED", "1"))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("MATRIX_ROUNDS", "14")))
    args = ap.parse_args()
    args.cache = args.cache or os.path.join(args.work, "bin")
    seed = random.randrange(1, 1 << 30) if args.seed == "random" else int(args.seed)
    modes = MODES if args.modes == "all" else args.modes.split(",")
    for m in modes:
        if m not in MODE_FUNCS:
            sys.exit("unknown mode %s (modes: %s)" % (m, " ".join(MODES)))
    srcs = sorted(glob.glob(os.path.join(HERE, "programs", "*.cpp")))
    if args.programs != "all":
        want = args.programs.split(",")
        srcs = [s for s in srcs if os.path.splitext(os.path.basename(s))[0] in want]
    if not srcs:
        sys.exit("matrix: no programs")
    opts = args.opts.split(",")
    os.makedirs(args.work, exist_ok=True)
    t0 = time.monotonic()
    binaries = compile_programs(args, srcs, opts, upgrade="upgrade" in modes)
    t_build = time.monotonic() - t0
    total = passed = 0
    failures = []
    for src in srcs:
        pname = os.path.splitext(os.path.basename(src))[0]
        # Each program has its own seed, derived from the matrix seed.
        pseed = seed * 1000003 + int(hashlib.sha256(pname.encode()).hexdigest()[:6], 16)
        for opt in opts:
            ref = None
            for mode in modes:
                total += 1
                name = "%s %s %s" % (pname, opt, mode)
                c = Combo(os.path.join(args.work, pname + opt, mode), name)
                t1 = time.monotonic()
                # Random choices (kill rounds, delays) follow from the seed too.
                rng = random.Random("%d/%s/%s" % (seed, pname, mode))
                try:
                    b = binaries[(src, opt)]
                    if isinstance(b, Failure):
                        raise b
                    up = binaries.get((src, opt + "+upgrade"))
                    if isinstance(up, Failure):
                        raise up
                    prog = Program(src, b, pseed, args.rounds, None, up)
                    if ref is None:
                        ref = reference(Combo(os.path.join(args.work, pname + opt, "reference"),
                                              name), prog)
                    prog.ref = ref
                    MODE_FUNCS[mode](c, args.csrt, prog, rng)
                    passed += 1
                    print("PASS %-40s %5.2fs" % (name, time.monotonic() - t1), flush=True)
                except Failure as e:
                    failures.append(name)
                    print("FAIL %-40s %5.2fs" % (name, time.monotonic() - t1))
                    print("  " + str(e).replace("\n", "\n  "))
                    print("  reproduce (matrix seed %d, program seed %d, work %s):" %
                          (seed, pseed, c.work))
                    print("    python3 %s --csrt %s --config %s --cxx %s --work /tmp/matrix "
                          "--modes %s --programs %s --opts=%s --seed %d --rounds %d" %
                          (os.path.abspath(__file__), args.csrt, args.config, args.cxx, mode,
                           pname, opt, seed, args.rounds))
                    for cmd in c.commands:
                        print("    " + cmd)
                    sys.stdout.flush()
                finally:
                    cleanup()
    print("matrix: %d combinations (%d programs x %d opt levels x %d modes), %d passed, "
          "%d failed; seed %d, %d rounds; build %.1fs, total %.1fs" %
          (total, len(srcs), len(opts), len(modes), passed, len(failures), seed, args.rounds,
           t_build, time.monotonic() - t0))
    if failures:
        print("matrix: failed: " + ", ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fault scenarios for primary -> backup shipping, on loopback, bounded in time.

    ha_harness.py CHECKSYNC_RT LEDGER WORKDIR SCENARIO [ARGS]

(large-state and nothing-durable take Inputs/big_state.cpp instead of LEDGER.)

The primary is examples/ledger: every round it prints "round R: ..., digest D",
checkpoints, and prints "round R durable" once the backup acknowledged it. Its
random-number state is persistent, so a resumed ledger continues the same
history: a digest names one state. "Resumed at round R, digest D" is correct
when D is the digest the history has at R and R >= the last round the killed
primary saw acknowledged (nothing acknowledged is lost).
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

SECRET = "ha-test-secret"


class Serve:
    """`checksync-rt serve` on STORE; its stderr appends to LOG (shared by
    restarts), the stdout of a program it takes over goes to OUT (else LOG)."""

    def __init__(self, rt, store, log, port=0, extra=(), env=None, out=None):
        self.log = log
        e = dict(os.environ, CHECKSYNC_SECRET=SECRET, **(env or {}))
        self.f = open(log, "a")
        self.out = open(out, "w") if out else self.f
        start = os.path.getsize(log)  # read only what this process logs
        self.p = subprocess.Popen(
            [rt, "serve", "--listen", "127.0.0.1:%d" % port, "--dir", store, *extra],
            stdout=self.out, stderr=self.f, env=e)
        self.port = None
        for _ in range(500):
            with open(log) as f:
                f.seek(start)
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.01)
        if self.port is None:
            sys.exit("serve did not start:\n" + open(log).read())

    def wait(self, timeout):
        self.p.wait(timeout=timeout)
        self.f.close()
        self.out.close()

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        self.p.wait(timeout=20)
        self.f.close()
        self.out.close()


def primary(rt, ledger, port, store, log, args, secret=SECRET, resume=True):
    """Starts the ledger shipping to the backup; resumed from `store` when it holds a chain."""
    env = dict(os.environ, CHECKSYNC_SECRET=secret, CHECKSYNC_BACKUP="127.0.0.1:%d" % port)
    env.pop("CHECKSYNC_DIR", None)
    has_chain = os.path.isdir(store) and any(n.startswith("ckpt-") for n in os.listdir(store))
    if resume and has_chain:
        cmd = [rt, "resume", "--from", store, "--", ledger, *args]
    else:
        cmd = [ledger, *args]
    f = open(log, "w")
    return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env), f


def digests(logs):
    out = {}
    for log in logs:
        for m in re.finditer(r"^round (\d+): total (\d+), digest ([0-9a-f]+)$",
                             open(log).read(), re.M):
            r, total, d = int(m.group(1)), int(m.group(2)), m.group(3)
            if out.get(r, d) != d:
                sys.exit("history diverged at round %d" % r)
            out[r] = d
    return out


def last_durable(log):
    rounds = [int(x) for x in re.findall(r"^round (\d+) durable$", open(log).read(), re.M)]
    return max(rounds, default=0)


def check_resume(rt, ledger, store, work, logs, killed_log, label):
    """Resumes a copy of the store and checks the state against the history."""
    copy = os.path.join(work, "check")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    env = dict(os.environ)
    for k in ("CHECKSYNC_BACKUP", "CHECKSYNC_DIR"):
        env.pop(k, None)
    out = subprocess.run([rt, "resume", "--from", copy, "--dir", copy + ".out", "--", ledger,
                          "--rounds", "0"], capture_output=True, text=True, env=env, timeout=60)
    m = re.search(r"resumed at round (\d+): \d+ accounts, total (\d+), digest ([0-9a-f]+)",
                  out.stdout)
    if not m:
        sys.exit("%s: resume failed: %s %s" % (label, out.stdout, out.stderr))
    r, total, d = int(m.group(1)), int(m.group(2)), m.group(3)
    hist = digests(logs)
    acked = last_durable(killed_log)
    if hist.get(r) != d:
        sys.exit("%s: resumed round %d digest %s is not the history's (%s)" %
                 (label, r, d, hist.get(r)))
    if r < acked:
        sys.exit("%s: resumed round %d but round %d was acknowledged" % (label, r, acked))
    shutil.rmtree(copy + ".out", ignore_errors=True)
    return r, acked


def kill_loop(rt, ledger, work, n):
    """kill -9 of the primary at random instants, n times; the backup restarts in between."""
    rng = random.Random(int(os.environ.get("HA_SEED", "7")))
    store = os.path.join(work, "store")
    logs, lost_none, with_acks = [], 0, 0
    for i in range(n):
        serve = Serve(rt, store, os.path.join(work, "serve.log"))
        log = os.path.join(work, "primary-%d.log" % i)
        p, f = primary(rt, ledger, serve.port, store, log,
                       ["--accounts", "5000", "--delay-ms", "0"])
        time.sleep(rng.uniform(0.05, 0.8))
        p.kill()
        p.wait()
        f.close()
        logs.append(log)
        serve.stop()
        r, acked = check_resume(rt, ledger, store, work, logs, log, "iteration %d" % i)
        lost_none += 1
        with_acks += acked > 0
        print("iteration %d: acknowledged round %d, resumed round %d" % (i, acked, r))
    # Killed before its first acknowledgement, a primary makes the check above
    # empty; most must get further than that.
    if with_acks < n // 4:
        sys.exit("only %d of %d primaries saw an acknowledgement" % (with_acks, n))
    print("kill-loop: %d kills, every resume equal to an acknowledged-or-later epoch" % lost_none)


def wait_resumed(out, since, limit, poll=0.002):
    """Waits (at most `limit` s after `since`, monotonic) for the taken-over
    ledger's "resumed at round R ..., digest D" in `out`: (R, D, when) or None."""
    while time.monotonic() - since < limit:
        m = re.search(r"resumed at round (\d+): \d+ accounts, total \d+, digest ([0-9a-f]+)",
                      open(out).read())
        if m:
            return int(m.group(1)), m.group(2), time.monotonic()
        time.sleep(poll)
    return None


def takeover(rt, ledger, work):
    """Primary killed; `serve --takeover` runs the program again, measured from the kill."""
    store = os.path.join(work, "store")
    out = os.path.join(work, "takeover.out")
    slog = os.path.join(work, "serve.log")
    serve = Serve(rt, store, slog, out=out,
                  extra=("--takeover", "--timeout", "300", "--", ledger, "--rounds", "2",
                         "--delay-ms", "0"))
    port = serve.port
    log = os.path.join(work, "primary.log")
    p, f = primary(rt, ledger, port, store, log, ["--accounts", "5000", "--delay-ms", "5"])
    time.sleep(1.0)
    p.kill()
    t_kill = time.monotonic()
    p.wait()
    f.close()
    got = wait_resumed(out, t_kill, 10)
    serve.wait(timeout=30)
    if got is None:
        sys.exit("no takeover:\n" + open(slog).read())
    r, d, resumed = got
    ms = (resumed - t_kill) * 1000
    if digests([log]).get(r) != d or r < last_durable(log):
        sys.exit("takeover resumed round %d digest %s; acknowledged %d" % (r, d, last_durable(log)))
    print("takeover: resumed round %d (acknowledged %d), running again %.0f ms after the kill" %
          (r, last_durable(log), ms))
    print(open(slog).read())
    if ms > 1000:
        sys.exit("failover took %.0f ms (target: under 1 s)" % ms)


def fence(rt, ledger, work):
    """A primary that was only paused comes back after a takeover: it is fenced."""
    store = os.path.join(work, "store")
    slog = os.path.join(work, "serve.log")
    serve = Serve(rt, store, slog, out=os.path.join(work, "takeover.out"),
                  extra=("--takeover", "--timeout", "300", "--", ledger, "--rounds", "100",
                         "--delay-ms", "20"))
    port = serve.port
    log = os.path.join(work, "stale.log")
    p, f = primary(rt, ledger, port, store, log, ["--accounts", "1000", "--delay-ms", "5"])
    time.sleep(0.6)
    p.send_signal(signal.SIGSTOP)
    for _ in range(500):
        if "takeover:" in open(slog).read():
            break
        time.sleep(0.01)
    time.sleep(0.3)
    p.send_signal(signal.SIGCONT)
    try:
        code = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("the stale primary kept running after the takeover")
    f.close()
    serve.wait(timeout=30)
    text = open(log).read()
    print("stale primary exit code %d" % code)
    print([l for l in text.splitlines() if " checksync: " in l][-1])


def wrong_secret(rt, ledger, work):
    store = os.path.join(work, "store")
    serve = Serve(rt, store, os.path.join(work, "serve.log"))
    log = os.path.join(work, "primary.log")
    p, f = primary(rt, ledger, serve.port, store, log, ["--rounds", "3"], secret="wrong",
                   resume=False)
    code = p.wait(timeout=20)
    f.close()
    serve.stop()
    print("primary exit code %d" % code)
    print([l for l in open(log).read().splitlines() if " checksync: " in l][-1])
    print([l for l in open(serve.log).read().splitlines() if "refused" in l][-1])


def backup_restart(rt, ledger, work):
    """kill -9 of the backup mid-stream, restarted on the same port: the primary
    reconnects and continues; the store resumes to an acknowledged epoch."""
    store = os.path.join(work, "store")
    slog = os.path.join(work, "serve.log")
    serve = Serve(rt, store, slog)
    port = serve.port
    log = os.path.join(work, "primary.log")
    p, f = primary(rt, ledger, port, store, log, ["--accounts", "20000", "--delay-ms", "0"],
                   resume=False)
    time.sleep(0.5)
    serve.stop(signal.SIGKILL)
    before = last_durable(log)
    time.sleep(0.3)
    serve = Serve(rt, store, slog, port=port)
    time.sleep(1.0)
    after = last_durable(log)
    p.kill()
    p.wait()
    f.close()
    serve.stop()
    r, acked = check_resume(rt, ledger, store, work, [log], log, "backup restart")
    if after <= before:
        sys.exit("no progress after the backup restarted (%d -> %d)" % (before, after))
    print("backup restart: acknowledged %d before the backup's kill, %d after; resumed %d" %
          (before, after, r))


def large_state(rt, prog, work, mb):
    """A state far over CHECKSYNC_BACKUP_QUEUE_MB and the frame limit ships to
    `serve --takeover` while short heartbeats must keep flowing: no false
    takeover, the checkpoint is acknowledged, and the takeover after the
    primary exits resumes exactly that state."""
    store = os.path.join(work, "store")
    slog = os.path.join(work, "serve.log")
    out = os.path.join(work, "takeover.out")
    limits = {"CHECKSYNC_TEST_MAX_FRAME": str(1 << 20)}
    serve = Serve(rt, store, slog, out=out, env=limits,
                  extra=("-v", "--takeover", "--timeout", "400", "--", prog))
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET, CHECKSYNC_BACKUP="127.0.0.1:%d" % serve.port,
               CHECKSYNC_BACKUP_QUEUE_MB="16", CHECKSYNC_HEARTBEAT_MS="20", **limits)
    env.pop("CHECKSYNC_DIR", None)
    log = os.path.join(work, "primary.log")
    with open(log, "w") as f:
        code = subprocess.run([prog, str(mb), "600"], stdout=f, stderr=subprocess.STDOUT,
                              env=env, timeout=60).returncode
    serve.wait(timeout=60)
    text, slog_text = open(log).read(), open(slog).read()
    built = re.search(r"built \d+ blocks, digest (\w+)", text)
    durable = re.search(r"epoch \d+ \((\d+) MB\) durable=(\d) after (\d+) ms", text)
    resumed = re.search(r"resumed \d+ blocks, digest (\w+)", open(out).read())
    takeovers = slog_text.count("takeover: no word")
    print(text + slog_text)
    if not (built and durable and durable.group(2) == "1" and code == 0):
        sys.exit("the large checkpoint was not acknowledged (primary exit %d)" % code)
    if takeovers != 1 or slog_text.index("takeover: no word") < slog_text.index("disconnected"):
        sys.exit("a takeover while the primary was alive")
    if not resumed or resumed.group(1) != built.group(1):
        sys.exit("the takeover did not resume the acknowledged state")
    print("large state: %s MB acknowledged in %s ms with 16 MB queue and 1 MiB frames; "
          "one takeover, after the primary exited; resumed digest equal" %
          (durable.group(1), durable.group(3)))


def restart_takeover(rt, ledger, work):
    """Takeover survives a restart of the backup (state on disk, not in serve's
    memory): (a) serve is killed and restarted while the primary lives: the
    primary reconnects within the grace and nothing is taken over; (b) serve
    is killed, then the primary, then serve restarts: with no primary to come
    back, it takes over after --restart-grace and resumes the acknowledged state."""
    store = os.path.join(work, "store")
    slog = os.path.join(work, "serve.log")
    out = os.path.join(work, "takeover.out")
    extra = ("--takeover", "--timeout", "300", "--restart-grace", "1500", "--", ledger,
             "--rounds", "2", "--delay-ms", "0")
    serve = Serve(rt, store, slog, extra=extra)
    port = serve.port
    log = os.path.join(work, "primary.log")
    p, f = primary(rt, ledger, port, store, log, ["--accounts", "2000", "--delay-ms", "5"])
    time.sleep(0.8)
    serve.stop(signal.SIGKILL)
    acked_before = last_durable(log)
    serve = Serve(rt, store, slog, port=port, extra=extra)  # (a) the primary is alive
    time.sleep(2.5)  # beyond the grace: the primary must have reconnected in time
    if "takeover:" in open(slog).read():
        sys.exit("a takeover while the primary was alive:\n" + open(slog).read())
    acked_a = last_durable(log)
    if acked_a <= acked_before:
        sys.exit("the primary did not carry on with the restarted backup (acknowledged %d, %d)"
                 % (acked_before, acked_a))
    serve.stop(signal.SIGKILL)  # (b) the backup, then the primary
    p.kill()
    p.wait()
    f.close()
    t0 = time.monotonic()
    serve = Serve(rt, store, slog, port=port, extra=extra, out=out)
    got = wait_resumed(out, t0, 15, poll=0.01)
    serve.wait(timeout=30)
    if got is None:
        sys.exit("no takeover after the restart:\n" + open(slog).read())
    r, d, resumed = got
    if digests([log]).get(r) != d or r < last_durable(log):
        sys.exit("resumed round %d digest %s; acknowledged %d" % (r, d, last_durable(log)))
    text = open(slog).read()
    print("restart (a): no takeover while the primary lived; acknowledged %d before the "
          "restart, %d after" % (acked_before, acked_a))
    print("restart (b): took over %.1f s after the restart; resumed round %d (acknowledged %d)" %
          (resumed - t0, r, last_durable(log)))
    print(text)


def ship_on(rt, ledger, work):
    """Protection goes on after a failover: backup A takes over with
    `--ship-to B`, so the resumed program ships to backup B; when it dies in
    turn, B takes over with the state it acknowledged. Two failovers, nothing
    acknowledged lost."""
    out_a, out_b = os.path.join(work, "a.out"), os.path.join(work, "b.out")
    slog = os.path.join(work, "serve.log")
    serve_b = Serve(rt, os.path.join(work, "store-b"), slog, out=out_b,
                    extra=("--takeover", "--timeout", "300", "--", ledger, "--rounds", "2",
                           "--delay-ms", "0"))
    serve_a = Serve(rt, os.path.join(work, "store-a"), slog, out=out_a,
                    extra=("--takeover", "--timeout", "300", "--ship-to",
                           "127.0.0.1:%d" % serve_b.port, "--", ledger, "--delay-ms", "5"))
    log = os.path.join(work, "primary.log")
    p, f = primary(rt, ledger, serve_a.port, os.path.join(work, "store-a"), log,
                   ["--accounts", "2000", "--delay-ms", "5"])
    time.sleep(0.8)
    p.kill()
    p.wait()
    f.close()
    # A takes over; its program must get rounds acknowledged by B.
    pid = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        m = re.search(r"program started as pid (\d+)", open(slog).read())
        if m and last_durable(out_a) > 0:
            t = re.search(r"resumed at round (\d+)", open(out_a).read())
            if t and last_durable(out_a) >= int(t.group(1)) + 3:
                pid = int(m.group(1))
                break
        time.sleep(0.01)
    if pid is None:
        sys.exit("A's resumed program got nothing acknowledged by B:\n" + open(slog).read() +
                 open(out_a).read())
    os.kill(pid, signal.SIGKILL)
    serve_a.wait(timeout=30)
    got = wait_resumed(out_b, time.monotonic(), 15, poll=0.01)
    serve_b.wait(timeout=30)
    if got is None:
        sys.exit("B did not take over:\n" + open(slog).read())
    r, d, _ = got
    hist = digests([log, out_a])
    acked = last_durable(out_a)
    if hist.get(r) != d or r < acked:
        sys.exit("B resumed round %d digest %s; history %s; A's program had %d acknowledged" %
                 (r, d, hist.get(r), acked))
    print("ship on: primary acknowledged %d by A; A's program resumed and got %d acknowledged "
          "by B; B resumed round %d with the history's digest" % (last_durable(log), acked, r))
    print(open(slog).read())


def nothing_durable(rt, prog, work):
    """A primary that dies before anything is durable: `serve --takeover` must
    not start the program with empty state; it waits for a primary."""
    store = os.path.join(work, "store")
    slog = os.path.join(work, "serve.log")
    out = os.path.join(work, "takeover.out")
    # Every checkpoint file fails to store, as on a full disk.
    serve = Serve(rt, store, slog, out=out, env={"CHECKSYNC_TEST_ENOSPC_AFTER": "0"},
                  extra=("--takeover", "--timeout", "300", "--", prog))
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET, CHECKSYNC_BACKUP="127.0.0.1:%d" % serve.port)
    env.pop("CHECKSYNC_DIR", None)
    code = subprocess.run([prog, "1", "0"], capture_output=True, env=env, timeout=30).returncode
    time.sleep(1.5)  # several times --timeout
    running = serve.p.poll() is None
    serve.stop()
    print(open(slog).read())
    print("primary exit %d; serve still running: %s; program started: %s" %
          (code, running, bool(open(out).read())))


def main():
    rt, ledger, work, scenario = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if scenario == "kill-loop":
        kill_loop(rt, ledger, work, int(sys.argv[5]))
    elif scenario == "takeover":
        takeover(rt, ledger, work)
    elif scenario == "fence":
        fence(rt, ledger, work)
    elif scenario == "wrong-secret":
        wrong_secret(rt, ledger, work)
    elif scenario == "backup-restart":
        backup_restart(rt, ledger, work)
    elif scenario == "large-state":
        large_state(rt, ledger, work, int(sys.argv[5]))
    elif scenario == "restart-takeover":
        restart_takeover(rt, ledger, work)
    elif scenario == "ship-on":
        ship_on(rt, ledger, work)
    elif scenario == "nothing-durable":
        nothing_durable(rt, ledger, work)
    else:
        sys.exit("unknown scenario " + scenario)


if __name__ == "__main__":
    main()

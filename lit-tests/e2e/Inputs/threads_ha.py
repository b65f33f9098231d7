#!/usr/bin/env python3
"""The threaded bank (threads_bank.cpp) shipping to a backup, on loopback.

    threads_ha.py CHECKSYNC_RT BANK WORKDIR backup|takeover MS

backup:   `serve` stores what the primary ships; the primary kills itself at a
          random instant after MS ms; the store is resumed with `checksync-rt
          resume` and the bank prints its invariants.
takeover: `serve --takeover -- BANK` resumes the bank on the backup itself
          once the killed primary falls silent; the resumed bank's output is
          printed.
Bounded: every wait has a timeout.
"""
import os
import re
import signal
import subprocess
import sys
import time

SECRET = "threads-ha-secret"


def start_serve(rt, store, log, extra):
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
    f = open(log, "w")
    p = subprocess.Popen([rt, "serve", "--listen", "127.0.0.1:0", "--dir", store, *extra],
                         stdout=f, stderr=f, env=env)
    for _ in range(500):
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.01)
    p.kill()
    sys.exit("serve did not start:\n" + open(log).read())


def main():
    rt, bank, work, mode, ms = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    os.makedirs(work, exist_ok=True)
    store = os.path.join(work, "store")
    log = os.path.join(work, "serve.log")
    extra = ["--takeover", "--timeout", "300", "--", bank] if mode == "takeover" else []
    serve, port = start_serve(rt, store, log, extra)
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET, CHECKSYNC_BACKUP="127.0.0.1:%d" % port)
    env.pop("CHECKSYNC_DIR", None)
    primary = subprocess.run([bank, ms], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    if primary.returncode != -signal.SIGKILL:
        serve.kill()
        sys.exit("the primary exited %d, not killed:\n%s" % (primary.returncode, primary.stderr))
    if mode == "takeover":
        try:
            serve.wait(timeout=60)  # it exits once the resumed bank has
        except subprocess.TimeoutExpired:
            serve.kill()
            sys.exit("no takeover:\n" + open(log).read())
        out = open(log).read()
        print(out)
        return
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=30)
    resumed = subprocess.run([rt, "resume", "--from", store, "--", bank], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, CHECKSYNC_DIR=os.path.join(work, "after")))
    print(resumed.stdout, resumed.stderr)
    if resumed.returncode != 0:
        sys.exit("resume exited %d" % resumed.returncode)


if __name__ == "__main__":
    main()

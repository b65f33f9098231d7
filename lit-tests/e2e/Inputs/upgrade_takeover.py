#!/usr/bin/env python3
"""A rolling upgrade on loopback: the primary runs build 1 and ships to
`serve --takeover -- BUILD2`; when the primary is gone, the backup resumes its
state into build 2. Prints serve's log (the resumed program's output is in it).

    upgrade_takeover.py CHECKSYNC_RT BUILD1 BUILD2 WORKDIR
"""
import os
import re
import subprocess
import sys
import time

SECRET = "upgrade-secret"


def main():
    rt, b1, b2, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "serve.log")
    env = dict(os.environ, CHECKSYNC_SECRET=SECRET)
    env.pop("CHECKSYNC_DIR", None)
    f = open(log, "w")
    serve = subprocess.Popen([rt, "serve", "--listen", "127.0.0.1:0", "--dir",
                              os.path.join(work, "store"), "--takeover", "--timeout", "300",
                              "--", b2], stdout=f, stderr=f, env=env)
    port = None
    for _ in range(500):
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
        if m:
            port = m.group(1)
            break
        time.sleep(0.01)
    if port is None:
        serve.kill()
        sys.exit("serve did not start:\n" + open(log).read())
    primary = subprocess.run([b1], env=dict(env, CHECKSYNC_BACKUP="127.0.0.1:" + port),
                             capture_output=True, text=True, timeout=60)
    print(primary.stdout, end="")
    try:
        serve.wait(timeout=60)  # exits once the resumed build 2 has
    except subprocess.TimeoutExpired:
        serve.kill()
        sys.exit("no takeover:\n" + open(log).read())
    print(open(log).read())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How `checksync-rt serve` copes with many idle, unauthenticated connections.

Starts serve on loopback, opens N connections that never authenticate (as a
port scanner or a hostile peer would), holds them for a while, and reports
serve's threads, resident memory, CPU, whether it is still alive, and how long
an authenticated `checksync-rt status HOST:PORT` takes meanwhile. Bounded: N
connections, --hold seconds, then everything is closed and serve stopped.

  python3 bench/serve_connections.py build/prefix/bin/checksync-rt --connections 2000
"""
import argparse, os, re, socket, subprocess, sys, tempfile, time


def proc_stat(pid):
    try:
        status = open("/proc/%d/status" % pid).read()
        stat = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_s = (int(stat[11]) + int(stat[12])) / ticks
    return threads, rss_kb, cpu_s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csrt")
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--hold", type=float, default=3.0, help="seconds to hold them")
    a = ap.parse_args()
    env = dict(os.environ, CHECKSYNC_SECRET="bench")
    work = tempfile.mkdtemp(prefix="cs-conn-")
    err = open(os.path.join(work, "serve.err"), "w+")
    serve = subprocess.Popen([a.csrt, "serve", "--listen", "127.0.0.1:0", "--dir",
                              os.path.join(work, "store")], stdout=subprocess.DEVNULL,
                             stderr=err, env=env)
    socks = []
    try:
        port = None
        for _ in range(500):
            err.seek(0)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", err.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.01)
        if port is None:
            sys.exit("serve did not start")
        time.sleep(0.3)
        idle = proc_stat(serve.pid)
        t0 = time.time()
        refused = 0
        for _ in range(a.connections):
            try:
                s = socket.socket()
            except OSError as e:  # this client's own descriptor limit
                print("client stopped at %d connections: %s" % (len(socks), e.strerror))
                break
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
                socks.append(s)
            except OSError:
                refused += 1
                s.close()
        opened = time.time() - t0
        time.sleep(a.hold / 2)
        loaded = proc_stat(serve.pid)
        t1 = time.time()
        st = subprocess.run([a.csrt, "status", "127.0.0.1:%d" % port, "--timeout", "5000"],
                            capture_output=True, text=True, env=env)
        status_ms = (time.time() - t1) * 1000
        time.sleep(a.hold / 2)
        alive = serve.poll() is None
        after = proc_stat(serve.pid)
        print("connections opened %d (refused %d) in %.2f s" % (len(socks), refused, opened))
        print("serve idle:   threads %d, RSS %.1f MB" % (idle[0], idle[1] / 1024))
        if loaded:
            print("serve loaded: threads %d, RSS %.1f MB, CPU %.2f s while opening and holding"
                  % (loaded[0], loaded[1] / 1024, loaded[2] - idle[2]))
        print("status query under load: rc %d in %.0f ms" % (st.returncode, status_ms))
        print("serve alive after %.1f s: %s%s" % (a.hold, alive, "" if alive else
              " (exit %s)" % serve.returncode))
        if after is None and not alive:
            err.seek(0)
            print("serve's last words: " + err.read().strip().splitlines()[-1])
    finally:
        for s in socks:
            s.close()
        serve.kill()
        serve.wait()


if __name__ == "__main__":
    main()

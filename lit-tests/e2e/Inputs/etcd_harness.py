"""etcd on loopback for tests, and a TCP proxy that partitions and delays.

EtcdCluster(work, members) starts 1 or 3 etcd members with short raft timers
(data on /dev/shm when there is one: fsync there costs nothing, so a loaded
2-core machine does not turn disk latency into leader elections). Proxy(port)
forwards to a local port until cut() (connections closed, new ones held
without forwarding: the peer sees a network that swallows everything) or
with delay set (each chunk waits that long).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request


_handed_out = set()


def free_port():
    """A port nothing listens on, never one this process handed out before:
    the kernel may offer a closed port again before its first user binds it
    (a kv once got a backup's port that way)."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p not in _handed_out:
            _handed_out.add(p)
            return p


class EtcdMember:
    def __init__(self, name, client_port, peer_port, data, log):
        self.name, self.client_port, self.peer_port = name, client_port, peer_port
        self.data, self.log = data, log
        self.proc = None

    def start(self, cluster):
        f = open(self.log, "a")
        self.proc = subprocess.Popen(
            ["etcd", "--name", self.name, "--data-dir", self.data,
             "--listen-client-urls", "http://127.0.0.1:%d" % self.client_port,
             "--advertise-client-urls", "http://127.0.0.1:%d" % self.client_port,
             "--listen-peer-urls", "http://127.0.0.1:%d" % self.peer_port,
             "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % self.peer_port,
             "--initial-cluster", cluster, "--initial-cluster-state", "new",
             "--heartbeat-interval", "50", "--election-timeout", "500",
             "--log-level", "warn"],
            stdout=f, stderr=subprocess.STDOUT)
        f.close()

    def healthy(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.client_port,
                                        timeout=0.5) as r:
                return json.load(r).get("health") == "true"
        except Exception:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)


class EtcdCluster:
    def __init__(self, work, members=1):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else work
        self.root = os.path.join(base, "checksync-etcd-%d-%d" % (os.getpid(), free_port()))
        os.makedirs(self.root)
        self.members = [EtcdMember("m%d" % i, free_port(), free_port(),
                                   os.path.join(self.root, "m%d" % i),
                                   os.path.join(work, "etcd-m%d.log" % i))
                        for i in range(members)]
        self.cluster = ",".join("%s=http://127.0.0.1:%d" % (m.name, m.peer_port)
                                for m in self.members)
        for m in self.members:
            m.start(self.cluster)
        self.wait_healthy(30)

    def wait_healthy(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(m.healthy() for m in self.members):
                return True
            time.sleep(0.1)
        raise SystemExit("etcd did not become healthy; see etcd-m*.log")

    def url(self, ports=None):
        return "etcd://" + ",".join("127.0.0.1:%d" % p for p in
                                    (ports or [m.client_port for m in self.members]))

    def restart(self, m):
        m.kill()
        m.start(self.cluster)  # same data dir: it rejoins

    def get(self, key):
        """The value at `key` (text) or None, from any member that answers."""
        import base64
        body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
        for m in self.members:
            try:
                req = urllib.request.Request("http://127.0.0.1:%d/v3/kv/range" % m.client_port,
                                             data=body, method="POST")
                with urllib.request.urlopen(req, timeout=1) as r:
                    kvs = json.load(r).get("kvs", [])
                    return base64.b64decode(kvs[0]["value"]).decode() if kvs else None
            except Exception:
                continue
        return None

    def close(self):
        for m in self.members:
            m.signal(signal.SIGCONT)
            m.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class Proxy:
    def __init__(self, target):
        self.target = target
        self.cut_at = None
        self.delay = 0.0
        self.lock = threading.Lock()
        self.conns = []
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        with self.lock:
            self.cut_at = time.time()
            self._close_all()

    def heal(self):
        with self.lock:
            self.cut_at = None
            self.delay = 0.0
            self._close_all()  # held connections carry nothing: the peer reconnects

    def _close_all(self):
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.conns = []

    def _accept(self):
        while True:
            try:
                a, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(a)
                if self.cut_at is not None:
                    continue  # held: nothing goes through
            try:
                b = socket.create_connection(("127.0.0.1", self.target), timeout=1)
                b.settimeout(None)
            except OSError:
                a.close()
                continue
            with self.lock:
                self.conns.append(b)
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if self.delay:
                time.sleep(self.delay)
            if self.cut_at is not None:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

"""Drives a real `memoryplane serve` binary for end-to-end tests and benchmarks.

Every process a test starts is tracked; `cleanup` kills the server it started (by PID) and any
data-plane process whose working directory lies inside the test's own data directory, so a
failing test leaves nothing running.
"""
import configparser
import os
import signal
import socket
import subprocess
import tempfile
import time
import shutil

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MEMORYPLANE_BINARY", os.path.join(ROOT, ".build", "debug", "memoryplane"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_range(size=100, start=12000, stop=21000):
    """A block of loopback ports whose ports and bus ports (+10000) are all free.

    Bus ports stay below 32768, out of the ephemeral range: there a TIME_WAIT left by any
    outgoing connection can make a bind fail (REDIS-NOTES.md 9). 21000-21999 is the Swift
    integration tests' block."""
    base = start + (os.getpid() * 37) % (stop - start - size)
    for attempt in range(50):
        lo = start + (base - start + attempt * size) % (stop - start - size)
        if all(_bindable(p) and _bindable(p + 10000) for p in range(lo, lo + size)):
            return lo, lo + size - 1
    raise RuntimeError("no free port range")


def _bindable(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def processes_in(directory):
    """PIDs of live processes (not zombies) whose working directory is inside `directory`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            comm = open(f"/proc/{entry}/comm").read().strip()
        except OSError:
            continue
        state = stat[stat.rfind(")") + 2]
        if state in "ZX":
            continue
        if cwd == directory or cwd.startswith(directory + "/"):
            found[int(entry)] = (comm, cwd)
    return found


def far_maintenance_window():
    """A weekly maintenance window three days from now: pending updates wait for an explicit
    BatchUpdateCluster whatever the day the test runs."""
    import datetime
    # Twelve hours of the day away from now too: clear of a daily snapshot window set near now.
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3, hours=12)).replace(minute=0)
    # And clear of the default snapshot window, 05:00-06:00: a cluster created with both is
    # refused (the windows overlap), which failed a test run started between 16:00 and 18:00 UTC.
    if 4 <= start.hour <= 6:
        start += datetime.timedelta(hours=3)
    end = start + datetime.timedelta(hours=1)
    return f"{start:%a}:{start:%H}:00-{end:%a}:{end:%H}:00".lower()


class Server:
    """One `memoryplane serve` over a temporary data directory."""

    def __init__(self, auth="key", data_dir=None, extra_args=(), descriptor_limit=None, ports=100, env=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="mp-e2e-", dir="/tmp")
        self.port = free_port()
        self.range = free_range(size=ports)
        self.auth_mode = auth
        self.process = None
        self.log_path = os.path.join(self.data_dir + ".log")
        self.extra_args = list(extra_args)
        self.descriptor_limit = descriptor_limit
        self.env = env
        https = "--tls" in self.extra_args and "auto" in self.extra_args
        self.url = f"{'https' if https else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        args = [BINARY, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir,
                "--node-port-range", f"{self.range[0]}-{self.range[1]}", "--auth", self.auth_mode, *self.extra_args]
        self.log = open(self.log_path, "ab")
        limit = self.descriptor_limit

        def lower_limit():
            if limit:
                import resource
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                        preexec_fn=lower_limit if limit else None,
                                        env={**os.environ, **self.env} if self.env else None)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.read_log()}")
            try:
                if requests.get(self.url + "/health", timeout=1, verify=self.verify).status_code == 200:
                    return self
            except (requests.RequestException, OSError):
                pass  # not listening yet, or (HTTPS) its CA not written yet
            time.sleep(0.05)
        raise RuntimeError("serve did not answer /health in time: " + self.read_log())

    def read_log(self):
        try:
            return open(self.log_path, encoding="utf-8", errors="replace").read()
        except OSError:
            return ""

    @property
    def credentials(self):
        # Read once: the file does not change while the server runs.
        if getattr(self, "_credentials", None) is None:
            parser = configparser.ConfigParser()
            with open(os.path.join(self.data_dir, "credentials"), encoding="utf-8") as file:
                parser.read_file(file)
            section = parser["memoryplane"]
            self._credentials = (section["aws_access_key_id"], section["aws_secret_access_key"])
        return self._credentials

    @property
    def auth(self):
        return self.credentials if self.auth_mode == "key" else None

    @property
    def verify(self):
        """For HTTPS, the CA the server's certificate chains to."""
        return os.path.join(self.data_dir, "ca.pem") if self.url.startswith("https") else True

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("verify", self.verify)
        kwargs.setdefault("auth", self.auth)
        return requests.request(method, self.url + path, **kwargs)

    def create_cluster(self, name, shards=1, replicas=0, wait=False, **extra):
        body = {"name": name, "nodeType": "db.t4g.small", "numShards": shards, "numReplicasPerShard": replicas,
                "aclName": "open-access", "tlsEnabled": False, **extra}
        body = {key: value for key, value in body.items() if value is not None}
        return self.request("POST", "/v1/clusters" + ("?wait=true" if wait else ""), json=body)

    def wait_for(self, name, status, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            response = self.request("GET", f"/v1/clusters/{name}")
            if status is None and response.status_code == 404:
                return None
            if response.status_code == 200 and response.json()["status"] == status:
                return response.json()
            time.sleep(0.05)
        raise AssertionError(f"cluster {name} did not reach {status}: {self.request('GET', f'/v1/clusters/{name}').text}")

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def cleanup(self):
        self.kill()
        for _ in range(3):
            leftovers = processes_in(self.data_dir)
            for pid, (comm, _) in leftovers.items():
                if comm in ("redis-server", "memoryplane"):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if not leftovers:
                break
            time.sleep(0.2)
        kept = os.environ.get("MEMORYPLANE_KEEP_LOGS")
        if kept:
            # For a failure's post-mortem: the server's log, named after its data directory.
            os.makedirs(kept, exist_ok=True)
            shutil.copy(self.log_path, os.path.join(kept, os.path.basename(self.log_path)))
        shutil.rmtree(self.data_dir, ignore_errors=True)
        try:
            os.remove(self.log_path)
        except OSError:
            pass

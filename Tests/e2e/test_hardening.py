"""The API under hostile use: idle and half-sent connections, a low descriptor limit, bursts,
and the modes of every file the server writes."""
import os
import socket
import stat
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from memoryplane import processes_in


def open_partial(port, count):
    """Opens `count` connections that each send half a request head and then nothing."""
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /v1/clusters HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(s)
    return sockets


def closed_by_server(s, within):
    """Whether the server closed `s` (after any refusal it wrote) within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def test_half_sent_connections_cannot_starve_the_server_or_its_nodes(make_server):
    # 256 descriptors: the cap is (256 - 64) / 2 = 96 connections, and 600 half-sent requests
    # would exhaust the process without it.
    server = make_server(descriptor_limit=256, extra_args=["--header-timeout", "2"]).start()
    assert server.create_cluster("steady", shards=1, replicas=1, wait=True).status_code in (200, 201, 202)
    nodes_before = {pid: info for pid, info in processes_in(server.data_dir).items() if info[0] == "redis-server"}
    assert len(nodes_before) == 2

    attackers = open_partial(server.port, 600)
    try:
        time.sleep(1)
        assert server.process.poll() is None, server.read_log()
        # Past the cap, connections are refused with a 503 and closed at once.
        refused = 0
        for s in attackers[200:]:
            s.settimeout(0.5)
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 503"):
                    refused += 1
            except (socket.timeout, OSError):
                pass
        assert refused > 300, refused
        # The held ones are closed by the header timeout.
        assert all(closed_by_server(s, 5) for s in attackers[:50])
    finally:
        for s in attackers:
            s.close()

    assert server.process.poll() is None, server.read_log()
    assert server.request("GET", "/health").status_code == 200
    assert server.request("GET", "/v1/clusters/steady").json()["status"] == "available"
    nodes_after = {pid: info for pid, info in processes_in(server.data_dir).items() if info[0] == "redis-server"}
    assert nodes_after == nodes_before, "a healthy node was restarted"
    messages = [e["message"] for e in server.request("GET", "/v1/events?sourceType=node").json()["events"]]
    assert not any("is down" in m for m in messages), messages
    assert "connection limit reached" in server.read_log()


def test_idle_connections_are_closed(make_server):
    server = make_server(extra_args=["--header-timeout", "1", "--idle-timeout", "2"]).start()
    # Nothing sent at all: closed by the header timeout.
    silent = socket.create_connection(("127.0.0.1", server.port))
    assert closed_by_server(silent, 4)
    # One request answered, then nothing: closed by the idle timeout.
    kept = socket.create_connection(("127.0.0.1", server.port))
    kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert b"200" in kept.recv(4096)
    assert closed_by_server(kept, 5)


def test_a_burst_of_concurrent_requests_is_answered(server):
    session_count = 300

    def one(_):
        return requests.get(server.url + "/health", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=session_count) as pool:
        statuses = list(pool.map(one, range(session_count)))
    assert statuses.count(200) == session_count


def test_every_file_of_the_data_dir_is_the_owners_alone(server):
    # A TLS cluster: certificates, keys, AOF, RDB, nodes.conf, logs, and SQLite's WAL and SHM.
    response = server.request("POST", "/v1/clusters?wait=true", json={
        "name": "private", "nodeType": "db.t4g.small", "numShards": 1, "numReplicasPerShard": 1, "aclName": "open-access"})
    assert response.status_code in (200, 201, 202), response.text
    assert server.request("GET", "/v1/clusters/private").json()["status"] == "available"
    seen = []
    for directory, subdirectories, files in os.walk(server.data_dir):
        for name in subdirectories:
            mode = stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)
            assert mode & 0o077 == 0, f"{directory}/{name} is {oct(mode)}"
        for name in files:
            path = os.path.join(directory, name)
            try:
                mode = stat.S_IMODE(os.lstat(path).st_mode)
            except FileNotFoundError:
                continue  # a temporary file renamed meanwhile
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
            seen.append(name)
    for expected in ("memoryplane.sqlite-wal", "memoryplane.sqlite-shm", "credentials", "ca.pem", "redis.conf", "nodes.conf"):
        assert expected in seen, (expected, sorted(set(seen)))


def metric(server, name):
    """The sum of a counter's samples in /metrics (every label set)."""
    text = server.request("GET", "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " "))


def test_a_source_that_keeps_failing_is_slowed_down_and_counted_never_a_valid_key(server):
    key, secret = server.credentials
    for _ in range(14):
        refused = requests.get(server.url + "/v1/clusters", auth=(key, secret + "x"), timeout=60)
        assert refused.status_code == 401
    assert metric(server, "memoryplane_auth_failures_total") >= 14
    assert metric(server, "memoryplane_auth_failures_delayed_total") >= 4
    # The valid key is never held back, and neither locked out.
    assert server.request("GET", "/v1/clusters").status_code == 200
    # Neither the key id nor the secret is in the log.
    assert key not in server.read_log() and secret not in server.read_log()

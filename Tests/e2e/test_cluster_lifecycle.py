"""The issue's acceptance flow against the real binary: create by REST, check with redis-cli,
serve data through the endpoint, heal a SIGKILLed primary, survive `kill -9` of serve, delete."""
import os
import signal
import subprocess
import time

from memoryplane import processes_in


def redis_cli(*args):
    result = subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout.strip()


def node_pid(server, node_name):
    directory = os.path.join(server.data_dir, "nodes", node_name)
    pids = [pid for pid, (comm, cwd) in processes_in(server.data_dir).items() if comm == "redis-server" and cwd == directory]
    return pids[0] if pids else None


def test_two_by_one_cluster_lifecycle(server):
    created = server.create_cluster("Demo", shards=2, replicas=1, tags=[{"key": "team", "value": "cache"}])
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["name"] == "demo"
    assert body["status"] == "creating"
    assert "address" not in body["clusterEndpoint"]

    cluster = server.wait_for("demo", "available")
    assert cluster["availabilityMode"] == "MultiAZ"
    assert cluster["tags"] == [{"key": "team", "value": "cache"}]
    assert [s["name"] for s in cluster["shards"]] == ["0001", "0002"]
    assert [s["slots"] for s in cluster["shards"]] == ["0-8191", "8192-16383"]
    assert all(s["status"] == "available" for s in cluster["shards"])
    nodes = [n for s in cluster["shards"] for n in s["nodes"]]
    assert [n["name"] for n in nodes] == ["demo-0001-001", "demo-0001-002", "demo-0002-001", "demo-0002-002"]
    assert [n["role"] for n in nodes] == ["primary", "replica", "primary", "replica"]
    assert all(n["status"] == "available" for n in nodes)
    assert len({n["availabilityZone"] for n in nodes}) >= 2
    endpoint = cluster["clusterEndpoint"]["port"]
    assert cluster["clusterEndpoint"]["address"] == "127.0.0.1"

    # The cluster passes redis-cli's own consistency check through its endpoint.
    code, out = redis_cli("--cluster", "check", f"127.0.0.1:{endpoint}")
    assert code == 0, out
    assert "[OK] All 16384 slots covered." in out

    # A cluster-aware client reads and writes through the endpoint.
    keys = {f"key:{i}": f"value-{i}" for i in range(20)}
    for key, value in keys.items():
        assert redis_cli("-c", "-p", str(endpoint), "SET", key, value)[1] == "OK"
    for key, value in keys.items():
        assert redis_cli("-c", "-p", str(endpoint), "GET", key)[1] == value

    # Every replica has the writes of its primary (replication is live).
    for node in nodes:
        code, out = redis_cli("-p", str(node["endpoint"]["port"]), "INFO", "replication")
        if node["role"] == "replica":
            assert "master_link_status:up" in out

    # SIGKILL a primary: its replica takes over with every acknowledged write, and the killed
    # node returns on the same port (restarted from its AOF) as the new primary's replica.
    primary = nodes[0]
    port = primary["endpoint"]["port"]
    old_pid = node_pid(server, primary["name"])
    assert old_pid
    os.kill(old_pid, signal.SIGKILL)
    started = time.time()
    # SIGKILL is delivered asynchronously: until the process is gone its listening socket still
    # accepts, and a connection it accepted is reset as it dies (a dying node, not a down one).
    while node_pid(server, primary["name"]) == old_pid and time.time() < started + 10:
        time.sleep(0.005)
    # The endpoint keeps answering while a node is down: it skips the dead one.
    replies = [redis_cli("-p", str(endpoint), "PING") for _ in range(8)]
    assert all(reply[1] == "PONG" for reply in replies), replies
    own_keys = [k for k in keys if redis_cli("-p", str(nodes[2]["endpoint"]["port"]), "CLUSTER", "KEYSLOT", k)[1].isdigit()
                and int(redis_cli("-p", str(nodes[2]["endpoint"]["port"]), "CLUSTER", "KEYSLOT", k)[1]) <= 8191]
    assert own_keys
    deadline = started + 20
    while time.time() < deadline:
        if all(redis_cli("-c", "-p", str(endpoint), "GET", k)[1] == keys[k] for k in own_keys):
            break
        time.sleep(0.05)
    recovered_after = time.time() - started
    assert all(redis_cli("-c", "-p", str(endpoint), "GET", k)[1] == keys[k] for k in own_keys)
    print(f"the killed primary's shard served its data again after {recovered_after:.2f} s")
    deadline = time.time() + 20
    while time.time() < deadline and "role:slave" not in redis_cli("-p", str(port), "INFO", "replication")[1]:
        time.sleep(0.05)
    assert "role:slave" in redis_cli("-p", str(port), "INFO", "replication")[1]
    new_pid = node_pid(server, primary["name"])
    assert new_pid and new_pid != old_pid

    # kill -9 the control plane and start it again: every node keeps its PID.
    deadline = time.time() + 20
    while time.time() < deadline and not all(
            n["status"] == "available" for s in server.request("GET", "/v1/clusters/demo").json()["shards"] for n in s["nodes"]):
        time.sleep(0.05)
    before = processes_in(server.data_dir)
    server.kill(signal.SIGKILL)
    assert redis_cli("-c", "-p", str(endpoint), "GET", "key:1")[1] == "value-1"  # no interruption
    server.start()
    time.sleep(1.5)
    assert processes_in(server.data_dir) == before
    assert server.request("GET", "/v1/clusters/demo").json()["status"] == "available"
    events = server.request("GET", "/v1/events?sourceName=demo").json()["events"]
    assert any("demo-0001-001 is down" in e["message"] for e in events)

    # Delete: the cluster is gone and so is every process and file of it.
    deleted = server.request("DELETE", "/v1/clusters/demo?wait=true")
    assert deleted.status_code == 204, deleted.text
    missing = server.request("GET", "/v1/clusters/demo")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ClusterNotFoundFault"
    assert processes_in(server.data_dir) == {}
    assert os.listdir(os.path.join(server.data_dir, "nodes")) == []
    assert os.listdir(os.path.join(server.data_dir, "clusters")) == []


def test_deletion_in_flight_resumes_after_a_crash(server):
    server.create_cluster("gone", wait=True)
    assert server.request("DELETE", "/v1/clusters/gone").status_code == 202
    server.kill(signal.SIGKILL)
    server.start()
    server.wait_for("gone", None)
    assert processes_in(server.data_dir) == {}


def test_sigterm_stops_the_api_and_leaves_nodes_running(server):
    cluster = server.create_cluster("stay", wait=True).json()
    assert cluster["status"] == "available"
    port = cluster["shards"][0]["nodes"][0]["endpoint"]["port"]
    server.kill(signal.SIGTERM)
    assert server.process.returncode == 0, server.read_log()
    assert "memoryplane stopped" in server.read_log()
    assert redis_cli("-p", str(port), "PING")[1] == "PONG"
    assert redis_cli("-c", "-p", str(cluster["clusterEndpoint"]["port"]), "SET", "k", "v")[1] == "OK"

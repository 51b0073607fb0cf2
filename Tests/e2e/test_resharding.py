"""Online resharding on a live TLS cluster: a redis-py RedisCluster client writes and reads
throughout while the cluster goes 2 → 5 → 3 shards and 1 → 2 → 0 replicas, and through a
reboot-only parameter change; every acknowledged write is there afterwards, the client saw no
error, `redis-cli --cluster check` passes with the slots spread evenly, and nothing is left of
removed nodes. A `kill -9` of `serve` in the middle of a slot migration is followed by a restart
that finishes it."""
import os
import signal as signals
import subprocess
import threading
import time

import requests
from redis.cluster import ClusterNode, RedisCluster

from awsdoor import client, expect_fault
from memoryplane import processes_in
from resp import fill


class RecordingClient(threading.Thread):
    """Writes `k:<n>` = n in turn and reads back an earlier key after each write; records every
    acknowledged write, every wrong read and every error the client let through."""

    def __init__(self, port, ca):
        super().__init__(daemon=True)
        self.port, self.ca = port, ca
        self.cluster = self.connect()
        self.acknowledged = {}
        self.errors = []
        self.wrong_reads = []
        self.halt = threading.Event()

    def connect(self):
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", self.port)], ssl=True, ssl_ca_certs=self.ca,
                            ssl_check_hostname=False, socket_timeout=5)

    def run(self):
        n = 0
        while not self.halt.is_set():
            key = f"k:{n}"
            try:
                self.cluster.set(key, str(n))
                self.acknowledged[key] = str(n)
                earlier = f"k:{n // 2}"
                if earlier in self.acknowledged:
                    value = self.cluster.get(earlier)
                    if value is None or value.decode() != self.acknowledged[earlier]:
                        self.wrong_reads.append((earlier, value))
            except Exception as error:  # noqa: BLE001 — anything the client lets through is an error seen
                self.errors.append(f"{key}: {type(error).__name__}: {error}")
            n += 1

    def stop(self):
        self.halt.set()
        self.join(timeout=30)

    def missing(self):
        # A client of its own, through the cluster endpoint: the nodes the worker knew may be gone.
        reader = self.connect()
        keys = list(self.acknowledged)
        lost = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            values = reader.mget_nonatomic(chunk)
            lost += [(k, v) for k, v in zip(chunk, values) if v is None or v.decode() != self.acknowledged[k]]
        return lost


def settled(server, name, shards, nodes_per_shard, timeout=180):
    deadline = time.time() + timeout
    view = None
    while time.time() < deadline:
        view = server.request("GET", f"/v1/clusters/{name}").json()
        if (view["status"] == "available" and len(view["shards"]) == shards
                and all(len(s["nodes"]) == nodes_per_shard for s in view["shards"])
                and all(n["status"] == "available" for s in view["shards"] for n in s["nodes"])):
            return view
        time.sleep(0.1)
    raise AssertionError(f"{name} did not settle at {shards}×{nodes_per_shard}: {view}")


def cluster_check(port, ca):
    check = subprocess.run(["redis-cli", "--tls", "--cacert", ca, "--cluster", "check", f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "[OK] All 16384 slots covered." in check.stdout, check.stdout
    assert "[WARNING]" not in check.stdout, check.stdout
    return check.stdout


def slot_counts(view):
    counts = []
    for shard in view["shards"]:
        total = 0
        for part in filter(None, shard["slots"].split(",")):
            first, _, last = part.partition("-")
            total += int(last or first) - int(first) + 1
        counts.append(total)
    return counts


def redis_cli(ca, port, *args):
    return subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-p", str(port), *args], capture_output=True, text=True, timeout=10).stdout


def all_events(server, name):
    messages, token = [], None
    while True:
        page = server.request("GET", f"/v1/events?sourceName={name}&maxResults=100" + (f"&nextToken={token}" if token else "")).json()
        messages += [e["message"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            return messages


def assert_nothing_left(server, view):
    kept = {n["name"] for s in view["shards"] for n in s["nodes"]}
    nodes_dir = os.path.join(server.data_dir, "nodes")
    assert sorted(os.listdir(nodes_dir)) == sorted(kept)
    running = [comm for comm, _ in processes_in(nodes_dir).values() if comm == "redis-server"]
    assert len(running) == len(kept)


def test_a_tls_cluster_changes_shape_under_a_redis_py_client(make_server, tmp_path):
    server = make_server(ports=400).start()
    created = server.create_cluster("shape", shards=2, replicas=1, wait=True, tlsEnabled=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    ca = str(tmp_path / "ca.pem")
    open(ca, "w").write(requests.get(server.url + "/v1/ca.pem", timeout=5).text)
    worker = RecordingClient(port, ca)
    worker.start()
    try:
        time.sleep(1)
        grown = server.request("PATCH", "/v1/clusters/shape", json={"numShards": 5})
        assert grown.status_code == 200 and grown.json()["status"] == "updating", grown.text
        assert {s["status"] for s in grown.json()["shards"]} == {"modifying"}
        view = settled(server, "shape", 5, 2)
        assert max(slot_counts(view)) - min(slot_counts(view)) <= 1
        for shard in view["shards"]:
            assert len({n["availabilityZone"] for n in shard["nodes"]}) == 2, shard
        cluster_check(port, ca)

        shrunk = server.request("PATCH", "/v1/clusters/shape", json={"numShards": 3})
        assert shrunk.status_code == 200, shrunk.text
        view = settled(server, "shape", 3, 2)
        assert max(slot_counts(view)) - min(slot_counts(view)) <= 1

        assert server.request("PATCH", "/v1/clusters/shape", json={"numReplicasPerShard": 2}).status_code == 200
        settled(server, "shape", 3, 3)

        # A reboot-only parameter: a rolling restart, replicas first, then each primary after a
        # lossless failover.
        mdb = client(server)
        mdb.create_parameter_group(ParameterGroupName="shape-params", Family="memorydb_redis7")
        mdb.update_cluster(ClusterName="shape", ParameterGroupName="shape-params")
        settled(server, "shape", 3, 3)
        mdb.update_parameter_group(ParameterGroupName="shape-params", ParameterNameValues=[{"ParameterName": "activerehashing", "ParameterValue": "no"}])
        assert mdb.batch_update_cluster(ClusterNames=["shape"])["ProcessedClusters"][0]["Name"] == "shape"
        deadline = time.time() + 180
        while time.time() < deadline:
            events = all_events(server, "shape")
            if sum("restarted to apply the reboot-only parameters" in m for m in events) == 9:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the rolling restart did not reach every node")
        settled(server, "shape", 3, 3)

        assert server.request("PATCH", "/v1/clusters/shape", json={"numReplicasPerShard": 0}).status_code == 200
        view = settled(server, "shape", 3, 1)
        time.sleep(1)
    finally:
        worker.stop()
    assert worker.errors == [], worker.errors[:5]
    assert worker.wrong_reads == [], worker.wrong_reads[:5]
    assert len(worker.acknowledged) > 1000
    assert worker.missing() == []
    check = cluster_check(port, ca)
    assert check.count("M: ") == 3
    assert_nothing_left(server, view)
    for node in (n for s in view["shards"] for n in s["nodes"]):
        assert "cluster_known_nodes:3" in redis_cli(ca, node["endpoint"]["port"], "CLUSTER", "INFO")
    events = all_events(server, "shape")
    assert any(m.startswith("Shards 2 → 5") for m in events) and any(m.startswith("Moved ") for m in events)
    assert any(" drained" in m for m in events)


def grow_to_two_while_importing(server, name, keys=60000):
    """A 1×0 cluster filled with `keys` keys, asked for 2 shards; returns once the new shard's
    primary imports its first slots (a move is under way): the view, the endpoint port and the
    new primary's port."""
    created = server.create_cluster(name, shards=1, replicas=0, wait=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    fill("127.0.0.1", port, keys)
    grown = server.request("PATCH", f"/v1/clusters/{name}", json={"numShards": 2})
    assert grown.status_code == 200, grown.text
    target = next(n for s in grown.json()["shards"] if s["name"] == "0002" for n in s["nodes"])["endpoint"]["port"]
    deadline = time.time() + 60
    while time.time() < deadline:
        if "-<-" in redis_plain(target, "CLUSTER", "NODES"):
            return created.json(), port, target
        time.sleep(0.005)
    raise AssertionError("no slot import was seen")


def test_a_killed_control_plane_finishes_a_slot_migration(make_server, tmp_path):
    server = make_server(ports=100)
    server.start()
    _, port, target = grow_to_two_while_importing(server, "resume")
    server.kill()
    mid = subprocess.run(["redis-cli", "-p", str(target), "CLUSTER", "NODES"], capture_output=True, text=True, timeout=5).stdout
    server.start()
    view = settled(server, "resume", 2, 1, timeout=120)
    assert slot_counts(view) == [8192, 8192]
    check = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "[OK] All 16384 slots covered." in check.stdout, check.stdout
    assert "-<-" in mid and "[WARNING]" not in check.stdout, (mid, check.stdout)
    total = sum(int(redis_plain(n["endpoint"]["port"], "DBSIZE")) for s in view["shards"] for n in s["nodes"])
    assert total == 60000


def redis_plain(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10).stdout.strip()


def test_shard_configuration_through_boto3(server):
    server.create_cluster("awsshards", shards=1, replicas=0, wait=True)
    mdb = client(server)
    updated = mdb.update_cluster(ClusterName="awsshards", ShardConfiguration={"ShardCount": 2})["Cluster"]
    assert updated["Status"] == "updating" and updated["NumberOfShards"] == 2
    settled(server, "awsshards", 2, 1)
    shards = mdb.describe_clusters(ClusterName="awsshards", ShowShardDetails=True)["Clusters"][0]["Shards"]
    assert sorted(s["Slots"] for s in shards) == ["0-8191", "8192-16383"]
    for count, fault in [(2, "NoOperationFault"), (0, "InvalidParameterValueException"), (501, "InvalidParameterValueException")]:
        expect_fault(mdb, fault, mdb.update_cluster, ClusterName="awsshards", ShardConfiguration={"ShardCount": count})


def test_a_source_node_killed_mid_move_is_restarted_and_the_move_finished(make_server):
    server = make_server(ports=100).start()
    created, port, _ = grow_to_two_while_importing(server, "nodekill")
    source = created["shards"][0]["nodes"][0]
    directory = os.path.join(server.data_dir, "nodes", source["name"])
    pid = next(p for p, (comm, cwd) in processes_in(directory).items() if comm == "redis-server" and cwd == directory)
    os.kill(pid, signals.SIGKILL)
    view = settled(server, "nodekill", 2, 1, timeout=120)
    assert slot_counts(view) == [8192, 8192]
    check = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "[OK] All 16384 slots covered." in check.stdout and "[WARNING]" not in check.stdout, check.stdout
    total = sum(int(redis_plain(n["endpoint"]["port"], "DBSIZE")) for s in view["shards"] for n in s["nodes"])
    assert total == 60000
    events = [e["message"] for e in server.request("GET", "/v1/events?sourceName=nodekill&maxResults=100").json()["events"]]
    assert any("is down; restarting it" in m for m in events), events

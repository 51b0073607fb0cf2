"""High availability on real nodes: primaries killed (SIGKILL), frozen (SIGSTOP) and lost with their
zone, under a writer that records every acknowledged write; FailoverShard on both doors; a control
plane killed in the middle of a failover; the endpoint handing plain clients to a primary."""
import os
import signal
import sqlite3
import subprocess
import time

import requests

from awsdoor import aws_cli, client
from memoryplane import processes_in
from resp import AcknowledgedWriter, ClusterClient


def node_pid(server, node):
    directory = os.path.join(server.data_dir, "nodes", node)
    pids = [pid for pid, (comm, cwd) in processes_in(directory).items() if comm == "redis-server" and cwd == directory]
    assert len(pids) == 1, (node, pids)
    return pids[0]


def cluster(server, name):
    response = server.request("GET", f"/v1/clusters/{name}")
    assert response.status_code == 200, response.text
    return response.json()


def primaries(view):
    return {shard["name"]: [node["name"] for node in shard["nodes"] if node["role"] == "primary"] for shard in view["shards"]}


def primary_of(server, name, shard):
    found = primaries(cluster(server, name))[shard]
    assert len(found) == 1, found
    return found[0]


def wait_until(predicate, timeout=30, message="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


def settled_with_new_primary(server, name, shard, old):
    """The shard has a single primary, not `old`, every node available and no operation running."""
    def check():
        view = cluster(server, name)
        found = primaries(view)[shard]
        nodes = [node for s in view["shards"] for node in s["nodes"]]
        return (len(found) == 1 and found[0] != old and not view["operations"]
                and all(node["status"] == "available" for node in nodes) and found[0])
    return wait_until(check, message=f"shard {shard} of {name} to fail over from {old}")


def events(server, name):
    response = server.request("GET", f"/v1/events?sourceName={name}&maxResults=100")
    assert response.status_code == 200, response.text
    return [event["message"] for event in response.json()["events"]]


def fetch_ca(server, tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text(requests.get(server.url + "/v1/ca.pem", timeout=5).text)
    return str(path)


def cluster_check(port, ca):
    tls = ["--tls", "--cacert", ca] if ca else []
    result = subprocess.run(["redis-cli", *tls, "--cluster", "check", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


def test_killed_frozen_and_zone_lost_primaries_lose_no_acknowledged_write(server, tmp_path):
    created = server.create_cluster("ha", shards=3, replicas=1, wait=True, tlsEnabled=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    ca = fetch_ca(server, tmp_path)
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, tls_ca=ca))
    writer.start()
    try:
        wait_until(lambda: len(writer.acknowledged) > 200, message="the first writes")

        # 1. A primary killed: restarted from its AOF, its replica catches up and takes over.
        killed = primary_of(server, "ha", "0001")
        os.kill(node_pid(server, killed), signal.SIGKILL)
        settled_with_new_primary(server, "ha", "0001", killed)

        # 2. A primary frozen: found silent by the liveness probe, killed (fenced), then as above.
        frozen = primary_of(server, "ha", "0002")
        os.kill(node_pid(server, frozen), signal.SIGSTOP)
        settled_with_new_primary(server, "ha", "0002", frozen)

        # 3. The zone of shard 0003's primary lost for 3 s, storage and all.
        lost = primary_of(server, "ha", "0003")
        zone = next(n["availabilityZone"] for s in cluster(server, "ha")["shards"] for n in s["nodes"] if n["name"] == lost)
        drill = server.request("POST", "/v1/drills", json={"cluster": "ha", "availabilityZone": zone, "durationSeconds": 3})
        assert drill.status_code == 201, drill.text
        drill_id = drill.json()["id"]
        assert lost in drill.json()["nodes"]
        wait_until(lambda: server.request("GET", f"/v1/drills/{drill_id}").json()["status"] == "completed", timeout=60,
                   message="the drill to complete")
        settled_with_new_primary(server, "ha", "0003", lost)

        # 4. Replicas killed and frozen: restarted (a frozen one killed first), resynced; no
        # failover, the primaries stay.
        before = primaries(cluster(server, "ha"))
        replicas = [n["name"] for s in cluster(server, "ha")["shards"] for n in s["nodes"] if n["role"] == "replica"]
        os.kill(node_pid(server, replicas[0]), signal.SIGKILL)
        os.kill(node_pid(server, replicas[1]), signal.SIGSTOP)
        wait_until(lambda: any(f"Node {replicas[1]} stopped answering" in m for m in events(server, "ha")), message="the frozen replica")
        wait_until(lambda: all(n["status"] == "available" for s in cluster(server, "ha")["shards"] for n in s["nodes"]),
                   message="every replica back")
        assert primaries(cluster(server, "ha")) == before
        time.sleep(0.5)
    finally:
        writer.stop()

    assert len(writer.acknowledged) > 1000
    missing = writer.missing(ClusterClient("127.0.0.1", port, tls_ca=ca))
    assert missing == [], f"{len(missing)} of {len(writer.acknowledged)} acknowledged writes lost: {missing[:5]}"

    code, out = cluster_check(port, ca)
    assert code == 0 and "[OK] All 16384 slots covered." in out, out
    view = cluster(server, "ha")
    assert all(len(found) == 1 for found in primaries(view).values()), primaries(view)
    assert view["status"] == "available" and not view["operations"]

    said = events(server, "ha")
    assert sum("failed over in" in message for message in said) >= 3, said
    assert any(f"primary {frozen} failed: it stopped answering" in message for message in said), said
    assert any("bytes behind the lost primary" in message for message in said), said
    assert any(f"Drill {drill_id} completed" in message for message in said), said
    assert any("so no acknowledged write was lost" in message for message in said), said


def test_a_failover_recorded_before_a_crash_of_serve_is_finished_after_restart(make_server):
    server = make_server().start()
    created = server.create_cluster("resume", shards=1, replicas=1, wait=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port))
    writer.start()
    wait_until(lambda: len(writer.acknowledged) > 100, message="the first writes")
    old = primary_of(server, "resume", "0001")
    # serve dies right after recording the failover (what FailoverShard or a failed primary
    # writes first), before any step: the state a kill -9 leaves.
    server.kill()
    database = sqlite3.connect(os.path.join(server.data_dir, "memoryplane.sqlite"))
    now = int(time.time() * 1000)
    database.execute(
        "INSERT INTO operations (cluster_name, shard_index, kind, from_node, to_node, phase, reason, started_at, updated_at) "
        "VALUES ('resume', 1, 'failover', ?, 'resume-0001-002', 'promoting', 'FailoverShard requested', ?, ?)", (old, now, now))
    database.commit()
    database.close()
    server.start()
    new = settled_with_new_primary(server, "resume", "0001", old)
    assert new == "resume-0001-002"
    assert any("failed over in" in message for message in events(server, "resume"))

    # The same race for real: the primary and serve killed a few milliseconds apart, wherever
    # that leaves the failover; the next serve brings the shard to one primary, losing nothing.
    os.kill(node_pid(server, new), signal.SIGKILL)
    time.sleep(0.02)
    server.kill()
    server.start()
    settled_with_new_primary(server, "resume", "0001", new)
    writer.stop()
    assert writer.missing(ClusterClient("127.0.0.1", port)) == []


def test_failover_shard_from_the_aws_cli_and_its_faults(server):
    server.create_cluster("swap", shards=2, replicas=1, wait=True)
    server.create_cluster("single", shards=1, replicas=0, wait=True)
    old = primary_of(server, "swap", "0002")

    code, out, err = aws_cli(server, "failover-shard", "--cluster-name", "swap", "--shard-name", "0002")
    assert code == 0, err
    assert out["Cluster"]["Name"] == "swap" and out["Cluster"]["Status"] == "available"
    new = settled_with_new_primary(server, "swap", "0002", old)
    assert primary_of(server, "swap", "0001") == "swap-0001-001"  # the other shard is untouched
    assert any("FailoverShard requested for shard 0002" in message for message in events(server, "swap"))

    # And back again, at once: no "too soon" as a graceful CLUSTER FAILOVER would silently have.
    code, out, err = aws_cli(server, "failover-shard", "--cluster-name", "swap", "--shard-name", "0002")
    assert code == 0, err
    assert settled_with_new_primary(server, "swap", "0002", new) == old

    mdb = client(server)
    for params, fault in [
        ({"ClusterName": "swap", "ShardName": "0009"}, "ShardNotFoundFault"),
        ({"ClusterName": "swap", "ShardName": "1"}, "ShardNotFoundFault"),
        ({"ClusterName": "nosuch", "ShardName": "0001"}, "ClusterNotFoundFault"),
        ({"ClusterName": "single", "ShardName": "0001"}, "InvalidParameterValueException"),
    ]:
        try:
            mdb.failover_shard(**params)
            raise AssertionError(f"{params} was accepted")
        except mdb.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == fault, (params, error.response)

    # While a drill holds the cluster, another operation is refused with InvalidClusterStateFault.
    drill = server.request("POST", "/v1/drills", json={"cluster": "swap", "node": "swap-0001-002", "durationSeconds": 2})
    assert drill.status_code == 201, drill.text
    try:
        mdb.failover_shard(ClusterName="swap", ShardName="0001")
        raise AssertionError("accepted during a drill")
    except mdb.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidClusterStateFault", error.response
    rest = server.request("POST", "/v1/clusters/swap/shards/0001/failover")
    assert rest.status_code == 409 and rest.json()["error"]["code"] == "InvalidClusterStateFault", rest.text
    assert server.request("POST", "/v1/clusters/swap/shards/0001/failover", data="{\"force\": true}").status_code == 400


def test_the_endpoint_hands_plain_clients_to_the_primary(server):
    created = server.create_cluster("plain", shards=1, replicas=2, wait=True)
    port = created.json()["clusterEndpoint"]["port"]

    def every_connection_writes():
        for attempt in range(12):
            result = subprocess.run(["redis-cli", "-p", str(port), "SET", f"k{attempt}", "v"], capture_output=True, text=True, timeout=10)
            assert result.stdout.strip() == "OK", result.stdout + result.stderr

    every_connection_writes()
    old = primary_of(server, "plain", "0001")
    assert server.request("POST", "/v1/clusters/plain/shards/0001/failover").status_code == 202
    settled_with_new_primary(server, "plain", "0001", old)
    every_connection_writes()


def test_drill_requests_are_checked(server):
    server.create_cluster("solo", shards=1, replicas=0, wait=True)
    server.create_cluster("pair", shards=1, replicas=1, wait=True)
    for body, status, fault in [
        ({"cluster": "solo", "shard": "0001", "durationSeconds": 5}, 400, "InvalidParameterCombinationException"),
        ({"cluster": "pair", "availabilityZone": "us-east-1a", "node": "pair-0001-001"}, 400, "InvalidParameterCombinationException"),
        ({"cluster": "pair"}, 400, "InvalidParameterCombinationException"),
        ({"cluster": "pair", "availabilityZone": "us-west-2a"}, 400, "InvalidParameterValueException"),
        ({"cluster": "pair", "node": "pair-0001-009"}, 400, "InvalidParameterValueException"),
        ({"cluster": "pair", "shard": "0002"}, 404, "ShardNotFoundFault"),
        ({"cluster": "pair", "shard": "0001", "durationSeconds": 0}, 400, "InvalidParameterValueException"),
        ({"cluster": "pair", "shard": "0001", "durationSeconds": 3601}, 400, "InvalidParameterValueException"),
        ({"cluster": "pair", "shard": "0001", "durationSeconds": "5"}, 400, "InvalidParameterValueException"),
        ({"cluster": "nosuch", "shard": "0001"}, 404, "ClusterNotFoundFault"),
        ({"cluster": "pair", "shard": "0001", "force": True}, 400, "InvalidParameterValueException"),
    ]:
        response = server.request("POST", "/v1/drills", json=body)
        assert response.status_code == status and response.json()["error"]["code"] == fault, (body, response.text)
    assert server.request("GET", "/v1/drills").json() == {"drills": []}
    missing = server.request("GET", "/v1/drills/drill-0")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "DrillNotFoundFault"

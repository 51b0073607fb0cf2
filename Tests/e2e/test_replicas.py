"""Replica count changes on a live cluster: replicas added (spread over zones, synced) and removed
(stopped, forgotten by every other node, their files gone) while a writer records every
acknowledged write; on both doors."""
import os
import subprocess
import time

import requests

from awsdoor import client, expect_fault
from memoryplane import far_maintenance_window, processes_in
from resp import AcknowledgedWriter, ClusterClient


def settled(server, name, nodes_per_shard, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = server.request("GET", f"/v1/clusters/{name}").json()
        if (view["status"] == "available" and all(len(s["nodes"]) == nodes_per_shard for s in view["shards"])
                and all(n["status"] == "available" for s in view["shards"] for n in s["nodes"])):
            return view
        time.sleep(0.1)
    raise AssertionError(f"{name} did not settle with {nodes_per_shard} node(s) per shard: {view}")


def test_replicas_come_and_go_under_writes(make_server, tmp_path):
    server = make_server(ports=200).start()
    created = server.create_cluster("grow", shards=2, replicas=1, wait=True, tlsEnabled=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    ca = str(tmp_path / "ca.pem")
    open(ca, "w").write(requests.get(server.url + "/v1/ca.pem", timeout=5).text)
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, tls_ca=ca))
    writer.start()
    try:
        time.sleep(0.5)
        grown = server.request("PATCH", "/v1/clusters/grow", json={"numReplicasPerShard": 2})
        assert grown.status_code == 200 and grown.json()["status"] == "updating", grown.text
        view = settled(server, "grow", 3)
        for shard in view["shards"]:
            assert len({n["availabilityZone"] for n in shard["nodes"]}) == 3, shard
            assert [n["role"] for n in shard["nodes"]].count("primary") == 1
        for node in (n for s in view["shards"] for n in s["nodes"] if n["role"] == "replica"):
            info = subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-p", str(node["endpoint"]["port"]), "INFO", "replication"],
                                  capture_output=True, text=True, timeout=10).stdout
            assert "master_link_status:up" in info, node["name"]

        shrunk = server.request("PATCH", "/v1/clusters/grow", json={"numReplicasPerShard": 0})
        assert shrunk.status_code == 200, shrunk.text
        view = settled(server, "grow", 1)
        time.sleep(0.5)
    finally:
        writer.stop()
    assert view["availabilityMode"] == "SingleAZ"
    kept = {n["name"] for s in view["shards"] for n in s["nodes"]}
    assert kept == {"grow-0001-001", "grow-0002-001"}
    nodes_dir = os.path.join(server.data_dir, "nodes")
    assert sorted(os.listdir(nodes_dir)) == sorted(kept)
    assert sorted(comm for comm, _ in processes_in(nodes_dir).values()) == ["redis-server", "redis-server"]
    for name in kept:
        node = next(n for s in view["shards"] for n in s["nodes"] if n["name"] == name)
        known = subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-p", str(node["endpoint"]["port"]), "CLUSTER", "INFO"],
                               capture_output=True, text=True, timeout=10).stdout
        assert "cluster_known_nodes:2" in known and "cluster_state:ok" in known, known
    check = subprocess.run(["redis-cli", "--tls", "--cacert", ca, "--cluster", "check", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "[OK] All 16384 slots covered." in check.stdout, check.stdout
    assert len(writer.acknowledged) > 500
    missing = writer.missing(ClusterClient("127.0.0.1", port, tls_ca=ca))
    assert missing == [], missing[:5]
    events = [e["message"] for e in server.request("GET", "/v1/events?sourceName=grow&maxResults=100").json()["events"]]
    assert any(m.startswith("Replicas per shard 1 → 2") for m in events) and any("removed: stopped, forgotten" in m for m in events)


def test_replica_configuration_through_boto3(server):
    server.create_cluster("awsgrow", shards=1, replicas=0, wait=True)
    mdb = client(server)
    updated = mdb.update_cluster(ClusterName="awsgrow", ReplicaConfiguration={"ReplicaCount": 1})["Cluster"]
    assert updated["Status"] == "updating"
    settled(server, "awsgrow", 2)
    assert mdb.describe_clusters(ClusterName="awsgrow")["Clusters"][0]["AvailabilityMode"] == "MultiAZ"
    for count, fault in [(1, "NoOperationFault"), (6, "InvalidParameterValueException")]:
        expect_fault(mdb, fault, mdb.update_cluster, ClusterName="awsgrow", ReplicaConfiguration={"ReplicaCount": count})


def test_node_type_changes_without_a_restart(server):
    created = server.create_cluster("sized", shards=1, replicas=1, wait=True)
    nodes = [n for s in created.json()["shards"] for n in s["nodes"]]
    pids = {n["name"]: node_pid(server, n["name"]) for n in nodes}
    mdb = client(server)
    allowed = mdb.list_allowed_node_type_updates(ClusterName="sized")
    assert "db.r6g.large" in allowed["ScaleUpNodeTypes"] and allowed["ScaleDownNodeTypes"] == []
    assert mdb.update_cluster(ClusterName="sized", NodeType="db.r6g.large")["Cluster"]["Status"] == "updating"
    settled(server, "sized", 2)
    assert mdb.describe_clusters(ClusterName="sized")["Clusters"][0]["NodeType"] == "db.r6g.large"
    for node in nodes:
        info = subprocess.run(["redis-cli", "-p", str(node["endpoint"]["port"]), "INFO", "memory"], capture_output=True, text=True, timeout=10).stdout
        assert f"maxmemory:{int(13.07 * 1024 ** 3)}" in info, info
    assert {n["name"]: node_pid(server, n["name"]) for n in nodes} == pids, "a node type change restarts nothing"
    assert "db.t4g.small" in mdb.list_allowed_node_type_updates(ClusterName="sized")["ScaleDownNodeTypes"]
    try:
        mdb.update_cluster(ClusterName="sized", NodeType="db.r6g.large")
        raise AssertionError("no-op accepted")
    except mdb.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "NoOperationFault"


def node_pid(server, node):
    directory = os.path.join(server.data_dir, "nodes", node)
    return next(pid for pid, (comm, cwd) in processes_in(directory).items() if comm == "redis-server" and cwd == directory)


def test_a_reboot_only_parameter_is_applied_by_a_rolling_restart_losing_nothing(server):
    created = server.create_cluster("rolling", shards=1, replicas=1, wait=True, maintenanceWindow=far_maintenance_window())
    port = created.json()["clusterEndpoint"]["port"]
    nodes = [n["name"] for s in created.json()["shards"] for n in s["nodes"]]
    pids = {name: node_pid(server, name) for name in nodes}
    mdb = client(server)
    mdb.create_parameter_group(ParameterGroupName="rehash", Family="memorydb_redis7")
    mdb.update_cluster(ClusterName="rolling", ParameterGroupName="rehash")
    settled(server, "rolling", 2)
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port))
    writer.start()
    try:
        time.sleep(0.5)
        mdb.update_parameter_group(ParameterGroupName="rehash", ParameterNameValues=[{"ParameterName": "activerehashing", "ParameterValue": "no"}])
        # The rolling restart waits for the maintenance window, or for BatchUpdateCluster.
        time.sleep(1)
        assert {name: node_pid(server, name) for name in nodes} == pids, "restarted before it was asked to"
        cluster = mdb.describe_clusters(ClusterName="rolling")["Clusters"][0]
        assert cluster["ParameterGroupStatus"] == "pending-reboot", cluster
        pending = mdb.describe_service_updates(ClusterNames=["rolling"])["ServiceUpdates"]
        assert [(u["ServiceUpdateName"], u["Status"], u["NodesUpdated"]) for u in pending] == [("parameter-group-rehash-r2", "available", "0/2")], pending
        batch = mdb.batch_update_cluster(ClusterNames=["rolling", "nope"], ServiceUpdate={"ServiceUpdateNameToApply": "parameter-group-rehash-r2"})
        assert [c["Name"] for c in batch["ProcessedClusters"]] == ["rolling"]
        assert [(c["ClusterName"], c["ErrorType"]) for c in batch["UnprocessedClusters"]] == [("nope", "ClusterNotFoundFault")]
        deadline = time.time() + 60
        while time.time() < deadline:
            events = [e["message"] for e in server.request("GET", "/v1/events?sourceName=rolling&maxResults=100").json()["events"]]
            if sum("restarted to apply the reboot-only parameters" in m for m in events) == 2:
                break
            time.sleep(0.2)
        settled(server, "rolling", 2)
        time.sleep(0.5)
    finally:
        writer.stop()
    assert sum("restarted to apply the reboot-only parameters" in m for m in events) == 2, events
    assert any("rolling restart: reboot-only parameters of group rehash changed" in m for m in events), events
    for name in nodes:
        assert node_pid(server, name) != pids[name], f"{name} was not restarted"
        assert "activerehashing no" in open(os.path.join(server.data_dir, "nodes", name, "redis.conf")).read()
    view = server.request("GET", "/v1/clusters/rolling").json()
    assert [n["name"] for s in view["shards"] for n in s["nodes"] if n["role"] == "primary"] == ["rolling-0001-002"]
    assert writer.missing(ClusterClient("127.0.0.1", port)) == []
    assert mdb.describe_service_updates(ClusterNames=["rolling"])["ServiceUpdates"] == []
    assert mdb.describe_clusters(ClusterName="rolling")["Clusters"][0]["ParameterGroupStatus"] == "in-sync"

"""Lifecycle guardrails on a real server: deletion protection on every door, the CLI and a stack."""
import os
import subprocess
import time

import botocore.exceptions
import pytest

from awsdoor import client
from memoryplane import BINARY


def cli(server, *args):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    result = subprocess.run([BINARY, *args, "--endpoint-url", server.url, "--data-dir", server.data_dir], capture_output=True, text=True,
                            timeout=300, env=environment, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout, result.stderr


def test_a_protected_cluster_survives_delete_cluster_and_a_stack_destroy(server, tmp_path):
    stack = tmp_path / "guarded.yaml"
    stack.write_text("stack: guarded\nclusters:\n  - name: guarded-1\n    nodeType: db.t4g.small\n    aclName: open-access\n"
                     "    tlsEnabled: false\n    numShards: 1\n    numReplicasPerShard: 0\n    deletionProtection: true\n")
    code, out, err = cli(server, "apply", "-f", str(stack), "--auto-approve")
    assert code == 0, out + err
    mdb = client(server)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.delete_cluster(ClusterName="guarded-1")
    assert raised.value.response["Error"]["Code"] == "InvalidClusterStateFault"
    assert "deletionProtection" in raised.value.response["Error"]["Message"]
    refused = server.request("DELETE", "/v1/clusters/guarded-1")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "InvalidClusterStateFault"
    code, out, err = cli(server, "destroy", "--stack", "guarded", "--auto-approve")
    assert code != 0 and "guarded-1" in err and "deletionProtection" in err
    assert server.request("GET", "/v1/clusters/guarded-1").json()["status"] == "available"

    # Turned off in an update of its own (audited), then the destroy goes through.
    code, out, err = cli(server, "clusters", "update", "guarded-1", "--set", "deletionProtection=false", "--set", "description=x")
    assert code != 0 and "of its own" in err
    code, out, err = cli(server, "clusters", "update", "guarded-1", "--set", "deletionProtection=false")
    assert code == 0, err
    # The trail is written in batches every 100 ms.
    deadline = time.time() + 5
    while True:
        audit = [e for e in server.request("GET", "/v1/audit", params={"outcome": "success"}).json()["events"]
                 if e["operation"] == "PATCH /v1/clusters/{name}"]
        if audit or time.time() > deadline:
            break
        time.sleep(0.05)
    assert any('"deletionProtection":false' in e["parameters"].replace(" ", "") for e in audit), audit
    stack.write_text(stack.read_text().replace("deletionProtection: true", "deletionProtection: false"))
    code, out, err = cli(server, "destroy", "--stack", "guarded", "--auto-approve")
    assert code == 0, out + err
    assert server.request("GET", "/v1/clusters/guarded-1").status_code == 404


def test_a_stopped_cluster_runs_nothing_and_comes_back_with_every_acknowledged_write(server):
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from ledger import RecordingClient
    from memoryplane import processes_in
    created = server.create_cluster("sleepy", shards=3, replicas=1, wait=True).json()
    assert created["status"] == "available", created
    port = created["clusterEndpoint"]["port"]
    writer = RecordingClient(port, prefix="sleepy:")
    writer.start()
    time.sleep(1)
    stopping = server.request("POST", "/v1/clusters/sleepy/stop")
    assert stopping.status_code == 202 and stopping.json()["status"] == "stopping", stopping.text
    server.wait_for("sleepy", "stopped", timeout=60)
    writer.stop()
    acknowledged = len(writer.acknowledged)
    assert acknowledged > 100, "the writer wrote little before the stop"
    nodes = os.path.join(server.data_dir, "nodes")
    assert [p for p, (comm, cwd) in processes_in(server.data_dir).items() if "sleepy" in cwd] == [], "a process of the stopped cluster runs"
    assert os.listdir(nodes), "the nodes' files are kept"
    view = server.request("GET", "/v1/clusters/sleepy").json()
    assert {n["status"] for s in view["shards"] for n in s["nodes"]} == {"stopped"}
    # While stopped: no snapshot, no update; stopping twice is refused.
    assert server.request("POST", "/v1/snapshots", json={"clusterName": "sleepy", "snapshotName": "s"}).json()["error"]["code"] == "InvalidClusterStateFault"
    assert server.request("PATCH", "/v1/clusters/sleepy", json={"description": "x"}).json()["error"]["code"] == "InvalidClusterStateFault"
    assert server.request("POST", "/v1/clusters/sleepy/stop").status_code == 409

    began = time.time()
    starting = server.request("POST", "/v1/clusters/sleepy/start")
    assert starting.status_code == 202 and starting.json()["status"] == "starting", starting.text
    server.wait_for("sleepy", "available", timeout=60)
    seconds = time.time() - began
    print(f"start → available: {seconds:.2f} s for a 3x1 cluster; {acknowledged} acknowledged writes before the stop")
    assert writer.missing() == [], "an acknowledged write was lost across stop and start"
    events = [e["message"] for e in server.request("GET", "/v1/events", params={"sourceName": "sleepy"}).json()["events"]]
    assert not any(" down" in m and "Node" in m for m in events[:20]), events[:20]
    assert any(m.startswith("Cluster stopped") for m in events), events
    # A stopped cluster can be deleted as it is.
    assert server.request("POST", "/v1/clusters/sleepy/stop").status_code == 202
    server.wait_for("sleepy", "stopped", timeout=60)
    assert server.request("DELETE", "/v1/clusters/sleepy").status_code == 202
    server.wait_for("sleepy", None, timeout=60)


def test_reserved_nodes_through_boto3_and_the_cli(server):
    from awsdoor import check_output
    mdb = client(server)
    offerings = mdb.describe_reserved_nodes_offerings(NodeType="db.r7g.large", Duration="1")["ReservedNodesOfferings"]
    assert {o["OfferingType"] for o in offerings} == {"No Upfront", "Partial Upfront", "All Upfront"}
    assert all(o["Duration"] == 31536000 and o["RecurringCharges"][0]["RecurringChargeFrequency"] == "Hourly" for o in offerings)
    raw = server.request("GET", "/v1/reserved-node-offerings", params={"nodeType": "db.r7g.large"}).json()["reservedNodesOfferings"]
    assert len(raw) == 6
    offering = next(o for o in offerings if o["OfferingType"] == "Partial Upfront")
    bought = mdb.purchase_reserved_nodes_offering(ReservedNodesOfferingId=offering["ReservedNodesOfferingId"], ReservationId="team-a", NodeCount=2)
    node = bought["ReservedNode"]
    assert node["State"] == "payment-pending" and node["NodeCount"] == 2 and node["FixedPrice"] == offering["FixedPrice"]
    deadline = time.time() + 10
    while mdb.describe_reserved_nodes(ReservationId="team-a")["ReservedNodes"][0]["State"] != "active":
        assert time.time() < deadline, "the purchase never became active"
        time.sleep(0.1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.purchase_reserved_nodes_offering(ReservedNodesOfferingId=offering["ReservedNodesOfferingId"], ReservationId="team-a")
    assert raised.value.response["Error"]["Code"] == "ReservedNodeAlreadyExistsFault"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.describe_reserved_nodes(ReservationId="nope")
    assert raised.value.response["Error"]["Code"] == "ReservedNodeNotFoundFault"
    # Every response in botocore's shapes, as sent.
    from awsdoor import raw_call
    for operation, params in [("DescribeReservedNodesOfferings", {"NodeType": "db.r7g.large"}), ("DescribeReservedNodes", {}),
                              ("PurchaseReservedNodesOffering", {"ReservedNodesOfferingId": offering["ReservedNodesOfferingId"]})]:
        status, body, _ = raw_call(server, operation, params)
        assert status == 200, body
        check_output(operation, body)
    code, out, err = cli(server, "reserved-nodes", "list")
    assert code == 0 and "team-a" in out and "active" in out, out + err
    code, out, err = cli(server, "reserved-node-offerings", "list")
    assert code == 0 and "db.r7g.large" in out, err


def test_an_idle_cluster_that_opted_in_is_stopped_with_its_data(make_server):
    server = make_server(extra_args=["--stop-idle-after", "3s", "--metrics-interval", "1"]).start()
    tag = [{"key": "memoryplane:stop-when-idle", "value": "true"}]
    assert server.create_cluster("idle", wait=True, tags=tag).json()["status"] == "available"
    assert server.create_cluster("busy-keep", wait=True).json()["status"] == "available"
    server.wait_for("idle", "stopped", timeout=60)
    events = [e["message"] for e in server.request("GET", "/v1/events", params={"sourceName": "idle"}).json()["events"]]
    assert any("idle for 3 s" in m for m in events), events
    assert server.request("GET", "/v1/clusters/busy-keep").json()["status"] == "available", "a cluster that did not opt in was stopped"

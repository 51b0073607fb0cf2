"""Snapshots on real nodes: taken under writes, restored into the same and another shard count
and compared key by key (SCAN and DUMP) with what the snapshot holds, verified in one call,
refused when a file is damaged, taken as a final snapshot, taken on schedule, and served to
boto3 and the AWS CLI in botocore's shape."""
import datetime
import os
import subprocess
import time

import requests

from awsdoor import aws_cli, check_output, client, raw_call
from memoryplane import far_maintenance_window
from resp import AcknowledgedWriter, ClusterClient, Connection, ReplyError, dump_all, fill, unix_connection


def fetch_ca(server, tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text(requests.get(server.url + "/v1/ca.pem", timeout=5).text)
    return str(path)


def rdb_contents(path, tmp_path):
    """{key: DUMP} of a plain RDB file, loaded in a redis-server of the test's own."""
    directory = tmp_path / f"load-{os.path.basename(path)}"
    directory.mkdir()
    os.link(path, directory / "data.rdb")
    socket_path = str(directory / "s")
    process = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", socket_path, "--dir", str(directory),
                                "--dbfilename", "data.rdb", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                connection = unix_connection(socket_path)
                if connection.command("PING") == "PONG":
                    break
            except (OSError, ReplyError):
                pass  # not listening yet, or -LOADING while it reads the file
            assert time.time() < deadline, "scratch redis-server did not start"
            time.sleep(0.05)
        return dump_all(connection)
    finally:
        process.kill()
        process.wait()


def cluster_contents(server, name, ca):
    """{key: DUMP} of every primary of a cluster."""
    view = server.request("GET", f"/v1/clusters/{name}").json()
    found = {}
    for shard in view["shards"]:
        for node in shard["nodes"]:
            if node["role"] == "primary":
                connection = Connection("127.0.0.1", node["endpoint"]["port"], tls_ca=ca, timeout=30)
                found.update(dump_all(connection))
                connection.close()
    return found


def restore(server, name, snapshot, shards, tls=True):
    return server.request("POST", "/v1/clusters?wait=true", json={
        "name": name, "nodeType": "db.t4g.small", "numShards": shards, "numReplicasPerShard": 0, "aclName": "open-access",
        "tlsEnabled": tls, "snapshotName": snapshot})


def test_a_snapshot_under_writes_restores_exactly_verifies_and_refuses_a_damaged_file(make_server, tmp_path):
    server = make_server(ports=200).start()
    created = server.create_cluster("shop", shards=2, replicas=1, wait=True, tlsEnabled=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    ca = fetch_ca(server, tmp_path)
    fill("127.0.0.1", port, 200_000, tls_ca=ca)
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, tls_ca=ca), prefix="live")
    writer.start()
    try:
        time.sleep(0.3)
        taken = server.request("POST", "/v1/snapshots?wait=true", json={"clusterName": "shop", "snapshotName": "nightly"})
        time.sleep(0.3)
    finally:
        writer.stop()
    assert taken.status_code == 201, taken.text
    snapshot = taken.json()
    assert snapshot["status"] == "available" and snapshot["source"] == "manual"
    shards = snapshot["clusterConfiguration"]["shards"]
    assert [s["name"] for s in shards] == ["0001", "0002"] and [s["configuration"]["slots"] for s in shards] == ["0-8191", "8192-16383"]
    keys = sum(s["keyCount"] for s in shards)
    assert keys >= 200_000 and all(s["size"] > 0 for s in shards)
    # Encrypted at rest: no RDB header, nothing readable, 0600.
    directory = os.path.join(server.data_dir, "snapshots", "nightly")
    for name in os.listdir(directory):
        data = open(os.path.join(directory, name), "rb").read(64)
        assert data.startswith(b"MPSNAP01") and b"REDIS" not in data
        assert os.stat(os.path.join(directory, name)).st_mode & 0o777 == 0o600

    # What the snapshot holds, as plain RDB files (an export), read by a redis-server of our own.
    exported = server.request("POST", "/v1/snapshots/nightly/copy", json={"targetSnapshotName": "nightly-plain", "targetBucket": "checks"})
    assert exported.status_code == 200, exported.text
    bucket = os.path.join(server.data_dir, "exports", "checks")
    assert sorted(os.listdir(bucket)) == ["nightly-plain-0001.rdb", "nightly-plain-0002.rdb"]
    expected = {}
    for name in sorted(os.listdir(bucket)):
        expected.update(rdb_contents(os.path.join(bucket, name), tmp_path))
    assert len(expected) == keys

    # Restored into the same shard count and into another: the same keys with the same values.
    for shards in (2, 3):
        restored = restore(server, f"copy{shards}", "nightly", shards)
        assert restored.status_code == 201 and restored.json()["status"] == "available", restored.text
        assert len(restored.json()["shards"]) == shards
        found = cluster_contents(server, f"copy{shards}", ca)
        assert len(found) == len(expected)
        assert found == expected, "restored data differs from the snapshot"

    # One call: restore into a scratch cluster and compare.
    verified = server.request("POST", "/v1/snapshots/nightly/verify")
    assert verified.status_code == 200, verified.text
    result = verified.json()
    assert result["status"] == "verified" and result["keysFound"] == result["keysExpected"] == keys, result
    assert server.request("GET", "/v1/snapshots/nightly").json()["lastVerification"]["status"] == "verified"
    assert not [c for c in server.request("GET", "/v1/clusters").json()["clusters"] if c["name"].startswith("verify-")
                and c["status"] != "deleting"]

    # A flipped byte: verification and restore fail, naming the damage; nothing half-created.
    assert server.request("POST", "/v1/snapshots/nightly/copy", json={"targetSnapshotName": "damaged"}).status_code == 201
    victim = os.path.join(server.data_dir, "snapshots", "damaged", "0002.rdb.enc")
    with open(victim, "r+b") as handle:
        handle.seek(os.path.getsize(victim) // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))
    failed = server.request("POST", "/v1/snapshots/damaged/verify").json()
    assert failed["status"] == "failed" and "fails authentication" in failed["differences"], failed
    refused = restore(server, "fromdamaged", "damaged", 2)
    assert refused.status_code == 400, refused.text
    assert "cannot be restored" in refused.json()["error"]["message"] and "fails authentication" in refused.json()["error"]["message"]
    assert server.request("GET", "/v1/clusters/fromdamaged").status_code == 404
    assert not os.path.exists(os.path.join(server.data_dir, "restores", "fromdamaged"))
    events = [e["message"] for e in server.request("GET", "/v1/events?sourceName=shop&maxResults=100").json()["events"]]
    assert any("Snapshot nightly verified" in m for m in events) and any("Snapshot damaged failed verification" in m for m in events)


def test_a_final_snapshot_is_restorable_and_a_taken_name_leaves_the_cluster_alone(server):
    created = server.create_cluster("old", shards=1, replicas=0, wait=True)
    port = created.json()["clusterEndpoint"]["port"]
    fill("127.0.0.1", port, 5000, prefix="old")
    assert server.request("POST", "/v1/snapshots?wait=true", json={"clusterName": "old", "snapshotName": "taken"}).status_code == 201
    clash = server.request("DELETE", "/v1/clusters/old?finalSnapshotName=taken")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "SnapshotAlreadyExistsFault", clash.text
    assert server.request("GET", "/v1/clusters/old").json()["status"] == "available"

    gone = server.request("DELETE", "/v1/clusters/old?finalSnapshotName=last-words&wait=true")
    assert gone.status_code == 204, gone.text
    final = server.request("GET", "/v1/snapshots/last-words").json()
    assert final["status"] == "available" and final["clusterName"] == "old"
    assert sum(s["keyCount"] for s in final["clusterConfiguration"]["shards"]) == 5000
    back = server.request("POST", "/v1/clusters?wait=true", json={
        "name": "old", "nodeType": "db.t4g.small", "numReplicasPerShard": 0, "aclName": "open-access", "tlsEnabled": False,
        "snapshotName": "last-words"})
    assert back.status_code == 201, back.text
    reader = ClusterClient("127.0.0.1", back.json()["clusterEndpoint"]["port"])
    assert all(reader.execute(f"old-{i}", "GET", f"old-{i}") == f"value-{i}" for i in range(0, 5000, 7))


def test_automatic_snapshots_are_taken_in_their_window(server):
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(minutes=65)
    created = server.request("POST", "/v1/clusters?wait=true", json={
        "name": "daily", "nodeType": "db.t4g.small", "numShards": 1, "numReplicasPerShard": 0, "aclName": "open-access", "tlsEnabled": False,
        "snapshotRetentionLimit": 1, "snapshotWindow": f"{start:%H:%M}-{end:%H:%M}", "maintenanceWindow": far_maintenance_window()})
    assert created.status_code == 201, created.text
    assert created.json()["snapshotRetentionLimit"] == 1
    deadline = time.time() + 40
    automated = []
    while time.time() < deadline and not automated:
        automated = [s for s in server.request("GET", "/v1/snapshots?clusterName=daily&source=system").json()["snapshots"]
                     if s["status"] == "available"]
        time.sleep(0.2)
    assert len(automated) == 1, automated
    assert automated[0]["name"].startswith("automatic.daily-") and automated[0]["source"] == "automated"
    # One a day: the next passes take no other.
    time.sleep(6)
    assert len(server.request("GET", "/v1/snapshots?clusterName=daily").json()["snapshots"]) == 1
    assert server.request("GET", "/v1/snapshots?clusterName=daily&source=user").json()["snapshots"] == []


def test_snapshots_through_boto3_and_the_aws_cli(server):
    server.create_cluster("aws", shards=2, replicas=0, wait=True)
    mdb = client(server)
    created = mdb.create_snapshot(ClusterName="aws", SnapshotName="boto", Tags=[{"Key": "team", "Value": "cache"}])["Snapshot"]
    assert created["Status"] == "creating" and created["Source"] == "manual"
    assert mdb.describe_clusters(ClusterName="aws")["Clusters"][0]["Status"] in ("snapshotting", "available")
    deadline = time.time() + 30
    while time.time() < deadline and mdb.describe_snapshots(SnapshotName="boto")["Snapshots"][0]["Status"] != "available":
        time.sleep(0.1)
    status, body, _ = raw_call(server, "DescribeSnapshots", {"SnapshotName": "boto", "ShowDetail": True})
    assert status == 200
    check_output("DescribeSnapshots", body)
    snapshot = body["Snapshots"][0]
    assert snapshot["ClusterConfiguration"]["NumShards"] == 2 and len(snapshot["ClusterConfiguration"]["Shards"]) == 2
    # As AWS writes them: the VPC, and the description even when empty.
    assert snapshot["ClusterConfiguration"]["VpcId"] == "vpc-memoryplane" and isinstance(snapshot["ClusterConfiguration"]["Description"], str)
    assert snapshot["ClusterConfiguration"]["Shards"][0]["Size"].endswith(" MB")
    assert "Shards" not in raw_call(server, "DescribeSnapshots", {"SnapshotName": "boto"})[1]["Snapshots"][0]["ClusterConfiguration"]
    assert mdb.list_tags(ResourceArn=snapshot["ARN"])["TagList"] == [{"Key": "team", "Value": "cache"}]

    code, out, err = aws_cli(server, "describe-snapshots", "--cluster-name", "aws", "--show-detail")
    assert code == 0, err
    check_output("DescribeSnapshots", out)
    copy = mdb.copy_snapshot(SourceSnapshotName="boto", TargetSnapshotName="boto-copy")["Snapshot"]
    assert copy["Name"] == "boto-copy" and copy["Status"] == "available"
    paginated = [s["Name"] for page in mdb.get_paginator("describe_snapshots").paginate(PaginationConfig={"PageSize": 1}) for s in page["Snapshots"]]
    assert paginated == ["boto", "boto-copy"]
    for call, fault in [
        (lambda: mdb.create_snapshot(ClusterName="aws", SnapshotName="boto"), "SnapshotAlreadyExistsFault"),
        (lambda: mdb.create_snapshot(ClusterName="nosuch", SnapshotName="x"), "ClusterNotFoundFault"),
        (lambda: mdb.create_snapshot(ClusterName="aws", SnapshotName="k", KmsKeyId="arn:aws:kms:us-east-1:0:key/1"), "InvalidParameterCombinationException"),
        (lambda: mdb.describe_snapshots(SnapshotName="nosuch"), "SnapshotNotFoundFault"),
        (lambda: mdb.copy_snapshot(SourceSnapshotName="nosuch", TargetSnapshotName="y"), "SnapshotNotFoundFault"),
        (lambda: mdb.copy_snapshot(SourceSnapshotName="boto", TargetSnapshotName="boto-copy"), "SnapshotAlreadyExistsFault"),
        (lambda: mdb.delete_snapshot(SnapshotName="nosuch"), "SnapshotNotFoundFault"),
        (lambda: mdb.describe_snapshots(Source="elsewhere"), "InvalidParameterValueException"),
        (lambda: mdb.create_snapshot(ClusterName="aws", SnapshotName="Bad_Name"), "InvalidParameterValueException"),
    ]:
        try:
            call()
            raise AssertionError(f"{fault} expected")
        except mdb.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == fault, error.response
    deleted = mdb.delete_snapshot(SnapshotName="boto-copy")["Snapshot"]
    assert deleted["Status"] == "deleting"
    assert [s["Name"] for s in mdb.describe_snapshots(ClusterName="aws")["Snapshots"]] == ["boto"]

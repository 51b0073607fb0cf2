"""Parameter groups through boto3: values checked against their metadata and live on every node."""
import os
import re
import subprocess
import time

import botocore.exceptions
import pytest

from awsdoor import check_output, client, raw_call


def wait_in_sync(mdb, name):
    deadline = time.time() + 30
    while time.time() < deadline:
        cluster = mdb.describe_clusters(ClusterName=name, ShowShardDetails=True)["Clusters"][0]
        if cluster["Status"] == "available" and cluster["ParameterGroupStatus"] == "in-sync":
            return cluster
        time.sleep(0.1)
    raise AssertionError(f"{name} did not reach available/in-sync")


def test_a_custom_group_is_live_on_every_node(server):
    mdb = client(server)
    created = mdb.create_parameter_group(ParameterGroupName="Tuned", Family="memorydb_redis7", Description="lru and timeouts")
    assert created["ParameterGroup"]["Name"] == "tuned"
    status, raw, _ = raw_call(server, "DescribeParameterGroups", {"ParameterGroupName": "tuned"})
    check_output("DescribeParameterGroups", raw)
    mdb.update_parameter_group(ParameterGroupName="tuned", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}, {"ParameterName": "timeout", "ParameterValue": "300"}])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.update_parameter_group(ParameterGroupName="tuned", ParameterNameValues=[{"ParameterName": "timeout", "ParameterValue": "5"}])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "0,20-" in raised.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.update_parameter_group(ParameterGroupName="default.memorydb-redis7", ParameterNameValues=[{"ParameterName": "timeout", "ParameterValue": "300"}])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    values = {p["Name"]: p.get("Value") for p in mdb.describe_parameters(ParameterGroupName="tuned", MaxResults=100)["Parameters"]}
    assert values["maxmemory-policy"] == "allkeys-lru" and values["timeout"] == "300"

    mdb.create_cluster(ClusterName="tuned", NodeType="db.t4g.small", ACLName="open-access", NumShards=2, NumReplicasPerShard=1,
                       ParameterGroupName="tuned")
    cluster = wait_in_sync(mdb, "tuned")
    assert cluster["ParameterGroupName"] == "tuned"
    nodes = [n for s in cluster["Shards"] for n in s["Nodes"]]
    # TLS nodes: the admin check goes over TLS with the CA.
    assert all(admin_config_get_tls(server, n, "maxmemory-policy") == "allkeys-lru" for n in nodes)
    assert all(admin_config_get_tls(server, n, "timeout") == "300" for n in nodes)

    mdb.update_parameter_group(ParameterGroupName="tuned", ParameterNameValues=[{"ParameterName": "timeout", "ParameterValue": "600"}])
    wait_in_sync(mdb, "tuned")
    assert all(admin_config_get_tls(server, n, "timeout") == "600" for n in nodes)

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.delete_parameter_group(ParameterGroupName="tuned")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterGroupStateFault"
    mdb.reset_parameter_group(ParameterGroupName="tuned", AllParameters=True)
    wait_in_sync(mdb, "tuned")
    assert all(admin_config_get_tls(server, n, "timeout") == "0" for n in nodes)
    events = [e["Message"] for e in mdb.describe_events(SourceName="tuned", SourceType="parameter-group")["Events"]]
    assert any("timeout=600" in m for m in events)


def admin_config_get_tls(server, node, name):
    conf = open(os.path.join(server.data_dir, "nodes", node["Name"], "redis.conf")).read()
    password = re.search(r"^masterauth (\S+)$", conf, re.M).group(1)
    out = subprocess.run(["redis-cli", "--tls", "--cacert", os.path.join(server.data_dir, "ca.pem"), "-p", str(node["Endpoint"]["Port"]),
                          "--user", "memoryplane-admin", "--pass", password, "--no-auth-warning", "CONFIG", "GET", name],
                         capture_output=True, text=True, timeout=10).stdout.split()
    return out[1] if len(out) > 1 else ""


def test_subnet_groups_place_nodes_in_their_zones(server):
    mdb = client(server)
    group = mdb.create_subnet_group(SubnetGroupName="TwoZones", SubnetIds=["subnet-us-east-1b", "subnet-us-east-1c"],
                                    Tags=[{"Key": "k", "Value": "v"}])["SubnetGroup"]
    assert group["Name"] == "twozones"
    assert sorted(s["AvailabilityZone"]["Name"] for s in group["Subnets"]) == ["us-east-1b", "us-east-1c"]
    status, raw, _ = raw_call(server, "DescribeSubnetGroups", {"SubnetGroupName": "twozones"})
    check_output("DescribeSubnetGroups", raw)
    assert mdb.list_tags(ResourceArn=group["ARN"])["TagList"] == [{"Key": "k", "Value": "v"}]
    mdb.create_cluster(ClusterName="placed", NodeType="db.t4g.small", ACLName="open-access", NumShards=1, NumReplicasPerShard=2,
                       SubnetGroupName="twozones")
    cluster = wait_in_sync(mdb, "placed")
    assert cluster["SubnetGroupName"] == "twozones"
    assert {n["AvailabilityZone"] for s in cluster["Shards"] for n in s["Nodes"]} == {"us-east-1b", "us-east-1c"}
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.delete_subnet_group(SubnetGroupName="twozones")
    assert raised.value.response["Error"]["Code"] == "SubnetGroupInUseFault"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.create_subnet_group(SubnetGroupName="bad", SubnetIds=["not-a-subnet"])
    assert raised.value.response["Error"]["Code"] == "InvalidSubnet"
    assert mdb.update_subnet_group(SubnetGroupName="twozones", Description="b and c")["SubnetGroup"]["Description"] == "b and c"

"""The AWS MemoryDB JSON 1.1 door driven by boto3, the aws CLI and raw signed requests; every
response is checked against botocore's model."""
import datetime
import time

import botocore.exceptions
import pytest

from awsdoor import MODEL, aws_cli, check_error, check_output, client, raw_call
from memoryplane import processes_in

REGION_ARN = "arn:aws:memorydb:us-east-1:000000000000"


def fault(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(*args, **kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_builtin_objects_through_boto3_and_the_cli(server):
    mdb = client(server)
    users = mdb.describe_users()["Users"]
    assert [(u["Name"], u["AccessString"], u["Authentication"]["Type"], u["Status"]) for u in users] == \
        [("default", "on ~* &* +@all", "no-password", "active")]
    assert users[0]["ARN"] == f"{REGION_ARN}:user/default"
    acls = mdb.describe_acls()["ACLs"]
    assert [(a["Name"], a["UserNames"], a["Status"]) for a in acls] == [("open-access", ["default"], "active")]
    groups = mdb.describe_subnet_groups()["SubnetGroups"]
    assert [g["Name"] for g in groups] == ["default"]
    assert sorted(s["AvailabilityZone"]["Name"] for s in groups[0]["Subnets"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    parameter_groups = mdb.describe_parameter_groups()["ParameterGroups"]
    assert [(g["Name"], g["Family"]) for g in parameter_groups] == [
        ("default.memorydb-redis6", "memorydb_redis6"), ("default.memorydb-redis7", "memorydb_redis7")]
    parameters = {p["Name"]: p for p in mdb.describe_parameters(ParameterGroupName="default.memorydb-redis7", MaxResults=100)["Parameters"]}
    assert parameters["maxmemory-policy"]["Value"] == "noeviction"
    assert parameters["timeout"]["AllowedValues"] == "0,20-"
    assert "latency-tracking" in parameters
    versions = mdb.describe_engine_versions()["EngineVersions"]
    installed = __import__("subprocess").run(["redis-server", "--version"], capture_output=True, text=True).stdout
    assert len(versions) == 1 and f"v={versions[0]['EnginePatchVersion']} " in installed
    assert versions[0]["ParameterGroupFamily"] == f"memorydb_redis{versions[0]['EngineVersion'].split('.')[0]}"
    assert mdb.describe_service_updates()["ServiceUpdates"] == []

    code, out, err = aws_cli(server, "describe-acls")
    assert code == 0, err
    assert out["ACLs"][0]["Name"] == "open-access"
    code, out, err = aws_cli(server, "describe-parameter-groups", "--parameter-group-name", "default.memorydb-redis6")
    assert code == 0, err
    assert out["ParameterGroups"][0]["Family"] == "memorydb_redis6"

    # Built-ins cannot be deleted.
    assert fault(mdb.delete_acl, ACLName="open-access") == ("InvalidParameterValueException", "open-access ACL can't be deleted.")
    assert fault(mdb.delete_user, UserName="default")[0] == "InvalidParameterValueException"
    assert fault(mdb.delete_parameter_group, ParameterGroupName="default.memorydb-redis7")[0] == "InvalidParameterValueException"
    assert fault(mdb.delete_subnet_group, SubnetGroupName="default")[0] == "InvalidParameterValueException"
    assert fault(mdb.delete_acl, ACLName="nope")[0] == "ACLNotFoundFault"
    assert mdb.describe_acls()["ACLs"][0]["Name"] == "open-access"


@pytest.mark.parametrize("operation,params", [
    ("DescribeUsers", {}), ("DescribeACLs", {}), ("DescribeSubnetGroups", {}), ("DescribeParameterGroups", {}),
    ("DescribeParameters", {"ParameterGroupName": "default.memorydb-redis6"}), ("DescribeEngineVersions", {}),
    ("DescribeEvents", {"Duration": 60}), ("DescribeServiceUpdates", {}), ("DescribeClusters", {"ShowShardDetails": True}),
    ("ListTags", {"ResourceArn": f"{REGION_ARN}:acl/open-access"}),
])
def test_every_read_matches_the_model(server, operation, params):
    status, body, headers = raw_call(server, operation, params)
    assert status == 200, body
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    check_output(operation, body)


def test_a_cluster_life_through_boto3(server):
    mdb = client(server)
    created = mdb.create_cluster(
        ClusterName="LifeCycle", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False, NumShards=2,
        NumReplicasPerShard=1, Description="through boto3", Tags=[{"Key": "team", "Value": "cache"}])["Cluster"]
    assert created["Name"] == "lifecycle"
    assert created["Status"] == "creating"
    assert "Address" not in created["ClusterEndpoint"]
    assert created["DataTiering"] == "false"
    assert created["AvailabilityMode"] == "MultiAZ"
    assert "Shards" not in created

    status, raw, _ = raw_call(server, "DescribeClusters", {"ClusterName": "lifecycle", "ShowShardDetails": True})
    check_output("DescribeClusters", raw)

    deadline = time.time() + 30
    while time.time() < deadline:
        cluster = mdb.describe_clusters(ClusterName="lifecycle", ShowShardDetails=True)["Clusters"][0]
        if cluster["Status"] == "available":
            break
        time.sleep(0.1)
    assert cluster["Status"] == "available"
    status, raw, _ = raw_call(server, "DescribeClusters", {"ClusterName": "lifecycle", "ShowShardDetails": True})
    check_output("DescribeClusters", raw)
    assert isinstance(raw["Clusters"][0]["Shards"][0]["Nodes"][0]["CreateTime"], float)
    assert [(s["Name"], s["Slots"], s["Status"], s["NumberOfNodes"]) for s in cluster["Shards"]] == [
        ("0001", "0-8191", "available", 2), ("0002", "8192-16383", "available", 2)]
    assert [n["Name"] for s in cluster["Shards"] for n in s["Nodes"]] == [
        "lifecycle-0001-001", "lifecycle-0001-002", "lifecycle-0002-001", "lifecycle-0002-002"]
    assert cluster["ClusterEndpoint"]["Address"] == "127.0.0.1"
    assert "Shards" not in mdb.describe_clusters(ClusterName="lifecycle")["Clusters"][0]
    assert mdb.describe_acls(ACLName="open-access")["ACLs"][0]["Clusters"] == ["lifecycle"]

    arn = cluster["ARN"]
    assert arn == f"{REGION_ARN}:cluster/lifecycle"
    assert mdb.list_tags(ResourceArn=arn)["TagList"] == [{"Key": "team", "Value": "cache"}]
    assert mdb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "ci"}])["TagList"] == [
        {"Key": "env", "Value": "ci"}, {"Key": "team", "Value": "cache"}]
    assert mdb.untag_resource(ResourceArn=arn, TagKeys=["team"])["TagList"] == [{"Key": "env", "Value": "ci"}]
    assert fault(mdb.untag_resource, ResourceArn=arn, TagKeys=["missing"])[0] == "TagNotFoundFault"
    assert mdb.tag_resource(ResourceArn=f"{REGION_ARN}:user/default", Tags=[{"Key": "k", "Value": "v"}])["TagList"] == [{"Key": "k", "Value": "v"}]
    assert fault(mdb.list_tags, ResourceArn="not-an-arn")[0] == "InvalidARNFault"
    assert fault(mdb.list_tags, ResourceArn=f"{REGION_ARN}:cluster/nope")[0] == "ClusterNotFoundFault"
    assert fault(mdb.tag_resource, ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(200)])[0] == "TagQuotaPerResourceExceeded"

    assert mdb.update_cluster(ClusterName="lifecycle", Description="changed")["Cluster"]["Description"] == "changed"
    code, message = fault(mdb.update_cluster, ClusterName="lifecycle", EngineVersion="7.1")
    assert code == "InvalidParameterCombinationException" and "EngineVersion" in message

    # The faults clients and Terraform rely on.
    assert fault(mdb.create_cluster, ClusterName="lifecycle", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False)[0] == "ClusterAlreadyExistsFault"
    assert fault(mdb.describe_clusters, ClusterName="missing")[0] == "ClusterNotFoundFault"
    assert fault(mdb.create_cluster, ClusterName="-bad", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False)[0] == "InvalidParameterValueException"
    assert fault(mdb.create_cluster, ClusterName="ok", NodeType="db.nope", ACLName="open-access", TLSEnabled=False)[0] == "InvalidParameterValueException"
    assert fault(mdb.create_cluster, ClusterName="ok", NodeType="db.t4g.small", ACLName="mine", TLSEnabled=False)[0] == "InvalidParameterCombinationException"
    assert fault(mdb.create_cluster, ClusterName="ok", NodeType="db.t4g.small", ACLName="mine")[0] == "ACLNotFoundFault"
    assert fault(mdb.create_cluster, ClusterName="ok", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False, SubnetGroupName="x")[0] == "SubnetGroupNotFoundFault"
    assert fault(mdb.create_cluster, ClusterName="ok", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False, KmsKeyId="k")[0] == "InvalidParameterCombinationException"

    events = mdb.describe_events(SourceName="lifecycle", SourceType="cluster")["Events"]
    # Newest first, as on AWS.
    assert [e["Message"] for e in events][-2:] == ["Cluster is available", "Cluster created with 2 shard(s) of 2 node(s)"]

    deleted = mdb.delete_cluster(ClusterName="lifecycle")["Cluster"]
    assert deleted["Status"] == "deleting"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            mdb.describe_clusters(ClusterName="lifecycle")
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "ClusterNotFoundFault"
            break
        time.sleep(0.1)
    assert fault(mdb.describe_clusters, ClusterName="lifecycle")[0] == "ClusterNotFoundFault"
    assert processes_in(server.data_dir) == {}


def test_paginators(server):
    mdb = client(server)
    everything = mdb.describe_parameters(ParameterGroupName="default.memorydb-redis7", MaxResults=100)["Parameters"]
    pages = list(mdb.get_paginator("describe_parameters").paginate(
        ParameterGroupName="default.memorydb-redis7", PaginationConfig={"PageSize": 7}))
    assert len(pages) > 3
    assert all(len(p["Parameters"]) <= 7 for p in pages)
    assert [p["Name"] for page in pages for p in page["Parameters"]] == [p["Name"] for p in everything]

    for name in ["pc", "pa", "pb"]:
        mdb.create_cluster(ClusterName=name, NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False, NumReplicasPerShard=0)
    pages = list(mdb.get_paginator("describe_clusters").paginate(PaginationConfig={"PageSize": 2}))
    assert [[c["Name"] for c in p["Clusters"]] for p in pages] == [["pa", "pb"], ["pc"]]
    events = list(mdb.get_paginator("describe_events").paginate(SourceType="cluster", PaginationConfig={"PageSize": 1}))
    assert len([e for p in events for e in p["Events"]]) >= 3
    assert fault(mdb.describe_clusters, NextToken="forged")[0] == "InvalidParameterValueException"
    assert fault(mdb.describe_clusters, MaxResults=1000)[0] == "InvalidParameterValueException"
    code, out, err = aws_cli(server, "describe-clusters", "--max-items", "1")
    assert code == 0, err
    assert len(out["Clusters"]) == 1 and out["NextToken"]
    for name in ["pa", "pb", "pc"]:
        server.wait_for(name, "available")
        mdb.delete_cluster(ClusterName=name)


def test_unsigned_forged_unknown_and_stale_requests_are_refused(server):
    status, body, headers = raw_call(server, "DescribeClusters", sign=False)
    assert status == 401
    check_error(body, "InvalidSignatureException")
    assert headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    key, _ = server.credentials
    status, body, _ = raw_call(server, "DescribeClusters", secret="not-the-secret")
    assert status == 403
    check_error(body, "InvalidSignatureException")
    status, body, _ = raw_call(server, "DescribeClusters", key="AKIAUNKNOWNKEY000000")
    assert status == 403
    check_error(body, "UnrecognizedClientException")
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, body, _ = raw_call(server, "DescribeClusters", amz_date=stale)
    assert status == 403
    check_error(body, "InvalidSignatureException")
    assert "expired" in body["message"]
    # A signed request whose body was changed after signing.
    status, body, _ = raw_call(server, "DescribeClusters", {"MaxResults": 5})
    assert status == 200
    assert fault(client(server, secret="wrong").describe_clusters)[0] == "InvalidSignatureException"
    assert fault(client(server, key="AKIAUNKNOWNKEY000000").describe_users)[0] == "UnrecognizedClientException"


def test_rest_accepts_sigv4_with_the_same_key(server):
    import requests as plain
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    key, secret = server.credentials
    request = AWSRequest(method="GET", url=server.url + "/v1/clusters?maxResults=5")
    SigV4Auth(Credentials(key, secret), "memorydb", "us-east-1").add_auth(request)
    prepared = request.prepare()
    assert plain.get(prepared.url, headers=dict(prepared.headers), timeout=10).status_code == 200
    request = AWSRequest(method="GET", url=server.url + "/v1/clusters")
    SigV4Auth(Credentials(key, "wrong"), "memorydb", "us-east-1").add_auth(request)
    prepared = request.prepare()
    refused = plain.get(prepared.url, headers=dict(prepared.headers), timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "InvalidSignatureException"
    # Signed for another region: refused on this door too.
    request = AWSRequest(method="GET", url=server.url + "/v1/clusters")
    SigV4Auth(Credentials(key, secret), "memorydb", "eu-west-1").add_auth(request)
    prepared = request.prepare()
    refused = plain.get(prepared.url, headers=dict(prepared.headers), timeout=10)
    assert refused.status_code == 403 and "eu-west-1" in refused.json()["error"]["message"]


def test_a_signature_cannot_be_retargeted_or_used_in_another_region(server):
    mdb = client(server)
    mdb.create_cluster(ClusterName="victim", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False,
                       NumReplicasPerShard=0)
    # Signed without X-Amz-Target, which is then added: a captured signature replayed as DeleteCluster.
    status, body, _ = raw_call(server, "DescribeClusters", {"ClusterName": "victim"}, headers={"X-Amz-Target": None},
                               unsigned_headers={"X-Amz-Target": "AmazonMemoryDB.DeleteCluster"})
    assert status == 403, body
    check_error(body, "InvalidSignatureException")
    assert "x-amz-target" in body["message"]
    # Any other unsigned x-amz-* header is refused the same way.
    status, body, _ = raw_call(server, "DescribeClusters", unsigned_headers={"X-Amz-Security-Token": "forged"})
    assert status == 403 and "x-amz-security-token" in body["message"]
    status, body, _ = raw_call(server, "DescribeClusters", region="eu-west-1")
    assert status == 403
    check_error(body, "InvalidSignatureException")
    assert "eu-west-1" in body["message"] and "us-east-1" in body["message"]
    assert mdb.describe_clusters(ClusterName="victim")["Clusters"][0]["Status"] in ("creating", "available")


@pytest.mark.parametrize("operation", sorted(MODEL.operation_names))
def test_every_operation_answers_without_a_server_error(server, operation):
    status, body, _ = raw_call(server, operation, {})
    assert status in (200, 400), (status, body)
    if status == 400:
        assert body["__type"] and body["message"]
        assert body["__type"] != "InternalFailure"


def test_bad_targets_and_bodies(server):
    status, body, _ = raw_call(server, "NoSuchOperation")
    assert status == 400
    check_error(body, "UnknownOperationException")
    status, body, _ = raw_call(server, "DescribeClusters", body=b"{not json")
    assert status == 400
    check_error(body, "InvalidParameterValueException")
    status, body, _ = raw_call(server, "DescribeClusters", {"Bogus": 1})
    assert status == 400 and "Bogus" in body["message"]
    status, body, _ = raw_call(server, "DescribeClusters", {"MaxResults": "ten"})
    assert status == 400 and "MaxResults" in body["message"]
    status, body, _ = raw_call(server, "CreateCluster", {"ClusterName": "x", "NodeType": "db.t4g.small", "ACLName": "open-access", "TLSEnabled": 1})
    assert status == 400 and "TLSEnabled" in body["message"]
    status, body, _ = raw_call(server, "DescribeClusters", body=b"x" * (2 * 1024 * 1024))
    assert status == 413


def test_fidelity_with_aws_examples(server):
    """What AWS's own CLI examples and a third-party MemoryDB suite showed to differ."""
    mdb = client(server)
    created = mdb.create_cluster(ClusterName="fidelity", NodeType="db.t4g.small", ACLName="open-access", TLSEnabled=False,
                                 NumReplicasPerShard=0)["Cluster"]
    assert created["ParameterGroupStatus"] == "in-sync"
    # Not available yet: neither updated nor deleted, as on AWS.
    assert fault(mdb.update_cluster, ClusterName="fidelity", Description="x")[0] == "InvalidClusterStateFault"
    assert fault(mdb.delete_cluster, ClusterName="fidelity")[0] == "InvalidClusterStateFault"
    server.wait_for("fidelity", "available")
    events = mdb.describe_events(SourceName="fidelity")["Events"]
    assert [e["Date"] for e in events] == sorted((e["Date"] for e in events), reverse=True), "newest first"
    assert events[0]["Message"] == "Cluster is available"
    parameters = {p["Name"]: p for p in mdb.describe_parameters(ParameterGroupName="default.memorydb-redis6", MaxResults=100)["Parameters"]}
    assert {p["MinimumEngineVersion"] for p in parameters.values()} == {"6.2.4"}
    assert "Value" not in parameters["notify-keyspace-events"] and "AllowedValues" not in parameters["notify-keyspace-events"]
    assert parameters["set-max-intset-entries"]["AllowedValues"] == "0-"
    code, message = fault(mdb.create_subnet_group, SubnetGroupName="bad_name", SubnetIds=["subnet-us-east-1a"])
    assert code == "InvalidParameterValueException" and message.startswith("SubnetGroupName"), message
    # None given: the VPC's default group, as AWS reports it.
    assert mdb.describe_clusters(ClusterName="fidelity")["Clusters"][0]["SecurityGroups"] == [
        {"SecurityGroupId": "sg-memoryplane", "Status": "active"}]
    mdb.update_cluster(ClusterName="fidelity", SecurityGroupIds=["sg-0123abcd"])
    groups = mdb.describe_clusters(ClusterName="fidelity")["Clusters"][0]["SecurityGroups"]
    assert groups == [{"SecurityGroupId": "sg-0123abcd", "Status": "active"}]
    user = mdb.create_user(UserName="reader", AccessString="on ~app::* +@read", AuthenticationMode={"Type": "no-password"})["User"]
    assert user["AccessString"] == "on ~app::* resetchannels -@all +@read"
    # Filter names as AWS's documentation writes them ("For example, UserName"), and ours.
    for name in ("UserName", "user-name"):
        assert [u["Name"] for u in mdb.describe_users(Filters=[{"Name": name, "Values": ["reader"]}])["Users"]] == ["reader"]
    assert {u["Name"] for u in mdb.describe_users(Filters=[{"Name": "AccessString", "Values": [user["AccessString"]]}])["Users"]} == {"reader"}


def test_a_deleted_and_recreated_user_has_no_old_tags(server):
    mdb = client(server)
    arn = mdb.create_user(UserName="tagged", AccessString="on ~* +@read", AuthenticationMode={"Type": "no-password"},
                          Tags=[{"Key": "team", "Value": "a"}])["User"]["ARN"]
    assert mdb.list_tags(ResourceArn=arn)["TagList"] == [{"Key": "team", "Value": "a"}]
    mdb.delete_user(UserName="tagged")
    arn = mdb.create_user(UserName="tagged", AccessString="on ~* +@read", AuthenticationMode={"Type": "no-password"})["User"]["ARN"]
    assert mdb.list_tags(ResourceArn=arn)["TagList"] == []


def test_a_session_token_memoryplane_never_issued_is_refused(server):
    """boto3 signs a session token along with the request: MemoryPlane issues none, so any is
    forged, signed or not (it was accepted when signed)."""
    import boto3
    from botocore.config import Config

    key, secret = server.credentials
    forged = boto3.client("memorydb", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key,
                          aws_secret_access_key=secret, aws_session_token="forged-token", verify=server.verify,
                          config=Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        forged.describe_clusters()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert "session tokens" in refused.value.response["Error"]["Message"]
    assert client(server).describe_clusters()["Clusters"] == []

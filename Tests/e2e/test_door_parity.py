"""The two doors offer the same cluster: every member of botocore's shapes has a REST counterpart
(or a reason here why not), and the REST and AWS views of one cluster carry the same members."""
import re

from awsdoor import MODEL, client

# botocore member -> REST name, where lowerCamelCase alone does not give it.
RENAMED = {"Name": "name", "ClusterName": "name", "ARN": "arn", "TLSEnabled": "tlsEnabled", "ACLName": "aclName",
           "ShardConfiguration": "numShards", "ReplicaConfiguration": "numReplicasPerShard", "Tags": "tags"}

# Members neither door reports, and why.
NOT_REPORTED = {
    "KmsKeyId": "encryption at rest with a customer key is not offered; CreateCluster refuses KmsKeyId",
    "MultiRegionClusterName": "multi-Region clusters are not offered; CreateCluster refuses the member",
    "SnsTopicArn": "no SNS: events are read with DescribeEvents; CreateCluster refuses the member",
    "SnsTopicStatus": "no SNS (see SnsTopicArn)",
    "PendingUpdates": "no change is ever left pending: every accepted update is applied at once",
}


def rest_name(member):
    if member in RENAMED:
        return RENAMED[member]
    match = re.match(r"^([A-Z]+)(?=[A-Z][a-z]|$)", member)
    if match and len(match.group(1)) > 1:
        return match.group(1).lower() + member[len(match.group(1)):]
    return member[0].lower() + member[1:]


def allowed_fields(response):
    """The field list a REST 'Unknown field' refusal names."""
    message = response.json()["error"]["message"]
    return set(message.split("allowed fields are ", 1)[1].rstrip(".").split(", "))


def test_rest_and_aws_views_of_a_cluster_carry_the_same_members(server):
    created = server.request("POST", "/v1/clusters", json={
        "name": "parity", "nodeType": "db.t4g.small", "numShards": 1, "numReplicasPerShard": 0, "aclName": "open-access",
        "tlsEnabled": False, "securityGroupIds": ["sg-0abc"], "description": "both doors"})
    assert created.status_code == 202, created.text
    server.wait_for("parity", "available")
    rest = server.request("GET", "/v1/clusters/parity").json()
    aws = client(server).describe_clusters(ClusterName="parity", ShowShardDetails=True)["Clusters"][0]
    # REST adds what AWS has no member for: tags, operations in progress, the last error, and
    # MemoryPlane's own deletion protection and snapshot before engine updates.
    assert {rest_name(member) for member in aws} == set(rest) - {"tags", "operations", "lastError", "deletionProtection", "snapshotBeforeUpdate"}, \
        "REST has more than tags besides the AWS shape"
    assert rest["securityGroups"] == [{"securityGroupId": "sg-0abc", "status": "active"}]
    assert aws["SecurityGroups"] == [{"SecurityGroupId": "sg-0abc", "Status": "active"}]
    for member in MODEL.shape_for("Cluster").members:
        assert member in aws or member in NOT_REPORTED, f"Cluster.{member} is neither reported nor explained"


def test_every_create_and_update_member_has_a_rest_field(server):
    refused = server.request("POST", "/v1/clusters", json={"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access",
                                                           "noSuchField": 1})
    create_fields = allowed_fields(refused)
    for member in MODEL.operation_model("CreateCluster").input_shape.members:
        assert rest_name(member) in create_fields, f"CreateCluster.{member} has no REST field"
    server.create_cluster("upd", wait=True)
    refused = server.request("PATCH", "/v1/clusters/upd", json={"noSuchField": 1})
    update_fields = allowed_fields(refused)
    for member in MODEL.operation_model("UpdateCluster").input_shape.members:
        if member == "ClusterName":
            continue  # in the path
        assert rest_name(member) in update_fields, f"UpdateCluster.{member} has no REST field"


def test_updates_take_effect_or_are_refused_by_name_on_both_doors(server):
    server.create_cluster("upd", wait=True)
    patched = server.request("PATCH", "/v1/clusters/upd", json={
        "securityGroupIds": ["sg-1"], "maintenanceWindow": "tue:01:00-tue:02:30", "snapshotWindow": "04:00-05:00"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["maintenanceWindow"] == "tue:01:00-tue:02:30"
    assert patched.json()["snapshotWindow"] == "04:00-05:00"
    mdb = client(server)
    cluster = mdb.describe_clusters(ClusterName="upd")["Clusters"][0]
    assert cluster["MaintenanceWindow"] == "tue:01:00-tue:02:30" and cluster["SecurityGroups"][0]["SecurityGroupId"] == "sg-1"
    refused = server.request("PATCH", "/v1/clusters/upd", json={"engineVersion": "7.1"})
    assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("engineVersion cannot be changed")
    import botocore.exceptions
    try:
        mdb.update_cluster(ClusterName="upd", EngineVersion="7.1")
        raise AssertionError("EngineVersion was accepted")
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidParameterCombinationException"
        assert error.response["Error"]["Message"].startswith("EngineVersion cannot be changed"), error.response["Error"]["Message"]

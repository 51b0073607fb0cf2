"""Access keys with IAM-style policies, end to end: the admin makes a read-only key (REST) and a
CI key limited to clusters named ci-* (the CLI); boto3, the aws CLI and MemoryPlane's CLI then
get what each key's policy allows and AccessDeniedException naming the action otherwise."""
import json
import os

import botocore.exceptions
import pytest

from awsdoor import client
from memoryplane import BINARY, Server

CLUSTER = {"NodeType": "db.t4g.small", "ACLName": "open-access", "NumShards": 1, "NumReplicasPerShard": 0, "TLSEnabled": False}


def fault(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def cli(server, *args, key=None):
    """MemoryPlane's CLI, signing with `key` (id, secret) or the server's admin credentials."""
    import subprocess
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    command = [BINARY, *args, "--endpoint-url", server.url, "--output", "json"]
    if key:
        environment.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
    elif "--data-dir" not in args:
        command += ["--data-dir", server.data_dir]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout, result.stderr


def test_read_only_and_ci_keys_through_boto3_and_the_cli(server):
    response = server.request("POST", "/v1/access-keys", json={"name": "dashboards", "policy": "read-only"})
    assert response.status_code == 201, response.text
    reader = (response.json()["accessKeyId"], response.json()["secretAccessKey"])
    code, out, err = cli(server, "access-keys", "create", "pipeline-7", "--policy", "ci", "--prefix", "ci-")
    assert code == 0, err
    created = json.loads(out)
    ci = (created["accessKeyId"], created["secretAccessKey"])
    assert created["template"] == "ci" and created["status"] == "Active"

    # The read-only key reads, and changes nothing.
    ro = client(server, *reader)
    assert ro.describe_clusters()["Clusters"] == []
    assert ro.describe_acls()["ACLs"][0]["Name"] == "open-access"
    for call, params in [(ro.create_cluster, {"ClusterName": "ro-1", **CLUSTER}), (ro.delete_cluster, {"ClusterName": "any"}),
                         (ro.tag_resource, {"ResourceArn": "arn:aws:memorydb:us-east-1:000000000000:user/default",
                                            "Tags": [{"Key": "a", "Value": "b"}]})]:
        code, message, status = fault(call, **params)
        assert (code, status) == ("AccessDeniedException", 400), message
        assert "memorydb:" in message and "user/dashboards" in message
    metrics = server.request("GET", "/metrics", auth=reader)
    assert metrics.status_code == 200 and "memoryplane_" in metrics.text
    refused = server.request("PATCH", "/v1/clusters/any/alarms", auth=reader, json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AccessDeniedException"
    code, out, err = cli(server, "clusters", "create", "ro-2", "--set", "nodeType=db.t4g.small", "--set", "aclName=open-access", key=reader)
    assert code != 0 and "AccessDeniedException" in err and "memorydb:CreateCluster" in err
    assert ro.describe_clusters()["Clusters"] == []

    # The CI key creates and deletes its own clusters, and only those.
    mdb = client(server, *ci)
    mdb.create_cluster(ClusterName="ci-1", **CLUSTER)
    server.wait_for("ci-1", "available", timeout=60)
    code, message, _ = fault(mdb.create_cluster, ClusterName="prod-1", **CLUSTER)
    assert code == "AccessDeniedException" and "memorydb:CreateCluster" in message and "cluster/prod-1" in message
    client(server).create_cluster(ClusterName="prod-1", **CLUSTER)
    server.wait_for("prod-1", "available", timeout=60)
    code, message, _ = fault(mdb.delete_cluster, ClusterName="prod-1")
    assert code == "AccessDeniedException" and "memorydb:DeleteCluster" in message
    code, _, _ = fault(mdb.update_cluster, ClusterName="prod-1", Description="mine now")
    assert code == "AccessDeniedException"
    assert {c["Name"] for c in mdb.describe_clusters()["Clusters"]} == {"ci-1", "prod-1"}
    mdb.delete_cluster(ClusterName="ci-1")
    server.wait_for("ci-1", None, timeout=60)
    assert server.request("GET", "/v1/clusters/prod-1").json()["status"] == "available"

    # Deactivated: refused at once; active again: accepted.
    code, _, err = cli(server, "access-keys", "update", ci[0], "--status", "Inactive")
    assert code == 0, err
    code, message, status = fault(mdb.describe_clusters)
    assert code == "UnrecognizedClientException" and status == 403 and "inactive" in message
    assert cli(server, "access-keys", "update", ci[0], "--status", "Active")[0] == 0
    assert mdb.describe_clusters()["Clusters"]

    # The audit trail names each key and what was decided.
    events = server.request("GET", "/v1/audit", params={"accessKeyName": "pipeline-7", "decision": "denied"}).json()["events"]
    assert {e["operation"] for e in events} >= {"CreateCluster", "DeleteCluster", "UpdateCluster"}
    allowed = server.request("GET", "/v1/audit", params={"accessKeyName": "pipeline-7", "operation": "CreateCluster"}).json()["events"]
    assert any(e["decision"] == "allowed" and e["resource"] == "cluster/ci-1" for e in allowed)

    # Neither secret nor key id is ever logged.
    log = server.read_log()
    for secret in (reader[1], ci[1], server.credentials[1]):
        assert secret not in log
    for key_id in (reader[0], ci[0], server.credentials[0]):
        assert key_id not in log
    client(server).delete_cluster(ClusterName="prod-1")
    server.wait_for("prod-1", None, timeout=60)


def test_an_unissued_session_token_is_refused_and_keys_survive_a_restart(make_server):
    server = make_server().start()
    admin_id, admin_secret = server.credentials
    import boto3
    forged = boto3.client("memorydb", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=admin_id,
                          aws_secret_access_key=admin_secret, aws_session_token="FwoGZXIvYXdzEforged")
    code, message, status = fault(forged.describe_clusters)
    assert code == "UnrecognizedClientException" and status == 403 and "session token" in message

    response = server.request("POST", "/v1/access-keys", json={"name": "dashboards", "policy": "read-only"})
    reader = (response.json()["accessKeyId"], response.json()["secretAccessKey"])
    server.kill()
    restarted = Server(data_dir=server.data_dir)
    restarted.port, restarted.range, restarted.url = server.port, server.range, server.url
    try:
        restarted.start()
        assert client(restarted, *reader).describe_clusters()["Clusters"] == []
        assert fault(client(restarted, *reader).create_acl, ACLName="x")[0] == "AccessDeniedException"
        # The database holds no secret in clear: it is sealed under access-keys.key (0600).
        for name in ("memoryplane.sqlite", "memoryplane.sqlite-wal"):
            path = os.path.join(server.data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as database:
                    assert reader[1].encode() not in database.read(), name
        assert os.stat(os.path.join(server.data_dir, "access-keys.key")).st_mode & 0o777 == 0o600
        keys = restarted.request("GET", "/v1/access-keys").json()["accessKeys"]
        assert [k["name"] for k in keys] == ["admin", "dashboards"]
        admin = keys[0]["accessKeyId"]
        last = restarted.request("DELETE", f"/v1/access-keys/{admin}")
        assert last.status_code == 409 and last.json()["error"]["code"] == "InvalidAccessKeyStateFault"
    finally:
        restarted.cleanup()


def test_a_stack_keeps_a_key_and_the_cli_shows_its_secret_once(server, tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("stack: keys\naccessKeys:\n  - name: pipeline-9\n    policy: ci\n    prefix: ci-\n")
    code, out, err = cli(server, "apply", "-f", str(path), "--auto-approve", "--data-dir", server.data_dir)
    assert code == 0, err
    # Progress lines come first, then the stack as JSON.
    created = json.loads(out[out.index("\n{") + 1:])["newAccessKeys"]
    assert [k["name"] for k in created] == ["pipeline-9"]
    key = (created[0]["accessKeyId"], created[0]["secretAccessKey"])
    mdb = client(server, *key)
    assert mdb.describe_clusters()["Clusters"] == []
    assert fault(mdb.create_user, UserName="prod-u", AccessString="on ~* +@read",
                 AuthenticationMode={"Type": "no-password-required"})[0] == "AccessDeniedException"
    stack = server.request("GET", "/v1/stacks/keys").json()
    assert "newAccessKeys" not in stack and stack["outputs"]["access-key.pipeline-9.accessKeyId"] == key[0]
    code, _, err = cli(server, "destroy", "--stack", "keys", "--auto-approve", "--data-dir", server.data_dir)
    assert code == 0, err
    assert fault(mdb.describe_clusters)[0] == "UnrecognizedClientException"

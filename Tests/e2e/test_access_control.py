"""Users and ACLs through boto3 and REST, enforced on every node of a TLS cluster."""
import os
import re
import subprocess
import time

import botocore.exceptions
import pytest

from awsdoor import check_output, client, raw_call
from test_parameter_groups import admin_config_get_tls, wait_in_sync

PASSWORD = "app-password-0123456789"


def as_user(server, port, user, password, *command):
    out = subprocess.run(["redis-cli", "--tls", "--cacert", os.path.join(server.data_dir, "ca.pem"), "-p", str(port),
                          "--user", user, "--pass", password, "--no-auth-warning", *command],
                         capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).strip()


def test_users_acls_and_parameters_hold_on_every_node(server):
    mdb = client(server)
    mdb.create_parameter_group(ParameterGroupName="tuned", Family="memorydb_redis7")
    mdb.update_parameter_group(ParameterGroupName="tuned", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}, {"ParameterName": "timeout", "ParameterValue": "300"}])
    user = mdb.create_user(UserName="App", AccessString="on ~app:* +@read +@write",
                           AuthenticationMode={"Type": "password", "Passwords": [PASSWORD]})["User"]
    assert user["Name"] == "app" and user["Status"] == "active"
    # As Redis (and so AWS) prints it.
    assert user["AccessString"] == "on ~app:* resetchannels -@all +@write +@read"
    assert user["Authentication"] == {"Type": "password", "PasswordCount": 1}
    acl = mdb.create_acl(ACLName="apps", UserNames=["app"])["ACL"]
    assert acl["Status"] == "creating"
    assert mdb.describe_acls(ACLName="apps")["ACLs"][0]["Status"] == "active"
    status, raw, _ = raw_call(server, "DescribeUsers", {})
    check_output("DescribeUsers", raw)
    assert PASSWORD not in str(raw)

    mdb.create_cluster(ClusterName="guarded", NodeType="db.t4g.small", ACLName="apps", ParameterGroupName="tuned",
                       NumShards=2, NumReplicasPerShard=1)
    cluster = wait_in_sync(mdb, "guarded")
    nodes = [n for s in cluster["Shards"] for n in s["Nodes"]]
    endpoint = cluster["ClusterEndpoint"]["Port"]
    tls = ["redis-cli", "--tls", "--cacert", os.path.join(server.data_dir, "ca.pem"), "-c", "-p", str(endpoint),
           "--user", "app", "--pass", PASSWORD, "--no-auth-warning"]
    assert subprocess.run([*tls, "SET", "app:1", "v"], capture_output=True, text=True).stdout.strip() == "OK"
    assert "NOPERM" in subprocess.run([*tls, "SET", "other:1", "v"], capture_output=True, text=True).stdout
    assert "NOPERM" in subprocess.run([*tls, "FLUSHALL"], capture_output=True, text=True).stdout
    assert "WRONGPASS" in as_user(server, nodes[0]["Endpoint"]["Port"], "app", "not-the-password-000", "GET", "app:1")
    for node in nodes:
        reply = as_user(server, node["Endpoint"]["Port"], "app", PASSWORD, "GET", "app:1")
        assert "WRONGPASS" not in reply and "NOPERM" not in reply, reply
        assert admin_config_get_tls(server, node, "maxmemory-policy") == "allkeys-lru"
        assert admin_config_get_tls(server, node, "timeout") == "300"

    mdb.update_parameter_group(ParameterGroupName="tuned", ParameterNameValues=[{"ParameterName": "timeout", "ParameterValue": "900"}])
    wait_in_sync(mdb, "guarded")
    assert all(admin_config_get_tls(server, n, "timeout") == "900" for n in nodes)

    mdb.update_acl(ACLName="apps", UserNamesToRemove=["app"])
    deadline = time.time() + 20
    while time.time() < deadline:
        if all("WRONGPASS" in as_user(server, n["Endpoint"]["Port"], "app", PASSWORD, "GET", "app:1") for n in nodes):
            break
        time.sleep(0.1)
    assert all("WRONGPASS" in as_user(server, n["Endpoint"]["Port"], "app", PASSWORD, "GET", "app:1") for n in nodes)

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.delete_acl(ACLName="apps")
    assert raised.value.response["Error"]["Code"] == "InvalidACLStateFault"
    assert [u["Name"] for u in mdb.describe_users()["Users"]] == ["app", "default"]
    assert mdb.describe_acls(ACLName="open-access")["ACLs"][0]["UserNames"] == ["default"]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.create_user(UserName="bad", AccessString="on >password ~*", AuthenticationMode={"Type": "no-password"})
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        mdb.create_user(UserName="iam", AccessString="on ~*", AuthenticationMode={"Type": "iam"})
    assert "not supported" in raised.value.response["Error"]["Message"]
    mdb.delete_user(UserName="app")
    assert mdb.describe_acls(ACLName="apps")["ACLs"][0]["UserNames"] == []

    # Switching the running cluster to open-access lets the default user in.
    ca = os.path.join(server.data_dir, "ca.pem")
    denied = subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-c", "-p", str(endpoint), "GET", "app:1"], capture_output=True, text=True).stdout
    assert "NOAUTH" in denied or "NOPERM" in denied or "WRONGPASS" in denied or "disabled" in denied.lower(), denied
    assert mdb.update_cluster(ClusterName="guarded", ACLName="open-access")["Cluster"]["ACLName"] == "open-access"
    deadline = time.time() + 20
    while time.time() < deadline:
        if subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-c", "-p", str(endpoint), "GET", "app:1"], capture_output=True, text=True).stdout.strip() == "v":
            break
        time.sleep(0.1)
    assert subprocess.run(["redis-cli", "--tls", "--cacert", ca, "-c", "-p", str(endpoint), "GET", "app:1"], capture_output=True, text=True).stdout.strip() == "v"
    mdb.delete_acl(ACLName="apps")


def test_users_and_acls_through_rest(server):
    created = server.request("POST", "/v1/users", json={"name": "reader", "accessString": "on ~* +@read",
                                                        "authenticationMode": {"type": "password", "passwords": [PASSWORD]}})
    assert created.status_code == 201, created.text
    assert created.json()["authentication"] == {"type": "password", "passwordCount": 1}
    assert server.request("POST", "/v1/acls", json={"name": "readers", "userNames": ["reader"]}).status_code == 201
    assert server.request("PATCH", "/v1/users/reader", json={"accessString": "on ~* +@read +@write"}).json()["accessString"] == \
        "on ~* resetchannels -@all +@write +@read"
    assert server.request("PATCH", "/v1/acls/readers", json={"userNamesToRemove": ["reader"]}).json()["userNames"] == []
    assert server.request("DELETE", "/v1/acls/readers").status_code == 200
    assert server.request("DELETE", "/v1/users/reader").status_code == 200
    assert server.request("DELETE", "/v1/users/default").status_code == 400


def test_access_strings_with_control_characters_or_refused_by_redis_are_400(server):
    for access in ["on ~a\u0000b +get", "on ~x\u008d +get"]:
        refused = server.request("POST", "/v1/users", json={"name": "odd", "accessString": access,
                                                            "authenticationMode": {"type": "no-password"}})
        assert refused.status_code == 400 and "control characters" in refused.json()["error"]["message"], refused.text
    kept = server.request("POST", "/v1/users", json={"name": "wide", "accessString": "on ~ø* +get",
                                                     "authenticationMode": {"type": "no-password"}})
    assert kept.status_code == 201 and kept.json()["accessString"] == "on ~ø* resetchannels -@all +get"

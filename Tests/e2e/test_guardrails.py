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

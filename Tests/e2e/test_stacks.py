"""Declarative stacks end to end, as a CI job uses them: the `memoryplane` CLI (plan, apply,
output, destroy) and `PUT/GET/DELETE /v1/stacks`, over a real server with real nodes."""
import os
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from awsdoor import aws_cli
from memoryplane import BINARY, Server, processes_in

PASSWORD = "ci-app-password-0123456789"

EXAMPLE = """stack: ci-cache
parameterGroups:
  - name: ci-tuned
    family: memorydb_redis7
    parameters: {maxmemory-policy: allkeys-lru}
users:
  - name: ci-app
    accessString: "on ~app:* +@all"
    authenticationMode: {type: password, passwords: ["${env:CI_APP_PASSWORD}"]}
acls:
  - name: ci-acl
    userNames: [ci-app]
clusters:
  - name: ci-cache
    nodeType: db.t4g.small
    numShards: 2
    numReplicasPerShard: 1
    aclName: ci-acl
    parameterGroupName: ci-tuned
"""


def cli(server, *args, env=None, timeout=300):
    """Runs the CLI against the server, its credentials read from the server's data directory."""
    command = [BINARY, *args, "--endpoint-url", server.url, "--data-dir", server.data_dir]
    environment = dict(os.environ)
    environment["CI_APP_PASSWORD"] = PASSWORD
    environment.update(env or {})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "MEMORYPLANE_ENDPOINT_URL"):
        environment.pop(name, None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout, result.stderr


def write(tmp_path, text, name="stack.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def stack(server, name):
    return server.request("GET", f"/v1/stacks/{name}").json()


def tls_cli(server, endpoint, *args):
    host, port = endpoint.rsplit(":", 1)
    return subprocess.run(
        ["redis-cli", "--tls", "--cacert", os.path.join(server.data_dir, "ca.pem"), "-h", host, "-p", port, "-c",
         "--user", "ci-app", "--pass", PASSWORD, "--no-auth-warning", *args],
        capture_output=True, text=True, timeout=30).stdout.strip()


def test_the_ci_example_from_plan_to_destroy(server, tmp_path):
    path = write(tmp_path, EXAMPLE)
    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 2, out + err
    assert "+ cluster ci-cache will be created" in out and "Plan: 4 to create" in out

    code, out, err = cli(server, "apply", "-f", path, "--auto-approve")
    assert code == 0, out + err
    assert "create cluster ci-cache done" in out and "Apply complete." in out
    assert "ci-cache.endpoint = 127.0.0.1:" in out

    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out

    # The endpoint from `output` takes the stack's own user over TLS, within its key pattern.
    code, endpoint, err = cli(server, "output", "-f", path, "ci-cache.endpoint")
    endpoint = endpoint.strip()
    assert code == 0 and endpoint.startswith("127.0.0.1:"), err
    assert tls_cli(server, endpoint, "SET", "app:1", "one") == "OK"
    assert tls_cli(server, endpoint, "GET", "app:1") == "one"
    assert "NOPERM" in tls_cli(server, endpoint, "SET", "other", "x")

    # The password is in no stored document, no log, no plan.
    database = sqlite3.connect(os.path.join(server.data_dir, "memoryplane.sqlite"))
    stored = database.execute("SELECT document FROM stacks").fetchone()[0]
    database.close()
    assert PASSWORD not in stored and "passwordHashes" in stored
    assert PASSWORD not in server.read_log()
    assert PASSWORD not in server.request("GET", "/v1/stacks/ci-cache").text

    # A parameter and the shard count change in place.
    changed = EXAMPLE.replace("allkeys-lru", "volatile-lru").replace("numShards: 2", "numShards: 3")
    path = write(tmp_path, changed)
    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 2, out + err
    assert "parameters.maxmemory-policy: allkeys-lru -> volatile-lru" in out and "numShards: 2 -> 3" in out
    assert "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete, 2 unchanged." in out
    code, out, err = cli(server, "apply", "-f", path, "--auto-approve")
    assert code == 0, out + err
    cluster = server.request("GET", "/v1/clusters/ci-cache").json()
    assert cluster["numberOfShards"] == 3 and cluster["status"] == "available" and cluster["parameterGroupStatus"] == "in-sync"
    parameters = server.request("GET", "/v1/parameter-groups/ci-tuned/parameters", params={"maxResults": 100}).json()["parameters"]
    assert {p["name"]: p["value"] for p in parameters}["maxmemory-policy"] == "volatile-lru"
    assert tls_cli(server, endpoint, "GET", "app:1") == "one"

    # Changed through the AWS CLI: drift in GET, an update back in the next plan.
    code, _, err = aws_cli(server, "update-cluster", "--cluster-name", "ci-cache", "--snapshot-retention-limit", "5")
    assert code == 0, err
    drift = stack(server, "ci-cache")["drift"]
    assert drift == [{"type": "cluster", "name": "ci-cache", "action": "update",
                      "fields": [{"field": "snapshotRetentionLimit", "from": "5", "to": "0", "forcesReplacement": False}]}]
    code, out, _ = cli(server, "stacks", "get", "ci-cache")
    assert code == 0 and "drift" in out
    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 2 and "snapshotRetentionLimit: 5 -> 0" in out, out + err
    assert cli(server, "apply", "-f", path, "--auto-approve")[0] == 0
    assert cli(server, "plan", "-f", path, "--detailed-exitcode")[0] == 0
    assert stack(server, "ci-cache")["drift"] == []

    # Destroy leaves nothing: no resource, no process, no stack.
    code, out, err = cli(server, "destroy", "-f", path, "--auto-approve")
    assert code == 0, out + err
    assert server.request("GET", "/v1/stacks/ci-cache").status_code == 404
    assert server.request("GET", "/v1/clusters/ci-cache").status_code == 404
    assert server.request("GET", "/v1/users", params={"name": "ci-app"}).status_code == 404
    assert server.request("GET", "/v1/acls", params={"name": "ci-acl"}).status_code == 404
    assert server.request("GET", "/v1/parameter-groups", params={"name": "ci-tuned"}).status_code == 404
    assert not [pid for pid, (comm, _) in processes_in(server.data_dir).items() if comm == "redis-server"]
    code, out, _ = cli(server, "destroy", "-f", path, "--auto-approve")
    assert code == 0 and "nothing to destroy" in out


OPEN = """stack: plain
clusters:
  - name: plain
    nodeType: db.t4g.small
    numReplicasPerShard: 0
    aclName: open-access
    tlsEnabled: false
"""


def test_a_create_only_field_replaces_the_cluster(server, tmp_path):
    path = write(tmp_path, OPEN)
    assert cli(server, "apply", "-f", path, "--auto-approve")[0] == 0
    first = server.request("GET", "/v1/clusters/plain").json()
    path = write(tmp_path, OPEN.replace("tlsEnabled: false", "tlsEnabled: true"))
    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 2, out + err
    assert "-/+ cluster plain must be replaced" in out
    assert "tlsEnabled cannot be changed in place (create-only)" in out
    assert "tlsEnabled: false -> true   # forces replacement" in out
    code, out, err = cli(server, "apply", "-f", path, "--auto-approve", "--output", "json")
    assert code == 0, out + err
    second = server.request("GET", "/v1/clusters/plain").json()
    assert second["tlsEnabled"] is True and second["status"] == "available"
    assert second["shards"][0]["nodes"][0]["createTime"] != first["shards"][0]["nodes"][0]["createTime"]
    # A resource the document no longer names is deleted by the next apply.
    with_acl = OPEN.replace("tlsEnabled: false", "tlsEnabled: true") + "acls:\n  - name: extra\n"
    assert cli(server, "apply", "-f", write(tmp_path, with_acl, name="with-acl.yaml"), "--auto-approve")[0] == 0
    assert server.request("GET", "/v1/acls", params={"name": "extra"}).status_code == 200
    code, out, err = cli(server, "plan", "-f", path, "--detailed-exitcode")
    assert code == 2 and "- acl extra will be deleted" in out, out + err
    assert cli(server, "apply", "-f", path, "--auto-approve")[0] == 0
    assert server.request("GET", "/v1/acls", params={"name": "extra"}).status_code == 404
    assert cli(server, "destroy", "--stack", "plain", "--auto-approve")[0] == 0


def test_one_apply_per_stack_at_a_time(server):
    body = OPEN.replace("stack: plain", "stack: busy")
    first = server.request("PUT", "/v1/stacks/busy", data=body, headers={"Content-Type": "application/yaml"})
    assert first.status_code == 202, first.text
    assert first.json()["stack"]["status"] == "applying"
    second = server.request("PUT", "/v1/stacks/busy", data=body)
    assert second.status_code == 409 and second.json()["error"]["code"] == "StackBusyFault", second.text
    destroy = server.request("DELETE", "/v1/stacks/busy")
    assert destroy.status_code == 409 and destroy.json()["error"]["code"] == "StackBusyFault"
    # A plan is no apply: it is answered meanwhile.
    assert server.request("PUT", "/v1/stacks/busy?dryRun=true", data=body).status_code == 200
    deadline = time.time() + 60
    while time.time() < deadline and stack(server, "busy")["status"] == "applying":
        time.sleep(0.1)
    assert stack(server, "busy")["status"] == "applied"
    # Another stack cannot take what this one owns.
    thief = server.request("PUT", "/v1/stacks/thief?dryRun=true", data=body.replace("stack: busy", "stack: thief"))
    assert thief.status_code == 409 and "cluster plain belongs to stack 'busy'" in thief.json()["error"]["message"]
    gone = server.request("DELETE", "/v1/stacks/busy?wait=true")
    assert gone.status_code == 204, gone.text


def test_a_failed_apply_names_the_resource_and_the_next_one_picks_up(server, tmp_path):
    # A port the cluster asks for is taken: its creation fails after the ACL was made.
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = server.range[0] + 60
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    text = OPEN.replace("stack: plain", "stack: retry").replace("aclName: open-access", "aclName: mine") \
        + f"    port: {port}\nacls:\n  - name: mine\n"
    text = text.replace("tlsEnabled: false", "tlsEnabled: true")
    path = write(tmp_path, text)
    try:
        code, out, err = cli(server, "apply", "-f", path, "--auto-approve")
        assert code == 1, out + err
        assert "error: Apply of stack retry failed: cluster plain:" in err and f"{port}" in err
        failed = stack(server, "retry")
        assert failed["status"] == "failed"
        assert [(s["type"], s["state"]) for s in failed["lastRun"]["steps"]] == [("acl", "done"), ("cluster", "failed")]
    finally:
        blocker.close()
    code, out, err = cli(server, "apply", "-f", path, "--auto-approve")
    assert code == 0, out + err
    steps = stack(server, "retry")["lastRun"]["steps"]
    assert [(s["type"], s["action"]) for s in steps] == [("cluster", "create")]
    assert server.request("GET", "/v1/clusters/plain").json()["clusterEndpoint"]["port"] == port
    assert cli(server, "destroy", "--stack", "retry", "--auto-approve")[0] == 0


def test_an_apply_cut_short_by_a_crash_is_finished_by_the_next(make_server, tmp_path):
    server = make_server().start()
    body = OPEN.replace("stack: plain", "stack: crash")
    assert server.request("PUT", "/v1/stacks/crash", data=body).status_code == 202
    time.sleep(0.3)
    server.kill(signal.SIGKILL)
    server.start()
    interrupted = stack(server, "crash")
    assert interrupted["status"] == "failed"
    assert interrupted["lastRun"]["outcome"] == "interrupted"
    path = write(tmp_path, body)
    code, out, err = cli(server, "apply", "-f", path, "--auto-approve")
    assert code == 0, out + err
    assert server.request("GET", "/v1/clusters/plain").json()["status"] == "available"
    assert cli(server, "destroy", "-f", path, "--auto-approve")[0] == 0


def test_bad_documents_are_refused_with_their_line_and_column(server, tmp_path):
    def put(text, name="s", query=""):
        return server.request("PUT", f"/v1/stacks/{name}{query}", data=text if isinstance(text, bytes) else text.encode())

    for text, phrase in [
        ("stack: s\nclusters: [\n", "line 3, column 1: not valid YAML"),
        ("stack: s\nclusters:\n  - name: c\n    nodeTyp: db.t4g.small\n    aclName: open-access\n",
         "line 4, column 5, clusters[0].nodeTyp: unknown field 'nodeTyp' — did you mean 'nodeType'?"),
        ("stack: s\nclusters:\n  - {name: c, nodeType: db.t4g.small, aclName: open-access, numShards: many}\n",
         "clusters[0].numShards: must be a whole number; got 'many'"),
        ("stack: s\nclusters:\n  - {name: c, nodeType: db.t4g.small, aclName: ghost}\n", "no ACL named 'ghost'"),
        ("stack: other\n", "was sent to /v1/stacks/s"),
        ("stack: s\nusers:\n  - {name: u, accessString: on, authenticationMode: {type: password, passwords: ['${env:P}']}}\n",
         "filled in by the memoryplane CLI"),
        ("stack: s\nclusters:\n  - {name: c, nodeType: db.nope, aclName: open-access}\n", "clusters[0] (c):"),
        (b"stack: \xff\xfe\n", "not UTF-8"),
    ]:
        response = put(text)
        assert response.status_code == 400, (text, response.text)
        assert phrase in response.json()["error"]["message"], (text, response.text)
    assert server.request("GET", "/v1/stacks").json() == {"stacks": []}
    assert server.request("GET", "/v1/stacks/none").status_code == 404
    assert server.request("DELETE", "/v1/stacks/none").json()["error"]["code"] == "StackNotFoundFault"
    assert put("stack: s\n", query="?dryRun=maybe").status_code == 400
    both = put("stack: s\n", query="?dryRun=true&wait=true")
    assert both.status_code == 400 and both.json()["error"]["code"] == "InvalidParameterCombinationException"

    # The CLI says where, in the file it read.
    path = write(tmp_path, "stack: s\nacls:\n  - name: a\n    userNames: [ghost]\n")
    code, out, err = cli(server, "plan", "-f", path)
    assert code == 1 and f"{path}:4:17: acls[0].userNames[0]: no user named 'ghost'" in err, err
    code, _, err = cli(server, "plan", "-f", write(tmp_path, EXAMPLE, name="example.yaml"), env={"CI_APP_PASSWORD": "short"})
    assert code == 1 and "users[0] (ci-app): Passwords must be 16 to 128" in err, err
    # A resource made outside any stack is not taken over.
    assert server.create_cluster("loose").status_code == 202
    code, _, err = cli(server, "plan", "-f", write(tmp_path, OPEN.replace("name: plain", "name: loose"), name="loose.yaml"))
    assert code == 1 and "cluster loose already exists outside any stack" in err, err
    code, _, err = cli(server, "apply", "-f", path)
    assert code == 1 and "no user named 'ghost'" in err


def test_resource_verbs(server):
    code, out, err = cli(server, "clusters", "create", "verbs", "--set", "nodeType=db.t4g.small", "--set", "aclName=open-access",
                         "--set", "tlsEnabled=false", "--set", "numReplicasPerShard=0", "--wait")
    assert code == 0, out + err
    assert "verbs: available" in out
    code, out, _ = cli(server, "clusters", "list")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["NAME", "STATUS"] and "verbs  available" in out
    code, out, _ = cli(server, "clusters", "get", "verbs", "--output", "json")
    assert code == 0 and '"name" : "verbs"' in out
    code, out, err = cli(server, "users", "create", "--json", '{"name": "u1", "accessString": "on ~* +@read", '
                         '"authenticationMode": {"type": "password", "passwords": ["abcdefghijklmnop1"]}}')
    assert code == 0, err
    assert cli(server, "users", "get", "u1")[0] == 0
    code, _, err = cli(server, "users", "get", "nobody")
    assert code == 1 and "UserNotFoundFault" in err
    code, out, _ = cli(server, "events", "list", "--source", "verbs")
    assert code == 0 and "verbs" in out
    code, out, err = cli(server, "clusters", "delete", "verbs", "--wait")
    assert code == 0 and "deleted" in out, err
    assert cli(server, "users", "delete", "u1")[0] == 0
    # A wait that runs out says what it waited for.
    code, out, err = cli(server, "clusters", "create", "slow", "--set", "nodeType=db.t4g.small", "--set", "aclName=open-access",
                         "--set", "tlsEnabled=false", "--wait", "--timeout", "0")
    assert code == 1 and "Timed out after 0 s waiting for clusters slow to be available; it is creating." in err, out + err
    server.wait_for("slow", "available")
    assert cli(server, "clusters", "delete", "slow", "--wait")[0] == 0

    # Credentials: the server's own file (above), a profile, the AWS_* variables; a wrong key is refused.
    key, secret = server.credentials
    bare = {"PATH": os.environ["PATH"], "HOME": "/nonexistent"}

    def run(*args, env):
        result = subprocess.run([BINARY, "clusters", "list", "--endpoint-url", server.url, "--data-dir", "/nonexistent", *args],
                                capture_output=True, text=True, env=env, timeout=60)
        return result.returncode, result.stderr

    assert run(env=bare)[0] == 1
    assert run("--profile", "memoryplane", env=dict(bare, AWS_SHARED_CREDENTIALS_FILE=os.path.join(server.data_dir, "credentials")))[0] == 0
    assert run(env=dict(bare, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret))[0] == 0
    code, err = run(env=dict(bare, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY="wrong" + secret))
    assert code == 1 and "InvalidSignatureException" in err, err
    code, err = run("--profile", "nobody", env=bare)
    assert code == 1 and "--profile nobody" in err

"""Observability end to end: /metrics under load (parsed by Prometheus' own parser), replication
lag when a replica stops, an alarm when memory crosses its threshold, the merged slow log, the
advisor's findings and their fixes, and the audit trail of boto3, curl and stack changes."""
import os
import signal
import subprocess
import time

import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from awsdoor import client as aws_client
from memoryplane import BINARY, Server


def scrape(server):
    response = server.request("GET", "/metrics")
    assert response.status_code == 200, response.text
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    return families


def samples(families, name, **labels):
    family = families.get(name)
    if family is None:
        return []
    return [s for s in family.samples if s.name in (name, name + "_total") and all(s.labels.get(k) == v for k, v in labels.items())]


def total(families, name, **labels):
    return sum(s.value for s in samples(families, name, **labels))


def wait_until(check, timeout=30, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    return check()


def node_pid(server, node):
    directory = os.path.join(server.data_dir, "nodes", node)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd") == directory and open(f"/proc/{pid}/comm").read().strip() == "redis-server":
                    return int(pid)
            except OSError:
                pass
    return None


def test_metrics_lag_alarm_and_slowlog_on_a_loaded_cluster(make_server):
    # A stopped replica is left alone for 10 s (not fenced and restarted), so its lag can show.
    server = make_server(extra_args=["--metrics-interval", "1", "--node-failure-timeout", "10000"]).start()
    # Every command goes to the slow log (a parameter of the group), so the merge has entries.
    assert server.request("POST", "/v1/parameter-groups", json={"name": "slow", "family": "memorydb_redis7"}).status_code == 201
    assert server.request("PATCH", "/v1/parameter-groups/slow", json={"parameters": {"slowlog-log-slower-than": "0", "slowlog-max-len": "256"}}).status_code == 200
    created = server.create_cluster("obs", shards=3, replicas=1, wait=True, parameterGroupName="slow")
    assert created.status_code == 201, created.text
    cluster = created.json()
    endpoint = cluster["clusterEndpoint"]["port"]
    assert wait_until(lambda: len(samples(scrape(server), "memorydb_is_primary", cluster="obs")) == 6)

    # Authenticated like the rest of the API.
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 401
    before = scrape(server)
    # Every node is labelled; the CloudWatch name is in each family's HELP.
    primaries = samples(before, "memorydb_is_primary", cluster="obs")
    assert sorted(s.value for s in primaries) == [0, 0, 0, 1, 1, 1]
    assert {s.labels["availability_zone"] for s in primaries} and {s.labels["shard"] for s in primaries} == {"0001", "0002", "0003"}
    assert "CloudWatch DatabaseMemoryUsagePercentage" in before["memorydb_database_memory_usage_percent"].documentation
    assert total(before, "memoryplane_http_requests") > 0

    result = subprocess.run(["redis-benchmark", "-p", str(endpoint), "--cluster", "-n", "30000", "-t", "set,get", "-q"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # redis-benchmark counts the requests it had redirected (-MOVED) too: most of its 30,000 land.
    # The metrics are read every second, so the first reading after the run may predate its end.
    def rose(families):
        sets = total(families, "memorydb_set_type_cmds", cluster="obs", role="primary") - total(before, "memorydb_set_type_cmds", cluster="obs", role="primary")
        gets = total(families, "memorydb_get_type_cmds", cluster="obs", role="primary") - total(before, "memorydb_get_type_cmds", cluster="obs", role="primary")
        lookups = sum(total(families, name, cluster="obs") - total(before, name, cluster="obs")
                      for name in ("memorydb_keyspace_hits", "memorydb_keyspace_misses"))
        return families if sets >= 20000 and gets >= 20000 and lookups >= 20000 else None
    after = wait_until(lambda: rose(scrape(server)))
    assert after, "the command and lookup counts did not rise with the load"
    assert total(after, "memorydb_network_bytes_in", cluster="obs") > total(before, "memorydb_network_bytes_in", cluster="obs")
    lags = samples(after, "memorydb_replication_lag_seconds", cluster="obs")
    assert len(lags) == 3 and all(s.value <= 1 for s in lags), lags

    # A stopped replica: its lag, as its primary sees it, grows.
    replica = next(n for s in cluster["shards"] for n in s["nodes"] if n["role"] == "replica")
    pid = node_pid(server, replica["name"])
    os.kill(pid, signal.SIGSTOP)
    try:
        lagging = wait_until(lambda: [s for s in samples(scrape(server), "memorydb_replication_lag_seconds", node=replica["name"]) if s.value >= 3],
                             timeout=8)
        assert lagging, "the stopped replica's lag did not grow"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_until(lambda: all(s.value <= 1 for s in samples(scrape(server), "memorydb_replication_lag_seconds", node=replica["name"])))

    # Memory crossing its threshold raises an alarm event; lowering the data clears it.
    usage = max(s.value for s in samples(scrape(server), "memorydb_database_memory_usage_percent", cluster="obs", role="primary"))
    threshold = round(usage + 0.3, 2)
    assert server.request("PATCH", "/v1/clusters/obs/alarms", json={"thresholds": {"DatabaseMemoryUsagePercentage": threshold}}).status_code == 200
    writer = redis.RedisCluster(host="127.0.0.1", port=endpoint)
    value = b"x" * 8192
    for n in range(2400):  # about 20 MB over three shards
        writer.set(f"fill:{n}", value)
    raised = wait_until(lambda: [a for a in server.request("GET", "/v1/clusters/obs/alarms").json()["alarms"]
                                 if a["metric"] == "DatabaseMemoryUsagePercentage"])
    assert raised and all(a["value"] > threshold for a in raised), raised
    events = server.request("GET", "/v1/events", params={"sourceName": "obs"}).json()["events"]
    assert any(e["message"].startswith("Alarm DatabaseMemoryUsagePercentage on node") for e in events), events
    for n in range(2400):
        writer.delete(f"fill:{n}")
    writer.close()
    assert wait_until(lambda: not server.request("GET", "/v1/clusters/obs/alarms").json()["alarms"], timeout=30)
    events = server.request("GET", "/v1/events", params={"sourceName": "obs"}).json()["events"]
    assert any("cleared" in e["message"] for e in events)

    # The slow log of every node, merged newest first, each entry with its node and role.
    log = server.request("GET", "/v1/clusters/obs/slowlog", params={"maxResults": 1024}).json()
    entries = log["entries"]
    assert len(entries) == 1024 and log["unreachable"] == []  # 6 nodes keep 256 each (the group's slowlog-max-len)
    assert {e["role"] for e in entries} == {"primary", "replica"} and len({e["node"] for e in entries}) >= 4
    assert any(e["command"][:1] == ["DEL"] and e["command"][1].startswith("fill:") for e in entries)
    assert [e["time"] for e in entries] == sorted((e["time"] for e in entries), reverse=True)

    # JSON for one cluster, with a short history.
    metrics = server.request("GET", "/v1/clusters/obs/metrics").json()
    assert len(metrics["nodes"]) == 6 and len(metrics["history"]) >= 3
    assert all("CurrConnections" in n["values"] for n in metrics["nodes"])


def findings(server, cluster):
    response = server.request("GET", f"/v1/clusters/{cluster}/advisor")
    assert response.status_code == 200, response.text
    return {f["rule"] for f in response.json()["findings"]}


def test_the_advisor_flags_and_stops_flagging_after_the_fix(make_server):
    server = make_server(extra_args=["--metrics-interval", "1", "--metrics-public"]).start()
    # --metrics-public opens /metrics alone.
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 200
    assert requests.get(server.url + "/v1/clusters", timeout=10).status_code == 401
    assert server.create_cluster("lonely", shards=1, replicas=0, wait=True).status_code == 201
    flagged = findings(server, "lonely")
    assert {"shard-without-replica", "tls-off", "default-user-open", "no-snapshot-retention"} <= flagged
    # The fixes the findings name.
    assert server.request("PATCH", "/v1/clusters/lonely", json={"numReplicasPerShard": 1}).status_code == 200
    server.wait_for("lonely", "available")
    assert server.request("PATCH", "/v1/clusters/lonely", json={"snapshotRetentionLimit": 7}).status_code == 200
    assert "shard-without-replica" not in findings(server, "lonely")
    assert "no-snapshot-retention" not in findings(server, "lonely")

    # TLS off: the fix is a cluster created with TLS.
    body = {"name": "secure", "nodeType": "db.t4g.small", "numShards": 1, "numReplicasPerShard": 1, "aclName": "open-access"}
    assert server.request("POST", "/v1/clusters?wait=true", json=body).status_code == 201
    assert "tls-off" not in findings(server, "secure") and "tls-off" in findings(server, "lonely")

    # KEYS seen in commandstats, then not for a few collections.
    primary = next(n for s in server.request("GET", "/v1/clusters/lonely").json()["shards"] for n in s["nodes"] if n["role"] == "primary")
    subprocess.run(["redis-cli", "-p", str(primary["endpoint"]["port"]), "KEYS", "*"], capture_output=True, timeout=10)
    assert wait_until(lambda: "dangerous-commands" in findings(server, "lonely"), timeout=10)
    assert wait_until(lambda: "dangerous-commands" not in findings(server, "lonely"), timeout=15)

    everything = server.request("GET", "/v1/advisor").json()["findings"]
    assert {f["cluster"] for f in everything} == {"lonely", "secure"}
    assert all(f["api"] and f["stack"] and f["evidence"] and f["fix"] for f in everything)
    assert server.request("GET", "/v1/clusters/nope/advisor").status_code == 404


def test_every_change_through_either_door_is_audited(server, tmp_path):
    key, secret = server.credentials
    mdb = aws_client(server)
    mdb.create_user(UserName="aud-boto", AccessString="on ~* +@read", AuthenticationMode={"Type": "password", "Passwords": ["boto-password-0123456"]})
    mdb.describe_users()  # a read: not audited
    assert server.request("POST", "/v1/acls", json={"name": "aud-curl", "userNames": ["aud-boto"]}).status_code == 201
    assert server.request("DELETE", "/v1/acls/aud-curl").status_code == 200
    forged = aws_client(server, secret="forged" + secret)
    try:
        forged.delete_user(UserName="aud-boto")
        raise AssertionError("a forged request was accepted")
    except forged.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidSignatureException"
    stack = tmp_path / "stack.yaml"
    stack.write_text("stack: aud\nparameterGroups:\n  - {name: aud-params, family: memorydb_redis7}\n")
    result = subprocess.run([BINARY, "apply", "-f", str(stack), "--auto-approve", "--endpoint-url", server.url, "--data-dir", server.data_dir],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    events = server.request("GET", "/v1/audit", params={"maxResults": 100}).json()["events"]
    seen = [(e["door"], e["operation"], e["resource"], e["outcome"], e["accessKeyId"]) for e in events]
    assert ("aws", "CreateUser", "user/aud-boto", "success", key) in seen
    assert ("rest", "POST /v1/acls", "acls/aud-curl", "success", key) in seen
    assert ("rest", "DELETE /v1/acls/{name}", "acls/aud-curl", "success", key) in seen
    assert ("aws", "DeleteUser", "user/aud-boto", "InvalidSignatureException", key) in seen
    assert ("stack", "CreateParameterGroup", "parameter-group/aud-params", "success", key) in seen
    assert ("rest", "PUT /v1/stacks/{name}", "stacks/aud", "success", key) in seen
    assert not [e for e in events if e["operation"] == "DescribeUsers"]
    # Secrets never reach the trail.
    created = next(e for e in events if e["operation"] == "CreateUser")
    assert "boto-password" not in created["parameters"] and "(redacted)" in created["parameters"]
    assert created["sourceAddress"] == "127.0.0.1"
    # Filters and pagination.
    only = server.request("GET", "/v1/audit", params={"door": "aws", "outcome": "InvalidSignatureException"}).json()["events"]
    assert [e["operation"] for e in only] == ["DeleteUser"]
    page = server.request("GET", "/v1/audit", params={"maxResults": 2}).json()
    assert len(page["events"]) == 2 and page["nextToken"]
    rest = server.request("GET", "/v1/audit", params={"maxResults": 100, "nextToken": page["nextToken"]}).json()["events"]
    assert rest and rest[0]["id"] < page["events"][-1]["id"]
    assert server.request("GET", "/v1/audit", params={"bogus": "1"}).status_code == 400
    assert server.request("GET", "/v1/audit", params={"door": "ftp"}).status_code == 400
    assert server.request("GET", "/v1/audit", params={"since": "yesterday"}).status_code == 400

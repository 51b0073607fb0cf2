"""Encryption in transit by default: a cluster created without a word about TLS is a TLS cluster
that verifies against the CA from /v1/ca.pem and refuses plaintext."""
import os
import subprocess
import time

import requests

from awsdoor import client


def run(*args, timeout=30):
    """Runs a command; one that gets no answer within the timeout counts as failed (exit 124)."""
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 124, ""
    return result.returncode, result.stdout.strip() + result.stderr.strip()


def test_a_default_cluster_is_a_verified_tls_cluster(server, tmp_path):
    created = server.create_cluster("secure", shards=2, replicas=1, wait=True, tlsEnabled=None)
    assert created.status_code == 201, created.text
    cluster = created.json()
    assert cluster["tlsEnabled"] is True
    port = cluster["clusterEndpoint"]["port"]
    node_port = cluster["shards"][0]["nodes"][0]["endpoint"]["port"]

    ca = requests.get(server.url + "/v1/ca.pem", timeout=5)
    assert ca.status_code == 200 and ca.text.startswith("-----BEGIN CERTIFICATE-----")
    assert ca.text == open(os.path.join(server.data_dir, "ca.pem")).read()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca.text)

    tls = ["redis-cli", "--tls", "--cacert", str(ca_file)]
    assert run(*tls, "-c", "-p", str(port), "SET", "greeting", "hello")[1] == "OK"
    assert run(*tls, "-c", "-p", str(port), "GET", "greeting")[1] == "hello"
    assert run(*tls, "-h", "localhost", "-p", str(node_port), "PING")[1] == "PONG"
    code, out = run(*tls, "--cluster", "check", f"127.0.0.1:{port}")
    assert code == 0 and "[OK] All 16384 slots covered." in out, out

    # Plaintext is refused on every node and on the endpoint.
    for p in [port] + [n["endpoint"]["port"] for s in cluster["shards"] for n in s["nodes"]]:
        code, out = run("redis-cli", "-p", str(p), "PING", timeout=5)
        assert "PONG" not in out

    # The chain verifies with OpenSSL; old protocol versions are refused.
    code, out = run("openssl", "s_client", "-connect", f"127.0.0.1:{node_port}", "-CAfile", str(ca_file), "-verify_return_error", "-brief")
    assert code == 0 and "Verification: OK" in out, out
    code, out = run("openssl", "s_client", "-connect", f"127.0.0.1:{node_port}", "-tls1_1")
    assert code != 0

    # Replication runs over TLS too: the replica has the write.
    replica_port = cluster["shards"][0]["nodes"][1]["endpoint"]["port"]
    info = run(*tls, "-p", str(replica_port), "INFO", "replication")[1]
    assert "master_link_status:up" in info

    # A non-TLS cluster still works when asked for with open-access.
    plain = server.create_cluster("plain", wait=True).json()
    assert plain["tlsEnabled"] is False
    assert run("redis-cli", "-c", "-p", str(plain["clusterEndpoint"]["port"]), "PING")[1] == "PONG"


def test_boto3_create_cluster_defaults_to_tls(server):
    mdb = client(server)
    created = mdb.create_cluster(ClusterName="awstls", NodeType="db.t4g.small", ACLName="open-access", NumReplicasPerShard=0)["Cluster"]
    assert created["TLSEnabled"] is True
    deadline = time.time() + 30
    while time.time() < deadline and mdb.describe_clusters(ClusterName="awstls")["Clusters"][0]["Status"] != "available":
        time.sleep(0.1)
    assert mdb.describe_clusters(ClusterName="awstls")["Clusters"][0]["Status"] == "available"


def test_the_api_itself_can_speak_https(make_server):
    server = make_server(extra_args=["--tls", "auto"]).start()
    assert server.url.startswith("https://")
    assert requests.get(server.url + "/health", verify=server.verify, timeout=5).json() == {"status": "ok"}
    assert server.request("GET", "/v1/clusters").status_code == 200
    # Plain HTTP on the same port gets nothing useful, and an unverified client is refused.
    try:
        plain = requests.get(server.url.replace("https", "http") + "/health", timeout=5)
        assert plain.status_code != 200
    except requests.RequestException:
        pass
    try:
        requests.get(server.url + "/health", timeout=5)
        assert False, "a client that does not trust the CA must not connect"
    except requests.exceptions.SSLError:
        pass
    mdb = client(server)
    assert mdb.describe_acls()["ACLs"][0]["Name"] == "open-access"


def test_the_endpoint_never_stalls_a_connection(server):
    """Regression: the endpoint once read a client before gluing it to a node, and about 3% of
    connections then hung. 100 connections in a row must each get their answer."""
    cluster = server.create_cluster("steady", shards=2, replicas=1, wait=True, tlsEnabled=None).json()
    ca = os.path.join(server.data_dir, "ca.pem")
    port = str(cluster["clusterEndpoint"]["port"])
    hung = [i for i in range(100)
            if run("redis-cli", "--tls", "--cacert", ca, "-c", "-p", port, "SET", f"key:{i}", "v", timeout=10) != (0, "OK")]
    assert hung == []

"""Warm nodes (`serve --warm-nodes N`): clusters adopt nodes started ahead of time, and a cluster
made from them cannot be told from one made cold: the same configuration, users and durability,
the same restart from its own directory after a crash. Nothing of the pool survives the server."""
import os
import re
import signal
import subprocess
import time

import redis

from memoryplane import processes_in


def admin_of(server, node):
    """The node's admin user and password, from its own redis.conf (the test runs as the server's user)."""
    text = open(os.path.join(server.data_dir, "nodes", node, "redis.conf")).read()
    user, password = re.search(r"^user (\S+) on >(\S+)", text, re.M).groups()
    return user, password


def connect(server, node, port, tls):
    user, password = admin_of(server, node)
    extra = {"ssl": True, "ssl_ca_certs": os.path.join(server.data_dir, "ca.pem")} if tls else {}
    return redis.Redis(host="127.0.0.1", port=port, username=user, password=password, decode_responses=True, **extra)


def warm_count(server):
    directory = os.path.join(server.data_dir, "warm")
    return len(os.listdir(directory)) if os.path.isdir(directory) else 0


def wait_warm(server, count, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and warm_count(server) < count:
        time.sleep(0.1)
    assert warm_count(server) >= count, warm_count(server)
    time.sleep(2.5)  # past Redis' writable delay: the nodes are now ready to adopt


def comparable(connection):
    """What must be the same on a node made warm and one made cold."""
    config = {}
    for key in ["maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "appenddirname", "cluster-node-timeout",
                "cluster-replica-no-failover", "cluster-require-full-coverage", "repl-diskless-sync", "save", "protected-mode",
                "bind", "masteruser", "tls-cluster", "tls-replication", "slowlog-log-slower-than"]:
        config.update(connection.config_get(key))
    # Rules in the order Redis describes them, which follows its command table's hashing: the
    # same rules come out in another order from another process.
    users = sorted(" ".join(sorted(re.sub(r"#[0-9a-f]{64}", "#", line).split())) for line in connection.acl_list())
    return config, users


def test_a_cluster_from_warm_nodes_is_one_made_cold(make_server):
    server = make_server(extra_args=["--warm-nodes", "2"]).start()
    wait_warm(server, 4)
    started = time.time()
    warm = server.create_cluster("warm", shards=1, replicas=1, wait=True).json()
    took = time.time() - started
    assert warm["status"] == "available", warm
    # The pool is empty of plain nodes now: this one is made cold.
    cold = server.create_cluster("cold", shards=1, replicas=1, wait=True).json()
    assert cold["status"] == "available", cold
    log = server.read_log()
    assert len(re.findall(r"adopted warm node", log)) == 2, log
    assert took < 2.0, f"a warm 1x1 took {took:.2f} s: was it made cold?"

    def nodes(view):
        return {n["role"]: n for shard in view["shards"] for n in shard["nodes"]}

    for role in ("primary", "replica"):
        warm_node, cold_node = nodes(warm)[role], nodes(cold)[role]
        assert comparable(connect(server, warm_node["name"], warm_node["endpoint"]["port"], False)) == \
            comparable(connect(server, cold_node["name"], cold_node["endpoint"]["port"], False))
        directory = os.path.join(server.data_dir, "nodes", warm_node["name"])
        assert connect(server, warm_node["name"], warm_node["endpoint"]["port"], False).config_get("dir")["dir"] == directory
        assert oct(os.stat(os.path.join(directory, "redis.conf")).st_mode & 0o777) == "0o600"

    # The endpoint serves the default user (open access), and writes are durable where they landed.
    endpoint = redis.Redis(host="127.0.0.1", port=warm["clusterEndpoint"]["port"], decode_responses=True)
    for index in range(100):
        endpoint.set(f"{{k}}{index}", index)
    primary = nodes(warm)["primary"]
    pid = next(pid for pid, (comm, _) in processes_in(os.path.join(server.data_dir, "nodes", primary["name"])).items() if comm == "redis-server")
    # A crash of the adopted node: it is restarted cold, from its own directory and config. Its
    # replica takes over; the data is all there.
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline:
        view = server.request("GET", "/v1/clusters/warm").json()
        if view["status"] == "available" and all(n["status"] == "available" for s in view["shards"] for n in s["nodes"]) \
                and processes_in(os.path.join(server.data_dir, "nodes", primary["name"])):
            break
        time.sleep(0.1)
    client = redis.RedisCluster(host="127.0.0.1", port=primary["endpoint"]["port"], decode_responses=True)
    assert [client.get(f"{{k}}{index}") for index in range(100)] == [str(index) for index in range(100)]
    client.close()


def test_tls_clusters_adopt_tls_warm_nodes_and_the_pool_does_not_outlive_the_server(make_server):
    server = make_server(extra_args=["--warm-nodes", "2"]).start()
    wait_warm(server, 4)
    view = server.create_cluster("sealed", shards=1, replicas=1, wait=True, tlsEnabled=True).json()
    assert view["status"] == "available", view
    assert len(re.findall(r"adopted warm node", server.read_log())) == 2
    node = view["shards"][0]["nodes"][0]
    connection = connect(server, node["name"], node["endpoint"]["port"], True)
    assert connection.ping()
    assert connection.config_get("tls-cert-file")["tls-cert-file"].startswith(os.path.join(server.data_dir, "nodes", node["name"]) + "/")
    # The node's certificate is its own, issued at adoption.
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{node['endpoint']['port']}", "-CAfile",
                          os.path.join(server.data_dir, "ca.pem")], input="", capture_output=True, text=True, timeout=10).stdout
    assert node["name"] in out, out[:2000]
    # Warm nodes are nobody's but the control plane's: the default user is off.
    wait_warm(server, 4)
    warm_ports = set()
    for directory in os.listdir(os.path.join(server.data_dir, "warm")):
        text = open(os.path.join(server.data_dir, "warm", directory, "redis.conf")).read()
        assert "user default off" in text
        warm_ports.add(int(re.search(r"^(?:tls-)?port (\d+)$", text, re.M).group(1)) if "tls-port" not in text
                       else int(re.search(r"^tls-port (\d+)$", text, re.M).group(1)))
    plain = [p for p in warm_ports]
    for port in plain[:1]:
        try:
            reply = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping()
        except redis.exceptions.ResponseError as error:
            reply = str(error)
        except redis.exceptions.ConnectionError as error:
            reply = str(error)
        assert reply is not True

    # kill -9 of the server: the next one stops what the last one left and starts its own pool.
    before = {pid for pid in processes_in(os.path.join(server.data_dir, "warm"))}
    assert before
    server.kill()
    server.start()
    deadline = time.time() + 15
    while time.time() < deadline and before & set(processes_in(os.path.join(server.data_dir, "warm"))):
        time.sleep(0.1)
    assert not before & set(processes_in(os.path.join(server.data_dir, "warm")))
    assert server.request("GET", "/v1/clusters/sealed").json()["status"] == "available"
    wait_warm(server, 4)

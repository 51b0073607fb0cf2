"""Failover under write load, beside baselines measured in the same run.

For each fault a writer (Tests/e2e/resp.py, cluster-aware, through the cluster endpoint) writes
as fast as it can and records every acknowledged write; the figure is the time from the fault to
the first write acknowledged on that shard afterwards, and the count of acknowledged writes that
are missing at the end.

- MemoryPlane 1x1: primary SIGKILL, primary SIGSTOP, FailoverShard, drill of the primary's zone.
- MemoryPlane 1x0: primary SIGKILL, handled by restart in place (what there is without a replica).
- Redis Cluster's own failover (3x1 from `redis-cli --cluster create`, cluster-node-timeout 1000,
  same durability settings): primary SIGKILL.
- Idle supervision: the control plane's CPU with 100 idle nodes (20 clusters of 5), from
  /proc/<pid>/stat over 30 s, beside the same server with no cluster.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/failover.py [--runs 3]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from resp import AcknowledgedWriter, ClusterClient, key_slot  # noqa: E402

EXTRA = []
TICKS = os.sysconf("SC_CLK_TCK")


def node_pid(server, node):
    directory = os.path.join(server.data_dir, "nodes", node)
    return next(pid for pid, (comm, cwd) in memoryplane.processes_in(directory).items() if comm == "redis-server" and cwd == directory)


def primary_of(server, name):
    view = server.request("GET", f"/v1/clusters/{name}").json()
    return next(n for s in view["shards"] for n in s["nodes"] if n["role"] == "primary")


def settled(server, name, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = server.request("GET", f"/v1/clusters/{name}").json()
        nodes = [n for s in view["shards"] for n in s["nodes"]]
        if not view.get("operations") and all(n["status"] == "available" for n in nodes) and view["status"] == "available":
            return view
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not settle")


def resumed_after(writer, fault_at):
    """Seconds from the fault to the first acknowledged write after it (0 if none was refused)."""
    for start, end in writer.outages:
        if end >= fault_at:
            return max(0.0, end - max(start, fault_at))
    return 0.0


def memoryplane_fault(server, fault, replicas, run):
    name = f"fo-{fault}-{replicas}-{run}"
    created = server.create_cluster(name, shards=1, replicas=replicas, wait=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, timeout=0.5))
    writer.start()
    time.sleep(1.0)
    primary = primary_of(server, name)
    fault_at = time.monotonic()
    if fault == "sigkill":
        os.kill(node_pid(server, primary["name"]), signal.SIGKILL)
    elif fault == "sigstop":
        os.kill(node_pid(server, primary["name"]), signal.SIGSTOP)
    elif fault == "failover-shard":
        assert server.request("POST", f"/v1/clusters/{name}/shards/0001/failover").status_code == 202
    elif fault == "drill":
        drill = server.request("POST", "/v1/drills", json={"cluster": name, "node": primary["name"], "durationSeconds": 2})
        assert drill.status_code == 201, drill.text
    time.sleep(3.0 if fault != "drill" else 4.0)
    settled(server, name)
    time.sleep(0.3)
    writer.stop()
    took = resumed_after(writer, fault_at)
    if fault == "failover-shard":
        # Writes never stop; the figure is the new primary accepting a write directly.
        took = failover_shard_latency(server, name)
    lost = len(writer.missing(ClusterClient("127.0.0.1", port)))
    acknowledged = len(writer.acknowledged)
    assert server.request("DELETE", f"/v1/clusters/{name}?wait=true").status_code == 204
    return took, lost, acknowledged


def failover_shard_latency(server, name):
    """Time from POST FailoverShard to a SET accepted by the replica it promotes."""
    replica = next(n for s in server.request("GET", f"/v1/clusters/{name}").json()["shards"] for n in s["nodes"] if n["role"] == "replica")
    key = next(f"probe-{i}" for i in range(100000) if key_slot(f"probe-{i}") == 0)
    from resp import Connection, ReplyError
    connection = Connection("127.0.0.1", replica["endpoint"]["port"])
    started = time.monotonic()
    assert server.request("POST", f"/v1/clusters/{name}/shards/0001/failover").status_code == 202
    while True:
        try:
            if connection.command("SET", key, "x") == "OK":
                break
        except ReplyError:
            pass
        time.sleep(0.001)
    took = time.monotonic() - started
    connection.close()
    settled(server, name)
    return took


def redis_cluster_failover(run):
    """Redis Cluster's own election: 3x1, cluster-node-timeout 1000, AOF always."""
    low, _ = memoryplane.free_range(size=6)
    ports = list(range(low, low + 6))
    root = tempfile.mkdtemp(prefix="mp-bench-", dir="/tmp")
    processes = {}
    try:
        for port in ports:
            directory = os.path.join(root, str(port))
            os.makedirs(directory)
            processes[port] = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
                 "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", directory, "--repl-diskless-sync", "yes",
                 "--repl-diskless-sync-delay", "0", "--logfile", os.path.join(directory, "redis.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli = lambda *a: subprocess.run(["redis-cli", *a], capture_output=True, text=True, timeout=60).stdout  # noqa: E731
        while not all(cli("-p", str(p), "PING").strip() == "PONG" for p in ports):
            time.sleep(0.01)
        cli("--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "1", "--cluster-yes")
        while not all("cluster_state:ok" in cli("-p", str(p), "CLUSTER", "INFO") for p in ports):
            time.sleep(0.05)
        while "master_link_status:up" not in " ".join(cli("-p", str(p), "INFO", "replication") for p in ports):
            time.sleep(0.05)
        time.sleep(1)
        # The writer writes keys in turn over every slot and retries a refused key until it is
        # acknowledged, so its outage is the killed primary's shard's.
        victim = ports[0]
        writer = AcknowledgedWriter(ClusterClient("127.0.0.1", ports[1], timeout=0.5), prefix="rc")
        writer.start()
        time.sleep(1.0)
        fault_at = time.monotonic()
        processes[victim].kill()
        processes[victim].wait()
        deadline = time.time() + 20
        while time.time() < deadline and not any(end >= fault_at for _, end in writer.outages):
            time.sleep(0.05)
        time.sleep(0.5)
        writer.stop()
        took = resumed_after(writer, fault_at)
        # Restart the killed node so every acknowledged key can be read (it rejoins as a replica).
        directory = os.path.join(root, str(victim))
        processes[victim] = subprocess.Popen(
            ["redis-server", "--port", str(victim), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", directory, "--logfile", os.path.join(directory, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        lost = len(writer.missing(ClusterClient("127.0.0.1", ports[1], timeout=1)))
        return took, lost, len(writer.acknowledged)
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def idle_supervision(seconds=30, tls=False):
    server = memoryplane.Server(ports=200, extra_args=EXTRA).start()
    try:
        time.sleep(2)
        before = cpu_seconds(server.process.pid)
        time.sleep(seconds)
        empty = (cpu_seconds(server.process.pid) - before) / seconds * 100
        for index in range(20):
            response = server.create_cluster(f"idle-{index}", shards=1, replicas=4, tlsEnabled=tls)
            assert response.status_code == 202, response.text
        for index in range(20):
            server.wait_for(f"idle-{index}", "available", timeout=120)
        time.sleep(5)
        nodes = sum(len(memoryplane.processes_in(os.path.join(server.data_dir, "nodes", d))) for d in os.listdir(os.path.join(server.data_dir, "nodes")))
        before = cpu_seconds(server.process.pid)
        time.sleep(seconds)
        loaded = (cpu_seconds(server.process.pid) - before) / seconds * 100
        return empty, loaded, nodes
    finally:
        server.cleanup()


def report(label, results):
    times = [r[0] for r in results]
    lost = sum(r[1] for r in results)
    acknowledged = sum(r[2] for r in results)
    print(f"| {label} | {statistics.median(times):.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)}) | {lost} of {acknowledged} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-idle", action="store_true")
    args = parser.parse_args()
    print(f"binary: {memoryplane.BINARY}; load average {os.getloadavg()[0]:.1f}")
    print("| fault | writes accepted again after (median) | acknowledged writes lost |")
    print("|---|---|---|")
    server = memoryplane.Server().start()
    try:
        for fault, replicas in [("sigkill", 1), ("sigstop", 1), ("drill", 1), ("failover-shard", 1), ("sigkill", 0)]:
            label = {"sigkill": "primary SIGKILL", "sigstop": "primary SIGSTOP (hung)", "drill": "primary's zone lost (drill)",
                     "failover-shard": "FailoverShard → new primary accepts SET"}[fault]
            label = f"MemoryPlane 1x{replicas}: {label}" + (" (restart in place)" if replicas == 0 else "")
            report(label, [memoryplane_fault(server, fault, replicas, run) for run in range(args.runs)])
    finally:
        server.cleanup()
    report("Redis Cluster's own failover, node-timeout 1000: primary SIGKILL", [redis_cluster_failover(run) for run in range(args.runs)])
    if not args.skip_idle:
        empty, loaded, nodes = idle_supervision()
        print(f"\nIdle supervision: control plane {empty:.2f} % of a core with no cluster, {loaded:.2f} % with {nodes} idle nodes")
        empty, loaded, nodes = idle_supervision(tls=True)
        print(f"Idle supervision, TLS nodes: {empty:.2f} % with no cluster, {loaded:.2f} % with {nodes} idle TLS nodes")


if __name__ == "__main__":
    main()

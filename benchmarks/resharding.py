"""Changing a running cluster, each beside its baseline measured in the same run.

1. Online resharding 1 → 2 shards holding 66k keys, beside `redis-cli --cluster reshard` doing
the same move (8192 slots) on a plain Redis cluster of two nodes, measured in the same run.

For each run three cluster clients write and read throughout and count the errors they let
through: redis-py's `RedisCluster`, valkey-glide (AWS's recommended MemoryDB client, default
250 ms request timeout) and coredis (each follows -MOVED and -ASK as cluster clients do).

- MemoryPlane: a 1×0 cluster filled with 66k keys, `PATCH numShards: 2`; the figure is the time
  from the request to the cluster `available` again (the new shard started, 8192 slots and their
  keys moved, the layout checked), and, separately, the time its slot moves took (events).
- Baseline: two `redis-server` nodes in cluster mode (default persistence, and again with
  MemoryPlane's durability: AOF with appendfsync always), the first serving every slot, filled
  alike; `redis-cli --cluster reshard --cluster-slots 8192 --cluster-pipeline 1000`.

2. Rolling restart of a 3×1 cluster under write load (a reboot-only parameter, applied with
   BatchUpdateCluster): the longest stretch without an acknowledged write and the acknowledged
   writes missing afterwards, beside one FailoverShard (the lossless failover) under the same
   writer on the same cluster.

3. A target primary killed (`kill -9`) in the middle of a 2 → 4 reshard under a writer: the
   time from the kill to the cluster `available` in its new layout (the reshard finished) with
   every acknowledged write readable, beside the same reshard undisturbed, in the same run.
   (Plain Redis has no way back of its own: `redis-cli --cluster reshard` stops at the kill and
   leaves open slots for an operator's `--cluster fix`.)

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/resharding.py [--runs 2] [--keys 66000]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.cluster import ClusterNode, RedisCluster

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from resp import AcknowledgedWriter, ClusterClient, fill  # noqa: E402
from awsdoor import client as aws_client  # noqa: E402
from ledger import AsyncRecordingClient, RecordingClient  # noqa: E402


class Traffic(threading.Thread):
    """A redis-py cluster client setting and getting keys as fast as it can; counts errors."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port)], socket_timeout=5)
        self.operations = 0
        self.errors = []
        self.halt = threading.Event()

    def run(self):
        n = 0
        while not self.halt.is_set():
            try:
                self.client.set(f"traffic:{n}", n)
                if self.client.get(f"traffic:{n}") != str(n).encode():
                    self.errors.append(f"traffic:{n} read back wrong")
                self.operations += 2
            except Exception as error:  # noqa: BLE001 — a client bug counts as an error seen
                import traceback
                if not self.errors:
                    traceback.print_exc()
                self.errors.append(f"{type(error).__name__}: {error}")
            n += 1

    def stop(self):
        self.halt.set()
        self.join(timeout=30)
        self.client.close()


def wait_until(server, name, ready, started, what, timeout=300):
    """Polls the cluster's REST view until `ready(view)`; returns the seconds since `started`."""
    while True:
        view = server.request("GET", f"/v1/clusters/{name}").json()
        if ready(view):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{name} did not {what}: {view}")
        time.sleep(0.02)


def memoryplane_run(server, run, keys):
    name = f"rs-{run}"
    created = server.create_cluster(name, shards=1, replicas=0, wait=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    fill("127.0.0.1", port, keys)
    traffic = Traffic(port)
    traffic.start()
    others = [AsyncRecordingClient(library, port).start_and_wait() for library in ("glide", "coredis")]
    time.sleep(0.5)
    started = time.monotonic()
    response = server.request("PATCH", f"/v1/clusters/{name}", json={"numShards": 2})
    assert response.status_code == 200, response.text
    elapsed = wait_until(server, name, lambda view: view["status"] == "available", started, "finish resharding")
    time.sleep(0.3)
    traffic.stop()
    for other in others:
        other.stop()
    events = [e["message"] for e in server.request("GET", f"/v1/events?sourceName={name}&maxResults=100").json()["events"]]
    moves = [float(m.group(1)) for m in (re.search(r" in ([0-9.]+) s[;$]", e) for e in events if e.startswith("Moved ")) if m]
    moved_keys = sum(int(re.search(r"with (\d+) key", e).group(1)) for e in events if e.startswith("Moved "))
    server.request("DELETE", f"/v1/clusters/{name}")
    errors = {"redis-py": len(traffic.errors), **{o.library: len(o.errors) for o in others}}
    return elapsed, sum(moves), moved_keys, traffic, errors


def killed_target_run(server, run, keys, kill=True):
    """2 → 4 shards under a writer; with `kill`, the first new primary is killed (`kill -9`) once
    it holds or imports its first slots. Returns (request → available, kill → available or None,
    acknowledged writes missing, acknowledged)."""
    name = f"kt-{run}-{'kill' if kill else 'calm'}"
    created = server.create_cluster(name, shards=2, replicas=1, wait=True)
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    fill("127.0.0.1", port, keys)
    writer = RecordingClient(port, prefix=f"{name}:")
    writer.start()
    time.sleep(0.5)
    started = time.monotonic()
    response = server.request("PATCH", f"/v1/clusters/{name}", json={"numShards": 4})
    assert response.status_code == 200, response.text
    killed = None
    if kill:
        target = next(n for s in response.json()["shards"] if s["name"] == "0003" for n in s["nodes"] if n["name"].endswith("-001"))
        directory = os.path.join(server.data_dir, "nodes", target["name"])
        # Killed once it holds or imports its first slots (its own CLUSTER NODES line lists them).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            nodes = subprocess.run(["redis-cli", "-p", str(target["endpoint"]["port"]), "CLUSTER", "NODES"], capture_output=True, text=True, timeout=5).stdout
            mine = next((line for line in nodes.splitlines() if "myself" in line), "")
            if len(mine.split()) > 8:
                break
            time.sleep(0.01)
        pid = int(open(os.path.join(directory, "redis.pid")).read())
        assert os.readlink(f"/proc/{pid}/cwd") == directory
        killed = time.monotonic()
        os.kill(pid, 9)
    wait_until(
        server, name, lambda view: view["status"] == "available" and len(view["shards"]) == 4
        and all(n["status"] == "available" for s in view["shards"] for n in s["nodes"]), started, "reshard")
    done = time.monotonic()
    time.sleep(0.3)
    writer.stop()
    missing = len(writer.missing())
    server.request("DELETE", f"/v1/clusters/{name}")
    return done - started, (done - killed) if killed else None, missing, len(writer.acknowledged)


def baseline_run(durable, keys):
    low, _ = memoryplane.free_range(size=2)
    ports = [low, low + 1]
    directory = tempfile.mkdtemp(prefix="rs-baseline-", dir="/tmp")
    processes = []
    try:
        for port in ports:
            os.makedirs(f"{directory}/{port}")
            persistence = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""] if durable else []
            processes.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--dir", f"{directory}/{port}", *persistence],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)

        def cli(*args):
            return subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=600, check=True).stdout

        cli("-p", str(ports[0]), "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        cli("-p", str(ports[0]), "CLUSTER", "MEET", "127.0.0.1", str(ports[1]))
        while "cluster_state:ok" not in cli("-p", str(ports[1]), "CLUSTER", "INFO") or \
                "0-16383" not in cli("-p", str(ports[1]), "CLUSTER", "NODES"):
            time.sleep(0.05)
        fill("127.0.0.1", ports[0], keys)
        source = cli("-p", str(ports[0]), "CLUSTER", "MYID").strip()
        target = cli("-p", str(ports[1]), "CLUSTER", "MYID").strip()
        traffic = Traffic(ports[0])
        traffic.start()
        time.sleep(0.5)
        started = time.monotonic()
        cli("--cluster", "reshard", f"127.0.0.1:{ports[0]}", "--cluster-from", source, "--cluster-to", target,
            "--cluster-slots", "8192", "--cluster-yes", "--cluster-pipeline", "1000")
        elapsed = time.monotonic() - started
        time.sleep(0.3)
        traffic.stop()
        return elapsed, traffic
    finally:
        for process in processes:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def settled(server, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = server.request("GET", f"/v1/clusters/{name}").json()
        nodes = [n for s in view["shards"] for n in s["nodes"]]
        if view["status"] == "available" and not view.get("operations") and all(n["status"] == "available" for n in nodes):
            return view
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not settle")


def rolling_restart_run(server, run):
    name = f"roll-{run}"
    created = server.create_cluster(name, shards=3, replicas=1, wait=True, maintenanceWindow=memoryplane.far_maintenance_window())
    assert created.status_code == 201, created.text
    port = created.json()["clusterEndpoint"]["port"]
    mdb = aws_client(server)
    group = f"roll-{run}"
    mdb.create_parameter_group(ParameterGroupName=group, Family="memorydb_redis7")
    mdb.update_cluster(ClusterName=name, ParameterGroupName=group)
    settled(server, name)
    # Baseline: one lossless failover under the writer.
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, timeout=0.5))
    writer.start()
    time.sleep(1.0)
    assert server.request("POST", f"/v1/clusters/{name}/shards/0001/failover").status_code == 202
    time.sleep(0.5)
    settled(server, name)
    time.sleep(0.5)
    writer.stop()
    failover_outage = writer.longest_outage()
    failover_missing = len(writer.missing(ClusterClient("127.0.0.1", port)))
    # The rolling restart: six nodes, three lossless failovers.
    writer = AcknowledgedWriter(ClusterClient("127.0.0.1", port, timeout=0.5), prefix="roll")
    writer.start()
    time.sleep(1.0)
    started = time.monotonic()
    mdb.update_parameter_group(ParameterGroupName=group, ParameterNameValues=[{"ParameterName": "activerehashing", "ParameterValue": "no"}])
    mdb.batch_update_cluster(ClusterNames=[name])
    while mdb.describe_service_updates(ClusterNames=[name])["ServiceUpdates"]:
        time.sleep(0.05)
    settled(server, name)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    writer.stop()
    missing = len(writer.missing(ClusterClient("127.0.0.1", port)))
    server.request("DELETE", f"/v1/clusters/{name}")
    return elapsed, writer.longest_outage(), len(writer.outages), missing, len(writer.acknowledged), failover_outage, failover_missing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keys", type=int, default=66000)
    options = parser.parse_args()
    server = memoryplane.Server(ports=100)
    ours, moves, plain, durable, errors = [], [], [], [], []
    kills = []
    try:
        server.start()
        for run in range(options.runs):
            elapsed, moving, moved, traffic, seen = memoryplane_run(server, run, options.keys)
            ours.append(elapsed)
            moves.append(moving)
            errors.append(seen)
            print(f"memoryplane run {run}: {elapsed:.2f} s to available ({moving:.2f} s moving {moved} keys); "
                  f"redis-py: {traffic.operations} ops, {len(traffic.errors)} errors {traffic.errors[:3]}; client errors by library: {seen}")
            elapsed, traffic = baseline_run(False, options.keys)
            plain.append(elapsed)
            print(f"redis-cli reshard (no AOF) run {run}: {elapsed:.2f} s; client: {traffic.operations} ops, {len(traffic.errors)} errors {traffic.errors[:3]}")
            elapsed, traffic = baseline_run(True, options.keys)
            durable.append(elapsed)
            print(f"redis-cli reshard (AOF always) run {run}: {elapsed:.2f} s; client: {traffic.operations} ops, {len(traffic.errors)} errors {traffic.errors[:3]}")
        for run in range(options.runs):
            calm, _, calm_missing, _ = killed_target_run(server, run, options.keys, kill=False)
            total, recovered, missing, acknowledged = killed_target_run(server, run, options.keys)
            kills.append((recovered, total, calm))
            print(f"2 → 4 reshard, run {run}: undisturbed {calm:.2f} s; with its first new primary killed {total:.2f} s, "
                  f"available {recovered:.2f} s after the kill; {missing + calm_missing} of {acknowledged} acknowledged writes missing")
        rolls = []
        for run in range(options.runs):
            rolls.append(rolling_restart_run(server, run))
            elapsed, longest, outages, missing, acknowledged, failover, failover_missing = rolls[-1]
            print(f"rolling restart 3×1 run {run}: {elapsed:.2f} s; longest write outage {longest * 1000:.0f} ms over {outages} outage(s); "
                  f"{missing} of {acknowledged} acknowledged writes missing; one FailoverShard: {failover * 1000:.0f} ms, {failover_missing} missing")
    finally:
        server.cleanup()
    ours_m, moves_m = statistics.median(ours), statistics.median(moves)
    plain_m, durable_m = statistics.median(plain), statistics.median(durable)
    print(f"\nresharding 1 → 2 shards, {options.keys} keys, median of {options.runs}:")
    print(f"  MemoryPlane, request to available:   {ours_m:.2f} s (slot moves {moves_m:.2f} s)")
    print(f"  redis-cli --cluster reshard, no AOF: {plain_m:.2f} s  → speed-up {plain_m / ours_m:.2f}× (slot moves alone {plain_m / moves_m:.2f}×)")
    print(f"  redis-cli --cluster reshard, AOF:    {durable_m:.2f} s  → speed-up {durable_m / ours_m:.2f}× (slot moves alone {durable_m / moves_m:.2f}×)")
    for library in ("redis-py", "glide", "coredis"):
        print(f"  client errors during the reshard, {library}: {sum(e[library] for e in errors)} over {options.runs} run(s) (aim 0)")
    print(f"target primary killed mid 2 → 4 reshard → available, median of {options.runs}: {statistics.median(k[0] for k in kills):.2f} s (aim ≤ 5 s); "
          f"the whole reshard {statistics.median(k[1] for k in kills):.2f} s beside {statistics.median(k[2] for k in kills):.2f} s undisturbed "
          f"(redis-cli --cluster reshard of 8,192 slots above: {plain_m:.2f} s)")
    print(f"rolling restart 3×1 under writes, median of {options.runs}: {statistics.median(r[0] for r in rolls):.2f} s; "
          f"longest write outage {statistics.median(r[1] for r in rolls) * 1000:.0f} ms beside one lossless failover's "
          f"{statistics.median(r[5] for r in rolls) * 1000:.0f} ms; acknowledged writes missing: {sum(r[3] for r in rolls)} of {sum(r[4] for r in rolls)}")


if __name__ == "__main__":
    main()

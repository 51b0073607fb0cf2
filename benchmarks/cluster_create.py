"""Time from POST to `available` (replicas synced) for 1x0, 2x1 and 3x1 clusters, cold and with
warm nodes (`--warm-nodes`), beside `redis-cli --cluster create` on plain redis-server processes,
measured in the same run.

Usage: python3 benchmarks/cluster_create.py [--binary .build/debug/memoryplane] [--runs 3]
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


def wait_for_warm_pool(server, nodes, timeout=60):
    """Until the pool holds `nodes` nodes of each kind and they are past Redis' writable delay."""
    directory = os.path.join(server.data_dir, "warm")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.isdir(directory) and len(os.listdir(directory)) >= 2 * nodes:
            time.sleep(2.5)
            return
        time.sleep(0.1)
    raise AssertionError("the warm pool did not fill")


def time_memoryplane(server, shards, replicas, runs, tls=False, warm=False):
    results = []
    for run in range(runs):
        if warm:
            wait_for_warm_pool(server, shards * (1 + replicas))
        name = f"bench-{shards}x{replicas}-{run}{'-warm' if warm else ''}"
        started = time.perf_counter()
        response = server.create_cluster(name, shards=shards, replicas=replicas, tlsEnabled=True if tls else False)
        assert response.status_code == 202, response.text
        while True:
            status = server.request("GET", f"/v1/clusters/{name}").json()["status"]
            if status == "available":
                break
            time.sleep(0.005)
        results.append(time.perf_counter() - started)
        assert server.request("DELETE", f"/v1/clusters/{name}?wait=true").status_code == 204
    return results


def redis_cli(*args):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=60).stdout


def time_redis_cli_create(shards, replicas, runs):
    """Plain redis-server nodes (same durability settings), formed with redis-cli --cluster create."""
    covered, synced = [], []
    for _ in range(runs):
        low, _ = memoryplane.free_range(size=shards * (1 + replicas))
        ports = list(range(low, low + shards * (1 + replicas)))
        root = tempfile.mkdtemp(prefix="mp-bench-", dir="/tmp")
        processes = []
        try:
            for port in ports:
                directory = os.path.join(root, str(port))
                os.makedirs(directory)
                processes.append(subprocess.Popen(
                    ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                     "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", directory,
                     "--logfile", os.path.join(directory, "redis.log")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            while not all(redis_cli("-p", str(p), "PING").strip() == "PONG" for p in ports):
                time.sleep(0.01)
            started = time.perf_counter()
            subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                            "--cluster-replicas", str(replicas), "--cluster-yes"],
                           capture_output=True, text=True, timeout=120, check=True)
            covered.append(time.perf_counter() - started)
            while True:
                infos = [redis_cli("-p", str(p), "INFO", "replication") for p in ports]
                states = [redis_cli("-p", str(p), "CLUSTER", "INFO") for p in ports]
                replicas_up = all("role:master" in i or "master_link_status:up" in i for i in infos)
                if replicas_up and all("cluster_state:ok" in s for s in states):
                    break
                time.sleep(0.01)
            synced.append(time.perf_counter() - started)
        finally:
            for process in processes:
                process.send_signal(signal.SIGKILL)
                process.wait()
            shutil.rmtree(root, ignore_errors=True)
    return covered, synced


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=memoryplane.BINARY)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    memoryplane.BINARY = os.path.abspath(args.binary)

    server = memoryplane.Server(auth="none")
    rows = []
    try:
        server.start()
        for shards, replicas in [(1, 0), (2, 1), (3, 1)]:
            times = time_memoryplane(server, shards, replicas, args.runs)
            rows.append((f"MemoryPlane POST → available, {shards}×{replicas}", statistics.median(times), times))
        times = time_memoryplane(server, 3, 1, args.runs, tls=True)
        rows.append(("MemoryPlane POST → available, 3×1 with TLS", statistics.median(times), times))
    finally:
        server.cleanup()
    # The same server with --warm-nodes 6: every node of a 3x1 cluster is adopted from the pool.
    server = memoryplane.Server(auth="none", extra_args=["--warm-nodes", "6"])
    try:
        server.start()
        for tls in (False, True):
            times = time_memoryplane(server, 3, 1, args.runs, tls=tls, warm=True)
            rows.append((f"MemoryPlane --warm-nodes 6, POST → available, 3×1{' with TLS' if tls else ''}", statistics.median(times), times))
    finally:
        server.cleanup()
    covered, synced = time_redis_cli_create(3, 1, args.runs)
    rows.append(("redis-cli --cluster create 3×1 → slots covered", statistics.median(covered), covered))
    rows.append(("redis-cli --cluster create 3×1 → replicas synced, state ok everywhere", statistics.median(synced), synced))

    print(f"| what ({args.runs} runs, {os.cpu_count()} cores) | median | runs |")
    print("|---|---|---|")
    for label, median, runs in rows:
        print(f"| {label} | {median:.2f} s | {', '.join(f'{r:.2f}' for r in runs)} |")


if __name__ == "__main__":
    main()

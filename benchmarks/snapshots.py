"""Snapshots and restores of 1M keys, each beside its baseline measured in the same run.

1. Snapshot + restore of a 1x1 cluster into a new 1x1 cluster, beside a raw BGSAVE plus a raw
   `redis-server` start on that RDB (the same data, a standalone server).
2. Restore into another shard count (1 -> 3), beside `redis-cli --cluster import` of the same
   RDB (loaded in a standalone server) into an empty 3-shard cluster.
3. Write throughput of redis-benchmark (SET, 50 connections) against the primary, with a
   snapshot taken every moment of the run, beside the same run without snapshots.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/snapshots.py [--keys 1000000]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from resp import Connection, fill  # noqa: E402


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def standalone(rdb_path, port=None):
    """A plain redis-server loading `rdb_path`; returns (process, directory, connection, seconds to answer with it loaded)."""
    directory = tempfile.mkdtemp(prefix="mp-bench-", dir="/tmp")
    shutil.copy(rdb_path, os.path.join(directory, "dump.rdb"))
    args = ["redis-server", "--dir", directory, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--logfile", os.path.join(directory, "log")]
    args += ["--port", str(port), "--bind", "127.0.0.1"] if port else ["--port", "0", "--unixsocket", os.path.join(directory, "s")]
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if port:
                connection = Connection("127.0.0.1", port, timeout=60)
            else:
                from resp import unix_connection
                connection = unix_connection(os.path.join(directory, "s"))
            if connection.command("PING") == "PONG":
                break
        except Exception:
            time.sleep(0.005)
    return process, directory, connection, time.perf_counter() - started


def bgsave_seconds(connection):
    saves = int(re.search(r"rdb_saves:(\d+)", connection.command("INFO", "persistence")).group(1))
    started = time.perf_counter()
    connection.command("BGSAVE")
    while True:
        info = connection.command("INFO", "persistence")
        if "rdb_bgsave_in_progress:0" in info and int(re.search(r"rdb_saves:(\d+)", info).group(1)) > saves:
            return time.perf_counter() - started
        time.sleep(0.002)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--skip-import", action="store_true", help="leave out redis-cli --cluster import (about 4 minutes for 1M keys)")
    args = parser.parse_args()
    print(f"binary: {memoryplane.BINARY}; {args.keys:,} keys; load average {os.getloadavg()[0]:.1f}", flush=True)
    server = memoryplane.Server(ports=100).start()
    try:
        created = server.create_cluster("big", shards=1, replicas=1, wait=True)
        port = created.json()["clusterEndpoint"]["port"]
        took, _ = timed(lambda: fill("127.0.0.1", port, args.keys, prefix="k", batch=5000))
        print(f"filled in {took:.1f} s", flush=True)
        time.sleep(1)

        # 1. Snapshot + restore, beside BGSAVE + a raw start.
        snap_time, response = timed(lambda: server.request("POST", "/v1/snapshots?wait=true", json={"clusterName": "big", "snapshotName": "big-1"}, timeout=600))
        assert response.status_code == 201, response.text
        restore_time, response = timed(lambda: server.request("POST", "/v1/clusters?wait=true", json={
            "name": "big-copy", "nodeType": "db.t4g.small", "numShards": 1, "numReplicasPerShard": 1, "aclName": "open-access",
            "tlsEnabled": False, "snapshotName": "big-1"}, timeout=600))
        assert response.status_code == 201, response.text
        exported = server.request("POST", "/v1/snapshots/big-1/copy", json={"targetSnapshotName": "big-plain", "targetBucket": "bench"})
        assert exported.status_code == 200, exported.text
        rdb = os.path.join(server.data_dir, "exports", "bench", "big-plain-0001.rdb")
        size = os.path.getsize(rdb)
        process, directory, connection, start_time = standalone(rdb)
        save_time = bgsave_seconds(connection)
        process.kill(); process.wait(); shutil.rmtree(directory, ignore_errors=True)
        ours = snap_time + restore_time
        base = save_time + start_time
        print("\n| what | seconds |\n|---|---|")
        print(f"| MemoryPlane CreateSnapshot (wait) 1x1, {size / 1e6:.0f} MB RDB | {snap_time:.2f} |")
        print(f"| MemoryPlane CreateCluster from it, 1x1, until available | {restore_time:.2f} |")
        print(f"| raw BGSAVE of the same data (standalone) | {save_time:.2f} |")
        print(f"| raw redis-server start on that RDB until it answers | {start_time:.2f} |")
        print(f"| snapshot + restore / (BGSAVE + start) | {ours / base:.2f}x |", flush=True)

        # 2. Restore into 3 shards, beside redis-cli --cluster import into an empty 3-shard cluster.
        if args.skip_import:
            server.request("DELETE", "/v1/clusters/big-copy?wait=true", timeout=120)
        three, response = timed(lambda: server.request("POST", "/v1/clusters?wait=true", json={
            "name": "big-three", "nodeType": "db.t4g.small", "numShards": 3, "numReplicasPerShard": 0, "aclName": "open-access",
            "tlsEnabled": False, "snapshotName": "big-1"}, timeout=900))
        assert response.status_code == 201, response.text
        server.request("DELETE", "/v1/clusters/big-three?wait=true", timeout=120)
        server.request("DELETE", "/v1/clusters/big-copy?wait=true", timeout=120)
        if args.skip_import:
            print(f"\n| MemoryPlane CreateCluster numShards 3 from the 1-shard snapshot, until available | {three:.2f} s |", flush=True)
        else:
            import_baseline(server, rdb, three)

        section_three(server)
    finally:
        server.cleanup()


def import_baseline(server, rdb, three):
    if True:
        empty = server.create_cluster("empty-three", shards=3, replicas=0, wait=True).json()
        source_port = memoryplane.free_range(size=1)[0]
        process, directory, connection, _ = standalone(rdb, port=source_port)
        target = empty["shards"][0]["nodes"][0]["endpoint"]["port"]
        started = time.perf_counter()
        result = subprocess.run(["redis-cli", "--cluster", "import", f"127.0.0.1:{target}", "--cluster-from", f"127.0.0.1:{source_port}",
                                 "--cluster-copy", "--cluster-replace"], capture_output=True, text=True, timeout=3600)
        import_time = time.perf_counter() - started
        process.kill(); process.wait(); shutil.rmtree(directory, ignore_errors=True)
        assert result.returncode == 0, result.stdout[-500:] + result.stderr[-500:]
        print(f"\n| restore 1 -> 3 shards | seconds |\n|---|---|")
        print(f"| MemoryPlane CreateCluster numShards 3 from the 1-shard snapshot, until available | {three:.2f} |")
        print(f"| redis-cli --cluster import of the same RDB into an empty 3-shard cluster | {import_time:.2f} |")
        print(f"| speed ratio | {import_time / three:.1f}x |", flush=True)


def section_three(server):
    if True:
        # 3. Write throughput with and without snapshots running.
        primary = next(n for s in server.request("GET", "/v1/clusters/big").json()["shards"] for n in s["nodes"] if n["role"] == "primary")
        def bench():
            out = subprocess.run(["redis-benchmark", "-p", str(primary["endpoint"]["port"]), "-t", "set", "-n", "400000", "-c", "50", "-r", "1000000", "-q"],
                                 capture_output=True, text=True, timeout=600).stdout
            return float(re.search(r"([\d.]+) requests per second", out).group(1))
        quiet = bench()

        def with_snapshots(back_to_back):
            stop = threading.Event()
            taken = []

            def snapshots():
                time.sleep(0 if back_to_back else 1.5)
                while not stop.is_set():
                    name = f"load-{len(taken) + 1}"
                    response = server.request("POST", "/v1/snapshots?wait=true", json={"clusterName": "big", "snapshotName": name}, timeout=600)
                    if response.status_code == 201:
                        taken.append(name)
                        server.request("DELETE", f"/v1/snapshots/{name}")
                    if not back_to_back:
                        return
            thread = threading.Thread(target=snapshots)
            thread.start()
            rate = bench()
            stop.set()
            thread.join()
            return rate, len(taken)

        one, _ = with_snapshots(False)
        busy, count = with_snapshots(True)
        print(f"\n| redis-benchmark SET, 50 connections, 400k requests, to the primary | requests/s |\n|---|---|")
        print(f"| without snapshots | {quiet:,.0f} |")
        print(f"| with one snapshot taken during the run | {one:,.0f} ({one / quiet:.2f}x) |")
        print(f"| while snapshots are taken back to back ({count} during the run) | {busy:,.0f} ({busy / quiet:.2f}x) |", flush=True)


if __name__ == "__main__":
    main()

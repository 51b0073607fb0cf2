"""What supervision and reads cost as clusters grow, each figure beside a baseline from the same run.

For each point (0, 5, 25 and 100 idle nodes by default, in clusters of 1 primary and 4 replicas,
plain; 100 TLS nodes too), with the server's default settings (metrics every 10 s):
- the control plane's CPU (from /proc/<pid>/stat over the window) and RSS;
- the nodes' own CPU per node, beside redis-server nodes nobody polls (a 1x4 cluster made with
  `redis-cli --cluster create`, same durability and node timeout), measured in the same window;
- sockets in TIME_WAIT towards node ports at the end of the window;
- `GET /v1/clusters` and DescribeClusters (ShowShardDetails, SigV4 signed once) replayed by wrk:
  p50/p99 with one connection, and throughput with 16; moto_server with the same number of
  clusters answers the same DescribeClusters as the baseline.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/scale.py [--points 0,5,25,100] [--window 30]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from benchlib import cpu_seconds, signed, start_moto  # noqa: E402

def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def time_wait_towards(lo, hi, within):
    """Sockets that entered TIME_WAIT in the last `within` seconds (the kernel keeps them 60 s)
    with a node port (lo..hi) at either end: connections the idle window itself left behind,
    not the cluster creations before it."""
    output = subprocess.run(["ss", "-tanoH", "state", "time-wait"], capture_output=True, text=True).stdout
    count = 0
    for line in output.splitlines():
        timer = re.search(r"timer:\(timewait,(?:(\d+)min)?(?:(\d+)sec|(\d+)ms)", line)
        if not timer:
            continue
        minutes, seconds, milliseconds = timer.groups()
        remaining = int(minutes or 0) * 60 + int(seconds or 0) + int(milliseconds or 0) / 1000
        if remaining < 60 - within:
            continue
        ports = [int(address.rsplit(":", 1)[1]) for address in line.split()[2:4] if address.rsplit(":", 1)[1].isdigit()]
        if any(lo <= port <= hi for port in ports):
            count += 1
    return count


class UnpolledCluster:
    """Five redis-server nodes in one cluster (1 primary, 4 replicas) that nothing supervises."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="mp-bench-unpolled-", dir="/tmp")
        lo, _ = memoryplane.free_range(size=5, start=22000, stop=22700)
        self.ports = list(range(lo, lo + 5))
        self.processes = []

    def start(self):
        # Each process is tracked as soon as it is spawned: stop() ends them even when forming fails.
        for port in self.ports:
            directory = os.path.join(self.root, str(port))
            os.makedirs(directory)
            self.processes.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-node-timeout", "5000",
                 "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", directory,
                 "--logfile", os.path.join(directory, "redis.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        # redis-cli --cluster create wants 3 primaries; one primary and four replicas are made by hand.
        first = self.ports[0]
        self.cli(first, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        for port in self.ports[1:]:
            self.cli(port, "CLUSTER", "MEET", "127.0.0.1", str(first))
        primary_id = self.cli(first, "CLUSTER", "MYID")
        deadline = time.time() + 30
        for port in self.ports[1:]:
            while self.cli(port, "CLUSTER", "REPLICATE", primary_id) != "OK":
                assert time.time() < deadline, "the unpolled cluster did not form"
                time.sleep(0.2)
        return self

    @staticmethod
    def cli(port, *args):
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True, timeout=10).stdout.strip()

    def pids(self):
        return [p.pid for p in self.processes]

    def stop(self):
        for process in self.processes:
            process.kill()
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def signed_describe(url, key, secret):
    return ("POST", *signed(url, key, secret, "DescribeClusters", {"ShowShardDetails": True}))


def wrk(url, method, body, headers, connections, seconds=5):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f"wrk.method = {json.dumps(method)}\n")
    if body:
        script.write(f"wrk.body = {json.dumps(body)}\n")
    for name, value in headers.items():
        script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
    script.close()
    threads = min(2, connections)
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
                            capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(script.name)
    assert "Non-2xx" not in output, output
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def percentile(label):
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rate, percentile("50"), percentile("99")


def api_figures(url, list_request, describe_request):
    figures = {}
    for label, (method, body, headers, path) in [("list", list_request), ("describe", describe_request)]:
        _, p50, p99 = wrk(url + path, method, body, headers, connections=1)
        rate, _, _ = wrk(url + path, method, body, headers, connections=16)
        figures[label] = (p50, p99, rate)
    return figures


def measure(nodes, tls, window, unpolled):
    clusters = nodes // 5
    server = memoryplane.Server(ports=nodes + clusters + 10)
    try:
        server.start()
        for index in range(clusters):
            response = server.create_cluster(f"scale-{index}", shards=1, replicas=4, tlsEnabled=tls)
            assert response.status_code == 202, response.text
        for index in range(clusters):
            server.wait_for(f"scale-{index}", "available", timeout=300)
        time.sleep(12)  # past the first metrics collection and a supervision pass
        node_pids = [pid for pid, (comm, _) in memoryplane.processes_in(os.path.join(server.data_dir, "nodes")).items() if comm == "redis-server"]
        assert len(node_pids) == nodes, (len(node_pids), nodes)
        watched = [server.process.pid] + node_pids + unpolled.pids()
        before = {pid: cpu_seconds(pid) for pid in watched}
        time.sleep(window)
        spent = {pid: (cpu_seconds(pid) - before[pid]) / window * 100 for pid in watched}
        control = spent[server.process.pid]
        per_node = sum(spent[pid] for pid in node_pids) / len(node_pids) if node_pids else None
        per_unpolled = sum(spent[pid] for pid in unpolled.pids()) / len(unpolled.pids())
        waiting = time_wait_towards(*server.range, within=window)
        rss = rss_mib(server.process.pid)
        api = None
        if nodes and not tls:
            key, secret = server.credentials
            import base64
            basic = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
            method, body, headers = signed_describe(server.url, key, secret)
            api = api_figures(server.url, ("GET", None, {"Authorization": basic}, "/v1/clusters"), (method, body, headers, "/"))
        return {"control": control, "rss": rss, "per_node": per_node, "unpolled": per_unpolled, "time_wait": waiting, "api": api}
    finally:
        server.cleanup()


def moto_describe(clusters):
    moto, url = start_moto()
    try:
        client = boto3.client("memorydb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        for index in range(clusters):
            client.create_cluster(ClusterName=f"scale-{index}", NodeType="db.t4g.small", ACLName="open-access", NumShards=1, NumReplicasPerShard=4)
        method, body, headers = signed_describe(url, "testing", "testing")
        _, p50, p99 = wrk(url + "/", method, body, headers, connections=1)
        rate, _, _ = wrk(url + "/", method, body, headers, connections=16)
        return p50, p99, rate
    finally:
        moto.send_signal(signal.SIGTERM)
        moto.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", default="0,5,25,100")
    parser.add_argument("--tls-points", default="100")
    parser.add_argument("--window", type=int, default=30)
    args = parser.parse_args()
    points = [(int(n), False) for n in args.points.split(",") if n] + [(int(n), True) for n in args.tls_points.split(",") if n]
    print(f"binary: {memoryplane.BINARY}; load average {os.getloadavg()[0]:.1f}", flush=True)
    unpolled = UnpolledCluster()
    results = {}
    try:
        unpolled.start()
        for nodes, tls in points:
            results[(nodes, tls)] = measure(nodes, tls, args.window, unpolled)
            r = results[(nodes, tls)]
            node_text = f"{r['per_node']:.3f} %" if r["per_node"] is not None else "-"
            print(f"{nodes} {'TLS ' if tls else ''}nodes: control plane {r['control']:.2f} % of a core, RSS {r['rss']:.0f} MiB; "
                  f"node CPU {node_text} per node vs unpolled {r['unpolled']:.3f} %; TIME_WAIT towards node ports {r['time_wait']}", flush=True)
    finally:
        unpolled.stop()
    largest = max(n for n, tls in points if not tls)
    theirs = moto_describe(largest // 5) if largest else None

    print("\n| nodes | control-plane CPU (% of one core) | RSS | node CPU per node (unpolled baseline) | TIME_WAIT to node ports |")
    print("|---|---|---|---|---|")
    for (nodes, tls), r in results.items():
        node_text = f"{r['per_node']:.3f} % ({r['unpolled']:.3f} %, {r['per_node'] / r['unpolled']:.2f}×)" if r["per_node"] is not None else "-"
        print(f"| {nodes}{' TLS' if tls else ''} | {r['control']:.2f} % | {r['rss']:.0f} MiB | {node_text} | {r['time_wait']} |")
    print("\n| nodes | GET /v1/clusters p50 / p99 (1 conn) | req/s (16 conns) | DescribeClusters p50 / p99 | req/s |")
    print("|---|---|---|---|---|")
    for (nodes, tls), r in results.items():
        if r["api"]:
            (lp50, lp99, lrate), (dp50, dp99, drate) = r["api"]["list"], r["api"]["describe"]
            print(f"| {nodes} | {lp50:.2f} / {lp99:.2f} ms | {lrate:,.0f} | {dp50:.2f} / {dp99:.2f} ms | {drate:,.0f} |")
    if theirs:
        p50, p99, rate = theirs
        ours = results[(largest, False)]["api"]["describe"][2]
        print(f"| moto_server, {largest // 5} clusters | | | {p50:.2f} / {p99:.2f} ms | {rate:,.0f} ({ours / rate:.0f}× fewer than ours) |")


if __name__ == "__main__":
    main()

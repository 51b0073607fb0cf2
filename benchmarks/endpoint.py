"""The cluster endpoint's cost to a simple client, beside connecting to the node directly.

redis-benchmark (SET and GET, 50 connections, pipeline 1, 200,000 requests each) against a 1x0
cluster's node and through its endpoint, plain and TLS, alternated, median of 3. Also the
endpoint process's CPU per request over the endpoint runs.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/endpoint.py [--runs 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from benchlib import cpu_seconds  # noqa: E402


def benchmark(port, tls_ca, requests):
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", "1", "-n", str(requests), "-t", "set,get", "-q"]
    if tls_ca:
        args += ["--tls", "--cacert", tls_ca]
    output = subprocess.run(args, capture_output=True, text=True, timeout=300).stdout
    rates = dict(re.findall(r"^(SET|GET): ([\d.]+) requests per second", output.replace("\r", "\n"), re.M))
    assert set(rates) == {"SET", "GET"}, output
    return {name: float(rate) for name, rate in rates.items()}


def endpoint_pid(server, name):
    return int(open(os.path.join(server.data_dir, "clusters", name, "endpoint.pid")).read().strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    print(f"binary: {memoryplane.BINARY}; load average {os.getloadavg()[0]:.1f}", flush=True)
    server = memoryplane.Server().start()
    rows = []
    try:
        for tls in (False, True):
            name = "ep-tls" if tls else "ep-plain"
            view = server.create_cluster(name, wait=True, tlsEnabled=tls).json()
            assert view["status"] == "available", view
            node_port = view["shards"][0]["nodes"][0]["endpoint"]["port"]
            endpoint_port = view["clusterEndpoint"]["port"]
            ca = os.path.join(server.data_dir, "ca.pem") if tls else None
            proxy = endpoint_pid(server, name)
            direct, through, proxy_cpu, forwarded = {"SET": [], "GET": []}, {"SET": [], "GET": []}, 0.0, 0
            for _ in range(args.runs):
                for kind, rate in benchmark(node_port, ca, args.requests).items():
                    direct[kind].append(rate)
                before = cpu_seconds(proxy)
                for kind, rate in benchmark(endpoint_port, ca, args.requests).items():
                    through[kind].append(rate)
                proxy_cpu += cpu_seconds(proxy) - before
                forwarded += 2 * args.requests
            for kind in ("SET", "GET"):
                rows.append((f"{kind}{' TLS' if tls else ''}", statistics.median(direct[kind]), statistics.median(through[kind]), direct[kind], through[kind]))
            rows.append((f"endpoint CPU per request{' (TLS)' if tls else ''}", proxy_cpu / forwarded * 1e6, None, None, None))
    finally:
        server.cleanup()
    print("\n| redis-benchmark -c 50 -P 1 | direct to the node (req/s) | through the cluster endpoint | ratio |")
    print("|---|---|---|---|")
    for label, direct, through, direct_runs, through_runs in rows:
        if through is None:
            print(f"| {label} | {direct:.1f} µs of the endpoint process's CPU | | |")
        else:
            print(f"| {label} | {direct:,.0f} ({', '.join(f'{r:,.0f}' for r in direct_runs)}) | {through:,.0f} ({', '.join(f'{r:,.0f}' for r in through_runs)}) | {through / direct:.2f}× |")


if __name__ == "__main__":
    main()

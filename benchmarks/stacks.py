"""A stack applied in one command, beside the same resources created one by one with curl.

The stack: a parameter group, two users, an ACL and two 2×1 clusters (TLS on). Measured, from
nothing to every cluster `available`:

- `memoryplane apply -f stack.yaml --auto-approve` (the CLI plans, applies, follows progress);
- the same resources created one by one with curl, as a script without stacks would: each
  cluster with `?wait=true` (so the script knows it is ready) before the next;
- each cluster's own creation in that sequence: the aim is apply ≤ 1.5× the slowest of them
  (clusters are created in parallel by an apply).

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/stacks.py [--runs 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402

PASSWORD_A = "bench-password-aaaaaaaa"
PASSWORD_B = "bench-password-bbbbbbbb"


def stack_text(run):
    return f"""stack: bench{run}
parameterGroups:
  - name: bench{run}-params
    family: memorydb_redis7
    parameters: {{maxmemory-policy: allkeys-lru}}
users:
  - name: bench{run}-writer
    accessString: "on ~app:* +@all"
    authenticationMode: {{type: password, passwords: ["${{env:PASSWORD_A}}"]}}
  - name: bench{run}-reader
    accessString: "on ~app:* +@read"
    authenticationMode: {{type: password, passwords: ["${{env:PASSWORD_B}}"]}}
acls:
  - name: bench{run}-acl
    userNames: [bench{run}-writer, bench{run}-reader]
clusters:
  - name: bench{run}-a
    nodeType: db.t4g.small
    numShards: 2
    numReplicasPerShard: 1
    aclName: bench{run}-acl
    parameterGroupName: bench{run}-params
  - name: bench{run}-b
    nodeType: db.t4g.small
    numShards: 2
    numReplicasPerShard: 1
    aclName: bench{run}-acl
    parameterGroupName: bench{run}-params
"""


def curl(server, method, path, body=None):
    key, secret = server.credentials
    command = ["curl", "-sS", "-f", "-X", method, "-u", f"{key}:{secret}", server.url + path]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"curl {method} {path}: {result.stderr} {result.stdout}")
    return result.stdout


def one_by_one(server, run):
    """The baseline: returns (total seconds, [each cluster's own creation seconds])."""
    started = time.monotonic()
    name = f"curl{run}"
    curl(server, "POST", "/v1/parameter-groups", {"name": f"{name}-params", "family": "memorydb_redis7"})
    curl(server, "PATCH", f"/v1/parameter-groups/{name}-params",
         {"parameters": {"maxmemory-policy": "allkeys-lru"}})
    for user, access, password in [("writer", "on ~app:* +@all", PASSWORD_A), ("reader", "on ~app:* +@read", PASSWORD_B)]:
        curl(server, "POST", "/v1/users", {"name": f"{name}-{user}", "accessString": access,
                                           "authenticationMode": {"type": "password", "passwords": [password]}})
    curl(server, "POST", "/v1/acls", {"name": f"{name}-acl", "userNames": [f"{name}-writer", f"{name}-reader"]})
    each = []
    for suffix in ("a", "b"):
        cluster_started = time.monotonic()
        reply = json.loads(curl(server, "POST", "/v1/clusters?wait=true", {
            "name": f"{name}-{suffix}", "nodeType": "db.t4g.small", "numShards": 2, "numReplicasPerShard": 1,
            "aclName": f"{name}-acl", "parameterGroupName": f"{name}-params"}))
        assert reply["status"] == "available", reply
        each.append(time.monotonic() - cluster_started)
    return time.monotonic() - started, each


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = memoryplane.Server(ports=200).start()
    workdir = tempfile.mkdtemp(prefix="mp-bench-stacks-")
    applies, destroys, baselines, singles = [], [], [], []
    try:
        env = dict(os.environ, PASSWORD_A=PASSWORD_A, PASSWORD_B=PASSWORD_B)
        common = ["--endpoint-url", server.url, "--data-dir", server.data_dir]
        for run in range(args.runs):
            path = os.path.join(workdir, f"stack{run}.yaml")
            with open(path, "w") as file:
                file.write(stack_text(run))
            started = time.monotonic()
            result = subprocess.run([memoryplane.BINARY, "apply", "-f", path, "--auto-approve", *common],
                                    capture_output=True, text=True, env=env, timeout=600)
            applies.append(time.monotonic() - started)
            assert result.returncode == 0, result.stdout + result.stderr
            for suffix in ("a", "b"):
                assert server.request("GET", f"/v1/clusters/bench{run}-{suffix}").json()["status"] == "available"
            total, each = one_by_one(server, run)
            baselines.append(total)
            singles.append(max(each))
            started = time.monotonic()
            result = subprocess.run([memoryplane.BINARY, "destroy", "-f", path, "--auto-approve", *common],
                                    capture_output=True, text=True, env=env, timeout=600)
            destroys.append(time.monotonic() - started)
            assert result.returncode == 0, result.stdout + result.stderr
            for suffix in ("a", "b"):
                curl(server, "DELETE", f"/v1/clusters/curl{run}-{suffix}?wait=true")
            print(f"run {run + 1}: apply {applies[-1]:.2f} s, one by one with curl {total:.2f} s "
                  f"(clusters {each[0]:.2f} s and {each[1]:.2f} s), destroy {destroys[-1]:.2f} s", flush=True)
        apply, baseline, single = statistics.median(applies), statistics.median(baselines), statistics.median(singles)
        print(f"stack apply (pg, 2 users, ACL, two 2×1 TLS clusters), median of {args.runs}: {apply:.2f} s")
        print(f"same resources one by one with curl: {baseline:.2f} s ({baseline / apply:.2f}× the apply's time)")
        print(f"slowest single cluster's creation: {single:.2f} s; apply / slowest cluster = {apply / single:.2f} (aim ≤ 1.5)")
        print(f"stack destroy, median: {statistics.median(destroys):.2f} s")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()

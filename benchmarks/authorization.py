"""What authorisation costs on the AWS door: DescribeClusters and TagResource throughput with
the admin key (one statement: memorydb:* on *) beside keys whose policies are evaluated in full,
in the same run on the same server: a ci key by name prefix (four statements, ARN wildcards) and
a ci key by tag (its statements test aws:ResourceTag, so every call also reads the resource's
tags). Rounds alternate between the keys so drift in the machine's speed falls on all of them.

Usage: python3 benchmarks/authorization.py [--duration 5] [--rounds 2]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from aws_door_throughput import run_wrk  # noqa: E402

import json  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

ARN = "arn:aws:memorydb:us-east-1:000000000000:cluster/ci-bench"
CALLS = {
    "DescribeClusters": {"ShowShardDetails": True},
    # The same tag each time: an overwrite, so the cluster's tag count stays put.
    "TagResource": {"ResourceArn": ARN, "Tags": [{"Key": "pipeline", "Value": "7"}]},
}


def signed(url, operation, params, key, secret):
    body = json.dumps(params)
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonMemoryDB.{operation}"})
    SigV4Auth(Credentials(key, secret), "memorydb", "us-east-1").add_auth(request)
    return body, dict(request.prepare().headers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = memoryplane.Server()
    try:
        server.start()
        assert server.create_cluster("ci-bench", wait=True, tags=[{"key": "pipeline", "value": "7"}]).json()["status"] == "available"
        keys = {"admin": server.credentials}
        for name, body in [("ci by prefix", {"name": "ci-prefix", "policy": "ci", "prefix": "ci-"}),
                           ("ci by tag", {"name": "ci-tag", "policy": "ci", "tag": {"key": "pipeline", "value": "7"}})]:
            created = server.request("POST", "/v1/access-keys", json=body).json()
            keys[name] = (created["accessKeyId"], created["secretAccessKey"])
        rates = {(operation, key): [] for operation in CALLS for key in keys}
        names = list(keys)
        for round_index in range(args.rounds):
            # Each round starts with another key: none always has the warm (or tired) slot.
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for operation, params in CALLS.items():
                for name in order:
                    key, secret = keys[name]
                    rates[(operation, name)].append(run_wrk(server.url, *signed(server.url, operation, params, key, secret), args.duration))
    finally:
        server.cleanup()

    print(f"| AWS door, wrk 2 threads × 16 connections, {args.rounds} × {args.duration} s per key | admin key (req/s) | ci by prefix | ci by tag |")
    print("|---|---|---|---|")
    for operation in CALLS:
        mean = {name: sum(rates[(operation, name)]) / len(rates[(operation, name)]) for name in keys}
        cells = [f"{mean['admin']:,.0f}"] + [
            f"{mean[name]:,.0f} ({(mean[name] / mean['admin'] - 1) * 100:+.1f} %)" for name in ("ci by prefix", "ci by tag")]
        print(f"| {operation} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

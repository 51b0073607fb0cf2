"""Mutating calls on the AWS door beside moto's server, in the same run.

- TagResource: one SigV4-signed request replayed by wrk (2 threads, 16 connections), ours and
  moto_server's (a tag written again is a write all the same: a transaction, an audit record).
- CreateUser: wrk sends pre-signed requests, each a new user (unique name), so every request is
  a real creation; then DeleteUser the same way for the users made. moto has no CreateUser.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/writes.py [--seconds 5]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import boto3
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from benchlib import signed, start_moto  # noqa: E402


def check(url, body, headers):
    response = requests.post(url + "/", data=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def wrk(url, requests_, seconds, connections=16):
    """Replays `requests_` (body, headers) in turn, each once per thread's cycle."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write("local requests = {}\n")
    for body, headers in requests_:
        header_table = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
        script.write(f"requests[#requests + 1] = wrk.format(\"POST\", \"/\", {{{header_table}}}, {json.dumps(body)})\n")
    script.write("""
local index = 0
function setup(thread)
  thread:set("offset", offset_counter or 0)
end
init = function(args)
  index = tonumber(wrk.thread:get("id") or 0)
end
request = function()
  index = index + 1
  return requests[(index % #requests) + 1]
end
""")
    script.close()
    output = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url + "/"],
                            capture_output=True, text=True, timeout=seconds + 120).stdout
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, total, int(errors.group(1)) if errors else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--users", type=int, default=12000)
    args = parser.parse_args()
    print(f"binary: {memoryplane.BINARY}; load average {os.getloadavg()[0]:.1f}", flush=True)
    server = memoryplane.Server().start()
    moto, moto_url = start_moto()
    try:
        key, secret = server.credentials
        assert server.create_cluster("tagged", wait=False).status_code == 202
        arn = server.request("GET", "/v1/clusters/tagged").json()["arn"]
        tag = {"ResourceArn": arn, "Tags": [{"Key": "bench", "Value": "1"}]}
        check(server.url, *signed(server.url, key, secret, "TagResource", tag))
        ours_tag = wrk(server.url, [signed(server.url, key, secret, "TagResource", tag)], args.seconds)

        client = boto3.client("memorydb", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        moto_arn = client.create_cluster(ClusterName="tagged", NodeType="db.t4g.small", ACLName="open-access")["Cluster"]["ARN"]
        theirs_tag = wrk(moto_url, [signed(moto_url, "testing", "testing", "TagResource", {**tag, "ResourceArn": moto_arn})], args.seconds)

        creates = [signed(server.url, key, secret, "CreateUser", {
            "UserName": f"bench-{index}", "AccessString": "on ~app:* +@read", "AuthenticationMode": {"Type": "password", "Passwords": [f"password-{index:08d}-long"]}})
            for index in range(args.users)]
        ours_create = wrk(server.url, creates, args.seconds)
        made = min(ours_create[1], args.users)
        deletes = [signed(server.url, key, secret, "DeleteUser", {"UserName": f"bench-{index}"}) for index in range(made)]
        ours_delete = wrk(server.url, deletes, args.seconds)
    finally:
        server.cleanup()
        moto.send_signal(signal.SIGTERM)
        moto.wait(timeout=30)

    print(f"\n| wrk, 16 connections, {args.seconds} s | requests/s | requests | non-2xx |")
    print("|---|---|---|---|")
    print(f"| MemoryPlane TagResource | {ours_tag[0]:,.0f} | {ours_tag[1]:,} | {ours_tag[2]} |")
    print(f"| moto_server TagResource | {theirs_tag[0]:,.0f} | {theirs_tag[1]:,} | {theirs_tag[2]} |")
    print(f"| ratio | {ours_tag[0] / theirs_tag[0]:.1f}× | | |")
    print(f"| MemoryPlane CreateUser (each a new user) | {ours_create[0]:,.0f} | {ours_create[1]:,} | {ours_create[2]} (names repeat past {args.users:,}) |")
    print(f"| MemoryPlane DeleteUser (each a user made above) | {ours_delete[0]:,.0f} | {ours_delete[1]:,} | {ours_delete[2]} (past the {made:,} made) |")


if __name__ == "__main__":
    main()

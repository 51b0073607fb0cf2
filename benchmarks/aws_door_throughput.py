"""DescribeClusters throughput on the AWS door beside moto's server, in the same run.

Both get the same load from wrk (2 threads, 16 connections, 10 s) with a request signed once by
botocore (SigV4 stays valid for 15 minutes), each holding one 1x0 cluster.

Usage: python3 benchmarks/aws_door_throughput.py [--duration 10]
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
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402


def signed_headers(url, key, secret):
    body = json.dumps({"ShowShardDetails": True})
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonMemoryDB.DescribeClusters"})
    SigV4Auth(Credentials(key, secret), "memorydb", "us-east-1").add_auth(request)
    return body, dict(request.prepare().headers)


def run_wrk(url, body, headers, duration):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write('wrk.method = "POST"\n')
    script.write(f"wrk.body = {json.dumps(body)}\n")
    for name, value in headers.items():
        if name.lower() not in ("host", "content-length"):
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
    script.close()
    # Check once that the request is accepted before loading the server with it.
    assert requests.post(url + "/", data=body, headers=headers, timeout=10).status_code == 200
    output = subprocess.run(["wrk", "-t2", "-c16", f"-d{duration}s", "-s", script.name, url + "/"],
                            capture_output=True, text=True, timeout=duration + 60).stdout
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert errors is None, output
    return rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()

    server = memoryplane.Server()
    moto = None
    try:
        server.start()
        key, secret = server.credentials
        assert server.create_cluster("bench", wait=True).json()["status"] == "available"
        ours = run_wrk(server.url, *signed_headers(server.url, key, secret), args.duration)

        port = memoryplane.free_port()
        moto = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moto_url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(moto_url + "/moto-api/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        boto3.client("memorydb", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_cluster(ClusterName="bench", NodeType="db.t4g.small", ACLName="open-access")
        theirs = run_wrk(moto_url, *signed_headers(moto_url, "testing", "testing"), args.duration)
    finally:
        server.cleanup()
        if moto:
            moto.send_signal(signal.SIGTERM)
            moto.wait(timeout=30)

    print(f"| DescribeClusters (ShowShardDetails), wrk 2 threads × 16 connections, {args.duration} s | requests/s |")
    print("|---|---|")
    print(f"| MemoryPlane AWS door (SigV4 verified) | {ours:,.0f} |")
    print(f"| moto_server {__import__('moto').__version__} | {theirs:,.0f} |")
    print(f"| ratio | {ours / theirs:.1f}× |")


if __name__ == "__main__":
    main()

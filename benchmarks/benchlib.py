"""What the scale, endpoint and writes benchmarks share: CPU time read precisely, SigV4-signed
requests for wrk to replay, and a moto_server to measure beside."""
import json
import os
import subprocess
import sys
import time

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402


def cpu_seconds(pid):
    """CPU time of every thread of `pid`, in nanoseconds' precision (/proc/<pid>/stat counts in
    10 ms ticks, too coarse for an idle node over a minute)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
            except OSError:
                pass
    except OSError:
        return 0.0
    return total / 1e9


def signed(url, key, secret, target, body):
    """(body text, headers) of one AWS-door call signed once by botocore; replayable for 15 min."""
    text = json.dumps(body)
    request = AWSRequest(method="POST", url=url + "/", data=text, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonMemoryDB.{target}"})
    SigV4Auth(Credentials(key, secret), "memorydb", "us-east-1").add_auth(request)
    # Host is signed, so it goes as signed (wrk.format would add its own otherwise).
    return text, {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"} | {"Host": url.split("//", 1)[1]}


def start_moto():
    """A moto_server on a free port, answering; (process, url). The caller stops it."""
    port = memoryplane.free_port()
    moto = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(url + "/moto-api/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    return moto, url

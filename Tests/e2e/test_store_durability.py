"""Every API change that was answered survives `kill -9` of the server: a client makes changes
as fast as it can from several threads (users created, tags written), records each one the
server acknowledged, the server is SIGKILLed under that load, and after a restart every recorded
change is there. The store commits to SQLite's WAL before it answers (`synchronous = NORMAL`)."""
import threading
import time

from awsdoor import raw_call


def test_every_acknowledged_change_survives_kill_9(server):
    arn = server.request("GET", "/v1/clusters").json()  # warm the connection
    assert raw_call(server, "CreateCluster", {"ClusterName": "kept", "NodeType": "db.t4g.small", "ACLName": "open-access",
                                               "TLSEnabled": False})[0] == 200
    arn = server.request("GET", "/v1/clusters/kept").json()["arn"]
    acknowledged_users, acknowledged_tags = [], []
    stop = threading.Event()
    lock = threading.Lock()

    def create_users(worker):
        index = 0
        while not stop.is_set():
            name = f"durable-{worker}-{index}"
            try:
                status, _, _ = raw_call(server, "CreateUser", {
                    "UserName": name, "AccessString": "on ~k:* +get", "AuthenticationMode": {"Type": "password", "Passwords": ["a-long-password-1"]}})
            except Exception:
                return  # the server is gone: what was answered is recorded
            if status == 200:
                with lock:
                    acknowledged_users.append(name)
            index += 1

    def write_tags(worker):
        index = 0
        while not stop.is_set():
            key = f"t{worker}-{index}"
            try:
                status, _, _ = raw_call(server, "TagResource", {"ResourceArn": arn, "Tags": [{"Key": key, "Value": str(index)}]})
            except Exception:
                return
            if status == 200:
                with lock:
                    acknowledged_tags.append(key)
            index += 1

    threads = [threading.Thread(target=create_users, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=write_tags, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    server.kill()  # SIGKILL, under load
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged_users) > 20 and len(acknowledged_tags) > 20, (len(acknowledged_users), len(acknowledged_tags))

    server.start()
    users = set()
    token = None
    while True:
        params = {"MaxResults": 50, **({"NextToken": token} if token else {})}
        status, body, _ = raw_call(server, "DescribeUsers", params)
        assert status == 200, body
        users.update(user["Name"] for user in body["Users"])
        token = body.get("NextToken")
        if not token:
            break
    missing_users = [name for name in acknowledged_users if name not in users]
    status, body, _ = raw_call(server, "ListTags", {"ResourceArn": arn})
    assert status == 200, body
    tags = {tag["Key"] for tag in body["TagList"]}
    missing_tags = [key for key in acknowledged_tags if key not in tags]
    assert not missing_users and not missing_tags, (missing_users[:5], missing_tags[:5])

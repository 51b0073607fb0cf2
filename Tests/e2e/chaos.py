"""Faults injected at the step boundaries of every kind of shape change.

`serve --fault-hook HOOK` runs HOOK at each boundary an operation reports (a reconcile step
about to run or just done, a slot hand-over's phases, a promotion's phases), and waits for it.
The hook written here logs every boundary and, at the one a case names (the Nth time a point
whose detail contains a given text is reached), kills or freezes one participant: the source
primary, the target primary, a replica of theirs, or `serve` itself. Nothing is timed with sleeps.

A case then asserts what a user is promised: the cluster ends `available` with the layout
asked for, `redis-cli --cluster check` is clean, every write a client saw acknowledged (a
redis-py RedisCluster writing throughout) reads back with its value, and no process or
directory of a removed node is left. `make chaos` runs the whole matrix (`scripts/chaos.py`);
`test_chaos.py` runs a subset in `make test`.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from ledger import RecordingClient
from memoryplane import Server, processes_in

HOOK = r'''#!/usr/bin/env python3
import fcntl, json, os, signal, sys, time
plan = json.load(open(os.environ["MEMORYPLANE_CHAOS_PLAN"]))
point = os.environ.get("MEMORYPLANE_FAULT_POINT", "")
detail = os.environ.get("MEMORYPLANE_FAULT_DETAIL", "")
prefix = "MEMORYPLANE_FAULT_NODE_"
nodes = {k[len(prefix):].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}
with open(plan["log"], "a+") as log:
    fcntl.flock(log, fcntl.LOCK_EX)
    log.seek(0)
    seen = [json.loads(line) for line in log if line.strip()]
    matching = [e for e in seen if e["point"] == plan["point"] and plan["match"] in e["detail"]]
    fired = any(e.get("fired") for e in seen)
    entry = {"point": point, "detail": detail, "nodes": nodes, "at": time.time()}
    if not fired and point == plan["point"] and plan["match"] in detail and len(matching) + 1 == plan["occurrence"]:
        fault = plan["fault"]
        def role_of(node):
            # ROLE as the cluster's admin (port and password from the node's own redis.conf).
            import re, socket
            try:
                text = open(os.path.join(plan["data_dir"], "nodes", node, "redis.conf")).read()
                port = int(re.search(r"^(?:tls-)?port (\d+)", text, re.M).group(1)) if "tls-port" not in text else None
                user, password = re.search(r"^user (\S+) on >(\S+)", text, re.M).groups()
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(f"AUTH {user} {password}\r\nROLE\r\n".encode())
                    reply = b""
                    while reply.count(b"\r\n") < 4:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        reply += chunk
                return "slave" if b"slave" in reply else "master"
            except Exception:
                return None
        def participant(roles):
            for role in roles:
                if role in nodes:
                    return nodes[role]
            return plan["fallback"][roles[0]]
        if fault == "kill-serve":
            victim = "serve"
        elif fault in ("kill-source", "stop-source"):
            victim = participant(["source", "primary", "node"])
        elif fault in ("kill-target", "stop-target"):
            victim = participant(["target", "replica", "node"])
        else:
            # A replica of the shard the step works on: a member other than the participants.
            anchor = participant(["target", "source", "primary", "replica", "node"])
            shard = anchor.rsplit("-", 1)[0] + "-"
            busy = set(nodes.values()) | {anchor}
            members = sorted(n for n in os.listdir(os.path.join(plan["data_dir"], "nodes")) if n.startswith(shard) and n not in busy)
            victim = next((m for m in members if role_of(m) == "slave"), members[0] if members else None)
        entry.update(fired=True, fault=fault, victim=victim)
        if victim == "serve":
            pid = int(os.environ["MEMORYPLANE_FAULT_SERVE_PID"])
            entry["pid"] = pid
            log.write(json.dumps(entry) + "\n")
            log.flush()
            os.kill(pid, signal.SIGKILL)
            sys.exit(0)
        if victim:
            directory = os.path.join(plan["data_dir"], "nodes", victim)
            try:
                pid = int(open(os.path.join(directory, "redis.pid")).read().strip())
                if os.readlink(f"/proc/{pid}/cwd") == directory:
                    os.kill(pid, signal.SIGSTOP if fault.startswith("stop") else signal.SIGKILL)
                    entry["pid"] = pid
            except (OSError, ValueError) as error:
                entry["error"] = str(error)
    log.write(json.dumps(entry) + "\n")
'''

FAULTS = ["kill-source", "kill-target", "kill-replica", "kill-serve", "stop-target", "stop-source"]


@dataclass(frozen=True)
class Boundary:
    """The Nth time `point` is reached with `match` in its detail."""
    point: str
    match: str = ""
    occurrence: int = 1

    def __str__(self):
        return f"{self.point}[{self.match}]#{self.occurrence}" if self.match else f"{self.point}#{self.occurrence}"


@dataclass
class Kind:
    """One kind of shape change: the cluster it starts from, how it is asked for, the layout it
    must end in, and the boundaries worth breaking it at."""
    name: str
    shards: int
    replicas: int
    final_shards: int
    final_replicas: int
    boundaries: list
    start: object = None  # callable(server, cluster) run once the writer runs
    done: object = None  # callable(server, cluster, view before) -> bool: the change went through

    def __str__(self):
        return self.name


def _patch(body):
    def start(server, name):
        response = server.request("PATCH", f"/v1/clusters/{name}", json=body)
        assert response.status_code == 200, response.text
    return start


def _layout_reached(kind):
    def done(server, name, before):
        view = server.request("GET", f"/v1/clusters/{name}", timeout=5).json()
        return (view.get("status") == "available" and len(view.get("shards", [])) == kind.final_shards
                and all(len(s["nodes"]) == 1 + kind.final_replicas for s in view["shards"]))
    return done


def _failover_ended(server, name, before):
    """The failover asked for was carried out or called off (its replica died or froze), and
    whatever followed (the shard failing back after its new primary was killed) is over."""
    view = server.request("GET", f"/v1/clusters/{name}", timeout=5).json()
    if view.get("status") != "available" or view.get("operations"):
        return False
    events = [e["message"] for e in server.request("GET", f"/v1/events?sourceName={name}&maxResults=100", timeout=5).json()["events"]]
    return any(" failed over in " in m or "abandoned" in m for m in events)


def _restarted_everywhere(server, name, before):
    events = [e["message"] for e in server.request("GET", f"/v1/events?sourceName={name}&maxResults=100", timeout=5).json()["events"]]
    return any(m.startswith("Service updates applied") for m in events)


def _node_type_changed(server, name, before):
    view = server.request("GET", f"/v1/clusters/{name}", timeout=5).json()
    return view.get("status") == "available" and view.get("nodeType") == "db.t4g.medium"


def _failover(server, name):
    response = server.request("POST", f"/v1/clusters/{name}/shards/0001/failover")
    assert response.status_code in (200, 202), response.text


def _rolling_restart(server, name):
    from awsdoor import client
    mdb = client(server)
    mdb.create_parameter_group(ParameterGroupName=f"{name}-params", Family="memorydb_redis7")
    mdb.update_cluster(ClusterName=name, ParameterGroupName=f"{name}-params")
    wait_layout(server, name, 2, 2, timeout=60)
    mdb.update_parameter_group(ParameterGroupName=f"{name}-params", ParameterNameValues=[{"ParameterName": "activerehashing", "ParameterValue": "no"}])
    mdb.batch_update_cluster(ClusterNames=[name])


MOVE = "move slots"
KINDS = {
    "reshard-up": Kind("reshard-up", 2, 1, 3, 1, [
        Boundary("step.before", MOVE), Boundary("handover.importing"), Boundary("handover.copying"),
        Boundary("handover.claimed"), Boundary("handover.committed"), Boundary("step.after", MOVE, 2),
    ], _patch({"numShards": 3})),
    "reshard-down": Kind("reshard-down", 3, 1, 2, 1, [
        Boundary("handover.copying"), Boundary("handover.claimed"), Boundary("handover.committed", occurrence=3),
        Boundary("step.before", "retire drained shard"),
    ], _patch({"numShards": 2})),
    "replicas-up": Kind("replicas-up", 2, 1, 2, 2, [
        Boundary("step.after", "start node"), Boundary("step.before", "CLUSTER REPLICATE"), Boundary("step.before", "finish the update"),
    ], _patch({"numReplicasPerShard": 2})),
    "replicas-down": Kind("replicas-down", 2, 2, 2, 1, [
        Boundary("step.before", "kill node"), Boundary("step.before", "retire node"), Boundary("step.before", "finish the update"),
    ], _patch({"numReplicasPerShard": 1})),
    "rolling-restart": Kind("rolling-restart", 2, 1, 2, 1, [
        Boundary("step.before", "restart node"), Boundary("promote.paused"), Boundary("promote.took-over"),
        Boundary("step.after", "restart node", 3),
    ], _rolling_restart, _restarted_everywhere),
    "failover": Kind("failover", 2, 1, 2, 1, [
        # FailoverShard records its operation with the request: its first step is the promotion.
        Boundary("step.before", "promote"), Boundary("promote.paused"), Boundary("promote.caught-up"),
        Boundary("promote.took-over"), Boundary("step.before", "as primary of shard"),
    ], _failover, _failover_ended),
    "node-type": Kind("node-type", 2, 1, 2, 1, [
        Boundary("step.before", "set maxmemory"), Boundary("step.after", "set maxmemory"),
    ], _patch({"nodeType": "db.t4g.medium"}), _node_type_changed),
    "restore": Kind("restore", 2, 1, 3, 1, [
        Boundary("step.before", "start node", 2), Boundary("step.before", "mark the cluster available"),
        Boundary("step.after", "mark the cluster available"),
    ]),
}


for _kind in KINDS.values():
    if _kind.done is None:
        _kind.done = _layout_reached(_kind)


@dataclass
class Outcome:
    kind: str
    boundary: str
    fault: str
    fired: bool = False
    victim: str = ""
    seconds: float = 0.0
    acknowledged: int = 0
    lost: int = 0
    client_errors: int = 0
    problems: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.problems and self.lost == 0


def wait_layout(server, name, shards, nodes_per_shard, timeout=120):
    deadline = time.time() + timeout
    view = None
    while time.time() < deadline:
        try:
            response = server.request("GET", f"/v1/clusters/{name}", timeout=5)
            view = response.json() if response.status_code == 200 else None
        except Exception:  # noqa: BLE001 — serve may be restarting
            view = None
        if (view and view["status"] == "available" and len(view["shards"]) == shards
                and all(len(s["nodes"]) == nodes_per_shard for s in view["shards"])
                and all(n["status"] == "available" for s in view["shards"] for n in s["nodes"])):
            return view
        time.sleep(0.1)
    raise AssertionError(f"{name} did not settle at {shards}×{nodes_per_shard}: {view}")


def cluster_check(port):
    check = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    problems = []
    if check.returncode != 0 or "[OK] All 16384 slots covered." not in check.stdout:
        problems.append("cluster check failed: " + check.stdout[-800:])
    if "[WARNING]" in check.stdout:
        problems.append("cluster check warns: " + check.stdout[-800:])
    return problems


def _fire_log(path):
    try:
        return [json.loads(line) for line in open(path) if line.strip()]
    except OSError:
        return []


def arm(plan_path, plan, log):
    """Arms the plan, counting occurrences from now: creating the cluster to break passes the
    same boundaries (its own CLUSTER REPLICATE steps, say)."""
    open(log, "w").close()
    with open(plan_path, "w") as file:
        json.dump(plan, file)


def run_case(kind, boundary, fault, keep=None):
    """Runs one case on a server of its own and returns its Outcome (never raises for a failed
    check: the caller decides)."""
    work = tempfile.mkdtemp(prefix="mp-chaos-", dir="/tmp")
    hook = os.path.join(work, "hook.py")
    with open(hook, "w") as file:
        file.write(HOOK)
    os.chmod(hook, 0o755)
    plan_path = os.path.join(work, "plan.json")
    log = os.path.join(work, "points.jsonl")
    server = Server(ports=100, extra_args=["--fault-hook", hook], env={"MEMORYPLANE_CHAOS_PLAN": plan_path})
    name = "chaos"
    plan = {"point": boundary.point, "match": boundary.match, "occurrence": boundary.occurrence, "fault": fault, "log": log,
            "data_dir": server.data_dir,
            "fallback": {"source": f"{name}-0001-001", "target": f"{name}-0002-001", "replica": f"{name}-0001-002", "node": f"{name}-0001-001"}}
    # Armed only once the cluster to break exists: creating it passes the same boundaries.
    disarmed = dict(plan, point="(none)")
    with open(plan_path, "w") as file:
        json.dump(disarmed, file)
    outcome = Outcome(kind.name, str(boundary), fault)
    started = time.time()
    writer = None
    stopped = []
    try:
        server.start()
        if kind.name == "restore":
            created = server.create_cluster("origin", shards=kind.shards, replicas=kind.replicas, wait=True)
            assert created.status_code == 201, created.text
            filler = RecordingClient(created.json()["clusterEndpoint"]["port"], prefix="r:")
            filler.start()
            time.sleep(2)
            filler.stop()
            taken = server.request("POST", "/v1/snapshots?wait=true", json={"clusterName": "origin", "snapshotName": "before"})
            assert taken.status_code == 201, taken.text
            arm(plan_path, plan, log)
            restored = server.request("POST", "/v1/clusters", json={
                "name": name, "nodeType": "db.t4g.small", "numShards": kind.final_shards, "numReplicasPerShard": kind.final_replicas,
                "aclName": "open-access", "tlsEnabled": False, "snapshotName": "before"})
            assert restored.status_code in (201, 202), restored.text
            writer = filler
        else:
            created = server.create_cluster(name, shards=kind.shards, replicas=kind.replicas, wait=True)
            assert created.status_code == 201, created.text
            port = created.json()["clusterEndpoint"]["port"]
            writer = RecordingClient(port)
            writer.start()
            time.sleep(1.5)
            arm(plan_path, plan, log)
            kind.start(server, name)
        # Wait for the fault to fire, or for the change to go through without reaching it.
        before = server.request("GET", f"/v1/clusters/{name}").json()
        deadline = time.time() + 120
        fired = None
        while time.time() < deadline:
            fired = next((e for e in _fire_log(log) if e.get("fired")), None)
            if fired or server.process.poll() is not None:
                break
            try:
                if kind.done(server, name, before):
                    # A boundary after the change's last step comes just after it looks done.
                    settle = time.time() + 3
                    while not fired and time.time() < settle:
                        time.sleep(0.05)
                        fired = next((e for e in _fire_log(log) if e.get("fired")), None)
                    break
            except Exception:  # noqa: BLE001 — serve may be restarting
                pass
            time.sleep(0.05)
        if fired:
            outcome.fired, outcome.victim = True, fired.get("victim") or ""
            if fired.get("fault", "").startswith("stop") and fired.get("pid"):
                stopped.append(fired["pid"])
        if fired and fired.get("victim") == "serve":
            # The hook logs before it kills: wait for the kill to land, then start a new serve.
            server.process.wait(timeout=30)
        if server.process.poll() is not None:
            server.start()
        # A frozen process left alone must be dealt with by the control plane (killed as hung);
        # one it has not killed after 5 s is let go again, as a pause that ends.
        if stopped:
            time.sleep(5)
            for pid in stopped:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        wait_layout(server, name, kind.final_shards, 1 + kind.final_replicas, timeout=180)
        deadline = time.time() + 120
        while not kind.done(server, name, before):
            if time.time() > deadline:
                raise AssertionError(f"the {kind.name} did not go through")
            time.sleep(0.1)
        view = server.request("GET", f"/v1/clusters/{name}").json()
        time.sleep(1)
        writer.stop()
        outcome.acknowledged = len(writer.acknowledged)
        outcome.client_errors = len(writer.errors)
        if kind.name == "restore":
            # The restored cluster holds the snapshot's keys: read them there.
            writer.port = view["clusterEndpoint"]["port"]
        lost = writer.missing()
        outcome.lost = len(lost)
        if lost:
            outcome.problems.append(f"{len(lost)} acknowledged key(s) lost, e.g. {lost[:3]}")
        outcome.problems += cluster_check(view["clusterEndpoint"]["port"])
        kept = {n["name"] for s in view["shards"] for n in s["nodes"]}
        on_disk = {d for d in os.listdir(os.path.join(server.data_dir, "nodes")) if d.startswith(name + "-")}
        if on_disk != kept:
            outcome.problems.append(f"node directories {sorted(on_disk - kept)} left over")
        running = [cwd for comm, cwd in processes_in(os.path.join(server.data_dir, "nodes")).values() if comm == "redis-server"]
        expected = len(kept) + (len(view_nodes(server, "origin")) if kind.name == "restore" else 0)
        if len(running) != expected:
            outcome.problems.append(f"{len(running)} redis-server processes for {expected} nodes")
    except Exception as error:  # noqa: BLE001 — reported as the case's problem
        outcome.problems.append(f"{type(error).__name__}: {error}")
    finally:
        if writer and writer.is_alive():
            writer.stop()
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        outcome.seconds = time.time() - started
        if keep and outcome.problems:
            os.makedirs(keep, exist_ok=True)
            for source in (log, server.log_path):
                try:
                    with open(source, "rb") as file, open(os.path.join(keep, f"{kind.name}-{boundary}-{fault}-{os.path.basename(source)}"), "wb") as out:
                        out.write(file.read())
                except OSError:
                    pass
        server.cleanup()
        subprocess.run(["rm", "-rf", work])
    return outcome


def view_nodes(server, name):
    response = server.request("GET", f"/v1/clusters/{name}")
    if response.status_code != 200:
        return []
    return [n for s in response.json()["shards"] for n in s["nodes"]]


def matrix():
    return [(kind, boundary, fault) for kind in KINDS.values() for boundary in kind.boundaries for fault in FAULTS]


if __name__ == "__main__":
    kind, point, fault = sys.argv[1], sys.argv[2], sys.argv[3]
    chosen = KINDS[kind]
    boundary = next(b for b in chosen.boundaries if str(b) == point)
    print(run_case(chosen, boundary, fault, keep="/tmp/mp-chaos-failures"))

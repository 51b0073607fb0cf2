"""Service updates of the engine: `serve` restarted with another engine binary offers it as a
service update (DescribeServiceUpdates), applies it with a rolling restart when BatchUpdateCluster
asks (or in the maintenance window), and reports the new EnginePatchVersion only once every node
runs it.

This machine has one Redis build, so the "newer patch" is a wrapper named `redis-server` that
reports 7.0.99 to `--version` and otherwise runs the installed binary: what changes is the
binary `serve` is configured with, which is what the update tracks."""
import os
import shutil
import stat
import subprocess
import time

from awsdoor import client
from memoryplane import far_maintenance_window, processes_in


def node_pids(server, view):
    pids = {}
    for node in (n for s in view["shards"] for n in s["nodes"]):
        directory = os.path.join(server.data_dir, "nodes", node["name"])
        pids[node["name"]] = next(pid for pid, (comm, cwd) in processes_in(directory).items() if comm == "redis-server" and cwd == directory)
    return pids


def test_a_new_engine_binary_is_a_service_update_applied_by_a_rolling_restart(make_server, tmp_path):
    server = make_server(ports=100).start()
    created = server.create_cluster("patch", shards=1, replicas=1, wait=True, maintenanceWindow=far_maintenance_window())
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["enginePatchVersion"] == "7.0.15" or view["enginePatchVersion"].startswith("7.")
    installed = view["enginePatchVersion"]
    port = view["clusterEndpoint"]["port"]
    primary = view["shards"][0]["nodes"][0]["endpoint"]["port"]
    assert subprocess.run(["redis-cli", "-c", "-p", str(primary), "SET", "{k}before", "kept"], capture_output=True, text=True).stdout.strip() == "OK"
    mdb = client(server)
    assert mdb.describe_service_updates()["ServiceUpdates"] == []

    wrapper_dir = tmp_path / "engine"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "redis-server"
    real = shutil.which("redis-server")
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "Redis server v=7.0.99 sha=00000000:0 malloc=libc bits=64 build=0"; exit 0; fi\n'
        f'exec {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    server.kill()
    server.extra_args += ["--engine-path", str(wrapper)]
    server.start()
    before = node_pids(server, view)
    pending = mdb.describe_service_updates(ClusterNames=["patch"])["ServiceUpdates"]
    assert [(u["ServiceUpdateName"], u["Status"], u["NodesUpdated"], u["Type"]) for u in pending] == [
        ("redis-engine-7.0.99", "available", "0/2", "security-update")], pending
    assert "AutoUpdateStartDate" in pending[0] and "ReleaseDate" in pending[0]
    time.sleep(1)
    assert node_pids(server, view) == before, "nothing restarts before it is asked to (or the window opens)"
    assert mdb.describe_clusters(ClusterName="patch")["Clusters"][0]["EnginePatchVersion"] == installed

    try:
        mdb.batch_update_cluster(ClusterNames=["patch"], ServiceUpdate={"ServiceUpdateNameToApply": "redis-engine-9.9.9"})
        raise AssertionError("an unknown update was accepted")
    except mdb.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "ServiceUpdateNotFoundFault"
    applied = mdb.batch_update_cluster(ClusterNames=["patch"], ServiceUpdate={"ServiceUpdateNameToApply": "redis-engine-7.0.99"})
    assert [c["Name"] for c in applied["ProcessedClusters"]] == ["patch"] and applied["UnprocessedClusters"] == []
    deadline = time.time() + 60
    while time.time() < deadline:
        cluster = mdb.describe_clusters(ClusterName="patch")["Clusters"][0]
        if cluster["EnginePatchVersion"] == "7.0.99" and cluster["Status"] == "available":
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the engine update did not finish: {cluster}")
    after = node_pids(server, view)
    assert all(after[name] != before[name] for name in before), "every node was restarted from the new binary"
    assert mdb.describe_service_updates(ClusterNames=["patch"])["ServiceUpdates"] == []
    got = subprocess.run(["redis-cli", "-c", "-p", str(port), "GET", "{k}before"], capture_output=True, text=True).stdout.strip()
    assert got == "kept"
    events = [e["message"] for e in server.request("GET", "/v1/events?sourceName=patch&maxResults=100").json()["events"]]
    assert sum("restarted to apply engine 7.0.99" in m for m in events) == 2, events
    # A snapshot was taken before the first restart (events are newest first), and kept.
    snapshot = "automatic.patch-before-engine-7-0-99"
    taken = next(i for i, m in enumerate(events) if f"snapshot {snapshot} is taken first" in m)
    first_restart = max(i for i, m in enumerate(events) if "restarted to apply engine 7.0.99" in m)
    assert taken > first_restart, events
    described = mdb.describe_snapshots(SnapshotName=snapshot)["Snapshots"][0]
    assert described["Status"] == "available" and described["Source"] == "automated"
    assert any("Service updates applied" in m and "engine 7.0.99" in m for m in events), events

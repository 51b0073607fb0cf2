import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Logging
import Model
import Store
import Synchronization
import Testing
import Ports

/// Snapshots on real nodes, driven by a worker with an injected clock: the schedule and
/// retention without waiting for a real window, and a snapshot interrupted by a crash.
@Suite(.serialized) struct SnapshotTests {
    let client = RedisClient(timeout: .seconds(5))

    /// Today at `hour`:`minute` UTC, in milliseconds.
    static func today(hour: Int, minute: Int) -> Int64 {
        let midnight = Int64(Date().timeIntervalSince1970 * 1000) / 86_400_000 * 86_400_000
        return midnight + Int64(hour * 60 + minute) * 60_000
    }

    func worker(_ harness: DataPlaneHarness, clock: ManualWallClock) -> SnapshotWorker {
        SnapshotWorker(
            store: harness.store, dataPlane: harness.dataPlane, storage: SnapshotStorage(dataDirectory: harness.directory),
            configuration: harness.configuration, signal: harness.controlPlane.signal, logger: Logger(label: "test"),
            clock: clock)
    }

    func write(_ count: Int, to view: ClusterView) async throws {
        for index in 0..<count {
            let key = "key-\(index)"
            let slot = KeySlot.of(key)
            let shard = try #require(view.shards.first { shard in
                SlotRange.parseList(shard.slots)?.contains { $0.contains(slot) } ?? false
            })
            let primary = try #require(shard.nodes.first { $0.role == .primary })
            _ = try await client.command("SET", key, "v\(index)", to: NodeAddress(port: primary.endpoint.port), as: nil)
        }
    }

    @Test func automaticSnapshotsAreTakenInTheirWindowAndExpireAfterTheirLimit() async throws {
        try await DataPlaneHarness.with(ports: 21600...21699, snapshotting: false) { harness in
            var request = CreateClusterRequest(
                name: "daily", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 1, aclName: "open-access", tlsEnabled: false)
            request.snapshotRetentionLimit = 1
            request.snapshotWindow = "05:00-06:00"
            request.maintenanceWindow = "wed:10:00-wed:11:00"
            _ = try harness.service.createCluster(request)
            let view = try await harness.waitAvailable("daily")
            try await write(300, to: view)
            let clock = ManualWallClock(Self.today(hour: 5, minute: 30))
            let worker = worker(harness, clock: clock)
            await worker.pass()
            let first = try harness.store.allSnapshots()
            #expect(first.count == 1)
            let taken = try #require(first.first)
            #expect(taken.name.hasPrefix("automatic.daily-") && taken.name.hasSuffix("-05-30") && taken.source == "automated")
            #expect(taken.status == .available)
            #expect(try harness.store.snapshot(named: taken.name)?.shards.first?.keyCount == 300)
            #expect(try harness.store.cluster(named: "daily")?.status == .available)
            // Later the same day, and outside the window: nothing new.
            clock.advance(byMilliseconds: 3_600_000)
            await worker.pass()
            #expect(try harness.store.allSnapshots().count == 1)
            // Two days on, in the window: a new one, and the first (limit 1 day) is gone with its files.
            clock.advance(byMilliseconds: 2 * 86_400_000 - 3_600_000)
            await worker.pass()
            let later = try harness.store.allSnapshots()
            #expect(later.count == 1 && later.first?.name != taken.name && later.first?.status == .available)
            #expect(!FileManager.default.fileExists(atPath: SnapshotStorage(dataDirectory: harness.directory).directory(of: taken.name)))
            let events = try harness.store.events(sourceName: "daily").map(\.message)
            #expect(events.contains { $0.contains("Automated snapshot \(taken.name) expired") })
        }
    }

    @Test func aSnapshotInterruptedByACrashIsFinishedAndOneWithoutItsClusterFails() async throws {
        try await DataPlaneHarness.with(ports: 21700...21799, snapshotting: false) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "busy", nodeType: "db.t4g.small", numShards: 2, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            let view = try await harness.waitAvailable("busy")
            try await write(500, to: view)
            // Recorded by a control plane that died before taking anything (no worker ran).
            _ = try harness.controlPlane.snapshots.createSnapshot(cluster: "busy", name: "half", kmsKeyId: nil, tags: [])
            #expect(try harness.store.cluster(named: "busy")?.status == .snapshotting)
            let clock = ManualWallClock(SystemWallClock().nowMilliseconds + 60_000)
            await worker(harness, clock: clock).pass()
            let done = try #require(try harness.store.snapshot(named: "half"))
            #expect(done.snapshot.status == .available)
            #expect(done.shards.compactMap(\.keyCount).reduce(0, +) == 500)
            #expect(try harness.store.cluster(named: "busy")?.status == .available)
            let events = try harness.store.events(sourceName: "busy").map(\.message)
            #expect(events.contains("Snapshot half was interrupted by a restart of the control plane; resuming it"))
            #expect(events.contains("Snapshot half is available (500 keys)"))

            // A snapshot whose cluster is gone cannot be finished: it fails, and says why.
            _ = try harness.controlPlane.snapshots.createSnapshot(cluster: "busy", name: "orphan", kmsKeyId: nil, tags: [])
            try harness.store.write { try $0.deleteCluster(named: "busy") }
            await worker(harness, clock: clock).pass()
            let orphan = try #require(try harness.store.snapshot(named: "orphan"))
            #expect(orphan.snapshot.status == .failed)
            #expect(orphan.snapshot.lastError?.contains("no longer exists") == true)
        }
    }
}

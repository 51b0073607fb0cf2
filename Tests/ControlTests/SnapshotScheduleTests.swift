import Control
import Runtime
import Reconciler
import Model
import Store
import Testing
import Ports

/// The automatic-snapshot schedule against an injected clock: when one is due, what it is
/// called, and what expires.
@Suite struct SnapshotScheduleTests {
    static let day: Int64 = 86_400_000
    /// 2026-11-27 05:30 UTC.
    let now: Int64 = 1_795_757_400_000

    func cluster(_ name: String, retention: Int, window: String = "05:00-06:00", status: ClusterStatus = .available) -> ClusterRecord {
        var record = ClusterRecord(
            name: name, description: nil, status: status, nodeType: "db.t4g.small", engineVersion: "7.0", enginePatchVersion: "7.0.15",
            parameterGroupName: "default.memorydb-redis7", aclName: "open-access", subnetGroupName: "default", tlsEnabled: false, numShards: 1,
            numReplicasPerShard: 0, endpointPort: 7000, adminPassword: "pw", createdAt: 0, snapshotWindow: window)
        record.snapshotRetentionLimit = retention
        return record
    }

    func snapshot(_ name: String, of cluster: ClusterRecord, source: String = "automated", at time: Int64) -> SnapshotRecord {
        var record = SnapshotRecord(name: name, cluster: cluster, source: source, createdAt: time)
        record.status = .available
        return record
    }

    @Test func oneADayInsideTheWindowNamedAsAWSNamesThem() {
        let demo = cluster("demo", retention: 3)
        let decision = SnapshotSchedule.decide(clusters: [demo], snapshots: [], now: now)
        #expect(decision.take == [SnapshotSchedule.Due(cluster: "demo", snapshot: "automatic.demo-2026-11-27-05-30")])
        // Taken an hour ago: not again today.
        let taken = snapshot("automatic.demo-2026-11-27-04-30", of: demo, at: now - 3_600_000)
        #expect(SnapshotSchedule.decide(clusters: [demo], snapshots: [taken], now: now).take.isEmpty)
        // The same window the next day: due again.
        #expect(SnapshotSchedule.decide(clusters: [demo], snapshots: [taken], now: now + Self.day).take.count == 1)
    }

    @Test func noneOutsideTheWindowWithoutRetentionOrWhileBusy() {
        #expect(SnapshotSchedule.decide(clusters: [cluster("a", retention: 3, window: "06:00-07:00")], snapshots: [], now: now).take.isEmpty)
        #expect(SnapshotSchedule.decide(clusters: [cluster("b", retention: 0)], snapshots: [], now: now).take.isEmpty)
        #expect(SnapshotSchedule.decide(clusters: [cluster("c", retention: 3, status: .snapshotting)], snapshots: [], now: now).take.isEmpty)
        // A window across midnight.
        #expect(SnapshotSchedule.decide(clusters: [cluster("d", retention: 3, window: "23:00-00:30")], snapshots: [], now: now - 6 * 3_600_000).take.count == 1)
    }

    @Test func automatedSnapshotsExpireAfterTheirLimitAndManualOnesNever() {
        let demo = cluster("demo", retention: 2)
        let fresh = snapshot("automatic.demo-new", of: demo, at: now - Self.day)
        let old = snapshot("automatic.demo-old", of: demo, at: now - 2 * Self.day - 1)
        let manual = snapshot("keep", of: demo, source: "manual", at: now - 100 * Self.day)
        let orphan = snapshot("automatic.gone-x", of: cluster("gone", retention: 5), at: now - 1000)
        let decision = SnapshotSchedule.decide(clusters: [demo], snapshots: [fresh, old, manual, orphan], now: now)
        #expect(Set(decision.expire) == ["automatic.demo-old", "automatic.gone-x"])
    }
}

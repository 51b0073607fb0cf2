import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing
import Ports

/// Metrics, alarms and the advisor on real `redis-server` nodes: each condition is created for
/// real (keys written, memory filled, KEYS run) and seen as a metric, an alarm event, a finding.
@Suite(.serialized) struct ObservabilityTests {
    let client = RedisClient(timeout: .seconds(5))

    @Test func metricsAlarmsAndFindingsFollowWhatTheNodesDo() async throws {
        try await DataPlaneHarness.with(ports: 22200...22299) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "seen", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 1, aclName: "open-access", tlsEnabled: false))
            let view = try await harness.waitAvailable("seen")
            let primary = try #require(view.shards[0].nodes.first { $0.role == .primary })
            let collector = try #require(harness.controlPlane.collector)
            _ = try await client.send((0..<500).map { ["SET", "key:\($0)", "value"] }, to: NodeAddress(port: primary.endpoint.port), as: nil)

            await collector.collect()
            #expect(try await harness.eventually(.seconds(10)) {
                await collector.collect()
                return collector.readings.first { $0.labels.node == primary.name }?.values["CurrItems"] == 500
            })
            let readings = collector.readings.filter { $0.labels.cluster == "seen" }
            #expect(readings.count == 2)
            #expect(readings.map { $0.values["IsPrimary"] ?? -1 }.sorted() == [0, 1])
            #expect(readings.allSatisfy { ($0.values["BytesUsedForMemoryDB"] ?? 0) > 0 && $0.values["DatabaseMemoryUsagePercentage"] != nil })
            #expect(readings.first { $0.labels.role == "replica" }?.values["ReplicationLag"].map { $0 <= 1 } == true)
            #expect((readings.first { $0.labels.role == "primary" }?.values["SetTypeCmds"] ?? 0) >= 500)

            // Memory filled past the cluster's threshold: an alarm and its event.
            let usage = try #require(readings.first { $0.labels.role == "primary" }?.values["DatabaseMemoryUsagePercentage"])
            try harness.controlPlane.alarms.setThresholds(cluster: "seen", ["DatabaseMemoryUsagePercentage": usage + 0.5])
            let value = String(repeating: "x", count: 65_536)
            _ = try await client.send((0..<200).map { ["SET", "fill:\($0)", value] }, to: NodeAddress(port: primary.endpoint.port), as: nil)
            #expect(try await harness.eventually(.seconds(10)) {
                await collector.collect()
                return try harness.controlPlane.alarms.alarms(cluster: "seen").alarms.contains { $0.nodeName == primary.name }
            })
            #expect(try harness.store.events(sourceName: "seen").contains { $0.message.hasPrefix("Alarm DatabaseMemoryUsagePercentage on node \(primary.name)") })

            // KEYS run on the primary: a finding, next to the ones this cluster's shape earns.
            _ = try await client.send([["KEYS", "*"]], to: NodeAddress(port: primary.endpoint.port), as: nil)
            await collector.collect()
            let rules = Set(try await harness.controlPlane.advisor.findings(cluster: "seen").map(\.rule))
            #expect(rules.isSuperset(of: ["dangerous-commands", "tls-off", "default-user-open", "no-snapshot-retention"]))
            #expect(!rules.contains("shard-without-replica"))
        }
    }
}

import Control
import Foundation
import Runtime
import Reconciler
import Model
import Testing
import Ports

/// Every advisor rule, on facts that break it and on the same facts fixed.
@Suite struct AdvisorTests {
    /// A cluster that follows every rule: TLS, a user ACL, replicas in two zones, retention, a
    /// verified snapshot, memory at 50 %, even shards.
    func healthy() -> ClusterFacts {
        var facts = ClusterFacts(
            name: "demo", nodeType: "db.r7g.large", tlsEnabled: true, aclName: "app-acl", snapshotRetentionLimit: 7, tags: [],
            shards: [
                ClusterFacts.Shard(name: "0001", nodes: [.init(name: "demo-0001-001", zone: "a", role: "primary"), .init(name: "demo-0001-002", zone: "b", role: "replica")]),
                ClusterFacts.Shard(name: "0002", nodes: [.init(name: "demo-0002-001", zone: "b", role: "primary"), .init(name: "demo-0002-002", zone: "a", role: "replica")]),
            ])
        facts.users = ["app": "on ~app:* resetchannels -@all +@read +@write"]
        facts.now = 100 * 86_400_000
        facts.hasSnapshots = true
        facts.lastVerifiedAt = facts.now - 86_400_000
        for node in ["demo-0001-001", "demo-0001-002", "demo-0002-001", "demo-0002-002"] {
            facts.values[node] = ["DatabaseMemoryUsagePercentage": 50, "CurrItems": 10_000, "BytesUsedForMemoryDB": Double(200 << 20)]
            facts.memoryHistory[node] = [50, 50, 50]
        }
        return facts
    }

    func rules(_ facts: ClusterFacts) -> [String] { Advisor.findings(facts).map(\.rule) }

    @Test func aHealthyClusterHasNoFinding() {
        #expect(Advisor.findings(healthy()).isEmpty)
    }

    /// Money: nodes on demand a reservation would make cheaper, and what right-sizing saves.
    @Test func unreservedNodesAndRightSizingSayWhatTheyCost() {
        var facts = healthy()
        facts.hourly = 0.4172
        facts.reservedHourly = 0.29204
        facts.unreservedNodes = 3
        let finding = Advisor.findings(facts).first { $0.rule == "unreserved-nodes" }
        #expect(finding?.evidence.contains(String(format: "$%.2f a month", 0.4172 * 3 * 730)) == true, "\(String(describing: finding))")
        #expect(finding?.evidence.contains(String(format: "saves $%.2f a month", (0.4172 - 0.29204) * 3 * 730)) == true)
        facts.unreservedNodes = 0
        #expect(!rules(facts).contains("unreserved-nodes"))
        for node in facts.memoryHistory.keys { facts.memoryHistory[node] = [5, 6, 5] }
        facts.nodeType = "db.r7g.xlarge"
        facts.hourly = 0.8344
        facts.smaller = ("db.r7g.large", 0.4172)
        let sizing = Advisor.findings(facts).first { $0.rule == "right-size-down" }
        #expect(sizing?.evidence.contains(String(format: "saves $%.2f a month", (0.8344 - 0.4172) * 4 * 730)) == true, "\(String(describing: sizing))")
    }

    @Test func aShardWithoutReplicaOrInOneZone() {
        var facts = healthy()
        facts.shards[0].nodes.removeLast()
        facts.shards[1].nodes[1].zone = "b"
        let findings = Advisor.findings(facts)
        #expect(findings.map(\.rule) == ["shard-in-one-zone", "shard-without-replica"])
        #expect(findings.first { $0.rule == "shard-without-replica" }?.stack == "numReplicasPerShard: 1")
        #expect(findings.allSatisfy { $0.severity == .high })
    }

    @Test func tlsOffAndOpenAccess() {
        var facts = healthy()
        facts.tlsEnabled = false
        facts.aclName = "open-access"
        #expect(rules(facts) == ["tls-off", "default-user-open"])
    }

    @Test func theDefaultUserInACustomACL() {
        var facts = healthy()
        facts.defaultUserInACL = true
        #expect(rules(facts) == ["default-user-enabled"])
    }

    @Test func aSuperuserOnlyMattersInProduction() {
        var facts = healthy()
        facts.users["admin"] = "on ~* &* +@all"
        #expect(rules(facts).isEmpty)
        facts.tags = [Tag(key: "Environment", value: "Production")]
        let finding = Advisor.findings(facts).first
        #expect(finding?.rule == "superuser-in-production" && finding?.resource == "user admin")
    }

    @Test func snapshotsKeptAndRestoresVerified() {
        var facts = healthy()
        facts.snapshotRetentionLimit = 0
        facts.lastVerifiedAt = facts.now - 31 * 86_400_000
        #expect(rules(facts) == ["no-snapshot-retention", "restore-not-verified"])
        facts.hasSnapshots = false  // nothing to verify yet
        #expect(rules(facts) == ["no-snapshot-retention"])
    }

    @Test func fullMemoryIsOnlyAProblemWithoutEviction() {
        var facts = healthy()
        facts.values["demo-0001-001"]?["DatabaseMemoryUsagePercentage"] = 85
        #expect(rules(facts) == ["memory-full-noeviction"])
        facts.maxmemoryPolicy = "allkeys-lru"
        #expect(rules(facts).isEmpty)
    }

    @Test func dangerousCommandsAndBigKeys() {
        var facts = healthy()
        facts.recentDangerousCommands["demo-0002-001"] = ["keys", "flushall"]
        facts.bigKeys["demo-0001-001"] = [(key: "blob", bytes: 5 << 20)]
        let findings = Advisor.findings(facts)
        #expect(findings.map(\.rule) == ["big-key", "dangerous-commands"])
        #expect(findings.last?.evidence.contains("FLUSHALL, KEYS") == true)
    }

    @Test func skewBetweenShardsAboveTwentyPercent() {
        var facts = healthy()
        facts.values["demo-0002-001"]?["CurrItems"] = 13_000
        #expect(rules(facts) == ["shard-skew"])
        facts.values["demo-0002-001"]?["CurrItems"] = 11_500  // 15 %: fine
        #expect(rules(facts).isEmpty)
        // Small data is not judged.
        var small = healthy()
        for node in small.values.keys { small.values[node]?["CurrItems"] = 10; small.values[node]?["BytesUsedForMemoryDB"] = 1_000_000 }
        small.values["demo-0002-001"]?["CurrItems"] = 90
        #expect(rules(small).isEmpty)
    }

    @Test func rightSizingFollowsTheHistory() {
        var facts = healthy()
        for node in facts.memoryHistory.keys { facts.memoryHistory[node] = [10, 12, 15] }
        #expect(rules(facts) == ["right-size-down"])
        facts.nodeType = "db.t4g.small"  // nothing smaller
        #expect(rules(facts).isEmpty)
        facts = healthy()
        facts.memoryHistory["demo-0001-001"] = [85, 90, 88]
        #expect(rules(facts) == ["right-size-up"])
        facts.memoryHistory["demo-0001-001"] = [85, 90]  // too short to judge
        #expect(rules(facts).isEmpty)
    }

    @Test func alarmsRaiseAndClearOncePerCrossing() {
        let labels = NodeLabels(cluster: "demo", shard: "0001", node: "n1", role: "primary", availabilityZone: "a")
        let high = NodeReading(labels: labels, values: ["DatabaseMemoryUsagePercentage": 85, "Evictions": 10], takenAt: 0)
        var changes = AlarmEvaluation.evaluate([high], previous: ["n1": ["Evictions": 4]], thresholds: [:], active: [])
        #expect(changes.map { "\($0.metric) \($0.raise)" } == ["DatabaseMemoryUsagePercentage true", "Evictions true"])
        #expect(changes.last?.value == 6)
        // Already raised: nothing new.
        changes = AlarmEvaluation.evaluate([high], previous: ["n1": ["Evictions": 10]], thresholds: [:], active: ["demo/n1/DatabaseMemoryUsagePercentage"])
        #expect(changes.isEmpty)
        // A cluster's own threshold, and the clearing.
        changes = AlarmEvaluation.evaluate([high], previous: [:], thresholds: ["demo": ["DatabaseMemoryUsagePercentage": 90]], active: ["demo/n1/DatabaseMemoryUsagePercentage"])
        #expect(changes == [AlarmEvaluation.Change(cluster: "demo", node: "n1", metric: "DatabaseMemoryUsagePercentage", value: 85, threshold: 90, raise: false)])
    }
}

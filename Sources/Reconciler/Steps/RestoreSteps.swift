import Ports
import Foundation
import Logging
import Control
import Model
import Store

/// A new cluster's last steps: a restore's data put in place (a shard's RDB seeds its primary, or
/// every key is moved to the primary serving its slot), then the cluster marked available.
struct RestoreSteps: StepExecutor {
    let environment: StepEnvironment
    let files: any NodeSnapshots
    /// Snapshot files, for restores; nil without a data plane.
    let snapshots: SnapshotStorage?

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        guard case .markAvailable = step else { throw MisroutedStep(step: step, executor: "restore") }
        let cluster = context.cluster
        let restored = try await finishRestore(context)
        let elapsed = Double(environment.configuration.clock.nowMilliseconds - cluster.createdAt) / 1000
        try environment.store.write { transaction in
            if let restored {
                try transaction.setRestoreState(ofCluster: cluster.name, to: nil)
                try environment.events.record(restored, cluster: cluster.name, in: transaction)
            }
            try transaction.setStatus(ofCluster: cluster.name, to: .available)
            try environment.events.record(.available, cluster: cluster.name, in: transaction)
        }
        if let snapshots { try? FileManager.default.removeItem(atPath: snapshots.restoreDirectory(of: cluster.name)) }
        environment.logger.info("cluster available", metadata: ["cluster.name": "\(cluster.name)", "cluster.seconds_to_available": "\(elapsed)"])
        return .done
    }

    /// Before a restored shard's primary first starts, its RDB becomes the base of its AOF.
    func seedIfRestoring(_ name: String, _ context: StepContext) throws {
        guard context.cluster.restoreState == .seed, let snapshots, let record = context.nodes[name],
            context.observed.shards.first(where: { $0.shardIndex == record.shardIndex })?.primaryNode == name
        else { return }
        let spec = try context.spec(name)
        let file = snapshots.restoreFile(cluster: context.cluster.name, shard: record.shardIndex)
        guard !files.hasData(spec), FileManager.default.fileExists(atPath: file) else { return }
        try files.seed(spec, fromRDB: file)
        environment.logger.info("node seeded from snapshot", metadata: ["cluster.name": "\(context.cluster.name)", "node.name": "\(name)"])
    }

    /// A restore's last step before the cluster is available: seeded shards hold their data
    /// already; otherwise every RDB's keys are moved to the primaries that serve their slots
    /// (again from the start after a crash: MIGRATE replaces what an earlier attempt moved).
    /// Returns the event to record, or nil when the cluster is not a restore.
    private func finishRestore(_ context: StepContext) async throws -> ClusterEvent? {
        let cluster = context.cluster
        guard let state = cluster.restoreState, let snapshots else { return nil }
        let source = ClusterEvent.RestoreSource(recorded: cluster.restoreSource)
        if state == .seed { return .restored(source: source, keysMoved: nil, seconds: 0) }
        let owners = try context.observed.shards.map { shard in
            SlotOwner(node: try context.spec(shard.primaryNode), slots: try shard.slotRanges())
        }
        let directory = snapshots.restoreDirectory(of: cluster.name)
        let rdbs = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".rdb") }.sorted()
        guard !rdbs.isEmpty else { throw SnapshotFileError("the restore's files are missing from \(directory)") }
        let clock = environment.configuration.clock
        let started = clock.monotonic
        var moved = 0
        for rdb in rdbs {
            // importRDB consumes what it is given; the prepared file stays until the end.
            let copy = try snapshots.stagingPath("import-\(cluster.name)")
            try FileManager.default.copyItem(atPath: "\(directory)/\(rdb)", toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            moved += try await files.importRDB(copy, into: owners)
        }
        return .restored(source: source, keysMoved: moved, seconds: (clock.monotonic - started).seconds)
    }
}

import Ports
import Control
import Model
import Store

/// Failover: a shard's operation begun, its replica resynced and promoted (with the old primary
/// fenced when it did not step down), and the operation finished or abandoned.
struct FailoverSteps: StepExecutor {
    let environment: StepEnvironment
    let nodes: any Promotion & NodeProcesses & ClusterMembership

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        let cluster = context.cluster
        switch step {
        case .beginFailover(var operation):
            environment.metrics?.failover(kind: operation.kind.rawValue)
            try await begin(&operation, context)
        case .resync(let shard, let replica, let primaryID):
            try await nodes.replicate(try context.spec(replica), primaryID: primaryID)
            try environment.store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, phase: .resyncing, at: environment.configuration.clock.nowMilliseconds) }
        case .promote(let shard, let replica, let demoting):
            try await promote(shard: shard, replica: replica, demoting: demoting, context)
        case .finishFailover(let shard, let newPrimary):
            try finish(shard: shard, newPrimary: newPrimary, context)
        case .abandonFailover(let shard, let reason):
            try environment.store.write { transaction in
                try transaction.finishOperation(cluster: cluster.name, shard: shard, newPrimary: nil)
                try environment.events.record(.failoverAbandoned(shard: shard, reason: reason), cluster: cluster.name, in: transaction)
            }
        default:
            throw MisroutedStep(step: step, executor: "failover")
        }
        return .done
    }

    private func begin(_ operation: inout OperationRecord, _ context: StepContext) async throws {
        if operation.kind == .zoneFailover {
            // As if the zone vanished: the primary goes at once; its last offset is kept to
            // measure what the replica had not received.
            operation.fromOffset = await nodes.killNode(try context.spec(operation.fromNode))
        }
        let event = ClusterEvent.failoverBegun(
            shard: operation.shardIndex, reason: operation.reason, replica: operation.toNode, zone: context.nodes[operation.toNode]?.availabilityZone ?? "?")
        let record = operation
        try environment.store.write { transaction in
            try transaction.begin(record)
            try environment.events.record(event, cluster: context.cluster.name, in: transaction)
        }
    }

    private func promote(shard: Int, replica: String, demoting: String?, _ context: StepContext) async throws {
        let cluster = context.cluster
        try environment.store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, phase: .promoting, at: environment.configuration.clock.nowMilliseconds) }
        let operation = context.observed.operations.first { $0.shardIndex == shard }
        do {
            let report = try await nodes.promote(try context.spec(replica), demoting: try demoting.map { try context.spec($0) })
            let gap: ClusterEvent.PromotionGap
            if let demoting {
                gap = .caughtUp(demoting: demoting, pausedMilliseconds: report.pausedMilliseconds, offset: report.primaryOffset ?? 0)
            } else if let lost = operation?.fromOffset {
                gap = .behindLostPrimary(replicaOffset: report.replicaOffset, lostOffset: lost)
            } else {
                gap = .lostOffsetUnknown
            }
            try environment.events.record(.promoted(replica: replica, zone: context.nodes[replica]?.availabilityZone ?? "?", gap: gap), cluster: cluster.name)
        } catch {
            try? environment.store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, lastError: .some("\(error)"), at: environment.configuration.clock.nowMilliseconds) }
            if let error = error as? PromotionError, error.tookOver, let demoting {
                // Fence: a primary that did not step down must not take writes the new one lacks.
                _ = await nodes.killNode(try context.spec(demoting))
                try? environment.events.record(.nodeFenced(node: demoting, replica: replica), cluster: cluster.name)
            }
            throw error
        }
    }

    private func finish(shard: Int, newPrimary: String, _ context: StepContext) throws {
        let cluster = context.cluster
        guard let operation = context.observed.operations.first(where: { $0.shardIndex == shard }) else { return }
        let event = ClusterEvent.failedOver(
            shard: shard, seconds: Double(environment.configuration.clock.nowMilliseconds - operation.startedAt) / 1000, primary: newPrimary,
            zone: context.nodes[newPrimary]?.availabilityZone ?? "?", oldPrimary: operation.fromNode, zoneLost: operation.kind == .zoneFailover)
        try environment.store.write { transaction in
            try transaction.finishOperation(cluster: cluster.name, shard: shard, newPrimary: newPrimary)
            try environment.events.record(event, cluster: cluster.name, in: transaction)
        }
    }
}

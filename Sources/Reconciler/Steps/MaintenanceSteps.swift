import Ports
import Foundation
import Control
import Model
import Store

/// Day-2 maintenance: rolling restarts that apply reboot-only parameters or an engine patch,
/// service updates and shape updates recorded as done, drills' nodes brought back and drills
/// completed.
struct MaintenanceSteps: StepExecutor {
    let environment: StepEnvironment
    let processes: any NodeProcesses

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        let cluster = context.cluster
        switch step {
        case .restartNode(let name):
            try await restart(name, context)
        case .releaseNode(let name):
            try releaseAfterDrill(name, context)
        case .snapshotBeforeEngineUpdate(let snapshot):
            // The snapshot worker takes it (within its interval); the cluster is `snapshotting`
            // until then, so no restart starts meanwhile.
            try environment.store.write { transaction in
                guard var current = try transaction.cluster(named: cluster.name), current.status == .available,
                    try transaction.snapshot(named: snapshot) == nil
                else { return }
                _ = try SnapshotService.begin(
                    name: snapshot, of: current, source: "automated", at: environment.configuration.clock.nowMilliseconds, in: transaction)
                current.status = .snapshotting
                try transaction.update(current)
                try environment.events.record(
                    .snapshotBeforeEngineUpdate(snapshot: snapshot, engine: environment.configuration.engineVersion.patchVersion), cluster: cluster.name,
                    in: transaction)
            }
        case .markStopped:
            try environment.store.write { transaction in
                guard let current = try transaction.cluster(named: cluster.name), current.status == .stopping else { return }
                try transaction.setStatus(ofCluster: cluster.name, to: .stopped)
                // Down on purpose: coming back is no recovery, and no node is reported down.
                try transaction.setStatus(ofNodesOf: cluster.name, to: .stopped)
                try environment.events.record(.stopped(nodes: context.observed.nodes.count), cluster: cluster.name, in: transaction)
            }
        case .finishServiceUpdates:
            let target = environment.configuration.engineVersion.patchVersion
            try environment.store.write { transaction in
                guard var current = try transaction.cluster(named: cluster.name) else { return }
                let nodes = try transaction.nodes(ofCluster: cluster.name)
                let patch = current.enginePatchVersion
                let everywhere = nodes.allSatisfy { node in node.runningEngine(clusterPatch: patch) == target }
                var engine: (from: String, to: String)?
                if everywhere && patch != target {
                    engine = (patch, target)
                    current.enginePatchVersion = target
                }
                current.updatesRequestedAt = nil
                try transaction.update(current)
                try environment.events.record(.serviceUpdatesApplied(engine: engine), cluster: cluster.name, in: transaction)
            }
        case .finishUpdate:
            try environment.store.write { transaction in
                try transaction.setStatus(ofCluster: cluster.name, to: .available)
                try environment.events.record(
                    .updateComplete(shards: cluster.numShards, nodesPerShard: 1 + cluster.numReplicasPerShard), cluster: cluster.name, in: transaction)
            }
        case .completeDrill(let id):
            try environment.store.write { transaction in
                guard var drill = try transaction.drill(id: id) else { return }
                let now = environment.configuration.clock.nowMilliseconds
                drill.status = .completed
                drill.completedAt = now
                let outcome = String(
                    format: "every node back and in sync %.1f s after the drill ended (%.1f s after it began)",
                    Double(now - drill.endsAt) / 1000, Double(now - drill.startedAt) / 1000)
                drill.outcome = outcome
                try transaction.update(drill)
                try environment.events.record(.drillCompleted(id: id, outcome: outcome), cluster: cluster.name, in: transaction)
            }
        default:
            throw MisroutedStep(step: step, executor: "maintenance")
        }
        return .done
    }

    /// Restarts one node to apply what only a restart applies, saying what it applied.
    private func restart(_ name: String, _ context: StepContext) async throws {
        let cluster = context.cluster
        let spec = try context.spec(name)
        let target = environment.configuration.engineVersion.patchVersion
        var what: [String] = []
        if let node = context.observed.node(name) {
            if node.record.startedWithOtherValues(than: context.settings.parameters.rebootValues) {
                what.append("the reboot-only parameters of group \(cluster.parameterGroupName)")
            }
            let running = node.record.runningEngine(clusterPatch: cluster.enginePatchVersion)
            if running != target { what.append("engine \(target) (was \(running))") }
        }
        let clock = environment.configuration.clock
        let stopped = clock.monotonic
        await processes.stopNode(spec)
        let pid = try await processes.startNode(spec)
        let started = context.settings.parameters.rebootValues
        try environment.store.write { transaction in
            try transaction.setPID(ofNode: name, to: pid, startedWith: started, engineVersion: target)
            let primary = context.observed.shards.contains { $0.primaryNode == name }
            let event = ClusterEvent.nodeRestarted(
                node: name, applied: what.isEmpty ? "its configuration" : what.joined(separator: " and "),
                primaryStoppedSeconds: primary ? (clock.monotonic - stopped).seconds : nil)
            try environment.events.record(event, cluster: cluster.name, in: transaction)
        }
    }

    /// A node a drill took down comes back (without its data when the drill took its storage).
    private func releaseAfterDrill(_ name: String, _ context: StepContext) throws {
        guard let record = context.nodes[name] else { return }
        if record.storageLost { try processes.discardData(try context.spec(name)) }
        try environment.store.write { transaction in
            try transaction.release(node: name)
            for var drill in try transaction.drills(ofCluster: context.cluster.name, status: .running) where drill.nodeNames.contains(name) {
                drill.status = .recovering
                try transaction.update(drill)
            }
            try environment.events.record(.nodeBackAfterDrill(node: name, storageDiscarded: record.storageLost), cluster: context.cluster.name, in: transaction)
        }
    }
}

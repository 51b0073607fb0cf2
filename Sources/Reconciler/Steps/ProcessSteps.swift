import Ports
import Logging
import Control
import Model
import Store

/// Processes and bootstrap: the endpoint, nodes started, stopped and killed, and the Redis
/// Cluster commands that make fresh nodes one cluster.
struct ProcessSteps: StepExecutor {
    let environment: StepEnvironment
    let processes: any NodeProcesses & ClusterMembership & EndpointControl
    let backoff: StartBackoff
    /// A restored shard's primary is seeded from its RDB before its first start.
    let restore: RestoreSteps

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        switch step {
        case .startEndpoint:
            _ = try await processes.startEndpoint(context.endpoint)
        case .stopEndpoint:
            try await processes.removeEndpoint(context.endpoint)
        case .routeEndpoint:
            try processes.setEndpointBackends(context.endpoint)
            let primaries = context.plan.endpointBackends.filter { $0.role == .primary }.map { String($0.port) }
            environment.logger.info(
                "endpoint routed", metadata: ["cluster.name": "\(context.cluster.name)", "endpoint.primaries": "\(primaries.joined(separator: ","))"])
        case .startNode(let name):
            return try await startNode(name, context)
        case .stopNode:
            // Stopped before the pass's other steps, all together (`stopTogether`).
            break
        case .killNode(let name):
            _ = await processes.killNode(try context.spec(name))
        case .setConfigEpoch(let name, let epoch):
            try await processes.setConfigEpoch(try context.spec(name), epoch: epoch)
        case .meet(let name, let peers):
            for peer in peers { try await processes.meet(try context.spec(name), peer: try context.spec(peer)) }
        case .addSlots(let name, let ranges):
            try await processes.addSlots(try context.spec(name), ranges)
        case .replicate(let name, let primaryID):
            try await processes.replicate(try context.spec(name), primaryID: primaryID)
        case .forgetMembers(let name, let ids):
            for id in ids { try await processes.forget(try context.spec(name), id: id) }
        default:
            throw MisroutedStep(step: step, executor: "process")
        }
        return .done
    }

    private func startNode(_ name: String, _ context: StepContext) async throws -> StepOutcome {
        let now = environment.configuration.clock.nowMilliseconds
        guard backoff.mayStart(name, now: now) else { return .postponed }
        if backoff.recordStart(name, now: now) == 4 {
            try environment.events.record(.nodeStartRetrying(node: name), cluster: context.cluster.name)
        }
        try restore.seedIfRestoring(name, context)
        var spec = try context.spec(name)
        if let shard = context.observed.shards.first(where: { $0.primaryNode == name }) { spec.slots = (try? shard.slotRanges()) ?? [] }
        let pid = try await processes.startNode(spec)
        if context.nodes[name]?.status != .creating { environment.metrics?.nodeRestart() }
        let started = context.settings.parameters.rebootValues
        let engine = environment.configuration.engineVersion.patchVersion
        try environment.store.write { transaction in try transaction.setPID(ofNode: name, to: pid, startedWith: started, engineVersion: engine) }
        return .done
    }

    /// Stops every node a pass's `stopNode` steps name, all at once: a deletion stops the whole
    /// cluster in the time of one node.
    func stopTogether(_ names: [String], _ context: StepContext) async {
        let processes = processes
        await withTaskGroup(of: Void.self) { group in
            for record in names.compactMap({ context.nodes[$0] }) {
                let spec = NodeSpec.of(record, in: context.cluster)
                group.addTask { await processes.stopNode(spec) }
            }
        }
    }
}

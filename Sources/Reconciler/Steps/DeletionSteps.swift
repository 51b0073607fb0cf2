import Ports
import Control
import Model
import Store

/// A deletion's end: every file and record of the cluster removed, or the deletion called off
/// when the final snapshot it waited for could not be taken.
struct DeletionSteps: StepExecutor {
    let environment: StepEnvironment
    let processes: any NodeProcesses & EndpointControl & NodeSupervision

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        let cluster = context.cluster
        switch step {
        case .removeCluster:
            try await processes.removeEndpoint(context.endpoint)
            for record in context.nodes.values { try processes.removeNodeFiles(NodeSpec.of(record, in: cluster)) }
            try environment.store.write { transaction in
                try transaction.deleteCluster(named: cluster.name)
                try transaction.removeAllTags(of: environment.configuration.arn(.cluster, cluster.name))
                try environment.events.record(.deleted, cluster: cluster.name, in: transaction)
            }
            processes.unwatch(cluster: cluster.name)
            return .clusterRemoved
        case .cancelDeletion(let reason):
            try environment.store.write { transaction in
                guard var current = try transaction.cluster(named: cluster.name) else { return }
                current.status = .available
                current.finalSnapshot = nil
                try transaction.update(current)
                try transaction.setStatus(ofNodesOf: cluster.name, to: .available)
                try environment.events.record(.deletionCalledOff(reason: reason), cluster: cluster.name, in: transaction)
            }
        default:
            throw MisroutedStep(step: step, executor: "deletion")
        }
        return .done
    }
}

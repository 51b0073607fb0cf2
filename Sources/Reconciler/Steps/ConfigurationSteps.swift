import Ports
import Control
import Model
import Store

/// A running cluster's configuration brought to what is recorded: parameters, ACL users,
/// maxmemory and, once a minute when settled, TLS certificates due for renewal.
struct ConfigurationSteps: StepExecutor {
    let environment: StepEnvironment
    let nodes: any NodeConfiguration
    /// Certificates are looked at once a minute per cluster, not on every supervision pass.
    let certificateCheck = PeriodicCheck(interval: .seconds(60))

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        let cluster = context.cluster
        switch step {
        case .applyParameters(let marker):
            for name in context.nodes.keys.sorted() {
                try await nodes.applyParameters(try context.spec(name), context.settings.parameters.immediateValues)
            }
            try recordApplied(cluster, first: cluster.parametersApplied == nil, .parametersApplied(group: cluster.parameterGroupName)) {
                try $0.setParametersApplied(ofCluster: cluster.name, to: marker)
            }
        case .applyACL(let marker):
            for name in context.nodes.keys.sorted() {
                try await nodes.applyACL(try context.spec(name))
            }
            try recordApplied(cluster, first: cluster.aclApplied == nil, .aclApplied(acl: cluster.aclName)) {
                try $0.setACLApplied(ofCluster: cluster.name, to: marker)
            }
        case .applyMaxmemory:
            for name in context.nodes.keys.sorted() where context.nodes[name]?.status != .deleting {
                try await nodes.setMaxmemory(try context.spec(name))
            }
            let bytes = NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 0
            try environment.events.record(.maxmemorySet(bytes: Int64(bytes), nodeType: cluster.nodeType), cluster: cluster.name)
        default:
            throw MisroutedStep(step: step, executor: "configuration")
        }
        return .done
    }

    /// Records a revision every node now runs, with an event unless it is the creation's first.
    private func recordApplied(_ cluster: ClusterRecord, first: Bool, _ event: ClusterEvent, _ mark: (Transaction) throws -> Void) throws {
        try environment.store.write { transaction in
            try mark(transaction)
            if !first { try environment.events.record(event, cluster: cluster.name, in: transaction) }
        }
    }

    /// A settled TLS cluster's certificates in their last 30 days are reissued, with no restart.
    func renewCertificatesIfDue(_ observed: ObservedCluster) async throws {
        let cluster = observed.cluster
        guard cluster.tlsEnabled && certificateCheck.isDue(cluster.name, now: environment.configuration.clock.nowMilliseconds) else { return }
        for node in observed.nodes {
            guard try await nodes.renewCertificateIfDue(NodeSpec.of(node.record, in: cluster)) else { continue }
            try environment.events.record(.certificateRenewed(node: node.record.name), cluster: cluster.name)
        }
    }
}

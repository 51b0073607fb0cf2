import Ports
import Logging
import Control
import Model
import Store

/// One concern's reconcile steps (processes, failover, resharding, ...). The reconciler's `act`
/// only dispatches: each step goes to the executor of its concern, which asks for no more of the
/// data plane than that concern uses and says what happened as a `StepOutcome`.
protocol StepExecutor: Sendable {
    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome
}

/// What a step did, for the pass that took it.
enum StepOutcome: Sendable, Equatable {
    /// The step is done (or was already); the pass goes on.
    case done
    /// The step may not run yet (a node that failed to start waits out its backoff).
    case postponed
    /// The step removed the cluster; the pass, and its supervision, end.
    case clusterRemoved
}

/// A step routed to an executor that does not take it: a bug in the dispatcher, said as such.
struct MisroutedStep: Error, CustomStringConvertible {
    let step: ReconcileAction
    let executor: String
    var description: String { "internal error: step \(ClusterReconciler.describe(step)) was sent to the \(executor) executor" }
}

/// What every executor shares: where records and events go, and the control plane's settings.
struct StepEnvironment: Sendable {
    let store: Store
    let events: ClusterEventLog
    let configuration: ControlConfiguration
    let logger: Logger
    /// Failovers and node restarts, for `/metrics`; nil in tests that do not look.
    let metrics: ControlMetrics?
}

/// What a step needs besides itself: the pass's observation and plan.
struct StepContext: Sendable {
    var cluster: ClusterRecord
    var nodes: [String: NodeRecord]
    var settings: NodeSettings
    var observed: ObservedCluster
    var plan: ClusterPlan

    func spec(_ name: String) throws -> NodeSpec {
        // The planner names only nodes it was given; a miss is a planner bug, reported as such.
        guard let record = nodes[name] else { throw MemoryDBError(.internalFailure, "The plan names node \(name), which the cluster does not have.") }
        return NodeSpec.of(record, in: cluster, settings: settings)
    }

    var endpoint: EndpointSpec {
        var endpoint = ClusterReconciler.endpoint(of: cluster, Array(nodes.values))
        endpoint.backends = plan.endpointBackends
        return endpoint
    }

    /// The name of the shard a node belongs to ("0001").
    func shardName(of node: String) -> String { ClusterTopology.shardName(nodes[node]?.shardIndex ?? 0) }
}

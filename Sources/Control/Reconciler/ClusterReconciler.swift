import Engine
import Logging
import Model
import Store

/// One reconciliation pass for one cluster: observe the data plane, plan with the pure
/// `ClusterPlanner`, act with idempotent steps. A crash between any two steps is harmless: the
/// next pass observes where things stand and carries on from there.
public struct ClusterReconciler: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The cluster no longer exists; stop reconciling it.
        case gone
        /// Everything is as desired; look again after the supervision interval.
        case settled
        /// Steps were taken or are pending; look again soon.
        case progressing
        /// The data plane could not be looked at (the control plane is out of descriptors), so
        /// nothing was judged or done; look again after a pause.
        case deferred(reason: String)
    }

    let store: Store
    let dataPlane: any DataPlane
    let configuration: ControlConfiguration
    let logger: Logger
    let backoff: StartBackoff
    let parameterGroups: ParameterGroupService
    let accessControl: AccessControlService
    /// Certificates are looked at once a minute per cluster, not on every supervision pass.
    let certificateCheck = PeriodicCheck(interval: .seconds(60))

    public init(
        store: Store, dataPlane: any DataPlane, configuration: ControlConfiguration, parameterGroups: ParameterGroupService,
        accessControl: AccessControlService, logger: Logger, backoff: StartBackoff = StartBackoff()
    ) {
        self.store = store
        self.configuration = configuration
        self.backoff = backoff
        self.parameterGroups = parameterGroups
        self.accessControl = accessControl
        self.dataPlane = dataPlane
        self.logger = logger
    }

    public func reconcile(_ name: String) async throws -> Outcome {
        guard let cluster = try store.cluster(named: name) else { return .gone }
        let records = try store.nodes(ofCluster: name)
        let parameters = try parameterGroups.target(forGroup: cluster.parameterGroupName)
        let acl = try accessControl.target(forACL: cluster.aclName)
        let settings = NodeSettings(parameters: parameters, acl: acl)
        var observed: ObservedCluster
        do {
            observed = try await observe(cluster, records, settings: settings)
        } catch let error as ProbeUnavailableError {
            return .deferred(reason: error.description)
        }
        observed.parametersTarget = parameters.marker
        observed.aclTarget = acl.marker
        let plan = ClusterPlanner.plan(observed)
        let now = nowMilliseconds()
        try store.saveNodes(
            plan.nodeUpdates,
            events: plan.events.map { EventRecord(sourceName: name, sourceType: "node", message: $0, createdAt: now) })
        for event in plan.events {
            logger.warning("\(event)", metadata: ["cluster.name": "\(name)"])
        }
        for node in observed.nodes where node.report != nil {
            backoff.reset(node.record.name)
        }
        if plan.settled {
            if cluster.tlsEnabled && certificateCheck.isDue(cluster.name) {
                for node in observed.nodes {
                    if try await dataPlane.renewCertificateIfDue(Self.spec(of: node.record, in: cluster)) {
                        try store.addEvent(EventRecord(sourceName: name, sourceType: "node", message: "Node \(node.record.name) has a renewed TLS certificate", createdAt: nowMilliseconds()))
                    }
                }
            }
            return .settled
        }
        let nodes = Dictionary(uniqueKeysWithValues: observed.nodes.map { ($0.record.name, $0.record) })
        let stops = plan.actions.compactMap { action -> String? in
            if case .stopNode(let name) = action { return name }
            return nil
        }
        if !stops.isEmpty { await stopAll(stops, cluster: cluster, nodes: nodes) }
        for action in plan.actions {
            logger.debug("reconcile step", metadata: ["cluster.name": "\(name)", "step": "\(action)"])
            do {
                if try await act(action, cluster: cluster, nodes: nodes, settings: settings) == .gone { return .gone }
            } catch {
                // Transient by nature (a node still starting, a port briefly busy): the next
                // pass observes again and retries.
                logger.debug("reconcile step failed", metadata: ["cluster.name": "\(name)", "step": "\(action)", "error": "\(error)"])
                return .progressing
            }
        }
        return .progressing
    }

    // MARK: Observe

    /// What every node and the endpoint look like now. Throws `ProbeUnavailableError` when the
    /// control plane cannot look (out of descriptors): a node it cannot see is not a dead node.
    func observe(_ cluster: ClusterRecord, _ records: [NodeRecord], settings: NodeSettings) async throws -> ObservedCluster {
        let specs = records.map { Self.spec(of: $0, in: cluster, settings: settings) }
        let dataPlane = dataPlane
        let nodes = try await withThrowingTaskGroup(of: (Int, ObservedNode).self) { group in
            for (index, record) in records.enumerated() {
                let spec = specs[index]
                group.addTask {
                    let pid = try dataPlane.runningNodePID(spec)
                    var report: NodeObservation?
                    if pid != nil {
                        do {
                            report = try await dataPlane.observe(spec)
                        } catch let error as ProbeUnavailableError {
                            throw error
                        } catch {
                            report = nil
                        }
                    }
                    return (index, ObservedNode(record: record, pid: pid, report: report))
                }
            }
            var results = [ObservedNode?](repeating: nil, count: records.count)
            for try await (index, node) in group { results[index] = node }
            return results.compactMap { $0 }
        }
        let endpoint = Self.endpoint(of: cluster, records)
        let endpointRunning = try dataPlane.runningEndpointPID(endpoint) != nil
        // Once available, the process check suffices; before, prove the endpoint forwards.
        var endpointAnswers = endpointRunning
        if endpointRunning && cluster.status == .creating {
            endpointAnswers = await dataPlane.endpointAnswers(endpoint, as: Self.adminCredentials(of: cluster))
        }
        return ObservedCluster(cluster: cluster, nodes: nodes, endpointRunning: endpointRunning, endpointAnswers: endpointAnswers)
    }

    // MARK: Act

    private func act(_ action: ReconcileAction, cluster: ClusterRecord, nodes: [String: NodeRecord], settings: NodeSettings) async throws -> Outcome {
        func spec(_ name: String) throws -> NodeSpec {
            // The planner names only nodes it was given; a miss is a planner bug, reported as such.
            guard let record = nodes[name] else { throw MemoryDBError(.internalFailure, "The plan names node \(name), which the cluster does not have.") }
            return Self.spec(of: record, in: cluster, settings: settings)
        }
        let parameters = settings.parameters
        switch action {
        case .startEndpoint:
            _ = try await dataPlane.startEndpoint(Self.endpoint(of: cluster, Array(nodes.values)))
        case .startNode(let name):
            guard backoff.mayStart(name) else { return .progressing }
            let attempts = backoff.recordStart(name)
            if attempts == 4 {
                let message = "Node \(name) failed to start 3 times in a row; retrying with longer pauses (see \(name)/redis.log)"
                try store.addEvent(EventRecord(sourceName: cluster.name, sourceType: "node", message: message, createdAt: nowMilliseconds()))
                logger.error("\(message)", metadata: ["cluster.name": "\(cluster.name)", "node.name": "\(name)"])
            }
            let pid = try await dataPlane.startNode(try spec(name))
            try store.write { transaction in try transaction.setPID(ofNode: name, to: pid) }
        case .stopNode:
            // Stops are gathered so a deletion stops all nodes at once.
            break
        case .removeCluster:
            try await dataPlane.removeEndpoint(Self.endpoint(of: cluster, Array(nodes.values)))
            for record in nodes.values { try dataPlane.removeNodeFiles(Self.spec(of: record, in: cluster)) }
            try store.write { transaction in
                try transaction.deleteCluster(named: cluster.name)
                try transaction.removeAllTags(of: configuration.arn("cluster", cluster.name))
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster deleted", createdAt: nowMilliseconds()))
            }
            logger.info("cluster deleted", metadata: ["cluster.name": "\(cluster.name)"])
            return .gone
        case .setConfigEpoch(let name, let epoch):
            try await dataPlane.setConfigEpoch(try spec(name), epoch: epoch)
        case .meet(let name, let peers):
            for peer in peers { try await dataPlane.meet(try spec(name), peer: try spec(peer)) }
        case .addSlots(let name, let ranges):
            try await dataPlane.addSlots(try spec(name), ranges)
        case .replicate(let name, let primaryID):
            try await dataPlane.replicate(try spec(name), primaryID: primaryID)
        case .applyParameters(let marker):
            for name in nodes.keys.sorted() {
                try await dataPlane.applyParameters(try spec(name), parameters.immediateValues)
            }
            try recordApplied(
                cluster, first: cluster.parametersApplied.isEmpty, "Parameter group \(cluster.parameterGroupName) applied to every node"
            ) { try $0.setParametersApplied(ofCluster: cluster.name, to: marker) }
        case .applyACL(let marker):
            for name in nodes.keys.sorted() {
                try await dataPlane.applyACL(try spec(name))
            }
            try recordApplied(cluster, first: cluster.aclApplied.isEmpty, "ACL \(cluster.aclName) applied to every node") {
                try $0.setACLApplied(ofCluster: cluster.name, to: marker)
            }
        case .markAvailable:
            let elapsed = Double(nowMilliseconds() - cluster.createdAt) / 1000
            try store.write { transaction in
                try transaction.setStatus(ofCluster: cluster.name, to: .available)
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster is available", createdAt: nowMilliseconds()))
            }
            logger.info("cluster available", metadata: ["cluster.name": "\(cluster.name)", "cluster.seconds_to_available": "\(elapsed)"])
        }
        return .progressing
    }

    /// Records a revision every node now runs, with an event unless it is the creation's first.
    private func recordApplied(_ cluster: ClusterRecord, first: Bool, _ message: String, _ mark: (Transaction) throws -> Void) throws {
        try store.write { transaction in
            try mark(transaction)
            if !first {
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
            }
        }
    }

    /// Stops every node named by a `stopNode` step, all at once.
    func stopAll(_ names: [String], cluster: ClusterRecord, nodes: [String: NodeRecord]) async {
        let dataPlane = dataPlane
        await withTaskGroup(of: Void.self) { group in
            for record in names.compactMap({ nodes[$0] }) {
                let spec = Self.spec(of: record, in: cluster)
                group.addTask { await dataPlane.stopNode(spec) }
            }
        }
    }

    /// What every node of a cluster is configured with beyond its identity.
    struct NodeSettings {
        var parameters: ParameterTarget
        var acl: ACLTarget
    }

    static func spec(of node: NodeRecord, in cluster: ClusterRecord, settings: NodeSettings? = nil) -> NodeSpec {
        var spec = NodeSpec(
            name: node.name, port: node.port, busPort: node.busPort,
            maxmemoryBytes: (NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 1 << 30),
            admin: adminCredentials(of: cluster),
            recordedPID: node.pid, tls: cluster.tlsEnabled)
        if let settings {
            spec.parameters = settings.parameters.values
            spec.aclUsers = settings.acl.users
            spec.defaultUserRules = settings.acl.defaultUserRules
        }
        return spec
    }

    static func adminCredentials(of cluster: ClusterRecord) -> NodeCredentials {
        NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
    }

    static func endpoint(of cluster: ClusterRecord, _ nodes: [NodeRecord]) -> EndpointSpec {
        EndpointSpec(
            clusterName: cluster.name, port: cluster.endpointPort, backendPorts: nodes.sorted { $0.name < $1.name }.map(\.port),
            tls: cluster.tlsEnabled)
    }
}

import Ports
import Foundation
import Logging
import Model
import Store

/// Something that can be told a cluster's desired state changed, so it acts now rather than at
/// its next periodic pass.
public protocol ReconcileTrigger: Sendable {
    func wake(cluster name: String)
}

/// The service layer for clusters: validates, records desired state with an event in one
/// transaction, wakes the reconciler and returns. Both doors call only this.
public struct ClusterService: Sendable {
    public let configuration: ControlConfiguration
    let store: Store
    let trigger: any ReconcileTrigger
    let ports: PortAllocator
    private let logger: Logger
    private let parameterGroups: ParameterGroupService
    let accessControl: AccessControlService
    let subnetGroups: SubnetGroupService
    /// Snapshot files, for restores and final snapshots; nil without a data plane.
    let snapshotStorage: SnapshotStorage?
    /// Each door's JSON of each cluster, rendered once per change.
    let representations = RepresentationCache()
    /// Nodes started ahead of time (`serve --warm-nodes`): a new cluster's nodes are recorded on
    /// their ports and adopt them when first started.
    let warmPool: WarmNodePool?

    /// The internal admin user every node has; only the control plane knows its password.
    public static let adminUserName = "memoryplane-admin"

    public init(
        configuration: ControlConfiguration, store: Store, trigger: any ReconcileTrigger, parameterGroups: ParameterGroupService,
        accessControl: AccessControlService, subnetGroups: SubnetGroupService, ports: PortAllocator? = nil,
        snapshotStorage: SnapshotStorage? = nil, warmPool: WarmNodePool? = nil, logger: Logger
    ) {
        self.snapshotStorage = snapshotStorage
        self.warmPool = warmPool
        self.configuration = configuration
        self.store = store
        self.trigger = trigger
        self.ports = ports ?? PortAllocator(range: configuration.nodePorts)
        self.logger = logger
        self.parameterGroups = parameterGroups
        self.accessControl = accessControl
        self.subnetGroups = subnetGroups
    }

    /// Records a new cluster in `creating`; the reconciler brings it up.
    public func createCluster(_ request: CreateClusterRequest) throws -> ClusterView {
        var spec = try ClusterSpec(validating: request)
        guard try accessControl.aclExists(spec.aclName) else {
            throw MemoryDBError(.aclNotFound, "ACL '\(spec.aclName)' not found.")
        }
        if let version = request.engineVersion {
            let installed = configuration.engineVersion
            guard version == installed.engineVersion || version == String(installed.major) || version == installed.patchVersion else {
                throw MemoryDBError.invalid("engineVersion '\(version)' is not installed; this server runs Redis \(installed.patchVersion) (engineVersion \(installed.engineVersion)).")
            }
        }
        let defaultGroup = configuration.engineVersion.defaultParameterGroupName
        let parameterGroup = spec.parameterGroupName ?? defaultGroup
        try checkFamily(of: parameterGroup)
        let zones = try subnetGroups.zones(of: spec.subnetGroupName)
        let restore = try prepareRestore(&spec, requestedShards: request.numShards)
        let now = configuration.clock.nowMilliseconds
        let password = Self.randomSecret()
        let arn = configuration.arn(.cluster, spec.name)
        // A restore seeds each primary's data before its first start: warm nodes are running already.
        let warm = restore == nil ? (warmPool?.take(spec.totalNodes, tls: spec.tlsEnabled) ?? []) : []
        let record: ClusterRecord
        do {
            record = try insertCluster(
                spec, restore: restore, zones: zones, parameterGroup: parameterGroup, now: now, password: password, arn: arn, warmPorts: warm)
        } catch {
            warmPool?.release(ports: warm)
            if restore != nil, let storage = snapshotStorage { try? FileManager.default.removeItem(atPath: storage.restoreDirectory(of: spec.name)) }
            throw error
        }
        logger.info("cluster requested", metadata: ["cluster.name": "\(record.name)", "cluster.nodes": "\(spec.totalNodes)"])
        let created = try view(of: record)
        trigger.wake(cluster: record.name)
        return created
    }

    /// Records a new cluster, its nodes, its desired topology, its tags and its event at once.
    private func insertCluster(
        _ spec: ClusterSpec, restore: RestorePlan?, zones: [String], parameterGroup: String, now: Int64, password: String, arn: String,
        warmPorts: [Int]
    ) throws -> ClusterRecord {
        try store.write { transaction in
            guard try transaction.cluster(named: spec.name) == nil else {
                throw MemoryDBError(.clusterAlreadyExists, "A cluster named '\(spec.name)' already exists.")
            }
            // Ports are chosen inside the transaction, so two creations cannot pick the same.
            var taken = try portsInUse(transaction)
            let endpointPort: Int
            if let requested = spec.port {
                try ports.check(requested: requested, excluding: taken)
                endpointPort = requested
            } else {
                endpointPort = try ports.allocate(1, excluding: taken)[0]
            }
            taken.insert(endpointPort)
            let nodePorts = warmPorts + (try ports.allocate(spec.totalNodes - warmPorts.count, excluding: taken))
            var cluster = ClusterRecord(
                name: spec.name, description: spec.description, status: .creating, nodeType: spec.nodeType.name,
                engineVersion: configuration.engineVersion.engineVersion,
                enginePatchVersion: configuration.engineVersion.patchVersion,
                parameterGroupName: parameterGroup, aclName: spec.aclName, subnetGroupName: spec.subnetGroupName,
                tlsEnabled: spec.tlsEnabled, numShards: spec.numShards, numReplicasPerShard: spec.numReplicasPerShard,
                endpointPort: endpointPort, adminPassword: password, createdAt: now,
                maintenanceWindow: spec.maintenanceWindow, snapshotWindow: spec.snapshotWindow,
                autoMinorVersionUpgrade: spec.autoMinorVersionUpgrade, securityGroupIds: spec.securityGroupIds)
            cluster.snapshotRetentionLimit = spec.snapshotRetentionLimit
            cluster.deletionProtection = spec.deletionProtection
            cluster.snapshotBeforeUpdate = spec.snapshotBeforeUpdate
            cluster.restoreSource = restore?.source
            cluster.restoreState = restore?.mode
            var nodes: [NodeRecord] = []
            for shard in 1...spec.numShards {
                for index in 1...spec.nodesPerShard {
                    nodes.append(
                        NodeRecord(
                            name: ClusterTopology.nodeName(cluster: spec.name, shardIndex: shard, nodeIndex: index),
                            clusterName: spec.name, shardIndex: shard, nodeIndex: index, port: nodePorts[nodes.count],
                            availabilityZone: ClusterTopology.availabilityZone(shardIndex: shard, nodeIndex: index, zones: zones),
                            status: .creating, role: index == 1 ? .primary : .replica, createdAt: now))
                }
            }
            let slots = restore?.slots ?? SlotRange.evenSplit(shards: spec.numShards).map { [$0] }
            let shards = (1...spec.numShards).map { shard in
                ShardRecord(
                    clusterName: spec.name, shardIndex: shard, slots: slots[shard - 1],
                    primaryNode: ClusterTopology.nodeName(cluster: spec.name, shardIndex: shard, nodeIndex: 1))
            }
            try transaction.insert(cluster, nodes: nodes, shards: shards)
            try TagService.attach(spec.tags, to: arn, in: transaction)
            let from = restore.map { " from \($0.description)" } ?? ""
            try transaction.record(
                EventRecord(
                    sourceName: spec.name, sourceType: .cluster,
                    message: "Cluster created with \(spec.numShards) shard(s) of \(spec.nodesPerShard) node(s)\(from)", createdAt: now))
            return cluster
        }
    }

    /// One cluster, or `ClusterNotFoundFault`.
    public func describeCluster(_ rawName: String) throws -> ClusterView {
        view(of: try details(ofCluster: rawName))
    }

    /// A cluster's stored details, or `ClusterNotFoundFault`.
    private func details(ofCluster rawName: String) throws -> Store.ClusterDetails {
        let name = rawName.lowercased()
        guard let details = try store.clusterDetails(named: name, arn: arnOfCluster) else {
            throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
        }
        return details
    }

    /// A page of clusters in name order; the token is the last name of the previous page.
    public func listClusters(maxResults: Int?, nextToken: String?) throws -> (clusters: [ClusterView], nextToken: String?) {
        let (details, token) = try clusterPage(maxResults: maxResults, nextToken: nextToken)
        return (details.map(view(of:)), token)
    }

    /// One page read with a row past its end, which says whether another page follows.
    private func clusterPage(maxResults: Int?, nextToken: String?) throws -> (details: [Store.ClusterDetails], nextToken: String?) {
        let limit = maxResults ?? 100
        guard (1...100).contains(limit) else {
            throw MemoryDBError.invalid("maxResults must be between 1 and 100; got \(limit).")
        }
        let after = try nextToken.map { token throws(MemoryDBError) in try PageToken.decode(token) }
        let details = try store.clusterDetails(after: after, limit: limit + 1, arn: arnOfCluster)
        let page = Array(details.prefix(limit))
        let token = details.count > limit ? page.last.map { PageToken.encode($0.cluster.name) } : nil
        return (page, token)
    }

    /// One cluster rendered by `render` (a door's JSON), rendered once per change of what is
    /// stored; `format` names the rendering.
    public func clusterRepresentation(_ rawName: String, format: String, render: (ClusterView) throws -> [UInt8]) throws -> [UInt8] {
        let details = try details(ofCluster: rawName)
        return try representations.bytes(for: details.cluster.name, format: format, revision: details.revision) { try render(view(of: details)) }
    }

    /// A page of clusters as `listClusters` gives it, each rendered by `render` once per change.
    public func listClusterRepresentations(
        maxResults: Int?, nextToken: String?, format: String, render: (ClusterView) throws -> [UInt8]
    ) throws -> (clusters: [[UInt8]], nextToken: String?) {
        let (details, token) = try clusterPage(maxResults: maxResults, nextToken: nextToken)
        let rendered = try details.map { details in
            try representations.bytes(for: details.cluster.name, format: format, revision: details.revision) { try render(view(of: details)) }
        }
        return (rendered, token)
    }

    /// Ports held by records, and by warm nodes (some still starting, so not yet bound).
    func portsInUse(_ transaction: Transaction) throws -> Set<Int> {
        try transaction.portsInUse().union(warmPool?.ports ?? [])
    }

    /// A cluster may only use a group of its engine's family.
    func checkFamily(of group: String) throws {
        let family = try parameterGroups.family(of: group)
        let engineFamily = configuration.engineVersion.parameterGroupFamily
        guard family == engineFamily else {
            throw MemoryDBError(
                .invalidParameterCombination,
                "Parameter group '\(group)' is of family \(family); this server's engine needs \(engineFamily).")
        }
    }

    /// Moves a cluster to `deleting`; the reconciler stops its nodes and removes it. With a
    /// final snapshot, nothing is stopped until the snapshot is taken; if it cannot be, the
    /// deletion is called off and the cluster stays.
    /// The refusal a protected cluster gives every deletion (a door's, a stack's).
    public static func protectedFromDeletion(_ name: String) -> MemoryDBError {
        MemoryDBError(
            .invalidClusterState,
            "Cluster '\(name)' has deletionProtection on, so it cannot be deleted; turn it off first in an update of its own (PATCH /v1/clusters/\(name) {\"deletionProtection\": false}).")
    }

    public func deleteCluster(_ rawName: String, finalSnapshotName: String? = nil) throws -> ClusterView {
        let name = rawName.lowercased()
        let finalSnapshot = try finalSnapshotName.map { try SnapshotNames.validate($0, field: "finalSnapshotName") }
        if finalSnapshot != nil && snapshotStorage == nil {
            throw MemoryDBError(.invalidParameterCombination, "This server has no data plane, so it takes no snapshots.")
        }
        let record = try store.write { transaction in
            guard var cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            if cluster.deletionProtection { throw Self.protectedFromDeletion(name) }
            // A creation or an update whose steps keep failing (its last error says why) can be
            // given up: deleting stops every node, whatever shape the cluster was in.
            let stuck = (cluster.status == .creating || cluster.status == .updating) && cluster.lastError != nil
            // A stopped cluster is deleted as it is: its nodes are already down.
            if cluster.status == .stopped && finalSnapshot != nil {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is stopped; start it first to take a final snapshot, or delete it without one.")
            }
            if (!stuck || finalSnapshot != nil) && cluster.status != .stopped {
                try Self.requireAvailable(cluster)
            }
            let now = configuration.clock.nowMilliseconds
            if let finalSnapshot {
                guard try transaction.snapshot(named: finalSnapshot) == nil else {
                    throw MemoryDBError(.snapshotAlreadyExists, "A snapshot named '\(finalSnapshot)' already exists; the cluster was not touched.")
                }
                _ = try SnapshotService.begin(name: finalSnapshot, of: cluster, source: "manual", at: now, in: transaction)
                cluster.finalSnapshot = finalSnapshot
            }
            cluster.status = .deleting
            try transaction.update(cluster)
            try transaction.setStatus(ofNodesOf: name, to: .deleting)
            let message = finalSnapshot.map { "Cluster deletion started; final snapshot \($0) first" } ?? "Cluster deletion started"
            try transaction.record(EventRecord(sourceName: name, sourceType: .cluster, message: message, createdAt: now))
            return cluster
        }
        if finalSnapshot != nil { trigger.wake(cluster: SnapshotService.wakeName) }
        logger.info("cluster deletion requested", metadata: ["cluster.name": "\(name)"])
        // Read before waking the reconciler, which may remove the rows at once.
        let deleting = try view(of: record)
        trigger.wake(cluster: name)
        return deleting
    }

    /// Polls until the cluster leaves `creating`/`deleting` (or is gone) or the timeout passes;
    /// returns the last view, or nil when the cluster no longer exists.
    public func waitUntilSettled(_ name: String, timeout: Duration? = nil) async throws -> ClusterView? {
        let clock = configuration.clock
        let deadline = clock.monotonic + (timeout ?? configuration.waitTimeout)
        while true {
            guard let record = try store.cluster(named: name.lowercased()) else { return nil }
            let settled = record.status != .creating && record.status != .deleting
            if settled || clock.monotonic >= deadline { return try view(of: record) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func view(of record: ClusterRecord) throws -> ClusterView {
        guard let details = try store.clusterDetails(named: record.name, arn: arnOfCluster) else {
            throw MemoryDBError(.clusterNotFound, "Cluster '\(record.name)' not found.")
        }
        var view = view(of: details)
        // The record given is the state just written; a deletion may already have removed rows.
        view.status = record.status
        return view
    }

    func view(of details: Store.ClusterDetails) -> ClusterView {
        var view = ClusterView(
            cluster: details.cluster, nodes: details.nodes, shards: details.shards, operations: details.operations,
            tags: details.tags.map { Tag(key: $0.key, value: $0.value) }, configuration: configuration)
        let marker = try? parameterGroups.marker(forGroup: details.cluster.parameterGroupName)
        // A new cluster's nodes start with the group in their config: in sync from the start, as
        // AWS reports at creation. Later, a revision not yet on every node is `applying`.
        let applied = details.cluster.parametersApplied
        view.parameterGroupStatus = applied == nil || marker == applied ? "in-sync" : "applying"
        // Reboot-only values some node has not started with yet: the rolling restart is due.
        if view.parameterGroupStatus == "in-sync", let target = try? parameterGroups.target(forGroup: details.cluster.parameterGroupName),
            details.nodes.contains(where: { node in node.startedWithOtherValues(than: target.rebootValues) })
        {
            view.parameterGroupStatus = "pending-reboot"
        }
        return view
    }

    private var arnOfCluster: @Sendable (String) -> String {
        let configuration = configuration
        return { configuration.arn(.cluster, $0) }
    }

    /// 32 random bytes as hex, from the system's cryptographically secure generator.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}

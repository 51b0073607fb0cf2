import Foundation
import Logging
import Model
import Store
import Ports

/// A pending service update of one cluster, as DescribeServiceUpdates lists it.
public struct ServiceUpdateView: Sendable, Equatable {
    public var clusterName: String
    public var name: String
    public var releaseDate: Int64
    public var description: String
    /// `available` (waiting for the maintenance window or BatchUpdateCluster) or `in-progress`.
    public var status: String
    /// `security-update`, the one type AWS defines.
    public var type: String
    public var engine: String
    /// "updated/total" nodes.
    public var nodesUpdated: String
    /// When the cluster's maintenance window next opens: the update starts then by itself.
    public var autoUpdateStartDate: Int64?
}

/// A cluster BatchUpdateCluster did not act on, and why.
public struct UnprocessedCluster: Sendable, Equatable {
    public var clusterName: String
    public var errorType: String
    public var errorMessage: String
}

/// Service updates: the work a rolling restart does, derived from what nodes started with.
///
/// Nothing is stored per update: a cluster has an engine update while any node runs another
/// engine version than the server's binary (`--engine-path` changed between runs of `serve`),
/// and a parameter update while any node started with other reboot-only values than its group
/// now has. Both are applied by the reconciler's rolling restart, in the cluster's maintenance
/// window or at once after BatchUpdateCluster; EnginePatchVersion changes only once every node
/// really runs the new binary.
public struct ServiceUpdateService: Sendable {
    static let statuses = ["available", "in-progress", "complete", "scheduled"]

    let store: Store
    let configuration: ControlConfiguration
    let parameterGroups: ParameterGroupService
    let clusters: ClusterService
    let trigger: any ReconcileTrigger
    let logger: Logger

    public init(
        store: Store, configuration: ControlConfiguration, parameterGroups: ParameterGroupService, clusters: ClusterService, trigger: any ReconcileTrigger,
        logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.parameterGroups = parameterGroups
        self.clusters = clusters
        self.trigger = trigger
        self.logger = logger
    }

    /// The engine update's name: one per engine version.
    var engineUpdateName: String { "redis-engine-\(configuration.engineVersion.patchVersion)" }

    /// The pending updates of one cluster, engine first.
    func pending(_ cluster: ClusterRecord, now: Int64) throws -> [ServiceUpdateView] {
        let nodes = try store.nodes(ofCluster: cluster.name).filter { $0.status != .deleting }
        guard !nodes.isEmpty else { return [] }
        let window = Windows.contains(maintenanceWindow: cluster.maintenanceWindow, weekMinute: Windows.weekMinute(ofMilliseconds: now))
        let status = cluster.updatesRequestedAt != nil || window ? "in-progress" : "available"
        let next = Windows.nextStart(ofMaintenanceWindow: cluster.maintenanceWindow, after: now)
        var updates: [ServiceUpdateView] = []
        let engine = configuration.engineVersion.patchVersion
        let running: [String] = nodes.map { node in node.runningEngine(clusterPatch: cluster.enginePatchVersion) }
        let onEngine = running.filter { $0 == engine }.count
        if onEngine < nodes.count {
            let older = Set(running).subtracting([engine]).sorted()
            updates.append(
                ServiceUpdateView(
                    clusterName: cluster.name, name: engineUpdateName, releaseDate: configuration.engineReleasedAt,
                    description: "Redis \(engine), the server's engine binary, for nodes running \(older.joined(separator: ", ")): a rolling restart, replicas first, each primary after a lossless failover",
                    status: status, type: "security-update", engine: "redis", nodesUpdated: "\(onEngine)/\(nodes.count)", autoUpdateStartDate: next))
        }
        let target = try parameterGroups.target(forGroup: cluster.parameterGroupName).rebootValues
        let stale = nodes.filter { node in node.startedWithOtherValues(than: target) }.count
        if stale > 0 {
            let group = try store.parameterGroup(named: cluster.parameterGroupName)
            let revision = group?.revision ?? 0
            updates.append(
                ServiceUpdateView(
                    clusterName: cluster.name, name: "parameter-group-\(cluster.parameterGroupName)-r\(revision)",
                    releaseDate: group.map { $0.revisedAt ?? $0.createdAt } ?? cluster.createdAt,
                    description: "Reboot-only values of parameter group \(cluster.parameterGroupName) (\(target.isEmpty ? "the family defaults" : target.replacingOccurrences(of: ";", with: ", "))): a rolling restart",
                    status: status, type: "security-update", engine: "redis", nodesUpdated: "\(nodes.count - stale)/\(nodes.count)", autoUpdateStartDate: next))
        }
        return updates
    }

    /// DescribeServiceUpdates: pending updates, filtered, by cluster then name.
    public func describe(
        name: String?, clusterNames: [String]?, statuses: [String]?, maxResults: Int?, nextToken: String?, now: Int64? = nil
    ) throws -> (updates: [ServiceUpdateView], nextToken: String?) {
        let now = now ?? configuration.clock.nowMilliseconds
        if let unknown = statuses?.first(where: { !Self.statuses.contains($0) }) {
            throw MemoryDBError.invalid("Status '\(unknown)' is not one of \(Self.statuses.joined(separator: ", ")).")
        }
        if let statuses, statuses.count > 4 { throw MemoryDBError.invalid("Status takes at most 4 values; got \(statuses.count).") }
        let wanted = clusterNames.map { Set($0.map { $0.lowercased() }) }
        var updates: [ServiceUpdateView] = []
        for clusterName in try store.clusterNames() where wanted?.contains(clusterName) ?? true {
            guard let cluster = try store.cluster(named: clusterName), cluster.status != .creating, cluster.status != .deleting else { continue }
            for update in try pending(cluster, now: now) {
                if let name, update.name != name { continue }
                if let statuses, !statuses.contains(update.status) { continue }
                updates.append(update)
            }
        }
        updates.sort { first, second in first.clusterName == second.clusterName ? first.name < second.name : first.clusterName < second.clusterName }
        let page = try Pagination.page(updates, key: { "\($0.clusterName)/\($0.name)" }, maxResults: maxResults, nextToken: nextToken)
        return (page.items, page.nextToken)
    }

    /// BatchUpdateCluster: the named clusters apply their pending updates now (a rolling
    /// restart) instead of in their maintenance window. A named update no cluster has is
    /// ServiceUpdateNotFoundFault; a cluster that cannot take it is listed as unprocessed.
    public func apply(clusterNames: [String], updateName: String?, now: Int64? = nil) throws -> (processed: [ClusterView], unprocessed: [UnprocessedCluster]) {
        let now = now ?? configuration.clock.nowMilliseconds
        guard !clusterNames.isEmpty else { throw MemoryDBError.invalid("ClusterNames must name at least one cluster.") }
        guard clusterNames.count <= 100 else { throw MemoryDBError.invalid("ClusterNames takes at most 100 clusters; got \(clusterNames.count).") }
        if let updateName {
            var known = Set<String>()
            for clusterName in try store.clusterNames() {
                guard let cluster = try store.cluster(named: clusterName) else { continue }
                for update in try pending(cluster, now: now) { known.insert(update.name) }
            }
            guard known.contains(updateName) else {
                throw MemoryDBError(.serviceUpdateNotFound, "Service update '\(updateName)' not found: no cluster has it pending.")
            }
        }
        var processed: [ClusterView] = []
        var unprocessed: [UnprocessedCluster] = []
        for raw in clusterNames {
            let name = raw.lowercased()
            guard let cluster = try store.cluster(named: name) else {
                unprocessed.append(UnprocessedCluster(clusterName: raw, errorType: MemoryDBError.Code.clusterNotFound.rawValue, errorMessage: "Cluster '\(name)' not found."))
                continue
            }
            guard cluster.status == .available else {
                unprocessed.append(
                    UnprocessedCluster(
                        clusterName: name, errorType: MemoryDBError.Code.invalidClusterState.rawValue,
                        errorMessage: "Cluster '\(name)' is \(cluster.status.rawValue); it must be available."))
                continue
            }
            var updates = try pending(cluster, now: now)
            if let updateName { updates = updates.filter { $0.name == updateName } }
            guard !updates.isEmpty else {
                unprocessed.append(
                    UnprocessedCluster(
                        clusterName: name, errorType: MemoryDBError.Code.noOperation.rawValue,
                        errorMessage: "Cluster '\(name)' has no pending service update\(updateName.map { " named \($0)" } ?? "")."))
                continue
            }
            try store.write { transaction in
                try transaction.requestUpdates(ofCluster: name, at: now)
                try transaction.record(
                    EventRecord(
                        sourceName: name, sourceType: .cluster,
                        message: "Service updates requested now (BatchUpdateCluster): \(updates.map(\.name).joined(separator: ", ")); a rolling restart applies them",
                        createdAt: now))
            }
            trigger.wake(cluster: name)
            processed.append(try clusters.describeCluster(name))
        }
        return (processed, unprocessed)
    }
}

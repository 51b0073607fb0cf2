import Ports
import Foundation
import Logging
import Model
import Store

/// UpdateCluster: settings, node type, shard and replica counts.
extension ClusterService {
    /// UpdateCluster, for both doors: the one place that decides what may change.
    ///
    /// Changed now: description, parameter group, ACL (both pushed to every node), security
    /// groups, maintenance and snapshot windows. Refused by name, never ignored: node type,
    /// engine version, shard and replica counts, SNS topics, IP discovery, and automatic
    /// snapshots (a retention limit other than 0).
    public func updateCluster(_ rawName: String, _ request: UpdateClusterRequest) throws -> ClusterView {
        let name = rawName.lowercased()
        guard let existing = try store.cluster(named: name) else {
            throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
        }
        let update = try validate(request, of: existing)
        let record = try store.write { transaction in
            guard var cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            try Self.requireAvailable(cluster)
            var changes = try Self.applySettings(update, to: &cluster)
            changes += try applyShape(update, to: &cluster, settingsChanged: !changes.isEmpty, in: transaction)
            guard !changes.isEmpty else {
                throw MemoryDBError(.noOperation, "Cluster '\(name)' already has every value given; nothing would change.")
            }
            try transaction.update(cluster)
            for change in changes {
                try transaction.record(EventRecord(sourceName: name, sourceType: .cluster, message: change, createdAt: configuration.clock.nowMilliseconds))
            }
            return cluster
        }
        if update.acl != nil || update.group != nil || request.numReplicasPerShard != nil || request.numShards != nil || update.nodeType != nil {
            trigger.wake(cluster: name)
        }
        return try view(of: record)
    }

    /// An update's values, each checked and normalised before anything is written.
    struct ValidatedUpdate {
        var request: UpdateClusterRequest
        var acl: String?
        var group: String?
        var securityGroups: [String]?
        /// The subnet group's zones, for new nodes; empty when no node is added.
        var zones: [String]
        var nodeType: NodeType?
        var maintenance: String?
        var snapshot: String?
    }

    /// Refuses what cannot change and every value out of range, naming it.
    private func validate(_ request: UpdateClusterRequest, of existing: ClusterRecord) throws -> ValidatedUpdate {
        if let (field, reason) = request.refused.first {
            throw MemoryDBError(
                .invalidParameterCombination,
                "\(field) cannot be changed by MemoryPlane: \(reason). description, parameterGroupName, aclName, securityGroupIds, maintenanceWindow, snapshotWindow, snapshotRetentionLimit, numShards, numReplicasPerShard and nodeType can.")
        }
        guard !request.isEmpty else {
            throw MemoryDBError(.invalidParameterCombination, "Nothing to change: give at least one of description, parameterGroupName, aclName, securityGroupIds, maintenanceWindow, snapshotWindow, snapshotRetentionLimit, numShards, numReplicasPerShard, nodeType, deletionProtection, snapshotBeforeUpdate.")
        }
        if request.deletionProtection == false {
            var others = request
            others.deletionProtection = nil
            guard others.isEmpty else {
                throw MemoryDBError(
                    .invalidParameterCombination,
                    "Turn deletionProtection off in an update of its own, with no other change: it is the one step that makes the cluster deletable.")
            }
        }
        try ClusterSpec.validate(snapshotRetentionLimit: request.snapshotRetentionLimit)
        let acl = request.aclName?.lowercased()
        if let acl {
            guard try accessControl.aclExists(acl) else { throw MemoryDBError(.aclNotFound, "ACL '\(acl)' not found.") }
            if !existing.tlsEnabled && acl != BuiltinResources.openAccessACLName {
                throw MemoryDBError(.invalidParameterCombination, "A cluster without TLS can only use ACL 'open-access'.")
            }
        }
        try ClusterSpec.validate(description: request.description)
        let group = request.parameterGroupName?.lowercased()
        if let group { try checkFamily(of: group) }
        let securityGroups = try request.securityGroupIds.map { ids throws(MemoryDBError) in try SecurityGroups.validate(ids) }
        if let replicas = request.numReplicasPerShard, !(0...ClusterSpec.maxReplicasPerShard).contains(replicas) {
            throw MemoryDBError.invalid("numReplicasPerShard must be between 0 and \(ClusterSpec.maxReplicasPerShard); got \(replicas).")
        }
        if let shards = request.numShards, !(1...ClusterSpec.maxShards).contains(shards) {
            throw MemoryDBError.invalid("numShards must be between 1 and \(ClusterSpec.maxShards); got \(shards).")
        }
        if request.numShards != nil && request.numReplicasPerShard != nil {
            throw MemoryDBError(
                .invalidParameterCombination,
                "Change the shard count and the replica count in two updates: each is a resharding or a replica change of its own, and the cluster must be available between them.")
        }
        let zones = request.numReplicasPerShard == nil && request.numShards == nil ? [] : try subnetGroups.zones(of: existing.subnetGroupName)
        let nodeType = try request.nodeType.map { name throws(MemoryDBError) in try NodeType.named(name) }
        if let nodeType, nodeType.requiresDataTiering {
            throw MemoryDBError(.invalidParameterCombination, "nodeType '\(nodeType.name)' requires data tiering, which MemoryPlane does not support.")
        }
        let maintenance = try request.maintenanceWindow.map { text throws(MemoryDBError) in try Windows.validateMaintenance(text) }
        let snapshot = try request.snapshotWindow.map { text throws(MemoryDBError) in try Windows.validateSnapshot(text) }
        return ValidatedUpdate(
            request: request, acl: acl, group: group, securityGroups: securityGroups, zones: zones, nodeType: nodeType, maintenance: maintenance,
            snapshot: snapshot)
    }

    /// Settings that change no node count: each one that differs is a change, in words.
    private static func applySettings(_ update: ValidatedUpdate, to cluster: inout ClusterRecord) throws -> [String] {
        let request = update.request
        var changes: [String] = []
        // Only what differs is a change; an update that changes nothing is NoOperationFault.
        if let description = request.description, description != (cluster.description ?? "") {
            cluster.description = description
            changes.append("Cluster description updated")
        }
        if let snapshot = request.snapshotBeforeUpdate, snapshot != cluster.snapshotBeforeUpdate {
            cluster.snapshotBeforeUpdate = snapshot
            changes.append(snapshot ? "Engine updates snapshot the cluster first" : "Engine updates no longer snapshot the cluster first (opted out)")
        }
        if let protection = request.deletionProtection, protection != cluster.deletionProtection {
            cluster.deletionProtection = protection
            changes.append(protection ? "Deletion protection turned on" : "Deletion protection turned off: the cluster can be deleted")
        }
        if let acl = update.acl, acl != cluster.aclName {
            cluster.aclName = acl
            changes.append("Cluster switched to ACL \(acl)")
        }
        if let group = update.group, group != cluster.parameterGroupName {
            cluster.parameterGroupName = group
            changes.append("Cluster switched to parameter group \(group)")
        }
        if let securityGroups = update.securityGroups, securityGroups != cluster.securityGroups {
            cluster.securityGroups = securityGroups
            changes.append("Cluster security groups set to [\(securityGroups.joined(separator: ", "))]")
        }
        if let limit = request.snapshotRetentionLimit, limit != cluster.snapshotRetentionLimit {
            cluster.snapshotRetentionLimit = limit
            changes.append(limit == 0 ? "Automatic snapshots turned off" : "Automatic snapshots taken daily in \(cluster.snapshotWindow) UTC and kept \(limit) day(s)")
        }
        if (update.maintenance.map { $0 != cluster.maintenanceWindow } ?? false) || (update.snapshot.map { $0 != cluster.snapshotWindow } ?? false) {
            // Checked against the row this transaction changes, so no concurrent update slips between.
            cluster.maintenanceWindow = update.maintenance ?? cluster.maintenanceWindow
            cluster.snapshotWindow = update.snapshot ?? cluster.snapshotWindow
            guard !Windows.overlap(maintenance: cluster.maintenanceWindow, snapshot: cluster.snapshotWindow) else {
                throw MemoryDBError(
                    .invalidParameterCombination,
                    "maintenanceWindow \(cluster.maintenanceWindow) and snapshotWindow \(cluster.snapshotWindow) overlap; choose windows apart.")
            }
            changes.append("Cluster windows set: maintenance \(cluster.maintenanceWindow), snapshot \(cluster.snapshotWindow)")
        }
        return changes
    }

    /// The node type, shard count and replica count: each a change of the running cluster's
    /// shape, which the reconciler carries out while the cluster is `updating`.
    private func applyShape(_ update: ValidatedUpdate, to cluster: inout ClusterRecord, settingsChanged: Bool, in transaction: Transaction) throws -> [String] {
        let request = update.request
        let name = cluster.name
        var changes: [String] = []
        let unchanged = { !settingsChanged && changes.isEmpty }
        if let nodeType = update.nodeType, nodeType.name != cluster.nodeType {
            try Self.checkFits(nodeType, shardsOf: try transaction.nodes(ofCluster: name))
            changes.append("Node type \(cluster.nodeType) → \(nodeType.name): maxmemory \(nodeType.memoryBytes) bytes on every node, no restart")
            cluster.nodeType = nodeType.name
            cluster.status = .updating
        } else if let nodeType = update.nodeType, unchanged() && request.numReplicasPerShard == nil && request.numShards == nil {
            throw MemoryDBError(.noOperation, "Cluster '\(name)' already runs node type \(nodeType.name).")
        }
        if let shards = request.numShards {
            if shards == cluster.numShards && unchanged() {
                throw MemoryDBError(.noOperation, "Cluster '\(name)' already has \(shards) shard(s).")
            }
            if shards != cluster.numShards {
                changes.append(try changeShards(of: &cluster, to: shards, zones: update.zones, in: transaction))
            }
        }
        if let replicas = request.numReplicasPerShard {
            if replicas == cluster.numReplicasPerShard && unchanged() {
                throw MemoryDBError(.noOperation, "Cluster '\(name)' already has \(replicas) replica(s) per shard.")
            }
            if replicas != cluster.numReplicasPerShard {
                changes.append(try changeReplicas(of: &cluster, to: replicas, zones: update.zones, in: transaction))
            }
        }
        return changes
    }

    /// ReplicaConfiguration: new replicas are recorded (ports, zones spread as at creation) for
    /// the reconciler to start and attach; surplus ones, the highest-numbered replicas of each
    /// shard and never its primary, are marked `deleting` for it to stop, have every other node
    /// forget, and remove. The cluster is `updating` until the shape holds.
    private func changeReplicas(of cluster: inout ClusterRecord, to replicas: Int, zones: [String], in transaction: Transaction) throws -> String {
        let old = cluster.numReplicasPerShard
        guard cluster.numShards * (1 + replicas) <= ClusterSpec.maxNodesPerCluster else {
            throw MemoryDBError(
                .nodeQuotaForClusterExceeded,
                "\(cluster.numShards) shard(s) × (1 + \(replicas)) nodes; a cluster may have at most \(ClusterSpec.maxNodesPerCluster).")
        }
        let nodes = try transaction.nodes(ofCluster: cluster.name)
        let shards = try transaction.shards(ofCluster: cluster.name)
        var touched: [String] = []
        if replicas > old {
            let ports = try self.ports.allocate((replicas - old) * cluster.numShards, excluding: try portsInUse(transaction))
            var next = ports.makeIterator()
            for shard in shards {
                var index = (nodes.filter { $0.shardIndex == shard.shardIndex }.map(\.nodeIndex).max() ?? 0) + 1
                for _ in old..<replicas {
                    guard let port = next.next() else { break }
                    let name = ClusterTopology.nodeName(cluster: cluster.name, shardIndex: shard.shardIndex, nodeIndex: index)
                    try transaction.insert(
                        NodeRecord(
                            name: name, clusterName: cluster.name, shardIndex: shard.shardIndex, nodeIndex: index, port: port,
                            availabilityZone: ClusterTopology.availabilityZone(shardIndex: shard.shardIndex, nodeIndex: index, zones: zones),
                            status: .creating, role: .replica, createdAt: configuration.clock.nowMilliseconds))
                    touched.append(name)
                    index += 1
                }
            }
        } else {
            for shard in shards {
                let surplus = nodes.filter { $0.shardIndex == shard.shardIndex && $0.name != shard.primaryNode && $0.status != .deleting }
                    .sorted { $0.nodeIndex > $1.nodeIndex }.prefix(old - replicas)
                for node in surplus {
                    try transaction.setStatus(ofNode: node.name, to: .deleting)
                    touched.append(node.name)
                }
            }
        }
        cluster.numReplicasPerShard = replicas
        cluster.status = .updating
        return "Replicas per shard \(old) → \(replicas): \(replicas > old ? "adding" : "removing") \(touched.joined(separator: ", "))"
    }

    /// ShardConfiguration: the new layout is recorded as each shard's desired slots (moving as
    /// few slots as possible, `SlotLayout`), and new shards get their nodes, spread over zones as
    /// at creation. The reconciler moves the slots with their keys, then retires the shards left
    /// empty. The cluster is `updating` until the layout holds.
    private func changeShards(of cluster: inout ClusterRecord, to count: Int, zones: [String], in transaction: Transaction) throws -> String {
        let old = cluster.numShards
        guard count * (1 + cluster.numReplicasPerShard) <= ClusterSpec.maxNodesPerCluster else {
            throw MemoryDBError(
                .nodeQuotaForClusterExceeded,
                "\(count) shard(s) × (1 + \(cluster.numReplicasPerShard)) nodes; a cluster may have at most \(ClusterSpec.maxNodesPerCluster).")
        }
        let shards = try transaction.shards(ofCluster: cluster.name)
        guard shards.count == old else {
            throw MemoryDBError(.invalidClusterState, "Cluster '\(cluster.name)' still has \(shards.count) shards recorded for \(old); wait for its last change to finish.")
        }
        let target = SlotLayout.rebalance(try shards.map { try $0.slotRanges() }, to: count)
        let moved = SlotLayout.movedSlots(from: try shards.map { try $0.slotRanges() }, to: target)
        for shard in shards {
            let slots = shard.shardIndex <= count ? target[shard.shardIndex - 1] : []
            try transaction.setSlots(ofShard: shard.shardIndex, ofCluster: cluster.name, to: slots)
        }
        var added: [String] = []
        if count > old {
            let perShard = 1 + cluster.numReplicasPerShard
            let ports = try self.ports.allocate((count - old) * perShard, excluding: try portsInUse(transaction))
            var next = ports.makeIterator()
            for shardIndex in (old + 1)...count {
                for nodeIndex in 1...perShard {
                    guard let port = next.next() else { break }
                    let name = ClusterTopology.nodeName(cluster: cluster.name, shardIndex: shardIndex, nodeIndex: nodeIndex)
                    try transaction.insert(
                        NodeRecord(
                            name: name, clusterName: cluster.name, shardIndex: shardIndex, nodeIndex: nodeIndex, port: port,
                            availabilityZone: ClusterTopology.availabilityZone(shardIndex: shardIndex, nodeIndex: nodeIndex, zones: zones),
                            status: .creating, role: nodeIndex == 1 ? .primary : .replica, createdAt: configuration.clock.nowMilliseconds))
                    added.append(name)
                }
                try transaction.insert(
                    ShardRecord(
                        clusterName: cluster.name, shardIndex: shardIndex, slots: target[shardIndex - 1],
                        primaryNode: ClusterTopology.nodeName(cluster: cluster.name, shardIndex: shardIndex, nodeIndex: 1)))
            }
        }
        cluster.numShards = count
        cluster.status = .updating
        let what = count > old
            ? "adding shard(s) \(((old + 1)...count).map(ClusterTopology.shardName).joined(separator: ", ")) (nodes \(added.joined(separator: ", ")))"
            : "draining and removing shard(s) \(((count + 1)...old).map(ClusterTopology.shardName).joined(separator: ", "))"
        return "Shards \(old) → \(count): \(what); \(moved) slot(s) move with their keys"
    }

    /// A smaller node type must hold what each shard holds now: the most any node of the shard
    /// was last seen using must stay under the new type's memory.
    static func checkFits(_ nodeType: NodeType, shardsOf nodes: [NodeRecord]) throws {
        for (shard, members) in Dictionary(grouping: nodes, by: \.shardIndex).sorted(by: { $0.key < $1.key }) {
            let used = members.compactMap(\.usedMemory).max() ?? 0
            guard used < nodeType.memoryBytes else {
                throw MemoryDBError(
                    .invalidParameterCombination,
                    "Shard \(ClusterTopology.shardName(shard)) uses \(used / 1_048_576) MiB; node type \(nodeType.name) has \(nodeType.memoryBytes / 1_048_576) MiB, so its data would not fit.")
            }
        }
    }

    /// ListAllowedNodeTypeUpdates: larger types, and smaller ones every shard's data fits in.
    public func allowedNodeTypeUpdates(_ rawName: String) throws -> (scaleUp: [String], scaleDown: [String]) {
        let name = rawName.lowercased()
        guard let cluster = try store.cluster(named: name) else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        let nodes = try store.nodes(ofCluster: name)
        let current = NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 0
        let offered = NodeType.catalog.values.filter { !$0.requiresDataTiering && $0.name != cluster.nodeType }
            .sorted { ($0.memoryBytes, $0.name) < ($1.memoryBytes, $1.name) }
        let up = offered.filter { $0.memoryBytes > current }.map(\.name)
        let down = offered.filter { $0.memoryBytes <= current && (try? Self.checkFits($0, shardsOf: nodes)) != nil }.map(\.name)
        return (up, down)
    }

    /// As on AWS, a cluster changes only while `available`: not while it is being created,
    /// updated or deleted.
    static func requireAvailable(_ cluster: ClusterRecord) throws {
        guard cluster.status == .available else {
            throw MemoryDBError(.invalidClusterState, "Cluster '\(cluster.name)' is \(cluster.status.rawValue); it must be available.")
        }
    }
}

import Model
import Ports
import Store

/// Clusters in a stack: created from the document's CreateCluster input and waited for;
/// updated through UpdateCluster's table.
struct ClusterKind: StackResourceKind {
    let service: ClusterService
    let effects: StackEffects
    var type: StackResourceType { .cluster }
    var noun: String { "Cluster" }
    var notFound: MemoryDBError.Code { .clusterNotFound }
    var arnType: ResourceARN.ResourceType? { .cluster }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall {
        guard let cluster = document.clusters.first(where: { $0.name == name }) else { return OperationCall("") }
        let request = cluster.request
        var strings = ["ACLName": request.aclName, "SubnetGroupName": request.subnetGroupName ?? BuiltinResources.defaultSubnetGroupName]
        strings["ParameterGroupName"] = request.parameterGroupName
        strings["SnapshotName"] = request.snapshotName
        return OperationCall("", strings: strings, tags: cluster.tags ?? [])
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let view = try? service.describeCluster(name) else { return }
        live.clusters[name] = StackCluster(describing: view.asCreateRequest)
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let cluster = document.clusters.first(where: { $0.name == name }) else { return }
        _ = try service.createCluster(cluster.request)
        try await effects.waitForCluster(name)
    }

    /// The members the plan names, copied from the document (or their defaults) into
    /// UpdateCluster's input by their shared REST names. Shape changes (node type, shard and
    /// replica counts) go one per call, as the service takes them; each is waited for.
    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let cluster = document.clusters.first(where: { $0.name == name }) else { return }
        let fields = Set(change.fields.map(\.field))
        try await effects.waitForCluster(name)
        let live = StackCluster(describing: try service.describeCluster(name).asCreateRequest)
        var together = UpdateClusterRequest()
        var requests: [UpdateClusterRequest] = []
        for target in UpdateClusterRequest.members where fields.contains(target.rest) {
            guard let member = CreateClusterRequest.member(named: target.rest) else { continue }
            let value = StackPlanner.wanted(member, cluster, live)
            // Shape changes go one per call; so does deletion protection, which the service
            // takes only on its own when it is turned off.
            if UpdateClusterRequest.shapeMembers.contains(target.rest) || target.rest == "deletionProtection" {
                var request = UpdateClusterRequest()
                target.set(value, in: &request)
                requests.append(request)
            } else {
                target.set(value, in: &together)
            }
        }
        if !together.isEmpty { requests.insert(together, at: 0) }
        for request in requests {
            do {
                _ = try service.updateCluster(name, request)
            } catch let error as MemoryDBError where error.code == .noOperation {
                // Already so: nothing to wait for.
            }
            try await effects.waitForCluster(name)
        }
        if fields.contains("tags") { try effects.syncTags(.cluster, name, cluster.tags) }
    }

    /// A cluster still settling is waited for first: it cannot be deleted while it changes.
    func delete(_ name: String) async throws {
        if let view = try? service.describeCluster(name), view.status != .deleting {
            if view.status != .available { try await effects.waitForCluster(name) }
            _ = try service.deleteCluster(name)
        }
        try await effects.waitForCluster(name, gone: true)
    }
}

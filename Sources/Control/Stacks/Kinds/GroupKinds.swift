import Model
import Ports
import Store

/// Parameter groups in a stack: a group's values are set and reset in batches the service
/// takes, and an update is done when every cluster using the group runs the new values.
struct ParameterGroupKind: StackResourceKind {
    let service: ParameterGroupService
    let effects: StackEffects
    var type: StackResourceType { .parameterGroup }
    var noun: String { "ParameterGroup" }
    var notFound: MemoryDBError.Code { .parameterGroupNotFound }
    var arnType: ResourceARN.ResourceType? { .parametergroup }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall {
        OperationCall("", tags: document.parameterGroups.first(where: { $0.name == name })?.tags ?? [])
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let group = try effects.store.parameterGroup(named: name) else { return }
        live.parameterGroups[name] = StackParameterGroup(
            name: name, family: group.family, description: group.description, parameters: try effects.store.parameterValues(of: name),
            tags: try effects.tags(of: .parametergroup, name))
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let group = document.parameterGroups.first(where: { $0.name == name }) else { return }
        _ = try service.createGroup(
            CreateParameterGroupRequest(name: group.name, family: group.family, description: group.description, tags: group.tags ?? []))
        try setValues(group)
    }

    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let group = document.parameterGroups.first(where: { $0.name == name }) else { return }
        try setValues(group)
        try effects.syncTags(.parametergroup, group.name, group.tags)
        // New values reach the nodes of every cluster using the group: done when they have.
        let users = try effects.store.allClusters().filter { $0.parameterGroupName == name && $0.status != .deleting }.map(\.name)
        for cluster in users { try await effects.waitForCluster(cluster) }
    }

    func delete(_ name: String) async throws { _ = try service.deleteGroup(name) }

    /// Sets what differs and resets what the document leaves out.
    func setValues(_ group: StackParameterGroup) throws {
        let current = try effects.store.parameterValues(of: group.name)
        let changed = group.parameters.filter { current[$0.key] != $0.value }.sorted { $0.key < $1.key }
        var start = 0
        while start < changed.count {
            let batch = changed[start..<min(start + ParameterGroupService.maxParametersPerUpdate, changed.count)]
            _ = try service.updateParameters(group: group.name, values: batch.map { (name: $0.key, value: $0.value) })
            start += ParameterGroupService.maxParametersPerUpdate
        }
        let reset = current.keys.filter { group.parameters[$0] == nil }.sorted()
        if !reset.isEmpty { _ = try service.resetParameters(group: group.name, all: false, names: reset) }
    }
}

/// Subnet groups in a stack.
struct SubnetGroupKind: StackResourceKind {
    let service: SubnetGroupService
    let effects: StackEffects
    var type: StackResourceType { .subnetGroup }
    var noun: String { "SubnetGroup" }
    var notFound: MemoryDBError.Code { .subnetGroupNotFound }
    var arnType: ResourceARN.ResourceType? { .subnetgroup }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall {
        OperationCall("", tags: document.subnetGroups.first(where: { $0.name == name })?.tags ?? [])
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let group = try effects.store.subnetGroup(named: name) else { return }
        live.subnetGroups[name] = StackSubnetGroup(
            name: name, description: group.description, subnetIds: group.subnets.map(\.identifier), tags: try effects.tags(of: .subnetgroup, name))
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let group = document.subnetGroups.first(where: { $0.name == name }) else { return }
        _ = try service.create(CreateSubnetGroupRequest(name: name, description: group.description, subnetIds: group.subnetIds, tags: group.tags ?? []))
    }

    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let group = document.subnetGroups.first(where: { $0.name == name }) else { return }
        _ = try service.update(name: name, UpdateSubnetGroupRequest(description: group.description, subnetIds: group.subnetIds))
        try effects.syncTags(.subnetgroup, name, group.tags)
    }

    func delete(_ name: String) async throws { _ = try service.delete(name) }
}

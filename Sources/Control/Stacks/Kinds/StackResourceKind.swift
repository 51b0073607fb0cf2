import Ports
import Store
import Model

/// The verbs the stack engine uses on every kind of resource, one conformance per kind
/// (`Kinds/`): the engine's observe, apply and delete are loops over `StackService.kinds`, in
/// dependency order; none switches on a resource type.
protocol StackResourceKind: Sendable {
    var type: StackResourceType { get }
    /// AWS's noun for the resource, as the audit trail names a step (`CreateParameterGroup`).
    var noun: String { get }
    /// The fault that says the resource does not exist: a deletion that meets it is done.
    var notFound: MemoryDBError.Code { get }
    /// Adds the resource as it exists, in the document's terms, to `live`; nothing when it
    /// does not exist.
    func describe(_ name: String, into live: inout LiveResources) throws
    /// Creates the resource the document names `name` (and waits until it is usable).
    func create(_ name: String, from document: StackDocument) async throws
    /// Changes it in place to what the document says, as the plan's `change` lists.
    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws
    /// Deletes it (and waits until it is gone).
    func delete(_ name: String) async throws
    /// The store, tags and waits the kinds share.
    var effects: StackEffects { get }
    /// The ARN type its tags are kept under (nil: it has none).
    var arnType: ResourceARN.ResourceType? { get }
    /// What a create or update of `name` names besides the resource (a cluster's ACL, parameter
    /// group and subnet group; an ACL's users) and the tags it sets, by AWS member names: the
    /// step is authorised on them as the same call through a door would be.
    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall
}

extension StackResourceKind {
    /// The calls a change makes, each to be allowed before the run starts.
    func calls(for change: StackChange, document: StackDocument?) -> [OperationCall] {
        let nameMember = "\(noun)Name"
        let own = OperationCall("", strings: [nameMember: change.name])
        var given = document.map { namedMembers(change.name, in: $0) } ?? own
        given.strings[nameMember] = change.name
        func call(_ verb: String, _ base: OperationCall) -> OperationCall {
            var call = base
            call.operation = verb + noun
            return call
        }
        var calls: [OperationCall]
        switch change.action {
        case .unchanged: return []
        case .create: calls = [call("Create", given)]
        case .update: calls = [call("Update", OperationCall("", strings: given.strings, lists: given.lists))]
        case .replace: calls = [call("Delete", own), call("Create", given)]
        case .delete: calls = [call("Delete", own)]
        }
        if change.action == .update && change.fields.contains(where: { $0.field == "tags" }), let arnType {
            let arn = ["ResourceArn": effects.configuration.arn(arnType, change.name)]
            calls.append(OperationCall("TagResource", strings: arn, tags: given.tags))
            calls.append(OperationCall("UntagResource", strings: arn))
        }
        return calls
    }
}

/// What the kinds share: tags kept exactly as a document gives them, and waiting for a cluster.
struct StackEffects: Sendable {
    let store: Store
    let configuration: ControlConfiguration
    let clusters: ClusterService
    let tags: TagService
    /// How long one cluster may take to settle before the apply gives up on it.
    let clusterTimeout: Duration

    /// Adds and removes tags so the resource has exactly the document's (when it gives any).
    func syncTags(_ type: ResourceARN.ResourceType, _ name: String, _ wanted: [Tag]?) throws {
        guard let wanted else { return }
        let arn = configuration.arn(type, name)
        let current = try tags.listTags(arn)
        let wantedKeys = Set(wanted.map(\.key))
        let stale = current.filter { !wantedKeys.contains($0.key) }.map(\.key)
        if !stale.isEmpty { _ = try tags.untagResource(arn, keys: stale) }
        let missing = wanted.filter { !current.contains($0) }
        if !missing.isEmpty { _ = try tags.tagResource(arn, tags: missing) }
    }

    /// A resource deleted between reading it and its tags (by a run under way) has none.
    func tags(of type: ResourceARN.ResourceType, _ name: String) throws -> [Tag] {
        do {
            return try tags.listTags(configuration.arn(type, name))
        } catch let error as MemoryDBError where error.code.rawValue.hasSuffix("NotFoundFault") {
            return []
        }
    }

    /// Waits until a cluster is available with its parameters applied (or gone, with `gone`).
    /// A cluster whose reconcile keeps failing for a minute fails the step with that reason.
    func waitForCluster(_ name: String, gone: Bool = false) async throws {
        let clock = configuration.clock
        let deadline = clock.nowMilliseconds + clusterTimeout.milliseconds
        var failingSince: Int64?
        while true {
            let view: ClusterView
            do {
                view = try clusters.describeCluster(name)
            } catch let error as MemoryDBError where error.code == .clusterNotFound {
                if gone { return }
                throw error
            }
            if !gone && view.status == .available && view.parameterGroupStatus != "applying" && view.operations.isEmpty { return }
            if let lastError = view.lastError {
                let since = failingSince ?? clock.nowMilliseconds
                failingSince = since
                if clock.nowMilliseconds - since > 60_000 { throw MemoryDBError(.invalidClusterState, "cluster \(name) keeps failing: \(lastError)") }
            } else {
                failingSince = nil
            }
            if clock.nowMilliseconds >= deadline {
                throw MemoryDBError(
                    .invalidClusterState, "cluster \(name) is still \(view.status.rawValue) after \(clusterTimeout); waited for it to be \(gone ? "deleted" : "available")")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

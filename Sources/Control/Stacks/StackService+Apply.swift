import Foundation
import Logging
import Model
import Store
import Synchronization
import Ports

/// Carrying out a plan: deletions for replacements, then creations and updates in dependency
/// order (clusters at once), then deletions of removed resources, dependents first.
extension StackService {
    /// Runs the plan's steps, recording each; releases the stack's lock at the end.
    func execute(_ plan: StackPlan, document: StackDocument?, actor: AuditActor?) async {
        let stack = plan.stack
        defer { locks.release(stack) }
        let progress = StackProgress(store: store, stack: stack, actor: actor, clock: configuration.clock)
        let changes = plan.changes.filter { $0.action != .unchanged }
        let isDestroy = document == nil
        var failure: String?
        do {
            // 1. A replaced resource goes first, so its name is free again.
            let replaced = changes.filter { $0.action == .replace }.sorted { $0.type > $1.type }
            for change in replaced {
                try await step(change, progress, message: "deleting to create again: \(change.reason ?? "")") {
                    try await delete(change.resource)
                }
            }
            // 2. Creations and updates in dependency order; clusters all at once.
            if let document {
                for change in changes where change.type != .cluster && change.action != .delete {
                    try await step(change, progress) { try await createOrUpdate(change, document) }
                }
                let clusterChanges = changes.filter { $0.type == .cluster && $0.action != .delete }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for change in clusterChanges {
                        group.addTask { try await step(change, progress) { try await createOrUpdate(change, document) } }
                    }
                    // Every cluster finishes (or fails) before the first failure is reported.
                    var first: (any Error)?
                    while let result = await group.nextResult() {
                        if case .failure(let error) = result, first == nil { first = error }
                    }
                    if let first { throw first }
                }
            }
            if let document { try await awaitClustersLeftAlone(plan, document) }
            // 3. What the document no longer names, dependents first; clusters at once.
            try await deleteRemoved(changes.filter { $0.action == .delete }, progress)
        } catch let error as StackStepFailure {
            failure = error.description
        } catch {
            failure = "\(error)"
        }
        let outcome: StackRun.Outcome = failure == nil ? .succeeded : .failed
        if isDestroy && failure == nil {
            try? store.write { transaction in try transaction.deleteStack(named: stack) }
            logger.info("stack destroyed", metadata: ["stack.name": "\(stack)"])
            return
        }
        let status: StackStatus = isDestroy ? .destroyFailed : (failure == nil ? .applied : .failed)
        progress.finish(outcome: outcome, error: failure, status: status)
        if let failure {
            logger.warning("stack run failed", metadata: ["stack.name": "\(stack)", "stack.error": "\(failure)"])
        } else {
            logger.info("stack applied", metadata: ["stack.name": "\(stack)", "stack.steps": "\(changes.count)"])
        }
    }

    /// Clusters the plan leaves alone may still be settling (created by a run a restart cut
    /// short, or changed through the API): the apply is done when they are available.
    func awaitClustersLeftAlone(_ plan: StackPlan, _ document: StackDocument) async throws {
        let untouched = Set(plan.changes.filter { $0.type == .cluster && $0.action == .unchanged }.map(\.name))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for cluster in document.clusters where untouched.contains(cluster.name) {
                group.addTask {
                    do {
                        try await waitForCluster(cluster.name)
                    } catch {
                        let reason = (error as? MemoryDBError).map { "\($0.code.rawValue): \($0.message)" } ?? "\(error)"
                        throw StackStepFailure(resource: StackResourceRef(.cluster, cluster.name), reason: reason)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Deletes what the document no longer names: clusters at once, then the rest, dependents first.
    func deleteRemoved(_ deletions: [StackChange], _ progress: StackProgress) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for change in deletions where change.type == .cluster {
                group.addTask { try await step(change, progress) { try await delete(change.resource) } }
            }
            try await group.waitForAll()
        }
        for change in deletions where change.type != .cluster {
            try await step(change, progress) { try await delete(change.resource) }
        }
    }

    /// Runs one step, recording it in progress and done or failed.
    func step(_ change: StackChange, _ progress: StackProgress, message: String? = nil, _ body: () async throws -> Void) async throws {
        progress.update(change.resource, state: .inProgress, message: message)
        do {
            try await body()
            progress.update(change.resource, state: .done, message: nil)
            audit?.recordStackStep(Self.operation(change), resource: "\(change.type.rawValue)/\(change.name)", stack: progress.stack, actor: progress.actor, outcome: "success")
        } catch {
            let reason = (error as? MemoryDBError).map { "\($0.code.rawValue): \($0.message)" } ?? "\(error)"
            progress.update(change.resource, state: .failed, message: reason)
            let fault = (error as? MemoryDBError)?.code.rawValue ?? "InternalFailure"
            audit?.recordStackStep(Self.operation(change), resource: "\(change.type.rawValue)/\(change.name)", stack: progress.stack, actor: progress.actor, outcome: fault)
            throw StackStepFailure(resource: change.resource, reason: reason)
        }
    }

    /// A step as the audit trail names it: the API operation it amounts to.
    static func operation(_ change: StackChange) -> String {
        let verb: String
        switch change.action {
        case .create: verb = "Create"
        case .update, .unchanged: verb = "Update"
        case .replace: verb = "Replace"
        case .delete: verb = "Delete"
        }
        let noun: String
        switch change.type {
        case .parameterGroup: noun = "ParameterGroup"
        case .subnetGroup: noun = "SubnetGroup"
        case .user: noun = "User"
        case .acl: noun = "ACL"
        case .cluster: noun = "Cluster"
        }
        return verb + noun
    }

    // MARK: Per resource

    func createOrUpdate(_ change: StackChange, _ document: StackDocument) async throws {
        let stack = document.stack
        let name = change.name
        let creating = change.action == .create || change.action == .replace
        // Claimed before it exists: a crash between the two leaves a claim the next plan reads
        // as "create", never a resource that belongs to nobody.
        if creating {
            try store.write { transaction in
                try transaction.claim(change.resource, for: stack)
                // Two stacks applied at once may both plan to create the same name: one wins.
                if let owner = try transaction.stackOwner(of: change.resource), owner != stack {
                    throw MemoryDBError(StackPlanner.alreadyExists(change.type), "\(change.resource) belongs to stack '\(owner)'.")
                }
            }
        }
        switch change.type {
        case .parameterGroup:
            guard let group = document.parameterGroups.first(where: { $0.name == name }) else { return }
            try applyParameterGroup(group, creating: creating)
            // New values reach the nodes of every cluster using the group: done when they have.
            if !creating {
                let users = try store.allClusters().filter { $0.parameterGroupName == name && $0.status != .deleting }.map(\.name)
                for cluster in users { try await waitForCluster(cluster) }
            }
        case .subnetGroup:
            guard let group = document.subnetGroups.first(where: { $0.name == name }) else { return }
            if creating {
                _ = try subnetGroups.create(name: name, description: group.description, subnetIDs: group.subnetIds, tags: group.tags ?? [])
            } else {
                _ = try subnetGroups.update(name: name, description: group.description, subnetIDs: group.subnetIds)
                try syncTags(.subnetgroup, name, group.tags)
            }
        case .user:
            guard let user = document.users.first(where: { $0.name == name }) else { return }
            let mode = user.authenticationMode
            if creating {
                _ = try await accessControl.createUser(
                    name: name, accessString: user.accessString, authenticationType: mode.type, passwords: mode.passwords ?? [], tags: user.tags ?? [])
            } else {
                let fields = Set(change.fields.map(\.field))
                let access = fields.contains("accessString") ? user.accessString : nil
                let authChanges = fields.contains("authenticationMode.type") || fields.contains("authenticationMode.passwords")
                if access != nil || authChanges {
                    _ = try await accessControl.updateUser(
                        name: name, accessString: access, authenticationType: authChanges ? mode.type : nil,
                        passwords: authChanges ? (mode.passwords ?? []) : nil)
                }
                try syncTags(.user, name, user.tags)
            }
        case .acl:
            guard let acl = document.acls.first(where: { $0.name == name }) else { return }
            if creating {
                _ = try accessControl.createACL(name: name, userNames: acl.userNames, tags: acl.tags ?? [])
            } else {
                let current = Set(try store.acl(named: name)?.users ?? [])
                let wanted = Set(acl.userNames)
                let add = wanted.subtracting(current).sorted(), remove = current.subtracting(wanted).sorted()
                if !add.isEmpty || !remove.isEmpty { _ = try accessControl.updateACL(name: name, add: add, remove: remove) }
                try syncTags(.acl, name, acl.tags)
            }
        case .cluster:
            guard let cluster = document.clusters.first(where: { $0.name == name }) else { return }
            if creating {
                _ = try clusters.createCluster(cluster.request)
                try await waitForCluster(name)
            } else {
                try await updateCluster(cluster, change)
            }
        }
    }

    func applyParameterGroup(_ group: StackParameterGroup, creating: Bool) throws {
        if creating {
            _ = try parameterGroups.createGroup(name: group.name, family: group.family, description: group.description, tags: group.tags ?? [])
        }
        let current = try store.parameterValues(of: group.name)
        let changed = group.parameters.filter { current[$0.key] != $0.value }.sorted { $0.key < $1.key }
        var start = 0
        while start < changed.count {
            let batch = changed[start..<min(start + ParameterGroupService.maxParametersPerUpdate, changed.count)]
            _ = try parameterGroups.updateParameters(group: group.name, values: batch.map { (name: $0.key, value: $0.value) })
            start += ParameterGroupService.maxParametersPerUpdate
        }
        let reset = current.keys.filter { group.parameters[$0] == nil }.sorted()
        if !reset.isEmpty { _ = try parameterGroups.resetParameters(group: group.name, all: false, names: reset) }
        if !creating { try syncTags(.parametergroup, group.name, group.tags) }
    }

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

    /// In-place changes through UpdateCluster's table: the members the plan names, copied from
    /// the document (or their defaults) by their shared REST names. Shape changes (node type,
    /// shard and replica counts) go one per call, as the service takes them; each is waited for.
    func updateCluster(_ cluster: StackCluster, _ change: StackChange) async throws {
        let fields = Set(change.fields.map(\.field))
        try await waitForCluster(cluster.name)
        let live = Self.stackCluster(try clusters.describeCluster(cluster.name))
        var together = UpdateClusterRequest()
        var requests: [UpdateClusterRequest] = []
        for target in UpdateClusterRequest.members where fields.contains(target.rest) {
            guard let member = CreateClusterRequest.member(named: target.rest) else { continue }
            let value = StackPlanner.wanted(member, cluster, live)
            if UpdateClusterRequest.shapeMembers.contains(target.rest) {
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
                _ = try clusters.updateCluster(cluster.name, request)
            } catch let error as MemoryDBError where error.code == .noOperation {
                // Already so: nothing to wait for.
            }
            try await waitForCluster(cluster.name)
        }
        if fields.contains("tags") { try syncTags(.cluster, cluster.name, cluster.tags) }
    }

    func delete(_ resource: StackResourceRef) async throws {
        let name = resource.name
        do {
            switch resource.type {
            case .parameterGroup: _ = try parameterGroups.deleteGroup(name)
            case .subnetGroup: _ = try subnetGroups.delete(name)
            case .user: _ = try accessControl.deleteUser(name)
            case .acl: _ = try accessControl.deleteACL(name)
            case .cluster:
                if let view = try? clusters.describeCluster(name), view.status != .deleting {
                    if view.status != .available { try await waitForCluster(name) }
                    _ = try clusters.deleteCluster(name)
                }
                try await waitForCluster(name, gone: true)
            }
        } catch let error as MemoryDBError where [.parameterGroupNotFound, .subnetGroupNotFound, .userNotFound, .aclNotFound, .clusterNotFound].contains(error.code) {
            // Already gone: what a deletion wants.
        }
        try store.write { transaction in
            if let stack = try transaction.stackOwner(of: resource) { try transaction.release(resource, from: stack) }
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

/// Which resource failed and why: what the run's `error` says.
struct StackStepFailure: Error, CustomStringConvertible {
    var resource: StackResourceRef
    var reason: String
    var description: String { "\(resource): \(reason)" }
}

/// The run record, kept in the store as steps advance so `GET` shows live progress.
final class StackProgress: Sendable {
    private let store: Store
    let stack: String
    let actor: AuditActor?
    private let run: Mutex<StackRun?>
    private let clock: any WallClock

    init(store: Store, stack: String, actor: AuditActor?, clock: any WallClock) {
        self.store = store
        self.clock = clock
        self.stack = stack
        self.actor = actor
        run = Mutex(StackRun.decode((try? store.stack(named: stack))?.lastRun))
    }

    func update(_ resource: StackResourceRef, state: StackStep.State, message: String?) {
        let snapshot = run.withLock { run -> StackRun? in
            guard var current = run, let index = current.steps.firstIndex(where: { $0.resource == resource }) else { return nil }
            let now = clock.nowMilliseconds
            current.steps[index].state = state
            current.steps[index].message = message
            if state == .inProgress && current.steps[index].startedAt == nil { current.steps[index].startedAt = now }
            if state == .done || state == .failed { current.steps[index].finishedAt = now }
            run = current
            return current
        }
        if let snapshot { save(snapshot, status: nil) }
    }

    func finish(outcome: StackRun.Outcome, error: String?, status: StackStatus) {
        let snapshot = run.withLock { run -> StackRun? in
            run?.outcome = outcome
            run?.error = error
            run?.finishedAt = clock.nowMilliseconds
            return run
        }
        if let snapshot { save(snapshot, status: status) }
    }

    private func save(_ run: StackRun, status: StackStatus?) {
        try? store.write { transaction in
            guard var record = try transaction.stack(named: stack) else { return }
            record.lastRun = run.encoded()
            if let status { record.status = status }
            record.updatedAt = clock.nowMilliseconds
            try transaction.save(record)
        }
    }
}

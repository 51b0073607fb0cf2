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
                        try await effects.waitForCluster(cluster.name)
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
            audit?.recordStackStep(operation(change), resource: "\(change.type.rawValue)/\(change.name)", stack: progress.stack, actor: progress.actor, outcome: "success")
        } catch {
            let reason = (error as? MemoryDBError).map { "\($0.code.rawValue): \($0.message)" } ?? "\(error)"
            progress.update(change.resource, state: .failed, message: reason)
            let fault = (error as? MemoryDBError)?.code.rawValue ?? "InternalFailure"
            audit?.recordStackStep(operation(change), resource: "\(change.type.rawValue)/\(change.name)", stack: progress.stack, actor: progress.actor, outcome: fault)
            throw StackStepFailure(resource: change.resource, reason: reason)
        }
    }

    /// A step as the audit trail names it: the API operation it amounts to.
    func operation(_ change: StackChange) -> String {
        let verb: String
        switch change.action {
        case .create: verb = "Create"
        case .update, .unchanged: verb = "Update"
        case .replace: verb = "Replace"
        case .delete: verb = "Delete"
        }
        return verb + kind(change.type).noun
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
        let kind = kind(change.type)
        if creating {
            try await kind.create(name, from: document)
        } else {
            try await kind.update(name, from: document, change)
        }
    }

    func delete(_ resource: StackResourceRef) async throws {
        let kind = kind(resource.type)
        do {
            try await kind.delete(resource.name)
        } catch let error as MemoryDBError where error.code == kind.notFound {
            // Already gone: what a deletion wants.
        }
        try store.write { transaction in
            if let stack = try transaction.stackOwner(of: resource) { try transaction.release(resource, from: stack) }
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

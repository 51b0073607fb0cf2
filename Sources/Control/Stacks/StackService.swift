import Foundation
import Logging
import Model
import Store
import Ports

/// Declarative stacks: plan a document against what exists, apply it through the same services
/// as the API doors, show drift, destroy.
///
/// An apply runs in the background (the caller polls `describe`, or waits) and records each step
/// as it goes, so a client can show progress and a failure names the resource and the reason.
/// Every step is level-based: a second apply after a failure or a restart plans from what
/// exists and picks up where things stand.
public struct StackService: Sendable {
    let store: Store
    let configuration: ControlConfiguration
    let clusters: ClusterService
    let parameterGroups: ParameterGroupService
    let subnetGroups: SubnetGroupService
    let accessControl: AccessControlService
    let tags: TagService
    let logger: Logger
    let locks = StackLocks()
    /// Where each step of a run is recorded, as made by the apply's caller.
    let audit: AuditTrail?
    /// How long one cluster may take to settle before the apply gives up on it.
    public var clusterTimeout: Duration = .seconds(1800)
    /// The prices a plan's cost estimate reads; nil: plans carry no cost.
    public var priceList: PriceList?
    /// The access keys a stack may keep; nil with `--auth none`.
    public var accessKeys: AccessKeyService?
    /// Secrets of keys a run created, until the stack is next read.
    let newKeys = NewAccessKeys()

    public init(
        store: Store, configuration: ControlConfiguration, clusters: ClusterService, parameterGroups: ParameterGroupService,
        subnetGroups: SubnetGroupService, accessControl: AccessControlService, tags: TagService, audit: AuditTrail? = nil, logger: Logger
    ) {
        self.audit = audit
        self.store = store
        self.configuration = configuration
        self.clusters = clusters
        self.parameterGroups = parameterGroups
        self.subnetGroups = subnetGroups
        self.accessControl = accessControl
        self.tags = tags
        self.logger = logger
    }

    // MARK: Plan

    /// The plan for a document: what an apply would do now.
    public func plan(_ document: StackDocument) async throws -> StackPlan {
        let desired = try await prepare(document)
        return try plan(prepared: desired)
    }

    /// The plan for a prepared document against what it names and what its stack owns now.
    func plan(prepared desired: StackDocument) throws -> StackPlan {
        let owned = try owned(by: desired.stack)
        let live = try observe(desired.resources + owned)
        var plan = try StackPlanner.plan(desired, live: live, owners: store.stackOwners())
        plan.cost = cost(desired: desired, live: live, owned: owned)
        return plan
    }

    /// The document's clusters priced as it wants them, beside the stack's clusters as they are.
    func cost(desired: StackDocument?, live: LiveResources, owned: [StackResourceRef]) -> StackCost? {
        guard let priceList else { return nil }
        func nodes(_ cluster: StackCluster) -> Int { (cluster.request.numShards ?? 1) * (1 + (cluster.request.numReplicasPerShard ?? 1)) }
        let wanted = (desired?.clusters ?? []).map { (name: $0.name, nodeType: $0.request.nodeType, nodes: nodes($0)) }
        let now = owned.filter { $0.type == .cluster }.compactMap { live.clusters[$0.name] }.map { (nodeType: $0.request.nodeType, nodes: nodes($0)) }
        return StackCost.of(wanted, now: now, prices: priceList, region: configuration.region)
    }

    /// The document as compared and stored: passwords hashed (after the checks CreateUser makes),
    /// access strings normalised.
    func prepare(_ document: StackDocument) async throws -> StackDocument {
        _ = try ResourceName.normalise(document.stack, field: "stack")
        // What needs no stored state is checked before anything changes, so a plan already
        // refuses what an apply would fail on.
        for (index, group) in document.parameterGroups.enumerated() {
            guard let definitions = ParameterGroupService.families[group.family] else {
                throw MemoryDBError.invalid(
                    "parameterGroups[\(index)] (\(group.name)): family must be one of \(ParameterGroupService.families.keys.sorted().joined(separator: ", ")); got '\(group.family)'.")
            }
            for (parameter, value) in group.parameters.sorted(by: { $0.key < $1.key }) {
                guard let definition = definitions.first(where: { $0.name == parameter }) else {
                    throw MemoryDBError.invalid("parameterGroups[\(index)] (\(group.name)): parameter '\(parameter)' does not exist in this group's family.")
                }
                do {
                    try definition.validate(value)
                } catch {
                    throw MemoryDBError(error.code, "parameterGroups[\(index)] (\(group.name)): \(error.message)")
                }
            }
        }
        for (index, cluster) in document.clusters.enumerated() {
            do {
                _ = try ClusterSpec(validating: cluster.request)
            } catch {
                throw MemoryDBError(error.code, "clusters[\(index)] (\(cluster.name)): \(error.message)")
            }
        }
        for (index, key) in document.accessKeys.enumerated() {
            if accessKeys == nil { throw MemoryDBError(.invalidParameterCombination, "accessKeys: this server runs with --auth none, so it keeps no keys.") }
            do {
                try AccessKeyPolicy.validate(name: key.name)
                _ = try AccessKeyKind.policy(of: key)
            } catch {
                throw MemoryDBError(error.code, "accessKeys[\(index)] (\(key.name)): \(error.message)")
            }
        }
        var desired = document.redacted { _ in "" }
        for (index, user) in document.users.enumerated() {
            let mode = user.authenticationMode
            do {
                desired.users[index].authenticationMode.passwordHashes = try AccessControlService.storedPasswordHashes(
                    type: mode.type, passwords: mode.passwords ?? [])
                desired.users[index].accessString = try await accessControl.normalised(accessString: user.accessString)
            } catch let error as MemoryDBError {
                throw MemoryDBError(error.code, "users[\(index)] (\(user.name)): \(error.message)")
            }
        }
        return desired
    }

    func owned(by stack: String) throws -> [StackResourceRef] {
        try store.stackOwners().filter { $0.value == stack }.keys.sorted()
    }

    /// The live state of the named resources, in the document's terms.
    func observe(_ resources: [StackResourceRef]) throws -> LiveResources {
        var live = LiveResources()
        for resource in Set(resources) { try kind(resource.type).describe(resource.name, into: &live) }
        return live
    }

    /// What the kinds share.
    var effects: StackEffects {
        StackEffects(store: store, configuration: configuration, clusters: clusters, tags: tags, clusterTimeout: clusterTimeout)
    }

    /// Each kind of resource, through the verbs every kind shares.
    func kind(_ type: StackResourceType) -> any StackResourceKind {
        switch type {
        case .parameterGroup: ParameterGroupKind(service: parameterGroups, effects: effects)
        case .subnetGroup: SubnetGroupKind(service: subnetGroups, effects: effects)
        case .user: UserKind(service: accessControl, effects: effects)
        case .acl: ACLKind(service: accessControl, effects: effects)
        case .cluster: ClusterKind(service: clusters, effects: effects)
        case .accessKey: AccessKeyKind(service: accessKeys, effects: effects, newKeys: newKeys)
        }
    }

    // MARK: Apply

    /// Plans, records the document, and applies the plan in the background (or before
    /// returning, with `wait`). A second apply or destroy of the same stack while one runs is
    /// refused.
    ///
    /// `authorize` is asked about every call the plan would make before anything is recorded or
    /// changed: a key that may not make one of them changes nothing.
    public func apply(
        _ document: StackDocument, wait: Bool = false, actor: AuditActor? = nil, authorize: StepAuthorization? = nil
    ) async throws -> (plan: StackPlan, view: StackView) {
        let desired = try await prepare(document)
        guard locks.acquire(desired.stack) else { throw busy(desired.stack) }
        let plan: StackPlan
        do {
            plan = try self.plan(prepared: desired)
            try authorizeSteps(plan, document: desired, authorize)
            try refuseProtectedDeletions(plan)
            try begin(.apply, stack: desired.stack, document: desired, plan: plan)
        } catch {
            locks.release(desired.stack)
            throw error
        }
        let run = Task { await execute(plan, document: document, actor: actor) }
        if wait { await run.value }
        // Without `wait` the answer is sent while the run may already be over: it must not take
        // the run's new secrets, which the caller's next read of the stack is owed.
        return (plan, try describe(desired.stack, handingOutNewKeys: wait))
    }

    /// Deletes every resource the stack owns, dependents first, then the stack itself.
    public func destroy(_ rawName: String, wait: Bool = false, actor: AuditActor? = nil, authorize: StepAuthorization? = nil) async throws -> StackView {
        let name = rawName.lowercased()
        guard let record = try store.stack(named: name) else { throw notFound(name) }
        guard locks.acquire(name) else { throw busy(name) }
        let plan: StackPlan
        do {
            let owned = try owned(by: name)
            let live = try observe(owned)
            let changes = owned.filter { live.contains($0) }.sorted { $0.type == $1.type ? $0.name < $1.name : $0.type > $1.type }
                .map { StackChange(type: $0.type, name: $0.name, action: .delete) }
            plan = StackPlan(stack: name, changes: changes)
            try authorizeSteps(plan, document: nil, authorize)
            try refuseProtectedDeletions(plan)
            let document = try JSONDecoder().decode(StackDocument.self, from: Data(record.document.utf8))
            try begin(.destroy, stack: name, document: document, plan: plan)
        } catch {
            locks.release(name)
            throw error
        }
        let run = Task { await execute(plan, document: nil, actor: actor) }
        if wait { await run.value }
        return (try? describe(name)) ?? StackView(
            name: name, status: .destroying, createdAt: record.createdAt, updatedAt: configuration.clock.nowMilliseconds, resources: [], lastRun: nil, drift: [],
            outputs: [:])
    }

    /// Asks about one call a stack run would make; throws to refuse it.
    public typealias StepAuthorization = @Sendable (OperationCall) throws -> Void

    func authorizeSteps(_ plan: StackPlan, document: StackDocument?, _ authorize: StepAuthorization?) throws {
        guard let authorize else { return }
        for change in plan.changes {
            for call in kind(change.type).calls(for: change, document: document) { try authorize(call) }
        }
    }

    /// A run that would delete or replace a cluster with deletion protection stops before it
    /// starts, naming the cluster: nothing else of the run is done either.
    func refuseProtectedDeletions(_ plan: StackPlan) throws {
        for change in plan.changes where change.type == .cluster && (change.action == .delete || change.action == .replace) {
            guard try store.cluster(named: change.name)?.deletionProtection == true else { continue }
            let error = ClusterService.protectedFromDeletion(change.name)
            throw MemoryDBError(error.code, "Stack '\(plan.stack)' would \(change.action.rawValue) cluster '\(change.name)': \(error.message)")
        }
    }

    func busy(_ name: String) -> MemoryDBError {
        MemoryDBError(.stackBusy, "Stack '\(name)' is being applied or destroyed; wait for that run to finish (GET /v1/stacks/\(name)) and try again.")
    }

    func notFound(_ name: String) -> MemoryDBError {
        MemoryDBError(.stackNotFound, "Stack '\(name)' not found.")
    }

    /// Records the run's start: the stack row (created on first apply) with every step pending.
    func begin(_ kind: StackRun.Kind, stack: String, document: StackDocument, plan: StackPlan) throws {
        let now = configuration.clock.nowMilliseconds
        let steps = plan.changes.filter { $0.action != .unchanged }.map {
            StackStep(type: $0.type, name: $0.name, action: $0.action, state: .pending)
        }
        let run = StackRun(kind: kind, startedAt: now, outcome: .running, steps: steps)
        let json = String(decoding: try JSONEncoder().encode(document), as: UTF8.self)
        try store.write { transaction in
            let existing = try transaction.stack(named: stack)
            try transaction.save(
                StackRecord(
                    name: stack, document: json, status: kind == .apply ? .applying : .destroying, lastRun: run.encoded(),
                    createdAt: existing?.createdAt ?? now, updatedAt: now))
        }
    }

    /// Marks runs that a stopped control plane left running as interrupted; call once at start.
    public func recoverInterruptedRuns() throws {
        for record in try store.stacks() where record.status == .applying || record.status == .destroying {
            var run = StackRun.decode(record.lastRun)
            run?.outcome = .interrupted
            run?.finishedAt = configuration.clock.nowMilliseconds
            let kind = run?.kind.rawValue ?? "run"
            run?.error = "The control plane stopped during this \(kind); apply (or destroy) again to continue from what exists."
            let status: StackStatus = record.status == .applying ? .failed : .destroyFailed
            try store.write { transaction in
                var updated = record
                updated.status = status
                updated.lastRun = run?.encoded()
                updated.updatedAt = configuration.clock.nowMilliseconds
                try transaction.save(updated)
            }
            logger.warning("stack run interrupted by a restart", metadata: ["stack.name": "\(record.name)"])
        }
    }

    // MARK: Reading

    public func list() throws -> [StackView] {
        // A list hands out no secret: the stack's own read after its run is owed them.
        try store.stacks().map { try view(of: $0, handingOutNewKeys: false) }
    }

    /// The stack now. A read after a run ends hands out the run's new access-key secrets (once).
    public func describe(_ rawName: String, handingOutNewKeys: Bool = true) throws -> StackView {
        let name = rawName.lowercased()
        guard let record = try store.stack(named: name) else { throw notFound(name) }
        return try view(of: record, handingOutNewKeys: handingOutNewKeys)
    }

    func view(of record: StackRecord, handingOutNewKeys: Bool = true) throws -> StackView {
        let owned = try owned(by: record.name)
        let document = try? JSONDecoder().decode(StackDocument.self, from: Data(record.document.utf8))
        // One observation serves both the owned resources' status and the drift.
        let live = try observe(owned + (document?.resources ?? []))
        let run = StackRun.decode(record.lastRun)
        var drift: [StackChange] = []
        // Drift is measured against a document that was applied: not while a run is changing things.
        if record.status == .applied, let document {
            let plan = try? StackPlanner.plan(document, live: live, owners: store.stackOwners())
            drift = (plan?.changes ?? []).filter { $0.action != .unchanged }
        }
        var outputs: [String: String] = [:]
        var resources: [StackView.Resource] = []
        for resource in owned {
            var status: String? = live.contains(resource) ? "available" : nil
            switch resource.type {
            case .cluster:
                if let view = try? clusters.describeCluster(resource.name) {
                    status = view.status.rawValue
                    let address = view.clusterEndpoint.address ?? "127.0.0.1"
                    outputs["\(resource.name).endpoint"] = "\(address):\(view.clusterEndpoint.port)"
                    outputs["\(resource.name).address"] = address
                    outputs["\(resource.name).port"] = String(view.clusterEndpoint.port)
                    outputs["\(resource.name).arn"] = view.arn
                    outputs["\(resource.name).tlsEnabled"] = String(view.tlsEnabled)
                }
            case .user:
                if status != nil {
                    status = "active"
                    outputs["user.\(resource.name).arn"] = configuration.arn(.user, resource.name)
                }
            case .acl:
                if status != nil {
                    status = "active"
                    outputs["acl.\(resource.name).arn"] = configuration.arn(.acl, resource.name)
                }
            case .parameterGroup:
                if status != nil { outputs["parameter-group.\(resource.name).arn"] = configuration.arn(.parametergroup, resource.name) }
            case .subnetGroup:
                if status != nil {
                    status = "complete"
                    outputs["subnet-group.\(resource.name).arn"] = configuration.arn(.subnetgroup, resource.name)
                }
            case .accessKey:
                let keys = (accessKeys?.list() ?? []).filter { $0.name == resource.name }
                if let key = keys.first {
                    status = key.status.rawValue
                    outputs["access-key.\(resource.name).accessKeyId"] = keys.map(\.id).joined(separator: ",")
                }
            }
            resources.append(StackView.Resource(type: resource.type, name: resource.name, status: status))
        }
        var view = StackView(
            name: record.name, status: record.status, createdAt: record.createdAt, updatedAt: record.updatedAt,
            resources: resources, lastRun: run, drift: drift, outputs: outputs)
        view.cost = cost(desired: document, live: live, owned: owned)
        // A run's new secrets go to the first reader once it has ended, and to nobody after.
        if handingOutNewKeys && record.status != .applying && record.status != .destroying { view.newAccessKeys = newKeys.take(stack: record.name) }
        return view
    }
}

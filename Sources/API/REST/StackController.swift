import Control
import Foundation
import Hummingbird
import Model
import NIOCore
import StackFormat
import Store

/// REST `/v1/stacks`: declarative stacks. The body of a PUT is the stack document itself, YAML
/// or JSON; every client (the CLI, curl, CI scripts) goes through this one implementation.
struct StackController {
    let service: StackService
    let store: StackNames
    let authorizer: Authorizer

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("stacks", use: list)
        group.put("stacks/:name", use: put)
        group.get("stacks/:name", use: get)
        group.delete("stacks/:name", use: delete)
    }

    /// `?dryRun=true` answers the plan; otherwise the plan is applied (in the background, or
    /// before answering with `?wait=true`).
    @Sendable func put(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name").lowercased()
        let dryRun = try RESTQuery.flag(request, "dryRun")
        let wait = try RESTQuery.wait(request)
        if dryRun && wait {
            throw MemoryDBError(.invalidParameterCombination, "wait=true has no effect with dryRun=true: a plan changes nothing to wait for.")
        }
        let document = try await parse(request, context: context)
        guard document.stack == name else {
            throw MemoryDBError.invalid("The document is stack '\(document.stack)' but was sent to /v1/stacks/\(name); the two must match.")
        }
        if dryRun {
            return try JSONBody.response(RESTPlan(try await service.plan(document)))
        }
        let (plan, view) = try await service.apply(document, wait: wait, actor: Self.actor(request, context), authorize: authorization(context))
        return try JSONBody.response(RESTApply(plan: RESTPlan(plan), stack: RESTStack(view)), status: wait ? .ok : .accepted)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(RESTStack(service.describe(context.parameters.require("name"))))
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        struct Body: Encodable { var stacks: [RESTStack] }
        return try JSONBody.response(Body(stacks: service.list().map(RESTStack.init)))
    }

    /// Deletes every resource the stack owns, then the stack; 204 once gone with `?wait=true`.
    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let wait = try RESTQuery.wait(request)
        let view = try await service.destroy(name, wait: wait, actor: Self.actor(request, context), authorize: authorization(context))
        if wait {
            guard (try? service.describe(name)) != nil else { return Response(status: .noContent) }
            return try JSONBody.response(RESTStack(try service.describe(name)))
        }
        return try JSONBody.response(RESTStack(view), status: .accepted)
    }

    func parse(_ request: Request, context: APIRequestContext) async throws -> StackDocument {
        var request = request
        let buffer = try await SigV4Request.collectBody(&request, context: context)
        guard buffer.readableBytes > 0 else { throw MemoryDBError.invalid("The request body is empty; send the stack document (YAML or JSON).") }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw MemoryDBError.invalid("The stack document is not UTF-8 text.")
        }
        do {
            return try StackDocumentParser.parse(text, environment: nil, existing: try store.existing())
        } catch let error as StackDocumentError {
            let count = error.problems.count
            throw MemoryDBError.invalid("The stack document has \(count) problem\(count == 1 ? "" : "s"):\n\(error.description)")
        }
    }

    /// A stack applied with a key touches only what that key may: each step as the same call
    /// through a door (nil with `--auth none`).
    func authorization(_ context: APIRequestContext) -> StackService.StepAuthorization? {
        guard let caller = context.caller else { return nil }
        let authorizer = self.authorizer
        return { call in try authorizer.authorize(caller, authorizer.target(of: call)) }
    }

    /// Who applies: each step of the run is audited as made by them.
    static func actor(_ request: Request, _ context: APIRequestContext) -> AuditActor {
        AuditActor(
            accessKeyID: context.caller?.key.id ?? AuditMiddleware.accessKeyID(request), sourceAddress: context.remoteAddress,
            accessKeyName: context.caller?.name ?? "")
    }

}

/// The names a document may refer to without declaring them, read from the services.
struct StackNames: Sendable {
    let parameterGroups: ParameterGroupService
    let subnetGroups: SubnetGroupService
    let accessControl: AccessControlService

    func existing() throws -> ExistingResources {
        ExistingResources(
            parameterGroups: Set(try all { token in try parameterGroups.describeGroups(name: nil, maxResults: 100, nextToken: token) }),
            subnetGroups: Set(try all { token in try subnetGroups.describe(name: nil, maxResults: 100, nextToken: token) }),
            users: Set(try all { token in try accessControl.describeUsers(name: nil, filters: [], maxResults: 50, nextToken: token) }),
            acls: Set(try all { token in try accessControl.describeACLs(name: nil, maxResults: 50, nextToken: token) }))
    }

    /// Every page's names.
    func all<Item: NamedItem>(_ page: (String?) throws -> (items: [Item], nextToken: String?)) throws -> [String] {
        var names: [String] = []
        var token: String?
        repeat {
            let result = try page(token)
            names += result.items.map(\.name)
            token = result.nextToken
        } while token != nil
        return names
    }
}

protocol NamedItem { var name: String { get } }
extension ParameterGroupView: NamedItem {}
extension SubnetGroupView: NamedItem {}
extension UserView: NamedItem {}
extension ACLView: NamedItem {}

/// A plan as REST answers it, and as the CLI reads it back.
public struct RESTPlan: Codable, Sendable {
    public var stack: String
    public var hasChanges: Bool
    public var summary: StackPlan.Summary
    public var changes: [StackChange]
    /// On-demand USD a month, now and after the apply, per cluster (absent without prices).
    public var cost: StackCost?

    init(_ plan: StackPlan) {
        stack = plan.stack
        hasChanges = plan.hasChanges
        summary = plan.summary
        changes = plan.changes
        cost = plan.cost
    }
}

struct RESTApply: Codable {
    var plan: RESTPlan
    var stack: RESTStack
}

/// A stack as REST shows it (times as ISO-8601), and as the CLI reads it back.
public struct RESTStack: Codable, Sendable {
    public struct Resource: Codable, Sendable {
        public var type: String
        public var name: String
        public var status: String?
    }
    public struct Step: Codable, Sendable {
        public var type, name, action, state: String
        public var message, startedAt, finishedAt: String?
    }
    public struct Run: Codable, Sendable {
        public var kind, outcome, startedAt: String
        public var finishedAt, error: String?
        public var steps: [Step]
    }

    public var name: String
    public var status: String
    public var createdAt: String
    public var updatedAt: String
    public var resources: [Resource]
    public var lastRun: Run?
    public var drift: [StackChange]
    public var outputs: [String: String]
    /// Keys the last run created, with their secrets: in the first read after the run only.
    public var newAccessKeys: [NewAccessKeys.Key]?
    /// On-demand USD a month: the clusters now, and as the document wants them.
    public var cost: StackCost?

    init(_ view: StackView) {
        cost = view.cost
        newAccessKeys = view.newAccessKeys.isEmpty ? nil : view.newAccessKeys
        name = view.name
        status = view.status.rawValue
        createdAt = RESTTime.iso8601(view.createdAt)
        updatedAt = RESTTime.iso8601(view.updatedAt)
        resources = view.resources.map { Resource(type: $0.type.rawValue, name: $0.name, status: $0.status) }
        lastRun = view.lastRun.map { run in
            Run(
                kind: run.kind.rawValue, outcome: run.outcome.rawValue, startedAt: RESTTime.iso8601(run.startedAt),
                finishedAt: run.finishedAt.map(RESTTime.iso8601), error: run.error,
                steps: run.steps.map { step in
                    Step(
                        type: step.type.rawValue, name: step.name, action: step.action.rawValue, state: step.state.rawValue, message: step.message,
                        startedAt: step.startedAt.map(RESTTime.iso8601), finishedAt: step.finishedAt.map(RESTTime.iso8601))
                })
        }
        drift = view.drift
        outputs = view.outputs
    }
}

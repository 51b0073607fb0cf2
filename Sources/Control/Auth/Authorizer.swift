import Foundation
import Model
import Store

/// The one place a caller's policy is applied: every door (AWS, REST, the console, `/metrics`)
/// and every stack step asks it before anything changes, so a denied call leaves nothing done.
public struct Authorizer: Sendable {
    let store: Store
    let configuration: ControlConfiguration

    public init(store: Store, configuration: ControlConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    /// What `operation` acts on, with the input's members read by their AWS names.
    public func target(
        _ operation: String, string: (String) -> String? = { _ in nil }, strings: (String) -> [String] = { _ in [] }, tags: [Tag] = []
    ) -> AuthorizationTarget {
        OperationResources.target(
            of: operation, region: configuration.region, account: configuration.accountID, string: string, strings: strings, tags: tags)
    }

    public func target(of call: OperationCall) -> AuthorizationTarget {
        target(call.operation, string: { call.strings[$0] }, strings: { call.lists[$0] ?? [] }, tags: call.tags)
    }

    /// Refuses with AWS's AccessDeniedException, naming the key, the action and the resource,
    /// unless the caller's policy allows the action on every resource the target names.
    public func authorize(_ caller: Caller, _ target: AuthorizationTarget) throws(MemoryDBError) {
        let policy = caller.policy
        // The resource's tags are read only when a statement tests them: the admin, read-only
        // and prefix policies cost no database read.
        let readTags = policy.readsResourceTags
        let (decision, resource) = policy.decide(
            target.action, on: target.resources, context: target.context,
            resourceContext: { arn in readTags ? resourceTags(arn) : [:] })
        switch decision {
        case .allowed: return
        case .explicitlyDenied(let statement, let sid):
            let which = sid.map { "statement '\($0)'" } ?? "statement \(statement + 1)"
            throw MemoryDBError(
                .accessDenied,
                "User: \(principal(caller)) is not authorized to perform: \(target.action) on resource: \(resource ?? "*") with an explicit deny in an identity-based policy (\(which)).")
        case .implicitlyDenied:
            throw MemoryDBError(
                .accessDenied,
                "User: \(principal(caller)) is not authorized to perform: \(target.action) on resource: \(resource ?? "*") because no identity-based policy allows the \(target.action) action.")
        }
    }

    func principal(_ caller: Caller) -> String {
        "arn:aws:iam::\(configuration.accountID):user/\(caller.name)"
    }

    /// `aws:ResourceTag/<key>` for each tag the resource has (none for `*` or a resource yet to be made).
    func resourceTags(_ arn: String) -> [String: String] {
        guard arn != "*" else { return [:] }
        // A tag read that fails leaves the keys unset: a positive tag test then fails closed.
        guard let tags = try? store.tags(of: arn) else { return [:] }
        var context: [String: String] = [:]
        for tag in tags { context[ConditionKeys.resourceTag(tag.key)] = tag.value }
        return context
    }
}

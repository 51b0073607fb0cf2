/// An IAM policy as MemoryPlane evaluates it: statements that allow or deny actions
/// (`memorydb:CreateCluster`, `memorydb:Describe*`) on resources (ARNs with `*` and `?`) under
/// conditions on the request's context (`aws:ResourceTag/team`, `memorydb:ClusterName`).
///
/// IAM's evaluation logic: an explicit deny in any matching statement wins; otherwise an
/// explicit allow; otherwise the request is denied by default. An operation on several
/// resources (CreateCluster on the cluster and on the ACL it names) is allowed only when it is
/// allowed on each of them.
public struct IAMPolicy: Sendable, Equatable {
    public enum Effect: String, Sendable, Equatable {
        case allow = "Allow"
        case deny = "Deny"
    }

    /// The string condition operators MemoryPlane honours.
    public enum ConditionTest: String, Sendable, Equatable, CaseIterable {
        case stringEquals = "StringEquals"
        case stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase"
        case stringLike = "StringLike"
        case stringNotLike = "StringNotLike"
    }

    /// One key of one operator: true when the context's value for `key` matches any of `values`
    /// (for a negated operator: matches none of them).
    public struct Condition: Sendable, Equatable {
        public var test: ConditionTest
        public var key: String
        public var values: [String]

        public init(_ test: ConditionTest, _ key: String, _ values: [String]) {
            self.test = test
            self.key = key
            self.values = values
        }
    }

    public struct Statement: Sendable, Equatable {
        public var sid: String?
        public var effect: Effect
        /// `Action`, or with `notActions` set, `NotAction`: every action but these.
        public var actions: [String]
        public var notActions: Bool = false
        /// `Resource`, or with `notResources` set, `NotResource`.
        public var resources: [String]
        public var notResources: Bool = false
        /// Every condition must hold.
        public var conditions: [Condition] = []

        public init(sid: String? = nil, effect: Effect, actions: [String], resources: [String], conditions: [Condition] = []) {
            self.sid = sid
            self.effect = effect
            self.actions = actions
            self.resources = resources
            self.conditions = conditions
        }

        /// Whether the statement speaks of this action on this resource in this context.
        public func applies(to action: String, on resource: String, context: [String: String]) -> Bool {
            let actionListed = actions.contains { Wildcard.matches($0, action, ignoringCase: true) }
            let resourceListed = resources.contains { Wildcard.matches($0, resource, ignoringCase: false) }
            return actionListed != notActions && resourceListed != notResources && conditions.allSatisfy { $0.holds(in: context) }
        }
    }

    public var statements: [Statement]

    public init(statements: [Statement]) {
        self.statements = statements
    }

    /// The decision for one request, and the statement that made it.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// A statement denies it (its index and Sid): nothing can allow it then.
        case explicitlyDenied(statement: Int, sid: String?)
        /// No statement allows it.
        case implicitlyDenied

        public var isAllowed: Bool { self == .allowed }
    }

    /// IAM's evaluation of `action` on every one of `resources`: a deny anywhere wins, then an
    /// allow must cover each resource, else the default deny.
    public func decide(_ action: String, on resources: [String], context: [String: String] = [:]) -> Decision {
        decide(action, on: resources, context: context, resourceContext: { _ in [:] }).decision
    }

    /// As above, with each resource's own condition keys (its `aws:ResourceTag/*`) added to the
    /// request's; also says which resource a denial is about.
    public func decide(
        _ action: String, on resources: [String], context: [String: String], resourceContext: (String) -> [String: String]
    ) -> (decision: Decision, resource: String?) {
        var firstUnallowed: String?
        for resource in resources {
            let extra = resourceContext(resource)
            let merged = extra.isEmpty ? context : context.merging(extra) { request, _ in request }
            var allowed = false
            for (index, statement) in statements.enumerated() where statement.applies(to: action, on: resource, context: merged) {
                if statement.effect == .deny { return (.explicitlyDenied(statement: index, sid: statement.sid), resource) }
                allowed = true
            }
            if !allowed && firstUnallowed == nil { firstUnallowed = resource }
        }
        if resources.isEmpty { return (.implicitlyDenied, nil) }
        return firstUnallowed.map { (.implicitlyDenied, $0) } ?? (.allowed, nil)
    }

    /// Whether any statement tests a resource's tags: only then must a request look them up.
    public var readsResourceTags: Bool {
        statements.contains { $0.conditions.contains { $0.key.hasPrefix("aws:ResourceTag/") } }
    }
}

extension IAMPolicy.Condition {
    /// A key the context does not have matches no value: a positive test is false, a negated one
    /// true (IAM's rule for a missing key).
    public func holds(in context: [String: String]) -> Bool {
        guard let actual = context[key] else { return test == .stringNotEquals || test == .stringNotLike }
        switch test {
        case .stringEquals: return values.contains(actual)
        case .stringNotEquals: return !values.contains(actual)
        case .stringEqualsIgnoreCase: return values.contains { $0.lowercased() == actual.lowercased() }
        case .stringLike: return values.contains { Wildcard.matches($0, actual, ignoringCase: false) }
        case .stringNotLike: return !values.contains { Wildcard.matches($0, actual, ignoringCase: false) }
        }
    }
}

/// IAM's wildcards: `*` any run of characters (none included), `?` exactly one.
public enum Wildcard {
    /// On every authorised call, for every action and resource of every statement: it compares
    /// the strings' UTF-8 bytes in place (ASCII case folded when asked), allocating nothing.
    public static func matches(_ pattern: String, _ text: String, ignoringCase: Bool) -> Bool {
        var pattern = pattern
        var text = text
        return pattern.withUTF8 { p in text.withUTF8 { t in matches(p, t, ignoringCase: ignoringCase) } }
    }

    static func matches(_ pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, ignoringCase: Bool) -> Bool {
        let star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
        @inline(__always) func same(_ a: UInt8, _ b: UInt8) -> Bool {
            guard ignoringCase else { return a == b }
            return (a >= 65 && a <= 90 ? a + 32 : a) == (b >= 65 && b <= 90 ? b + 32 : b)
        }
        /// Past one whole character (a UTF-8 lead byte and its continuation bytes): `?` and a
        /// `*`'s backtracking move by characters, as IAM's do.
        @inline(__always) func next(_ index: Int) -> Int {
            var index = index + 1
            while index < text.count && text[index] & 0xC0 == 0x80 { index += 1 }
            return index
        }
        // Greedy match with one backtrack point for the last `*` seen: linear in practice.
        var p = 0, t = 0
        var lastStar: Int?, resume = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == question {
                p += 1
                t = next(t)
            } else if p < pattern.count && same(pattern[p], text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count && pattern[p] == star {
                lastStar = p
                resume = t
                p += 1
            } else if let lastStar {
                p = lastStar + 1
                resume = next(resume)
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}

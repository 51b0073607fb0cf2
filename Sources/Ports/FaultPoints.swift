/// A named boundary between two steps of a long operation (a slot hand-over, a failover, a
/// reconcile step), with the nodes taking part by role.
///
/// Fault tests stop here to kill or freeze a participant at exactly this moment, instead of
/// guessing with sleeps; production passes no injector and pays nothing.
public struct FaultPoint: Sendable, Hashable, CustomStringConvertible {
    /// Dotted name of the boundary, e.g. `handover.claimed` or `step.before`.
    public var name: String
    /// The cluster the operation belongs to.
    public var cluster: String
    /// What the step does, in words (`move slots 0-99 from a to b`); empty when the name says it.
    public var detail: String
    /// Participants by role: `source`, `target`, `primary`, `replica`, `node`.
    public var nodes: [String: String]

    public init(_ name: String, cluster: String, detail: String = "", nodes: [String: String] = [:]) {
        self.name = name
        self.cluster = cluster
        self.detail = detail
        self.nodes = nodes
    }

    public var description: String {
        let roles = nodes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(name) \(cluster) \(roles) \(detail)"
    }

    /// The cluster a node belongs to, from its MemoryDB-style name (`<cluster>-<shard>-<nnn>`).
    public static func cluster(ofNode name: String) -> String {
        let parts = name.split(separator: "-")
        guard parts.count >= 3 else { return name }
        return parts.dropLast(2).joined(separator: "-")
    }
}

/// Where a fault test hooks in. `reached` returns once the test has done what it wanted at
/// that point (killed a process, frozen one, nothing); the operation then carries on, or fails
/// the way a real fault makes it fail.
public protocol FaultInjector: Sendable {
    func reached(_ point: FaultPoint) async
}

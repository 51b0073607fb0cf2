/// A revision of a parameter group or an ACL: what a cluster records once every node runs it,
/// and what the reconciler compares with the resource's current revision to know whether it
/// must apply it again. Stored as columns of its own, never as text to parse.
public struct AppliedRevision: Sendable, Hashable, CustomStringConvertible {
    /// The group's or the ACL's name.
    public var name: String
    /// Bumped by every change of the group's values or the ACL's members and their rights;
    /// 0 for a default parameter group (it never changes).
    public var revision: Int
    /// For an ACL, the generation of the commands client users are denied that it was enforced
    /// with (`RestrictedCommands.generation`): a binary that denies more re-applies every ACL
    /// once. Nil for a parameter group.
    public var restrictedGeneration: Int?

    public init(name: String, revision: Int, restrictedGeneration: Int? = nil) {
        self.name = name
        self.revision = revision
        self.restrictedGeneration = restrictedGeneration
    }

    /// `name@revision` (and `/restricted-N` for an ACL), as logs and fault points show it.
    public var description: String { "\(name)@\(revision)" + (restrictedGeneration.map { "/restricted-\($0)" } ?? "") }
}

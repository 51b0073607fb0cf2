/// What the liveness probe last learned of a node.
public enum NodeLiveness: Sendable, Equatable {
    /// Not watched, or not connected yet since it was.
    case unknown
    /// The last probe was answered.
    case answering
    /// Connected, but the probe sent this many milliseconds ago has had no reply: the process
    /// is alive and not serving (stopped, hung, swapping).
    case silent(milliseconds: Int64)
    /// The connection closed or cannot be made: the process has probably ended.
    case unreachable

    public var isSilent: Bool {
        if case .silent = self { return true }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Process limits set once at start-up.
enum ResourceLimits {
    /// Raises the soft descriptor limit to the hard one (where allowed) and returns the soft
    /// limit in force: connection caps are sized from it, below it, so that a flood of clients
    /// can never take the descriptors supervision needs.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}

/// The commands no client user may run on a managed node, whatever its access string grants.
///
/// These are the commands that would let a client reconfigure, stop, re-shape or take over a
/// cluster the control plane manages (MemoryDB restricts the same set). They are appended to
/// every client user's rules, so a later `+@all` in an access string cannot undo them.
public enum RestrictedCommands {
    /// Whole commands denied to clients.
    public static let commands: [String] = [
        "config", "shutdown", "debug", "module", "monitor", "replicaof", "slaveof", "failover",
        "save", "bgsave", "bgrewriteaof", "migrate", "psync", "sync", "restore-asking",
    ]

    /// Subcommands denied to clients; the read-only ones (ACL WHOAMI, CLUSTER SLOTS/SHARDS/NODES/
    /// INFO/KEYSLOT...) stay allowed.
    public static let subcommands: [String] = [
        "acl|setuser", "acl|deluser", "acl|load", "acl|save",
        "cluster|addslots", "cluster|addslotsrange", "cluster|delslots", "cluster|delslotsrange",
        "cluster|failover", "cluster|forget", "cluster|meet", "cluster|replicate", "cluster|reset",
        "cluster|setslot", "cluster|set-config-epoch", "cluster|bumpepoch", "cluster|flushslots",
        "cluster|saveconfig",
    ]

    /// The ACL rules that take the restricted commands away, ready to append to a user's rules.
    public static var aclRules: String {
        (commands + subcommands).map { "-" + $0 }.joined(separator: " ")
    }
}

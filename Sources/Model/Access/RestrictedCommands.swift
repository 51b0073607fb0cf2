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

    /// Subcommands denied to clients; the read-only ones (ACL WHOAMI, ACL CAT, CLUSTER SLOTS/
    /// SHARDS/NODES/INFO/KEYSLOT...) stay allowed.
    ///
    /// CLIENT PAUSE/UNPAUSE are denied: a client pausing a primary for longer than the failure
    /// timeout makes it look hung (it is then failed over), and UNPAUSE would lift the pause that
    /// fences an old primary during a lossless failover. MemoryDB restricts both too.
    ///
    /// The ACL and CLIENT readers are denied too because they would show the control plane's own
    /// user: ACL LIST/GETUSER its password hash, ACL USERS/DRYRUN/LOG its name, CLIENT LIST its
    /// connections (and CLIENT KILL would let a client cut replication and control links).
    /// MemoryDB's clients never see the service's own users either.
    public static let subcommands: [String] = [
        "acl|setuser", "acl|deluser", "acl|load", "acl|save",
        "acl|list", "acl|getuser", "acl|users", "acl|log", "acl|dryrun",
        "client|list", "client|kill", "client|pause", "client|unpause",
        "cluster|addslots", "cluster|addslotsrange", "cluster|delslots", "cluster|delslotsrange",
        "cluster|failover", "cluster|forget", "cluster|meet", "cluster|replicate", "cluster|reset",
        "cluster|setslot", "cluster|set-config-epoch", "cluster|bumpepoch", "cluster|flushslots",
        "cluster|saveconfig",
    ]

    /// Raised whenever the lists change: clusters record it with the ACL they enforce, so an
    /// upgraded control plane re-applies every user. 2: CLIENT PAUSE and UNPAUSE denied (a client
    /// pausing a primary looks hung and gets it failed over; unpausing would lift a failover's fence).
    public static let generation = 2

    /// The ACL rules that take the restricted commands away, ready to append to a user's rules.
    public static var aclRules: String {
        (commands + subcommands).map { "-" + $0 }.joined(separator: " ")
    }
}

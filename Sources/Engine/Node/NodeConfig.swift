import Model

/// Everything that goes into one node's `redis.conf`.
///
/// The file is rendered anew before every start, so it always matches the control plane's
/// records; the node's own state lives beside it (`nodes.conf`, the AOF directory).
public struct NodeConfig: Sendable, Equatable {
    public var port: Int
    public var busPort: Int
    public var directory: String
    public var maxmemoryBytes: Int64
    public var admin: NodeCredentials
    /// How long a node may be silent before peers flag it; short enough that a dead node is
    /// noticed, long enough that a supervised restart (about a second) never trips it.
    public var clusterNodeTimeoutMilliseconds: Int = 5000

    public init(port: Int, busPort: Int, directory: String, maxmemoryBytes: Int64, admin: NodeCredentials) {
        self.port = port
        self.busPort = busPort
        self.directory = directory
        self.maxmemoryBytes = maxmemoryBytes
        self.admin = admin
    }

    /// The file's full text.
    public func render() -> String {
        """
        # Rendered by MemoryPlane before every start; edits are overwritten.
        # Network: loopback only.
        bind 127.0.0.1
        port \(port)
        protected-mode yes
        daemonize no
        dir \(directory)
        pidfile \(directory)/redis.pid
        logfile \(directory)/redis.log

        # Cluster mode. The control plane alone decides failover.
        cluster-enabled yes
        cluster-config-file nodes.conf
        cluster-port \(busPort)
        cluster-node-timeout \(clusterNodeTimeoutMilliseconds)
        cluster-replica-no-failover yes
        cluster-require-full-coverage yes

        # Durability: an acknowledged write is on disk (MemoryDB's promise).
        appendonly yes
        appendfsync always
        appenddirname appendonly
        aof-use-rdb-preamble yes
        save ""

        # Replication: diskless and immediate, so replicas are in sync within moments.
        repl-diskless-sync yes
        repl-diskless-sync-delay 0
        masteruser \(admin.user)
        masterauth \(admin.password)

        maxmemory \(maxmemoryBytes)
        maxmemory-policy noeviction

        # Users: the internal admin, and the default user without the restricted commands.
        user \(admin.user) on >\(admin.password) ~* &* +@all
        user default on nopass ~* &* +@all \(RestrictedCommands.aclRules)

        """
    }
}

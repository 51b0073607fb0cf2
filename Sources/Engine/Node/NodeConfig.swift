import Model
import Ports

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
    /// Set for a TLS node: the node then speaks TLS only, on its port, bus and replication.
    public var tls: TLSFiles?
    /// The cluster's parameter group, every parameter with its effective value.
    public var parameters: [String: String] = ["maxmemory-policy": "noeviction"]
    /// Client users of the cluster's ACL (rules include the restricted-command denials).
    public var users: [String: String] = [:]
    /// The `default` user's rules; nil means open access without the restricted commands.
    public var defaultUserRules: String?

    /// Where a TLS node finds its certificate, key and the authority that signed its peers.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var key: String
        public var authority: String

        public init(certificate: String, key: String, authority: String) {
            self.certificate = certificate
            self.key = key
            self.authority = authority
        }
    }

    public init(port: Int, busPort: Int, directory: String, maxmemoryBytes: Int64, admin: NodeCredentials) {
        self.port = port
        self.busPort = busPort
        self.directory = directory
        self.maxmemoryBytes = maxmemoryBytes
        self.admin = admin
    }

    /// A plaintext node listens on its port; a TLS node has no plaintext port at all.
    var networkLines: String {
        guard let tls else { return "port \(port)" }
        return """
            port 0
            tls-port \(port)
            tls-cert-file \(tls.certificate)
            tls-key-file \(tls.key)
            tls-ca-cert-file \(tls.authority)
            tls-cluster yes
            tls-replication yes
            tls-auth-clients no
            tls-protocols "TLSv1.2 TLSv1.3"
            """
    }

    /// The `default` user of a cluster with open access: everything but the restricted commands.
    public static var openDefaultUserRules: String { "on nopass ~* &* +@all \(RestrictedCommands.aclRules)" }

    /// The file's full text.
    public func render() -> String {
        """
        # Rendered by MemoryPlane before every start; edits are overwritten.
        # Network: loopback only.
        bind 127.0.0.1
        \(networkLines)
        protected-mode yes
        daemonize no
        dir \(directory)
        # Relative to dir: a warm node's files follow its directory when a cluster adopts it.
        pidfile redis.pid
        logfile redis.log

        # Cluster mode. The control plane alone decides failover.
        cluster-enabled yes
        cluster-config-file nodes.conf
        cluster-port \(busPort)
        cluster-node-timeout \(clusterNodeTimeoutMilliseconds)
        cluster-replica-no-failover yes
        cluster-allow-replica-migration no
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
        # A primary nobody writes to still moves its replication offset each second: other nodes
        # list a replica in CLUSTER SLOTS only once they heard a nonzero offset from it, and a new
        # shard's slot maps must agree on its replica before its first slot moves in.
        repl-ping-replica-period 1
        masteruser \(admin.user)
        masterauth \(admin.password)

        maxmemory \(maxmemoryBytes)

        # The parameter group.
        \(RedisDirectives.from(parameters).map(RedisDirectives.line).joined(separator: "\n"))

        # Users: the internal admin, and the ACL's users, never with the restricted commands.
        user \(admin.user) on >\(admin.password) ~* &* +@all
        user default \(defaultUserRules ?? Self.openDefaultUserRules)
        \(users.sorted { $0.key < $1.key }.map { "user \($0.key) \($0.value)" }.joined(separator: "\n"))

        """
    }
}

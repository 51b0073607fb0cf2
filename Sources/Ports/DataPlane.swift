import Model

#if canImport(Glibc)
import Glibc
#endif

/// Everything the control plane does to data-plane processes, as narrow ports: each step executor
/// asks only for the part it uses, and tests fake the reconciler's logic while integration tests
/// use `LocalDataPlane` and real nodes.
public typealias DataPlaneParts = NodeProcesses & ClusterMembership & NodeConfiguration & Promotion & SlotOwnership & NodeSnapshots
    & NodeSupervision & EndpointControl

/// The whole data plane: every port at once.
public protocol DataPlane: DataPlaneParts {}

/// Starting, stopping and killing node processes and their files.
public protocol NodeProcesses: Sendable {
    /// The PID of the node's running process, proven to be ours; nil when it is not running.
    /// Throws `ProbeUnavailableError` when it cannot tell (out of descriptors).
    func runningNodePID(_ node: NodeSpec) throws -> Int32?
    /// Renders the node's config and starts it; returns its PID.
    func startNode(_ node: NodeSpec) async throws -> Int32
    /// Stops the node's process (if it is ours and running) and keeps its files.
    func stopNode(_ node: NodeSpec) async
    /// Deletes the node's directory.
    func removeNodeFiles(_ node: NodeSpec) throws
    /// Kills the node's process at once (SIGKILL), fencing a hung primary or losing a node with
    /// its zone. Returns the replication offset it reported just before, when it answered.
    func killNode(_ node: NodeSpec) async -> Int64?
    /// Deletes the node's data (its AOF) and keeps its identity (`nodes.conf`), as a lost disk would.
    func discardData(_ node: NodeSpec) throws
}

/// Making nodes one Redis Cluster: epochs, meetings, slots at bootstrap, replication, leaving.
public protocol ClusterMembership: Sendable {
    /// Sets a fresh node's config epoch, so bootstrap needs no epoch-collision resolution.
    func setConfigEpoch(_ node: NodeSpec, epoch: Int) async throws
    /// Introduces `node` to `peer` (CLUSTER MEET).
    func meet(_ node: NodeSpec, peer: NodeSpec) async throws
    /// Assigns slots to a primary (CLUSTER ADDSLOTSRANGE).
    func addSlots(_ node: NodeSpec, _ ranges: [SlotRange]) async throws
    /// Makes `node` a replica of the primary with Redis id `primaryID` (CLUSTER REPLICATE). Sent
    /// to a replica of that primary already, it reconnects now instead of at its next retry.
    func replicate(_ node: NodeSpec, primaryID: String) async throws
    /// Has `node` forget the member with Redis id `id` (CLUSTER FORGET), as when a node leaves
    /// the cluster for good; a member it does not know is not an error.
    func forget(_ node: NodeSpec, id: String) async throws
}

/// A running node's configuration: parameters, ACL users, maxmemory, its TLS certificate.
public protocol NodeConfiguration: Sendable {
    /// Applies parameter values to a running node (CONFIG SET), for those that take effect at once.
    func applyParameters(_ node: NodeSpec, _ values: [String: String]) async throws
    /// Makes a running node's users exactly the ACL's: sets each member, removes the rest.
    func applyACL(_ node: NodeSpec) async throws
    /// Sets a running node's maxmemory to its spec's (CONFIG SET): a node type change, no restart.
    func setMaxmemory(_ node: NodeSpec) async throws
    /// Reissues a TLS node's certificate in its last 30 days and has the running node load it,
    /// with no restart; returns whether it did.
    func renewCertificateIfDue(_ node: NodeSpec) async throws -> Bool
}

/// Handing a shard's primary role to one of its replicas.
public protocol Promotion: Sendable {
    /// Makes `replica` its shard's primary with no acknowledged write lost: with `primary`, pauses
    /// writes there, waits until the replica has the primary's whole stream, takes over, and
    /// releases the pause only once the old primary knows it is a replica. Without `primary` (it
    /// is gone), takes over with what the replica has.
    func promote(_ replica: NodeSpec, demoting primary: NodeSpec?) async throws -> PromotionReport
}

/// Moving slots between primaries and repairing ownership after a cut-short move.
public protocol SlotOwnership: Sendable {
    /// Hands slots over from the primary `source` to the primary `target` with their keys,
    /// online, so that at every instant each slot has exactly one primary that claims it and
    /// holds all its keys, and no client is ever sent back and forth (see `SlotHandover`).
    /// Repeating it after a crash part-way finishes the move. Throws `HandoverError` when a
    /// group could not be handed over (nothing lost either way).
    func moveSlots(_ slots: [Int], from source: NodeSpec, sourceID: String, to target: NodeSpec, targetID: String, announcingTo others: [NodeSpec]) async throws -> SlotMoveReport
    /// Closes open migrations of `slots` on the node (CLUSTER SETSLOT STABLE). Keys the node
    /// holds in a slot it was only importing are copies (the slot's owner holds them all) and
    /// are deleted first, so they can never resurface. `owners` (Redis id per slot, as the
    /// owners themselves claim them) is told to a node whose own view has no owner for such a
    /// slot: an importing node ignores gossip about the slot, and no key of an unowned slot can
    /// be deleted.
    func stabilizeSlots(_ slots: [Int], on node: NodeSpec, owners: [Int: String]) async throws
    /// Makes `node` the owner of slots no live primary claims (a hand-over cut short when its
    /// target went down): it claims them with a config epoch above every other, so every view
    /// follows. Its own hand-over markers for them are removed.
    func claimSlots(_ slots: [Int], on node: NodeSpec) async throws
    /// Waits, at most `limit`, until every one of `nodes` knows each replica in `replicas`
    /// (primary port → its replicas' ports) as a healthy replica of that primary; returns the
    /// ports of the replicas some node still does not, when it gives up.
    ///
    /// A node lists a replica in CLUSTER SLOTS only once gossip brought it the replica's role and
    /// replication offset: up to half the node timeout after the replica synced, or after the
    /// node itself joined. Clients that compare several nodes' slot maps (valkey-glide) retry
    /// their refresh after 500 ms when the maps split evenly, and hold every request meanwhile
    /// (valkey-io/valkey-glide#3946): a move is started only once the maps agree on replicas.
    func awaitReplicasListed(_ replicas: [Int: Set<Int>], by nodes: [NodeSpec], within limit: Duration) async -> Set<Int>
    /// How many clients the node has answered with `-MOVED` since it started (INFO errorstats):
    /// a drained primary still answering them has clients that have not learned the new layout.
    func redirectsAnswered(by node: NodeSpec) async throws -> Int
    /// How many keys the node holds in each of `slots` (only the slots holding any).
    func countKeys(inSlots slots: [Int], on node: NodeSpec) async throws -> [Int: Int]
    /// The slots outside `expected` in which the node holds keys (a full scan, ~10 ms): keys a
    /// crash left behind where they no longer belong. Works on replicas too.
    func slotsHoldingKeys(on node: NodeSpec, outside expected: [SlotRange]) async throws -> [Int]
    /// Deletes, through the primary `primary` so its replicas and AOF see the deletion, every
    /// key it or `copies` (its replicas) hold in `slots`, slots it does not serve and whose
    /// owner (Redis id per slot) holds the real keys. Returns how many names were deleted.
    func purgeStrayKeys(inSlots slots: [Int], on primary: NodeSpec, owners: [Int: String], copies: [NodeSpec]) async throws -> Int
}

/// RDB files: taking, inspecting, seeding a node, importing into a cluster.
public protocol NodeSnapshots: Sendable {
    /// Writes an RDB of the node's data now (BGSAVE, waited for) and returns its path; read or
    /// move it before the node's next save.
    func saveRDB(_ node: NodeSpec) async throws -> String
    /// What an RDB file holds (loaded in a scratch server, which proves it loads): its keys and,
    /// with `digest`, Redis' digest of them (about 2 s per million keys). The file is moved.
    func inspectRDB(_ path: String, digest: Bool) async throws -> RDBContents
    /// Makes the RDB at `path` the node's starting data (the base of its AOF), before its first
    /// start; the file is moved.
    func seed(_ node: NodeSpec, fromRDB path: String) throws
    /// Whether the node has data files (an AOF) yet.
    func hasData(_ node: NodeSpec) -> Bool
    /// Moves every key of the RDB at `path` into the primaries serving its slots (a scratch
    /// server loads it and MIGRATEs its keys in batches); returns how many keys moved.
    func importRDB(_ path: String, into primaries: [SlotOwner]) async throws -> Int
}

/// Looking at nodes: one full observation, and the liveness probe kept on each.
public protocol NodeSupervision: Sendable {
    /// Reads the node's view of itself and its cluster; throws when it does not answer.
    func observe(_ node: NodeSpec) async throws -> NodeObservation
    /// Keeps a liveness probe on exactly `nodes` of `cluster`; `onChange` hears when one starts
    /// or stops answering.
    func watch(cluster: String, nodes: [NodeSpec], onChange: @escaping @Sendable () -> Void)
    /// What the liveness probe last learned of the node.
    func liveness(of node: NodeSpec) -> NodeLiveness
    /// Stops probing the cluster's nodes.
    func unwatch(cluster: String)
}

/// The cluster endpoint's process and the backends it forwards to.
public protocol EndpointControl: Sendable {
    /// The PID of the cluster endpoint's running process, proven ours; nil when not running.
    /// Throws `ProbeUnavailableError` when it cannot tell (out of descriptors).
    func runningEndpointPID(_ endpoint: EndpointSpec) throws -> Int32?
    /// Writes the endpoint's backend list and starts it when it is not running.
    func startEndpoint(_ endpoint: EndpointSpec) async throws -> Int32
    /// The backends the running endpoint reads (primaries first), as last written.
    func endpointBackends(_ endpoint: EndpointSpec) -> [EndpointBackend]
    /// Rewrites the endpoint's backend list; it applies to the next client connection.
    func setEndpointBackends(_ endpoint: EndpointSpec) throws
    /// Whether a PING sent through the endpoint comes back PONG.
    func endpointAnswers(_ endpoint: EndpointSpec, as credentials: NodeCredentials) async -> Bool
    /// Stops the endpoint's process and deletes the cluster's directory.
    func removeEndpoint(_ endpoint: EndpointSpec) async throws
}

/// What the data plane needs to know to run one node.
public struct NodeSpec: Sendable, Hashable {
    public var name: String
    public var port: Int
    public var busPort: Int
    public var maxmemoryBytes: Int64
    public var admin: NodeCredentials
    /// The PID recorded when the node was last started, tried first when looking for the process.
    public var recordedPID: Int32?
    /// Whether the node speaks TLS only.
    public var tls: Bool
    /// Every parameter of the cluster's group with its effective value.
    public var parameters: [String: String] = ["maxmemory-policy": "noeviction"]
    /// The cluster's ACL: rules per client user, and the `default` user's rules.
    public var aclUsers: [String: String] = [:]
    public var defaultUserRules: String? = nil
    /// Serves its shard's writes: its liveness is probed at the failover cadence.
    public var isPrimary = true
    /// The slots a primary is to serve, when it is first started (a warm node adopted as a
    /// primary keeps these and gives up the rest); empty for a replica.
    public var slots: [SlotRange] = []

    public init(name: String, port: Int, busPort: Int, maxmemoryBytes: Int64, admin: NodeCredentials, recordedPID: Int32? = nil, tls: Bool = false) {
        self.name = name
        self.port = port
        self.busPort = busPort
        self.maxmemoryBytes = maxmemoryBytes
        self.admin = admin
        self.recordedPID = recordedPID
        self.tls = tls
    }

    public var address: NodeAddress { NodeAddress(port: port, tls: tls) }
}

/// A cluster's endpoint: a port that forwards each connection to a primary (a replica only when
/// no primary accepts).
public struct EndpointSpec: Sendable, Hashable {
    public var clusterName: String
    public var port: Int
    public var backends: [EndpointBackend]
    /// Whether the nodes behind it speak TLS (the endpoint forwards bytes either way).
    public var tls: Bool

    public init(clusterName: String, port: Int, backends: [EndpointBackend], tls: Bool = false) {
        self.clusterName = clusterName
        self.port = port
        self.backends = backends
        self.tls = tls
    }
}

/// One node behind an endpoint, and whether it is a primary (tried first).
public struct EndpointBackend: Sendable, Hashable, CustomStringConvertible {
    public var port: Int
    public var role: NodeRole

    public init(port: Int, role: NodeRole) {
        self.port = port
        self.role = role
    }

    /// The line in the endpoint's backend file: `127.0.0.1:7001 primary`.
    public var description: String { "127.0.0.1:\(port) \(role.rawValue)" }

    /// Parses the backend file; a line without a role (older files) counts as a primary.
    public static func parseFile(_ text: String) -> [(host: String, port: Int, role: NodeRole)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard let address = fields.first, let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                return nil
            }
            let role = fields.count > 1 ? NodeRole(rawValue: String(fields[1])) ?? .primary : .primary
            return (String(address[..<colon]), port, role)
        }
    }
}

/// How a promotion went.
public struct PromotionReport: Sendable, Equatable {
    /// The promoted replica's replication offset when it took over.
    public var replicaOffset: Int64
    /// The old primary's offset the replica was made to reach; nil when the primary was gone.
    public var primaryOffset: Int64?
    /// How long writes were paused on the old primary, in milliseconds.
    public var pausedMilliseconds: Int64

    public init(replicaOffset: Int64, primaryOffset: Int64?, pausedMilliseconds: Int64) {
        self.replicaOffset = replicaOffset
        self.primaryOffset = primaryOffset
        self.pausedMilliseconds = pausedMilliseconds
    }
}

/// A promotion that could not be completed safely; the message says which step and why.
public struct PromotionError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The replica did take over: the old primary must be fenced if it has not stepped down.
    public let tookOver: Bool
    public init(_ message: String, tookOver: Bool = false) {
        self.message = message
        self.tookOver = tookOver
    }
    public var description: String { message }
}

/// What an RDB file holds.
public struct RDBContents: Sendable, Equatable {
    public var keys: Int
    /// `DEBUG DIGEST` of the data: 40 hex digits, all zeros for no data; nil when not asked for.
    public var digest: String?

    public init(keys: Int, digest: String?) {
        self.keys = keys
        self.digest = digest
    }
}

/// What one slot move did.
public struct SlotMoveReport: Sendable, Equatable {
    /// Keys copied to the target and deleted from the source.
    public var keys: Int
    /// Hand-over groups: each one atomic on the source.
    public var groups: Int
    /// The longest time the source held every client while a group was handed over.
    public var longestHoldMilliseconds: Double
    /// Where that time went: copying, delivering `ready` (the target's claim with it), and how
    /// the decision came (with `ready`, by probing, or at the deadline).
    public var longestHoldBreakdown: String = ""

    public init(keys: Int = 0, groups: Int = 0, longestHoldMilliseconds: Double = 0) {
        self.keys = keys
        self.groups = groups
        self.longestHoldMilliseconds = longestHoldMilliseconds
    }
}

/// A slot hand-over that did not complete; nothing is lost either way, and the planner takes
/// it up again from what Redis then reports.
public enum HandoverError: NodeOperationFailure, Sendable, Equatable, CustomStringConvertible {
    /// The source kept the slots: the target did not claim them in time (its copies are
    /// discarded before the next attempt).
    case aborted(slots: [Int], source: String, target: String)
    /// The source gave the slots to a target it could no longer reach: the target holds every
    /// key (each copy was acknowledged) and claims them once it answers again.
    case targetUnreachable(slots: [Int], target: String, reason: String)
    /// A step failed before either side changed anything that matters (the source still owns
    /// the slots and their keys).
    case failed(slots: [Int], reason: String)

    public var description: String {
        switch self {
        case .aborted(let slots, let source, let target):
            return "hand-over of slots \(SlotRange.listDescription(SlotLayout.ranges(of: slots))) from \(source) to \(target) called off: the target did not claim them in time; \(source) kept them with every key"
        case .targetUnreachable(let slots, let target, let reason):
            return "slots \(SlotRange.listDescription(SlotLayout.ranges(of: slots))) were given to \(target), which stopped answering (\(reason)); it holds every key and claims them when it is back"
        case .failed(let slots, let reason):
            return "hand-over of slots \(SlotRange.listDescription(SlotLayout.ranges(of: slots))) failed before anything changed: \(reason)"
        }
    }
}

/// A primary and the slots it serves, for moving keys to their owners.
public struct SlotOwner: Sendable {
    public var node: NodeSpec
    public var slots: [SlotRange]

    public init(node: NodeSpec, slots: [SlotRange]) {
        self.node = node
        self.slots = slots
    }
}

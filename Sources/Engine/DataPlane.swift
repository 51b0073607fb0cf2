import Model

#if canImport(Glibc)
import Glibc
#endif

/// Everything the control plane does to data-plane processes, as a protocol so the reconciler's
/// logic can be tested with a fake while integration tests use `LocalDataPlane` and real nodes.
public protocol DataPlane: Sendable {
    /// The PID of the node's running process, proven to be ours; nil when it is not running.
    /// Throws `ProbeUnavailableError` when it cannot tell (out of descriptors).
    func runningNodePID(_ node: NodeSpec) throws -> Int32?
    /// Renders the node's config and starts it; returns its PID.
    func startNode(_ node: NodeSpec) async throws -> Int32
    /// Stops the node's process (if it is ours and running) and keeps its files.
    func stopNode(_ node: NodeSpec) async
    /// Deletes the node's directory.
    func removeNodeFiles(_ node: NodeSpec) throws
    /// Reads the node's view of itself and its cluster; throws when it does not answer.
    func observe(_ node: NodeSpec) async throws -> NodeObservation
    /// Sets a fresh node's config epoch, so bootstrap needs no epoch-collision resolution.
    func setConfigEpoch(_ node: NodeSpec, epoch: Int) async throws
    /// Introduces `node` to `peer` (CLUSTER MEET).
    func meet(_ node: NodeSpec, peer: NodeSpec) async throws
    /// Assigns slots to a primary (CLUSTER ADDSLOTSRANGE).
    func addSlots(_ node: NodeSpec, _ ranges: [SlotRange]) async throws
    /// Makes `node` a replica of the primary with Redis id `primaryID` (CLUSTER REPLICATE).
    func replicate(_ node: NodeSpec, primaryID: String) async throws

    /// The PID of the cluster endpoint's running process, proven ours; nil when not running.
    /// Throws `ProbeUnavailableError` when it cannot tell (out of descriptors).
    func runningEndpointPID(_ endpoint: EndpointSpec) throws -> Int32?
    /// Writes the endpoint's backend list and starts it when it is not running.
    func startEndpoint(_ endpoint: EndpointSpec) async throws -> Int32
    /// Whether a PING sent through the endpoint comes back PONG.
    func endpointAnswers(_ endpoint: EndpointSpec, as credentials: NodeCredentials) async -> Bool
    /// Applies parameter values to a running node (CONFIG SET), for those that take effect at once.
    func applyParameters(_ node: NodeSpec, _ values: [String: String]) async throws
    /// Makes a running node's users exactly the ACL's: sets each member, removes the rest.
    func applyACL(_ node: NodeSpec) async throws
    /// Reissues a TLS node's certificate in its last 30 days and has the running node load it,
    /// with no restart; returns whether it did.
    func renewCertificateIfDue(_ node: NodeSpec) async throws -> Bool
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

/// A cluster's endpoint: a port that forwards each connection to whichever node answers.
public struct EndpointSpec: Sendable, Hashable {
    public var clusterName: String
    public var port: Int
    public var backendPorts: [Int]
    /// Whether the nodes behind it speak TLS (the endpoint forwards bytes either way).
    public var tls: Bool

    public init(clusterName: String, port: Int, backendPorts: [Int], tls: Bool = false) {
        self.clusterName = clusterName
        self.port = port
        self.backendPorts = backendPorts
        self.tls = tls
    }
}

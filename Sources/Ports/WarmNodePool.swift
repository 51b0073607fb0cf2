import Synchronization

/// A `redis-server` started ahead of time, in cluster mode, waiting for a cluster to adopt it.
public struct WarmNode: Sendable, Equatable {
    public var id: String
    public var port: Int
    public var busPort: Int
    public var tls: Bool
    public var pid: Int32
    /// When it was started (ContinuousClock): it is ready once Redis' writable delay has passed.
    public var startedAt: ContinuousClock.Instant

    public init(id: String, port: Int, busPort: Int, tls: Bool, pid: Int32, startedAt: ContinuousClock.Instant) {
        self.id = id
        self.port = port
        self.busPort = busPort
        self.tls = tls
        self.pid = pid
        self.startedAt = startedAt
    }
}

/// Warm nodes (`serve --warm-nodes N`): kept running past Redis' 2 s writable delay
/// (`CLUSTER_WRITABLE_DELAY`, REDIS-NOTES 7), so a new cluster whose nodes are adopted from the
/// pool is available as soon as it is bootstrapped.
///
/// A creation takes ready nodes' ports for its node records (`take`); when the reconciler then
/// starts such a node, the data plane adopts the warm process instead of spawning one
/// (`claim`). Nothing here is stored: after a control-plane restart, warm processes are stopped
/// and their directories removed, and any node promised to a cluster starts cold.
public final class WarmNodePool: Sendable {
    /// Warm nodes kept of each kind (plain and TLS).
    public let size: Int
    /// The internal admin's password on warm nodes, until adoption sets the cluster's.
    public let admin: NodeCredentials
    /// How long after its start a warm node is taken: Redis' writable delay and a margin.
    public let readyAfter: Duration

    private struct State {
        var ready: [WarmNode] = []
        var promised: [Int: WarmNode] = [:]
        /// Ports chosen for warm nodes being started.
        var reserved: Set<Int> = []
    }

    private let state = Mutex(State())
    /// Whether a warm node's process still runs; nil when it cannot tell (out of descriptors),
    /// which keeps a ready node and takes none. The data plane passes its process probe.
    private let isAlive: @Sendable (Int32) -> Bool?

    public init(size: Int, admin: NodeCredentials, readyAfter: Duration = .milliseconds(2200), isAlive: @escaping @Sendable (Int32) -> Bool?) {
        self.size = size
        self.admin = admin
        self.isAlive = isAlive
        self.readyAfter = readyAfter
    }

    /// Ports of up to `count` ready warm nodes of the kind, promised from now on to the nodes
    /// being recorded on them.
    public func take(_ count: Int, tls: Bool, now: ContinuousClock.Instant = .now) -> [Int] {
        state.withLock { state in
            var taken: [Int] = []
            state.ready.removeAll { node in
                guard taken.count < count, node.tls == tls, now - node.startedAt >= readyAfter,
                    isAlive(node.pid) == true
                else { return false }
                taken.append(node.port)
                state.promised[node.port] = node
                return true
            }
            return taken
        }
    }

    /// Gives back promised nodes whose cluster was not recorded after all.
    public func release(ports: [Int]) {
        state.withLock { state in
            for port in ports {
                if let node = state.promised.removeValue(forKey: port) { state.ready.append(node) }
            }
        }
    }

    /// The warm node promised to whoever starts on `port`, handed over once.
    public func claim(port: Int) -> WarmNode? {
        state.withLock { $0.promised.removeValue(forKey: port) }
    }

    /// Every port a warm node holds (starting, ready or promised): not to be allocated to
    /// anything else.
    public var ports: Set<Int> {
        state.withLock { state in state.reserved.union(state.ready.map(\.port)).union(state.promised.keys) }
    }

    /// Holds `port` for a warm node about to start.
    public func reserve(_ port: Int) {
        _ = state.withLock { $0.reserved.insert(port) }
    }

    /// How many of the kind are running and not promised.
    public func count(tls: Bool) -> Int {
        state.withLock { $0.ready.filter { $0.tls == tls }.count }
    }

    /// A started node joins the pool (or its reservation is dropped when `node` is nil).
    public func add(_ node: WarmNode?, reserved port: Int) {
        state.withLock { state in
            state.reserved.remove(port)
            if let node { state.ready.append(node) }
        }
    }

    /// Stops tracking every ready node and returns them (shutdown).
    public func drain() -> [WarmNode] {
        state.withLock { state in
            defer { state.ready = [] }
            return state.ready
        }
    }

    /// Forgets ready nodes whose process has ended (so they are replaced) and returns them.
    public func dropDead() -> [WarmNode] {
        state.withLock { state in
            var dead: [WarmNode] = []
            state.ready.removeAll { node in
                guard isAlive(node.pid) == false else { return false }
                dead.append(node)
                return true
            }
            return dead
        }
    }
}

/// A data plane that can keep warm nodes; the control plane's `WarmPoolService` refills it.
public protocol WarmNodeSource: Sendable {
    var warmPool: WarmNodePool? { get }
    func startWarmNode(id: String, port: Int, tls: Bool, pool: WarmNodePool) async throws -> WarmNode
    func discardWarmNodes() async
    func discard(_ warm: WarmNode) async
}

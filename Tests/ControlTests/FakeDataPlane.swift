import Model
import Synchronization
import Ports

/// A data plane in memory, for testing the reconcile loop without processes: it records every
/// call and answers from a scripted Redis cluster that behaves as real nodes do where the
/// planner cares (MEET makes peers known, ADDSLOTSRANGE serves slots, REPLICATE links a replica,
/// `cluster_state:ok` once every slot is served and the node knows the servers).
///
/// Scripts tell "unreachable" from "replied with an error": a node can fail to start N times,
/// never answer, or the probe of processes can fail for want of descriptors.
final class FakeDataPlane: DataPlane, Sendable {
    struct Node {
        var pid: Int32
        var id: String
        var configEpoch = 0
        var known: Set<String> = []
        var slots: [SlotRange] = []
        var primaryID: String?
        var port: Int
        /// False once killed: the node keeps its identity (its nodes.conf) for the next start.
        var running = true
    }

    struct State {
        var nodes: [String: Node] = [:]
        var nextPID: Int32 = 1000
        var endpointPID: Int32?
        var calls: [String] = []
        /// Starts to refuse, per node, before one succeeds.
        var failingStarts: [String: Int] = [:]
        /// Nodes whose process runs but never answers an observation (the probe is undecided).
        var silent: Set<String> = []
        /// Nodes whose process runs and that the liveness probe finds silent: hung.
        var hung: Set<String> = []
        var endpointBackends: [EndpointBackend] = []
        /// maxmemory per node, as set at start or by CONFIG SET.
        var maxmemory: [String: Int64] = [:]
        /// CLUSTER REPLICATE calls to refuse before one succeeds.
        var failingReplicates = 0
        /// When true, process probes fail as they do when descriptors run out.
        var probesUnavailable = false
    }

    let state = Mutex(State())

    var calls: [String] { state.withLock { $0.calls } }

    func script(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

    private func record(_ call: String) { state.withLock { $0.calls.append(call) } }

    /// Kills a node's process, as `kill -9` would; its identity stays for the next start.
    func kill(_ name: String) { state.withLock { $0.nodes[name]?.running = false } }

    func pid(of name: String) -> Int32? { state.withLock { state in state.nodes[name].flatMap { $0.running ? $0.pid : nil } } }

    /// The node's Redis id, whether it runs or not.
    func id(of name: String) -> String? { state.withLock { $0.nodes[name]?.id } }

    /// Slots the node serves.
    func slots(of name: String) -> [SlotRange] { state.withLock { $0.nodes[name]?.slots ?? [] } }

    // MARK: DataPlane

    func runningNodePID(_ node: NodeSpec) throws -> Int32? {
        try state.withLock { state in
            if state.probesUnavailable { throw ProbeUnavailableError(path: "/proc", errno: 24) }
            return state.nodes[node.name].flatMap { $0.running ? $0.pid : nil }
        }
    }

    func startNode(_ node: NodeSpec) async throws -> Int32 {
        record("start \(node.name)")
        return try state.withLock { state in
            if let failures = state.failingStarts[node.name], failures > 0 {
                state.failingStarts[node.name] = failures - 1
                throw FakeFailure("scripted start failure of \(node.name)")
            }
            state.nextPID += 1
            state.maxmemory[node.name] = node.maxmemoryBytes
            if state.nodes[node.name] != nil {
                state.nodes[node.name]?.pid = state.nextPID
                state.nodes[node.name]?.running = true
            } else {
                let id = String(repeating: "0", count: 32) + String(state.nextPID, radix: 16).leftPadded(to: 8)
                state.nodes[node.name] = Node(pid: state.nextPID, id: id, port: node.port)
            }
            return state.nextPID
        }
    }

    func stopNode(_ node: NodeSpec) async {
        record("stop \(node.name)")
        kill(node.name)
    }

    func removeNodeFiles(_ node: NodeSpec) throws { record("remove \(node.name)") }

    func observe(_ node: NodeSpec) async throws -> NodeObservation {
        try state.withLock { state in
            guard let me = state.nodes[node.name], me.running, !state.silent.contains(node.name), !state.hung.contains(node.name) else {
                throw NodeUnreachableError(address: node.address, reason: "scripted: no reply")
            }
            let byID = Dictionary(uniqueKeysWithValues: state.nodes.values.map { ($0.id, $0) })
            var members = [Self.entry(me, myself: true)]
            for id in me.known.sorted() { if let peer = byID[id] { members.append(Self.entry(peer, myself: false)) } }
            let served = members.filter { $0.isPrimary }.flatMap(\.slots).reduce(0) { $0 + $1.last - $1.first + 1 }
            let isPrimary = me.primaryID == nil
            return NodeObservation(
                myID: me.id, members: members, clusterStateOK: served == SlotRange.slotCount, isPrimary: isPrimary,
                primaryLinkUp: !isPrimary && me.known.contains(me.primaryID ?? "") && (byID[me.primaryID ?? ""]?.running ?? false),
                usedMemory: 1 << 20, maxmemory: state.maxmemory[node.name])
        }
    }

    static func entry(_ node: Node, myself: Bool) -> ClusterNodesEntry {
        ClusterNodesEntry(
            id: node.id, host: "127.0.0.1", port: node.port,
            flags: Set((myself ? ["myself"] : []) + [node.primaryID == nil ? "master" : "slave"]), primaryID: node.primaryID,
            configEpoch: node.configEpoch, connected: true, slots: node.slots)
    }

    func setConfigEpoch(_ node: NodeSpec, epoch: Int) async throws {
        record("epoch \(node.name) \(epoch)")
        state.withLock { $0.nodes[node.name]?.configEpoch = epoch }
    }

    func meet(_ node: NodeSpec, peer: NodeSpec) async throws {
        record("meet \(node.name) \(peer.name)")
        state.withLock { state in
            guard let a = state.nodes[node.name]?.id, let b = state.nodes[peer.name]?.id else { return }
            state.nodes[node.name]?.known.insert(b)
            state.nodes[peer.name]?.known.insert(a)
        }
    }

    func addSlots(_ node: NodeSpec, _ ranges: [SlotRange]) async throws {
        record("addslots \(node.name) \(ranges.map(\.description).joined(separator: ","))")
        state.withLock { $0.nodes[node.name]?.slots += ranges }
    }

    func replicate(_ node: NodeSpec, primaryID: String) async throws {
        record("replicate \(node.name)")
        try state.withLock { state in
            if state.failingReplicates > 0 {
                state.failingReplicates -= 1
                throw FakeFailure("scripted: ERR cannot replicate now")
            }
            state.nodes[node.name]?.primaryID = primaryID
        }
    }

    func killNode(_ node: NodeSpec) async -> Int64? {
        record("kill \(node.name)")
        kill(node.name)
        state.withLock { _ = $0.hung.remove(node.name) }
        return 100
    }

    func discardData(_ node: NodeSpec) throws { record("discard \(node.name)") }

    func setMaxmemory(_ node: NodeSpec) async throws {
        record("maxmemory \(node.name) \(node.maxmemoryBytes)")
        state.withLock { $0.maxmemory[node.name] = node.maxmemoryBytes }
    }

    func forget(_ node: NodeSpec, id: String) async throws {
        record("forget \(node.name)")
        state.withLock { _ = $0.nodes[node.name]?.known.remove(id) }
    }

    /// The replica takes the primary's slots; the old primary (now, or when it next starts, as
    /// gossip would tell it) becomes its replica.
    func promote(_ replica: NodeSpec, demoting primary: NodeSpec?) async throws -> PromotionReport {
        record("promote \(replica.name)" + (primary.map { " over \($0.name)" } ?? ""))
        state.withLock { state in
            guard let oldPrimaryID = state.nodes[replica.name]?.primaryID,
                let oldPrimary = state.nodes.first(where: { $0.value.id == oldPrimaryID })?.key
            else { return }
            let slots = state.nodes[oldPrimary]?.slots ?? []
            let newID = state.nodes[replica.name]?.id
            state.nodes[replica.name]?.slots = slots
            state.nodes[replica.name]?.primaryID = nil
            state.nodes[replica.name]?.configEpoch += 10
            state.nodes[oldPrimary]?.slots = []
            state.nodes[oldPrimary]?.primaryID = newID
        }
        return PromotionReport(replicaOffset: 90, primaryOffset: primary == nil ? nil : 100, pausedMilliseconds: 1)
    }

    // Snapshots need real RDB files: the fake keeps no data, and says so.
    func moveSlots(_ slots: [Int], from source: NodeSpec, sourceID: String, to target: NodeSpec, targetID: String, announcingTo others: [NodeSpec]) async throws -> SlotMoveReport {
        record("move \(slots.count) slots \(source.name) -> \(target.name)")
        state.withLock { state in
            let moving = Set(slots)
            let remaining = (state.nodes[source.name]?.slots ?? []).flatMap { Array($0.first...$0.last) }.filter { !moving.contains($0) }
            state.nodes[source.name]?.slots = SlotLayout.ranges(of: remaining)
            let gained = ((state.nodes[target.name]?.slots ?? []).flatMap { Array($0.first...$0.last) } + slots).sorted()
            state.nodes[target.name]?.slots = SlotLayout.ranges(of: gained)
        }
        return SlotMoveReport(keys: 0, groups: 1)
    }

    func stabilizeSlots(_ slots: [Int], on node: NodeSpec, owners: [Int: String]) async throws { record("stabilize \(slots.count) slots on \(node.name)") }

    func claimSlots(_ slots: [Int], on node: NodeSpec) async throws {
        record("claim \(slots.count) slots on \(node.name)")
        state.withLock { state in
            let gained = ((state.nodes[node.name]?.slots ?? []).flatMap { Array($0.first...$0.last) } + slots).sorted()
            state.nodes[node.name]?.slots = SlotLayout.ranges(of: gained)
        }
    }

    func redirectsAnswered(by node: NodeSpec) async throws -> Int { 0 }

    // The fake's nodes have no gossip: every map lists every replica at once.
    func awaitReplicasListed(_ replicas: [Int: Set<Int>], by nodes: [NodeSpec], within limit: Duration) async -> Set<Int> { [] }

    // The fake keeps no keys: nothing to count, scan or purge.
    func countKeys(inSlots slots: [Int], on node: NodeSpec) async throws -> [Int: Int] { [:] }
    func slotsHoldingKeys(on node: NodeSpec, outside expected: [SlotRange]) async throws -> [Int] { [] }
    func purgeStrayKeys(inSlots slots: [Int], on primary: NodeSpec, owners: [Int: String], copies: [NodeSpec]) async throws -> Int {
        record("purge \(slots.count) slots through \(primary.name)")
        return 0
    }

    func saveRDB(_ node: NodeSpec) async throws -> String { throw FakeFailure("the fake data plane keeps no data") }
    func inspectRDB(_ path: String, digest: Bool) async throws -> RDBContents { throw FakeFailure("the fake data plane keeps no data") }
    func seed(_ node: NodeSpec, fromRDB path: String) throws { record("seed \(node.name)") }
    func hasData(_ node: NodeSpec) -> Bool { false }
    func importRDB(_ path: String, into primaries: [SlotOwner]) async throws -> Int { throw FakeFailure("the fake data plane keeps no data") }

    func watch(cluster: String, nodes: [NodeSpec], onChange: @escaping @Sendable () -> Void) {}

    func liveness(of node: NodeSpec) -> NodeLiveness {
        state.withLock { state in
            guard let me = state.nodes[node.name], me.running else { return .unreachable }
            return state.hung.contains(node.name) ? .silent(milliseconds: 700) : .answering
        }
    }

    func unwatch(cluster: String) {}

    func endpointBackends(_ endpoint: EndpointSpec) -> [EndpointBackend] { state.withLock { $0.endpointBackends } }

    func setEndpointBackends(_ endpoint: EndpointSpec) throws {
        record("route endpoint \(endpoint.backends.filter { $0.role == .primary }.map(\.port))")
        state.withLock { $0.endpointBackends = endpoint.backends }
    }

    func runningEndpointPID(_ endpoint: EndpointSpec) throws -> Int32? {
        try state.withLock { state in
            if state.probesUnavailable { throw ProbeUnavailableError(path: "/proc", errno: 24) }
            return state.endpointPID
        }
    }

    func startEndpoint(_ endpoint: EndpointSpec) async throws -> Int32 {
        record("start endpoint")
        return state.withLock { state in
            state.endpointBackends = endpoint.backends
            state.endpointPID = 999
            return 999
        }
    }

    func endpointAnswers(_ endpoint: EndpointSpec, as credentials: NodeCredentials) async -> Bool { true }

    func applyParameters(_ node: NodeSpec, _ values: [String: String]) async throws {
        record("parameters \(node.name) \(values.keys.sorted().joined(separator: ","))")
    }

    func applyACL(_ node: NodeSpec) async throws {
        record("acl \(node.name) \(node.aclUsers.keys.sorted().joined(separator: ","))")
    }

    func renewCertificateIfDue(_ node: NodeSpec) async throws -> Bool { false }

    func removeEndpoint(_ endpoint: EndpointSpec) async throws {
        record("remove endpoint")
        state.withLock { $0.endpointPID = nil }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// What the fake data plane throws when a test scripts a failure (the control plane sees only
/// an error through its ports, whatever the real data plane's type).
struct FakeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import Logging
import Control
import Model
import Store
import Ports

/// Something that happened to a cluster or one of its nodes while it was reconciled, as a value:
/// executors and the planner say what happened, tests match on the case, and the words users read
/// (`DescribeEvents`, the log) are written here and nowhere else.
public enum ClusterEvent: Sendable, Equatable {
    // Nodes, as the planner finds them.
    case nodeDownForDrill(node: String, zone: String)
    case nodeHung(node: String, pid: Int32?, silentMilliseconds: Int64, port: Int)
    case nodeDown(node: String, port: Int)
    case nodeRecovered(node: String)
    case nodeStartRetrying(node: String)
    case nodeBackAfterDrill(node: String, storageDiscarded: Bool)
    case nodeRestarted(node: String, applied: String, primaryStoppedSeconds: Double?)
    case nodeRemoved(node: String)
    case nodeFenced(node: String, replica: String)
    case certificateRenewed(node: String)
    case migrationsClosed(node: String, slots: [SlotRange])

    // The cluster's life.
    case available
    case restored(source: RestoreSource, keysMoved: Int?, seconds: Double)
    case updateComplete(shards: Int, nodesPerShard: Int)
    case parametersApplied(group: String)
    case aclApplied(acl: String)
    case maxmemorySet(bytes: Int64, nodeType: String)
    case serviceUpdatesApplied(engine: (from: String, to: String)?)
    /// An engine update's rolling restart takes this snapshot before any node restarts.
    case snapshotBeforeEngineUpdate(snapshot: String, engine: String)
    /// Every node persisted its data and stopped.
    case stopped(nodes: Int)
    case drillCompleted(id: String, outcome: String)
    case deletionCalledOff(reason: String)
    case deleted
    case stepFailing(step: String, times: Int, error: String)
    case recovered
    case supervisionPaused(cluster: String, reason: String)
    case supervisionResumed(cluster: String)

    // Failover.
    case failoverBegun(shard: Int, reason: String, replica: String, zone: String)
    case promoted(replica: String, zone: String, gap: PromotionGap)
    case failedOver(shard: Int, seconds: Double, primary: String, zone: String, oldPrimary: String, zoneLost: Bool)
    case failoverAbandoned(shard: Int, reason: String)

    // Slots.
    case slotsMoved(SlotMoveSummary)
    case slotsClaimed(node: String, slots: [SlotRange], keys: Int, afterCutHandover: Bool)
    case strayKeysRemoved(count: Int, slots: [SlotRange], shard: Int, through: String, owners: [String])
    case shardRetired(shard: Int, members: [String])

    /// Where a restore's data came from.
    public enum RestoreSource: Sendable, Equatable {
        case snapshot(String)
        case exportedFiles

        /// From a cluster's recorded restore source (`arns:...` for exported RDB files).
        public init(recorded: String?) {
            let source = recorded ?? "?"
            self = source.hasPrefix("arns:") ? .exportedFiles : .snapshot(source)
        }

        var description: String {
            switch self {
            case .snapshot(let name): return "snapshot \(name)"
            case .exportedFiles: return "exported RDB files"
            }
        }
    }

    /// What a promotion cost: nothing (the old primary caught its replica up), or the bytes the
    /// replica had not received from a primary that was lost.
    public enum PromotionGap: Sendable, Equatable {
        case caughtUp(demoting: String, pausedMilliseconds: Int64, offset: Int64)
        case behindLostPrimary(replicaOffset: Int64, lostOffset: Int64)
        case lostOffsetUnknown
    }

    /// One finished slot move, as its event reports it.
    public struct SlotMoveSummary: Sendable, Equatable {
        public var slots: [SlotRange]
        public var slotCount: Int
        public var keys: Int
        public var fromShard: String
        public var from: String
        public var toShard: String
        public var to: String
        public var seconds: Double
        public var groups: Int
        public var longestHoldMilliseconds: Double
        public var longestHoldBreakdown: String
    }

    public static func == (left: ClusterEvent, right: ClusterEvent) -> Bool {
        left.message == right.message && left.sourceType == right.sourceType
    }

    /// Whether the event is about a node or the whole cluster (the event's source type).
    public var sourceType: EventSourceType {
        switch self {
        case .nodeDownForDrill, .nodeHung, .nodeDown, .nodeRecovered, .nodeStartRetrying, .nodeBackAfterDrill, .nodeRestarted, .nodeRemoved,
            .nodeFenced, .certificateRenewed, .migrationsClosed:
            return .node
        default:
            return .cluster
        }
    }

    /// How loud the event is in the log.
    public var level: Logger.Level {
        switch self {
        case .nodeStartRetrying, .stepFailing: return .error
        case .nodeDownForDrill, .nodeHung, .nodeDown, .nodeRecovered, .nodeFenced, .failoverBegun, .slotsClaimed, .strayKeysRemoved,
            .supervisionPaused:
            return .warning
        case .failedOver, .supervisionResumed: return .notice
        default: return .info
        }
    }

    /// The event in words, as `DescribeEvents` and the log show it.
    public var message: String {
        switch self {
        case .nodeDownForDrill(let node, let zone):
            return "Node \(node) is down with its availability zone \(zone) (drill) until the drill ends"
        case .nodeHung(let node, let pid, let silence, let port):
            return "Node \(node) stopped answering (process \(pid.map(String.init) ?? "?") alive, no reply for \(silence) ms); killing and restarting it on port \(port)"
        case .nodeDown(let node, let port):
            return "Node \(node) is down; restarting it on port \(port)"
        case .nodeRecovered(let node):
            return "Node \(node) recovered"
        case .nodeStartRetrying(let node):
            return "Node \(node) failed to start 3 times in a row; retrying with longer pauses (see \(node)/redis.log)"
        case .nodeBackAfterDrill(let node, let discarded):
            return "Node \(node) is back after its drill" + (discarded ? "; its storage was discarded and it resyncs as a replica" : "")
        case .nodeRestarted(let node, let applied, let stopped):
            let note = stopped.map {
                String(format: "; its shard has no replica, so it takes no writes until the node is back (about 2 s; stopped for %.2f s)", $0)
            }
            return "Node \(node) restarted to apply \(applied)\(note ?? "")"
        case .nodeRemoved(let node):
            return "Node \(node) removed: stopped, forgotten by every other node, its files deleted"
        case .nodeFenced(let node, let replica):
            return "Node \(node) did not step down after \(replica) took over; it was killed (fenced) and restarts as a replica"
        case .certificateRenewed(let node):
            return "Node \(node) has a renewed TLS certificate"
        case .migrationsClosed(let node, let slots):
            return "Node \(node): closed open migrations of slots \(SlotRange.listDescription(slots)) that no resharding step explains"
        case .available:
            return "Cluster is available"
        case .restored(let source, let keysMoved, let seconds):
            guard let keysMoved else { return "Cluster restored from \(source.description): each shard started from its own RDB" }
            return String(format: "Cluster restored from %@: %d keys moved to the primaries of their slots in %.2f s", source.description, keysMoved, seconds)
        case .updateComplete(let shards, let nodes):
            return "Cluster update complete: \(shards) shard(s) of \(nodes) node(s)"
        case .parametersApplied(let group):
            return "Parameter group \(group) applied to every node"
        case .aclApplied(let acl):
            return "ACL \(acl) applied to every node"
        case .maxmemorySet(let bytes, let nodeType):
            return "maxmemory set to \(bytes) bytes on every node (node type \(nodeType)), no restart"
        case .stopped(let nodes):
            return "Cluster stopped: its \(nodes) node\(nodes == 1 ? "" : "s") persisted every write and stopped; ports and files are kept until it starts again"
        case .snapshotBeforeEngineUpdate(let snapshot, let engine):
            return "Engine update to \(engine): snapshot \(snapshot) is taken first, before any node restarts"
        case .serviceUpdatesApplied(let engine):
            let base = "Service updates applied: every node runs the parameter group's values"
            return engine.map { base + " and engine \($0.to) (was \($0.from))" } ?? base
        case .drillCompleted(let id, let outcome):
            return "Drill \(id) completed: \(outcome)"
        case .deletionCalledOff(let reason):
            return "Cluster deletion called off: \(reason); nothing was stopped"
        case .deleted:
            return "Cluster deleted"
        case .stepFailing(let step, let times, let error):
            return "Step '\(step)' failed \(times) times in a row: \(error)"
        case .recovered:
            return "Cluster recovered: every step succeeded"
        case .supervisionPaused(let cluster, let reason):
            return "Supervision of cluster \(cluster) paused: \(reason); no node is judged down until the control plane can look again"
        case .supervisionResumed(let cluster):
            return "Supervision of cluster \(cluster) resumed"
        case .failoverBegun(let shard, let reason, let replica, let zone):
            return "Shard \(ClusterTopology.shardName(shard)) failing over: \(reason); promoting \(replica) in \(zone)"
        case .promoted(let replica, let zone, let gap):
            return "Promoted \(replica) in \(zone); \(gap.sentence)"
        case .failedOver(let shard, let seconds, let primary, let zone, let oldPrimary, let zoneLost):
            let rejoin = zoneLost ? "\(oldPrimary) rejoins as its replica when its zone returns" : "\(oldPrimary) is its replica"
            return String(format: "Shard %@ failed over in %.2f s: %@ (%@) is primary; %@", ClusterTopology.shardName(shard), seconds, primary, zone, rejoin)
        case .failoverAbandoned(let shard, let reason):
            return "Failover of shard \(ClusterTopology.shardName(shard)) abandoned: \(reason); its primary is restarted in place"
        case .slotsMoved(let move):
            return move.sentence
        case .slotsClaimed(let node, let slots, let keys, let afterCutHandover):
            let why = afterCutHandover ? "a hand-over whose source had given them up was cut short before the target claimed them" : "no live primary served them"
            return "Node \(node) claimed slot(s) \(SlotRange.listDescription(slots)) with the \(keys) key(s) it holds there: \(why)"
        case .strayKeysRemoved(let count, let slots, let shard, let through, let owners):
            return "Removed \(count) stray key(s) of slot(s) \(SlotRange.listDescription(slots)) from shard \(ClusterTopology.shardName(shard)) (through \(through)): copies a cut-short hand-over left behind; \(owners.joined(separator: ", ")) serve(s) those slots with every key"
        case .shardRetired(let shard, let members):
            return "Shard \(ClusterTopology.shardName(shard)) drained: no node serves its slots any more; retiring \(members.joined(separator: ", "))"
        }
    }
}

extension ClusterEvent.PromotionGap {
    /// What the promotion cost in writes, in words.
    var sentence: String {
        switch self {
        case .caughtUp(let demoting, let paused, let offset):
            "\(demoting) held writes for \(paused) ms while it caught up to offset \(offset), so no acknowledged write was lost"
        case .behindLostPrimary(let replicaOffset, let lostOffset):
            "replica was \(max(0, lostOffset - replicaOffset)) bytes behind the lost primary (offset \(replicaOffset) of \(lostOffset))"
        case .lostOffsetUnknown:
            "the lost primary's last offset is unknown (it did not answer before it went), so the gap cannot be measured"
        }
    }
}

extension ClusterEvent.SlotMoveSummary {
    /// The move in words: what went where, how fast, and how long clients waited at most.
    var sentence: String {
        String(
            format: "Moved %d slot(s) (%@) with %d key(s) from shard %@ (%@) to shard %@ (%@) in %.2f s; %d group(s), each held on the source for at most %.1f ms (%@)",
            slotCount, SlotRange.listDescription(slots), keys, fromShard, from, toShard, to, seconds, groups, longestHoldMilliseconds, longestHoldBreakdown)
    }
}

/// Writes cluster events to the store and the log, the one place they are recorded.
struct ClusterEventLog: Sendable {
    let store: Store
    let logger: Logger
    let clock: any WallClock

    /// Records the event on its own. Logged first: when the store cannot take it (out of
    /// descriptors), the log line stands.
    func record(_ event: ClusterEvent, cluster: String) throws {
        log([event], cluster: cluster)
        try store.addEvent(records([event], cluster: cluster)[0])
    }

    /// Records the event as part of a transaction's change.
    func record(_ event: ClusterEvent, cluster: String, in transaction: Transaction) throws {
        try transaction.record(records([event], cluster: cluster)[0])
        log([event], cluster: cluster)
    }

    /// Events of one pass, recorded with the node records they explain.
    func records(_ events: [ClusterEvent], cluster: String) -> [EventRecord] {
        let now = clock.nowMilliseconds
        return events.map { EventRecord(sourceName: cluster, sourceType: $0.sourceType, message: $0.message, createdAt: now) }
    }

    func log(_ events: [ClusterEvent], cluster: String) {
        for event in events { logger.log(level: event.level, "\(event.message)", metadata: ["cluster.name": "\(cluster)"]) }
    }
}

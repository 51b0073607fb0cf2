import Ports
import Control
import Model
import Store

/// One idempotent step towards the desired state.
public enum ReconcileAction: Sendable, Equatable {
    case startEndpoint
    /// Stop the endpoint's process (a stopped cluster keeps its port; the endpoint's files are
    /// written again when it starts).
    case stopEndpoint
    /// Every node of a stopping cluster has stopped: the cluster is `stopped`.
    case markStopped
    /// Rewrite the endpoint's backend list (primaries first).
    case routeEndpoint
    case startNode(String)
    case stopNode(String)
    /// SIGKILL: fence a hung primary, or lose a node with its zone in a drill.
    case killNode(String)
    /// A drill's hold on the node ended: discard its data when its storage counts as lost, and
    /// let it start again.
    case releaseNode(String)
    /// Stop the endpoint, delete every file of the cluster and its records.
    case removeCluster
    case setConfigEpoch(String, epoch: Int)
    /// The first node meets each of the others it does not know yet.
    case meet(String, peers: [String])
    case addSlots(String, [SlotRange])
    case replicate(String, primaryID: String)
    /// Record a failover before its first step (and, for a lost zone, kill the old primary first
    /// and keep the offset it last reported).
    case beginFailover(OperationRecord)
    /// A replica of the restarted old primary reconnects now rather than at its next retry.
    case resync(shard: Int, replica: String, primaryID: String)
    /// Promote the replica; with `demoting`, losslessly (pause, catch up, take over).
    case promote(shard: Int, replica: String, demoting: String?)
    /// The replica serves the shard's slots: record it as the desired primary, with the event.
    case finishFailover(shard: Int, newPrimary: String)
    /// The failover cannot go on (its replica is gone): drop it; the old primary stays primary.
    case abandonFailover(shard: Int, reason: String)
    /// Set the group's immediate parameters on every node, then record the revision applied.
    case applyParameters(marker: AppliedRevision)
    /// Push the ACL's users to every node, then record the revision enforced.
    case applyACL(marker: AppliedRevision)
    /// Mark the cluster available; a restore's data is put in place first (keys imported, or
    /// the seeded shards confirmed).
    case markAvailable
    /// A node leaving a live cluster (fewer replicas) is stopped: every other node forgets it,
    /// and its files and record go.
    case retireNode(String)
    /// The node still knows members that are no longer part of the cluster (retired while it
    /// was down): it forgets them.
    case forgetMembers(String, ids: [String])
    /// An update's new shape holds: the cluster is available again.
    case finishUpdate
    /// Move slots with their keys from one primary to another (a resharding's step).
    case moveSlots(from: String, to: String, slots: [SlotRange])
    /// Close open migrations no move explains (CLUSTER SETSLOT STABLE), discarding the copies
    /// an import holds.
    case stabilizeSlots(String, slots: [SlotRange])
    /// Claim slots no live primary claims, on the node holding their keys.
    case claimSlots(String, slots: [SlotRange])
    /// Delete, through this primary, the keys it or its replicas hold in slots another primary
    /// serves.
    case purgeStrayKeys(String, slots: [SlotRange])
    /// A shard beyond the cluster's count serves nothing any more: its nodes are retired and
    /// its record removed.
    case retireShard(Int)
    /// Set every node's maxmemory to its node type's (a node type change), with no restart.
    case applyMaxmemory
    /// Stop a node gracefully and start it again (a rolling restart's step: reboot-only
    /// parameters changed, or the engine binary).
    case restartNode(String)
    /// Every node runs what its group and the engine say: the pending service updates are
    /// applied (the request is cleared, EnginePatchVersion recorded).
    case finishServiceUpdates
    /// An engine update is due: snapshot the cluster before its first restart.
    case snapshotBeforeEngineUpdate(String)
    /// The final snapshot a deletion waited for failed: the deletion is called off.
    case cancelDeletion(reason: String)
    /// Every node of the drill is back, in sync: record its outcome.
    case completeDrill(String)
}

/// The decision of one pass: steps to take, node records to save, events to record.
public struct ClusterPlan: Sendable, Equatable {
    public var actions: [ReconcileAction] = []
    /// Node records whose status, role, Redis id or PID changed.
    public var nodeUpdates: [NodeRecord] = []
    public var events: [ClusterEvent] = []
    /// True when the cluster is as desired and only needs watching.
    public var settled = false
    /// Nothing to do but wait (a node starting, a drill's hold): look again after this long.
    public var waitMilliseconds: Int64?
    /// The backends the endpoint should read: each shard's primary, then the replicas.
    public var endpointBackends: [EndpointBackend] = []
}

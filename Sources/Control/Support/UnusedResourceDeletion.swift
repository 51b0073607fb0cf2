import Model
import Store
import Ports

/// Deleting a group or ACL: it must exist and no cluster may use it; it goes with its tags and
/// an event, in one transaction. The rule is the service layer's, shared by every such resource.
struct UnusedResourceDeletion {
    /// Whether the resource exists, read inside the transaction.
    var exists: (Transaction) throws -> Bool
    var notFound: MemoryDBError
    var usedBy: ClusterReference
    /// The refusal naming the clusters that use it.
    var inUse: ([String]) -> MemoryDBError
    var delete: (Transaction) throws -> Void
    var arn: String
    var event: EventRecord

    func run(in store: Store) throws {
        try store.write { transaction in
            guard try exists(transaction) else { throw notFound }
            let clusters = try transaction.clusterNames(using: usedBy)
            guard clusters.isEmpty else { throw inUse(clusters) }
            try delete(transaction)
            try transaction.removeAllTags(of: arn)
            try transaction.record(event)
        }
    }
}

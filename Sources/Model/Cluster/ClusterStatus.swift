/// A cluster's lifecycle status, with the exact strings AWS clients and Terraform wait on.
public enum ClusterStatus: String, Sendable, Codable, CaseIterable {
    case creating, available, updating, snapshotting, deleting
    /// MemoryPlane's own (beyond AWS): every node persisting and stopping, all stopped with their
    /// data, ports and files kept, and coming back.
    case stopping, stopped, starting
}

/// A node's lifecycle status. `restarting` is reported while the supervisor brings a dead node back.
public enum NodeStatus: String, Sendable, Codable, CaseIterable {
    case creating, available, restarting, deleting
    /// Its cluster is stopped: down on purpose, with its data.
    case stopped
}

/// The role a node plays in its shard, as observed on the data plane.
public enum NodeRole: String, Sendable, Codable {
    case primary, replica
}

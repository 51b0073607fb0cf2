import Model
import Ports
import Store

/// What every node of a cluster is configured with beyond its identity.
public struct NodeSettings: Sendable {
    public var parameters: ParameterTarget
    public var acl: ACLTarget

    public init(parameters: ParameterTarget, acl: ACLTarget) {
        self.parameters = parameters
        self.acl = acl
    }
}

extension NodeSpec {
    /// What the data plane needs to reach and run a stored node: its ports, its memory, the
    /// cluster's internal admin and TLS, and (for a start) the settings it is configured with.
    public static func of(_ node: NodeRecord, in cluster: ClusterRecord, settings: NodeSettings? = nil) -> NodeSpec {
        var spec = NodeSpec(
            name: node.name, port: node.port, busPort: node.busPort,
            maxmemoryBytes: (NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 1 << 30),
            admin: NodeCredentials.admin(of: cluster),
            recordedPID: node.pid, tls: cluster.tlsEnabled)
        spec.isPrimary = node.role == .primary
        if let settings {
            spec.parameters = settings.parameters.values
            spec.aclUsers = settings.acl.users
            spec.defaultUserRules = settings.acl.defaultUserRules
        }
        return spec
    }
}

extension NodeCredentials {
    /// The cluster's internal admin, the only user the control plane uses on its nodes.
    public static func admin(of cluster: ClusterRecord) -> NodeCredentials {
        NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
    }
}

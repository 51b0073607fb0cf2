import Model
import Ports

/// The settings the service layer and reconciler share, fixed for the life of a server.
public struct ControlConfiguration: Sendable {
    public var region: String
    public var accountID: String
    /// Ports for nodes and cluster endpoints; a node's bus port is its port + 10000.
    public var nodePorts: ClosedRange<Int>
    /// The installed engine, as `redis-server --version` reports it.
    public var engineVersion: EngineVersion
    /// How long `?wait=true` blocks before answering with the current state.
    public var waitTimeout: Duration
    /// When the engine binary was built or installed (its modification time, milliseconds since
    /// 1970): the release date of the service update that brings it to older clusters.
    public var engineReleasedAt: Int64 = 0
    /// The one wall clock every time read in Control and the API goes through.
    public var clock: any WallClock = SystemWallClock()

    public init(
        region: String = "us-east-1", accountID: String = "000000000000", nodePorts: ClosedRange<Int> = 7000...7999,
        engineVersion: EngineVersion, waitTimeout: Duration = .seconds(60)
    ) {
        self.region = region
        self.accountID = accountID
        self.nodePorts = nodePorts
        self.engineVersion = engineVersion
        self.waitTimeout = waitTimeout
    }

    public var availabilityZones: [String] { ClusterTopology.zones(region: region) }

    /// `arn:aws:memorydb:us-east-1:000000000000:cluster/demo`.
    public func arn(_ resourceType: ResourceARN.ResourceType, _ name: String) -> String {
        ResourceARN(region: region, account: accountID, type: resourceType, name: name).description
    }
}

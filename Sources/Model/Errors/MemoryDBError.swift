/// A failure the API reports to a caller, named by one of the faults in AWS MemoryDB's model.
///
/// Every error that crosses a door is one of these, so REST and the AWS door render the same
/// fault name and message; the door alone decides the HTTP status and the body shape.
public struct MemoryDBError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The fault's wire name, exactly as botocore's memorydb model spells it.
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidParameterValue = Code(rawValue: "InvalidParameterValueException")
        public static let invalidParameterCombination = Code(rawValue: "InvalidParameterCombinationException")
        public static let clusterAlreadyExists = Code(rawValue: "ClusterAlreadyExistsFault")
        public static let clusterNotFound = Code(rawValue: "ClusterNotFoundFault")
        public static let invalidClusterState = Code(rawValue: "InvalidClusterStateFault")
        public static let aclNotFound = Code(rawValue: "ACLNotFoundFault")
        public static let parameterGroupNotFound = Code(rawValue: "ParameterGroupNotFoundFault")
        public static let subnetGroupNotFound = Code(rawValue: "SubnetGroupNotFoundFault")
        public static let insufficientClusterCapacity = Code(rawValue: "InsufficientClusterCapacityFault")
        public static let nodeQuotaForClusterExceeded = Code(rawValue: "NodeQuotaForClusterExceededFault")
        public static let shardsPerClusterQuotaExceeded = Code(rawValue: "ShardsPerClusterQuotaExceededFault")
        public static let tagQuotaPerResourceExceeded = Code(rawValue: "TagQuotaPerResourceExceeded")
        public static let parameterGroupAlreadyExists = Code(rawValue: "ParameterGroupAlreadyExistsFault")
        public static let invalidParameterGroupState = Code(rawValue: "InvalidParameterGroupStateFault")
        public static let subnetGroupAlreadyExists = Code(rawValue: "SubnetGroupAlreadyExistsFault")
        public static let subnetGroupInUse = Code(rawValue: "SubnetGroupInUseFault")
        public static let invalidSubnet = Code(rawValue: "InvalidSubnet")
        public static let subnetQuotaExceeded = Code(rawValue: "SubnetQuotaExceededFault")
        public static let userAlreadyExists = Code(rawValue: "UserAlreadyExistsFault")
        public static let aclAlreadyExists = Code(rawValue: "ACLAlreadyExistsFault")
        public static let invalidACLState = Code(rawValue: "InvalidACLStateFault")
        public static let invalidUserState = Code(rawValue: "InvalidUserStateFault")
        public static let duplicateUserName = Code(rawValue: "DuplicateUserNameFault")
        public static let defaultUserRequired = Code(rawValue: "DefaultUserRequired")
        public static let invalidARN = Code(rawValue: "InvalidARNFault")
        public static let tagNotFound = Code(rawValue: "TagNotFoundFault")
        public static let userNotFound = Code(rawValue: "UserNotFoundFault")
        public static let snapshotNotFound = Code(rawValue: "SnapshotNotFoundFault")
        public static let snapshotAlreadyExists = Code(rawValue: "SnapshotAlreadyExistsFault")
        public static let snapshotQuotaExceeded = Code(rawValue: "SnapshotQuotaExceededFault")
        public static let invalidSnapshotState = Code(rawValue: "InvalidSnapshotStateFault")
        public static let invalidKMSKey = Code(rawValue: "InvalidKMSKeyFault")
        public static let noOperation = Code(rawValue: "NoOperationFault")
        public static let shardNotFound = Code(rawValue: "ShardNotFoundFault")
        public static let serviceUpdateNotFound = Code(rawValue: "ServiceUpdateNotFoundFault")
        public static let testFailoverNotAvailable = Code(rawValue: "TestFailoverNotAvailableFault")
        public static let invalidCredentials = Code(rawValue: "InvalidCredentialsException")
        public static let apiCallRateExceeded = Code(rawValue: "APICallRateForCustomerExceededFault")
        /// Not a modelled fault (drills are MemoryPlane's own): a drill id that does not exist.
        public static let drillNotFound = Code(rawValue: "DrillNotFoundFault")
        /// MemoryPlane's own: no stack by that name.
        public static let stackNotFound = Code(rawValue: "StackNotFoundFault")
        /// MemoryPlane's own: another apply or destroy of the stack is running.
        public static let stackBusy = Code(rawValue: "StackBusyFault")
        /// Not a modelled fault: the catch-all for bugs, rendered as a 500.
        public static let internalFailure = Code(rawValue: "InternalFailure")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Shorthand for the most common fault: a field whose value breaks a rule.
    public static func invalid(_ message: String) -> MemoryDBError {
        MemoryDBError(.invalidParameterValue, message)
    }
}

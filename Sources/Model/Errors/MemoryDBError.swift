/// A failure the API reports to a caller, named by one of the faults in AWS MemoryDB's model.
///
/// Every error that crosses a door is one of these, so REST and the AWS door render the same
/// fault name and message; the door alone decides the HTTP status and the body shape.
public struct MemoryDBError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The fault's wire name, exactly as botocore's memorydb model spells it. Exhaustive: a new
    /// fault must choose its HTTP statuses (`wireStatus`) to compile.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case invalidParameterValue = "InvalidParameterValueException"
        case invalidParameterCombination = "InvalidParameterCombinationException"
        case clusterAlreadyExists = "ClusterAlreadyExistsFault"
        case clusterNotFound = "ClusterNotFoundFault"
        case invalidClusterState = "InvalidClusterStateFault"
        case aclNotFound = "ACLNotFoundFault"
        case parameterGroupNotFound = "ParameterGroupNotFoundFault"
        case subnetGroupNotFound = "SubnetGroupNotFoundFault"
        case insufficientClusterCapacity = "InsufficientClusterCapacityFault"
        case nodeQuotaForClusterExceeded = "NodeQuotaForClusterExceededFault"
        case shardsPerClusterQuotaExceeded = "ShardsPerClusterQuotaExceededFault"
        case tagQuotaPerResourceExceeded = "TagQuotaPerResourceExceeded"
        case parameterGroupAlreadyExists = "ParameterGroupAlreadyExistsFault"
        case invalidParameterGroupState = "InvalidParameterGroupStateFault"
        case subnetGroupAlreadyExists = "SubnetGroupAlreadyExistsFault"
        case subnetGroupInUse = "SubnetGroupInUseFault"
        case invalidSubnet = "InvalidSubnet"
        case subnetQuotaExceeded = "SubnetQuotaExceededFault"
        case userAlreadyExists = "UserAlreadyExistsFault"
        case aclAlreadyExists = "ACLAlreadyExistsFault"
        case invalidACLState = "InvalidACLStateFault"
        case invalidUserState = "InvalidUserStateFault"
        case duplicateUserName = "DuplicateUserNameFault"
        case defaultUserRequired = "DefaultUserRequired"
        case invalidARN = "InvalidARNFault"
        case tagNotFound = "TagNotFoundFault"
        case userNotFound = "UserNotFoundFault"
        case snapshotNotFound = "SnapshotNotFoundFault"
        case snapshotAlreadyExists = "SnapshotAlreadyExistsFault"
        case snapshotQuotaExceeded = "SnapshotQuotaExceededFault"
        case invalidSnapshotState = "InvalidSnapshotStateFault"
        case invalidKMSKey = "InvalidKMSKeyFault"
        case noOperation = "NoOperationFault"
        case shardNotFound = "ShardNotFoundFault"
        case serviceUpdateNotFound = "ServiceUpdateNotFoundFault"
        case testFailoverNotAvailable = "TestFailoverNotAvailableFault"
        case invalidCredentials = "InvalidCredentialsException"
        case apiCallRateExceeded = "APICallRateForCustomerExceededFault"
            /// Not a modelled fault (drills are MemoryPlane's own): a drill id that does not exist.
        case drillNotFound = "DrillNotFoundFault"
            /// MemoryPlane's own: no stack by that name.
        case stackNotFound = "StackNotFoundFault"
            /// MemoryPlane's own: another apply or destroy of the stack is running.
        case stackBusy = "StackBusyFault"
        case reservedNodesOfferingNotFound = "ReservedNodesOfferingNotFoundFault"
        case reservedNodeNotFound = "ReservedNodeNotFoundFault"
        case reservedNodeAlreadyExists = "ReservedNodeAlreadyExistsFault"
        case reservedNodeQuotaExceeded = "ReservedNodeQuotaExceededFault"
            /// AWS's (IAM's) refusal: the caller's key is not allowed this action on this resource.
        case accessDenied = "AccessDeniedException"
            /// MemoryPlane's own: no access key with that id.
        case accessKeyNotFound = "AccessKeyNotFoundFault"
            /// MemoryPlane's own: a key by that name exists (rotate it for a second key).
        case accessKeyAlreadyExists = "AccessKeyAlreadyExistsFault"
            /// MemoryPlane's own: a principal holds at most two keys, as IAM's AccessKeysPerUser quota.
        case accessKeyQuotaExceeded = "AccessKeyQuotaExceededFault"
            /// MemoryPlane's own: the change would leave no active admin key.
        case invalidAccessKeyState = "InvalidAccessKeyStateFault"
            /// Not a modelled fault: the catch-all for bugs, rendered as a 500.
        case internalFailure = "InternalFailure"
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

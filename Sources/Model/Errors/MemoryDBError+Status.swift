/// How each fault is answered on the wire: its HTTP status on the REST door and on the AWS
/// door. One switch, read by both doors; the compiler checks that every fault has a case.
///
/// REST uses the status that says what went wrong (404 missing, 409 exists or wrong state, 503
/// no capacity, 429 throttled); the AWS door answers every client fault 400 as AWS does, which
/// is what botocore and Terraform expect.
extension MemoryDBError.Code {
    public struct WireStatus: Sendable, Equatable {
        public let rest: Int
        public let aws: Int
    }

    static let badRequest = WireStatus(rest: 400, aws: 400)
    static let notFound = WireStatus(rest: 404, aws: 400)
    static let conflict = WireStatus(rest: 409, aws: 400)

    /// This fault's statuses.
    public var wireStatus: WireStatus {
        switch self {
        case .invalidParameterValue, .invalidParameterCombination, .invalidARN, .invalidSubnet, .duplicateUserName, .defaultUserRequired,
            .nodeQuotaForClusterExceeded, .shardsPerClusterQuotaExceeded, .tagQuotaPerResourceExceeded, .subnetQuotaExceeded, .snapshotQuotaExceeded,
            .invalidKMSKey, .noOperation, .accessKeyQuotaExceeded, .reservedNodeQuotaExceeded:
            return Self.badRequest
        case .clusterNotFound, .aclNotFound, .parameterGroupNotFound, .subnetGroupNotFound, .userNotFound, .snapshotNotFound, .shardNotFound,
            .drillNotFound, .stackNotFound, .tagNotFound, .serviceUpdateNotFound, .accessKeyNotFound,
            .reservedNodesOfferingNotFound, .reservedNodeNotFound:
            return Self.notFound
        case .stackBusy, .clusterAlreadyExists, .parameterGroupAlreadyExists, .subnetGroupAlreadyExists, .userAlreadyExists, .aclAlreadyExists,
            .invalidClusterState, .invalidParameterGroupState, .invalidACLState, .invalidUserState, .subnetGroupInUse, .testFailoverNotAvailable,
            .snapshotAlreadyExists, .invalidSnapshotState, .accessKeyAlreadyExists, .invalidAccessKeyState,
            .reservedNodeAlreadyExists:
            return Self.conflict
        case .insufficientClusterCapacity:
            return WireStatus(rest: 503, aws: 400)
        case .apiCallRateExceeded:
            return WireStatus(rest: 429, aws: 400)
        case .accessDenied:
            // AWS answers AccessDeniedException 400 on the JSON door; REST says what it is: 403.
            return WireStatus(rest: 403, aws: 400)
        case .invalidCredentials:
            return WireStatus(rest: 401, aws: 403)
        case .internalFailure:
            return WireStatus(rest: 500, aws: 500)
        }
    }
}

/// How each fault is answered on the wire: its HTTP status on the REST door and on the AWS
/// door. One table, read by both doors; a test checks that every fault has a row.
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

    public static let wireStatuses: [MemoryDBError.Code: WireStatus] = [
        .invalidParameterValue: badRequest,
        .invalidParameterCombination: badRequest,
        .invalidARN: badRequest,
        .invalidSubnet: badRequest,
        .duplicateUserName: badRequest,
        .defaultUserRequired: badRequest,
        .nodeQuotaForClusterExceeded: badRequest,
        .shardsPerClusterQuotaExceeded: badRequest,
        .tagQuotaPerResourceExceeded: badRequest,
        .subnetQuotaExceeded: badRequest,
        .clusterNotFound: notFound,
        .aclNotFound: notFound,
        .parameterGroupNotFound: notFound,
        .subnetGroupNotFound: notFound,
        .userNotFound: notFound,
        .snapshotNotFound: notFound,
        .shardNotFound: notFound,
        .drillNotFound: notFound,
        .stackNotFound: notFound,
        .stackBusy: conflict,
        .tagNotFound: notFound,
        .clusterAlreadyExists: conflict,
        .parameterGroupAlreadyExists: conflict,
        .subnetGroupAlreadyExists: conflict,
        .userAlreadyExists: conflict,
        .aclAlreadyExists: conflict,
        .invalidClusterState: conflict,
        .invalidParameterGroupState: conflict,
        .invalidACLState: conflict,
        .invalidUserState: conflict,
        .subnetGroupInUse: conflict,
        .testFailoverNotAvailable: conflict,
        .snapshotAlreadyExists: conflict,
        .invalidSnapshotState: conflict,
        .snapshotQuotaExceeded: badRequest,
        .invalidKMSKey: badRequest,
        .noOperation: badRequest,
        .serviceUpdateNotFound: notFound,
        .insufficientClusterCapacity: WireStatus(rest: 503, aws: 400),
        .apiCallRateExceeded: WireStatus(rest: 429, aws: 400),
        .invalidCredentials: WireStatus(rest: 401, aws: 403),
        .internalFailure: WireStatus(rest: 500, aws: 500),
    ]

    /// This fault's statuses; a fault missing from the table is a client error (400).
    public var wireStatus: WireStatus { Self.wireStatuses[self] ?? Self.badRequest }

    /// Every fault this server raises, for the test that each has a row.
    public static let all: [MemoryDBError.Code] = Array(wireStatuses.keys)
}

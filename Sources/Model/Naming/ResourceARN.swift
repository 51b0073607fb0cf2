/// A MemoryDB ARN: `arn:aws:memorydb:<region>:<account>:<type>/<name>`.
public struct ResourceARN: Sendable, Hashable, CustomStringConvertible {
    /// The resource types MemoryDB names in ARNs.
    public enum ResourceType: String, Sendable, CaseIterable {
        case cluster, user, acl, snapshot, subnetgroup, parametergroup
        /// A reserved-node purchase, by its reservation id.
        case reservednode
    }

    public var region: String
    public var account: String
    public var type: ResourceType
    public var name: String

    public init(region: String, account: String, type: ResourceType, name: String) {
        self.region = region
        self.account = account
        self.type = type
        self.name = name
    }

    /// Parses an ARN; the error says which part is wrong.
    public init(parsing text: String) throws(MemoryDBError) {
        // Split on scalars, not Characters: a combining mark after ':' or '/' would otherwise
        // merge with it into one Character and hide the separator.
        let parts = text.unicodeScalars.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        guard parts.count == 6, parts[0] == "arn", parts[1] == "aws", parts[2] == "memorydb" else {
            throw MemoryDBError(.invalidARN, "'\(text)' is not a MemoryDB ARN (arn:aws:memorydb:<region>:<account>:<type>/<name>).")
        }
        let resource = parts[5].unicodeScalars.split(separator: "/", maxSplits: 1).map { String(String.UnicodeScalarView($0)) }
        guard resource.count == 2, let type = ResourceType(rawValue: resource[0]), !resource[1].isEmpty else {
            throw MemoryDBError(
                .invalidARN,
                "'\(text)' names no MemoryDB resource; the part after the account must be <type>/<name> with type one of \(ResourceType.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        self.init(region: parts[3], account: parts[4], type: type, name: resource[1])
    }

    public var description: String { "arn:aws:memorydb:\(region):\(account):\(type.rawValue)/\(name)" }
}

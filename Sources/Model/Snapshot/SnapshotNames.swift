/// Snapshot names, automated snapshots' names, export buckets and the S3 ARNs that name exports.
public enum SnapshotNames {
    /// A user's snapshot name: a resource name of at most 255 characters.
    public static func validate(_ raw: String, field: String) throws(MemoryDBError) -> String {
        try ResourceName.normalise(raw, field: field, maxLength: 255)
    }

    /// As AWS names automated snapshots: `automatic.<cluster>-yyyy-mm-dd-hh-mm` (UTC).
    public static func automated(cluster: String, year: Int, month: Int, day: Int, hour: Int, minute: Int) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "automatic.\(cluster)-\(year)-\(two(month))-\(two(day))-\(two(hour))-\(two(minute))"
    }

    /// The snapshot a rolling restart for an engine update takes first, named for the update:
    /// `automatic.<cluster>-before-engine-7-0-15`. Kept as the cluster's automated snapshots are
    /// (at least a day, even with a retention limit of 0).
    public static func beforeEngineUpdate(cluster: String, engine: String) -> String {
        "automatic.\(cluster)-before-engine-\(String(engine.map { $0 == "." ? "-" : $0 }))"
    }

    public static func isBeforeEngineUpdate(_ name: String) -> Bool {
        name.hasPrefix("automatic.") && name.contains("-before-engine-")
    }

    /// An S3 bucket name as AWS allows it: 3–63 lower-case letters, digits, `.` and `-`, starting
    /// and ending with a letter or digit. It names a directory under the export directory.
    public static func validateBucket(_ bucket: String, field: String) throws(MemoryDBError) -> String {
        let allowed = bucket.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
        guard (3...63).contains(bucket.count), allowed, let first = bucket.unicodeScalars.first, let last = bucket.unicodeScalars.last,
            first != "." && first != "-" && last != "." && last != "-", !bucket.contains("..")
        else {
            throw .invalid("\(field) '\(bucket)' is not a bucket name (3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit).")
        }
        return bucket
    }

    /// `arn:aws:s3:::<bucket>/<key>` → (bucket, key), the key a plain file name (no `..`, no `/`
    /// beyond the bucket's).
    public static func parseS3ARN(_ arn: String) throws(MemoryDBError) -> (bucket: String, key: String) {
        let prefix = "arn:aws:s3:::"
        guard arn.hasPrefix(prefix) else {
            throw .invalid("snapshotArns: '\(arn)' is not an S3 object ARN (arn:aws:s3:::<bucket>/<key>).")
        }
        let path = arn.dropFirst(prefix.count)
        guard let slash = path.firstIndex(of: "/") else {
            throw .invalid("snapshotArns: '\(arn)' names a bucket but no object (arn:aws:s3:::<bucket>/<key>).")
        }
        let bucket = try validateBucket(String(path[..<slash]), field: "snapshotArns")
        let key = String(path[path.index(after: slash)...])
        // A file name directly inside the bucket's directory, of S3's safe characters.
        let safe = key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        guard (1...255).contains(key.count), safe, !key.hasPrefix(".") else {
            throw .invalid("snapshotArns: '\(arn)' must name a file directly inside the bucket: letters, digits, '.', '_' and '-', not starting with '.'.")
        }
        return (bucket, key)
    }
}

/// An exported RDB file, named by `arn:aws:s3:::<bucket>/<key>`.
public struct ExportedObject: Sendable, Equatable, Codable {
    public var bucket: String
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }
}

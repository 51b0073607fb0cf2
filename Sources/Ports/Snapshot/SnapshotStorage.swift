import Foundation
import Model

/// Where snapshot files live and how they get there: `<data-dir>/snapshots/<name>/<shard>.rdb.enc`
/// (encrypted, written atomically), plain RDB exports under `<export-dir>/<bucket>/`, and the
/// decrypted files a restore starts from under `<data-dir>/restores/<cluster>/`.
public struct SnapshotStorage: Sendable {
    public let dataDirectory: String
    public let exportDirectory: String
    let cipher: @Sendable () throws -> SnapshotCipher

    public init(dataDirectory: String, exportDirectory: String? = nil) {
        self.dataDirectory = dataDirectory
        self.exportDirectory = exportDirectory ?? "\(dataDirectory)/exports"
        // Loaded on first need, so a server that never snapshots never makes a key.
        self.cipher = { try SnapshotCipher.load(dataDirectory: dataDirectory) }
    }

    public func directory(of snapshot: String) -> String { "\(dataDirectory)/snapshots/\(snapshot)" }
    public func fileName(shard: Int) -> String { "\(ClusterTopology.shardName(shard)).rdb.enc" }
    public func path(of snapshot: String, file: String) -> String { "\(directory(of: snapshot))/\(file)" }
    public func restoreDirectory(of cluster: String) -> String { "\(dataDirectory)/restores/\(cluster)" }
    public func restoreFile(cluster: String, shard: Int) -> String { "\(restoreDirectory(of: cluster))/\(ClusterTopology.shardName(shard)).rdb" }
    /// A private place for plaintext files in transit (same file system as the data directory).
    public var stagingDirectory: String { "\(dataDirectory)/scratch/staging" }

    /// Encrypts a plaintext RDB into the snapshot's directory; the plaintext stays where it is.
    public func store(_ plaintext: String, snapshot: String, shard: Int) throws -> (file: String, fingerprint: SnapshotCipher.Fingerprint) {
        try PrivateDirectory.make(directory(of: snapshot))
        let file = fileName(shard: shard)
        let fingerprint = try cipher().encrypt(plaintext, to: path(of: snapshot, file: file))
        return (file, fingerprint)
    }

    /// Decrypts one shard's file to `destination`, checking it against its recorded SHA-256.
    public func decrypt(snapshot: String, file: String, sha256: String, to destination: String) throws {
        do {
            try cipher().decrypt(path(of: snapshot, file: file), to: destination, expectedSHA256: sha256)
        } catch {
            // A half-written copy must not be taken for the snapshot; the decryption error is thrown.
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
    }

    /// A new private staging path for a plaintext file.
    public func stagingPath(_ label: String) throws -> String {
        try PrivateDirectory.make(stagingDirectory)
        return "\(stagingDirectory)/\(label)-\(UUID().uuidString.prefix(8).lowercased()).rdb"
    }

    /// Copies every file of a snapshot to a new one (still encrypted), atomically per file.
    public func copy(_ source: String, to target: String, files: [String]) throws {
        try PrivateDirectory.make(directory(of: target))
        for file in files {
            let temporary = path(of: target, file: file) + ".tmp"
            // What an interrupted earlier copy left, if anything.
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: path(of: source, file: file), toPath: temporary)
            try Self.syncFile(temporary)
            guard rename(temporary, path(of: target, file: file)) == 0 else { throw SnapshotFileError("cannot move \(temporary) into place") }
        }
    }

    /// Writes one shard as a plain RDB into `<export-dir>/<bucket>/<key>` (0600), atomically.
    public func export(snapshot: String, file: String, sha256: String, bucket: String, key: String) throws -> String {
        let directory = "\(exportDirectory)/\(bucket)"
        try PrivateDirectory.make(directory)
        let destination = "\(directory)/\(key)"
        let temporary = destination + ".tmp"
        try decrypt(snapshot: snapshot, file: file, sha256: sha256, to: temporary)
        guard rename(temporary, destination) == 0 else { throw SnapshotFileError("cannot move \(temporary) into place") }
        return destination
    }

    /// The path of an exported object, `arn:aws:s3:::<bucket>/<key>`.
    public func exportPath(bucket: String, key: String) -> String { "\(exportDirectory)/\(bucket)/\(key)" }

    /// Deletes a snapshot's files.
    public func remove(_ snapshot: String) {
        // Best effort: the snapshot's record is gone already, so files that cannot be removed
        // only take disk space under snapshots/; nothing reads them any more.
        try? FileManager.default.removeItem(atPath: directory(of: snapshot))
    }

    /// Whether a file is an RDB (it starts `REDIS` and a version): a cheap check before a
    /// restore commits to it.
    public static func looksLikeRDB(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 9)) ?? Data()
        return head.count == 9 && head.prefix(5) == Data("REDIS".utf8)
    }

    static func syncFile(_ path: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw SnapshotFileError("cannot open \(path)") }
        defer { try? handle.close() }
        try handle.synchronize()
    }
}

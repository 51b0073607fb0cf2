@preconcurrency import Crypto
import Foundation

/// Encryption at rest for snapshot files: AES-256-GCM in chunks, so a file of any size streams
/// through memory a chunk at a time.
///
/// Layout: `MPSNAP01`, then chunks of `[plaintext length: 4 bytes BE][nonce: 12][ciphertext][tag: 16]`.
/// Each chunk's authenticated data is its index and whether it is the last, so chunks cannot be
/// reordered, dropped or the file cut short without decryption failing. The key is 32 random
/// bytes in `<data-dir>/snapshot.key` (0600), made on first need; exports are plain RDB.
public struct SnapshotCipher: Sendable {
    static let magic = Data("MPSNAP01".utf8)
    static let chunkSize = 4 << 20
    /// The key's bytes (a `SymmetricKey` is made from them per file: it is not `Sendable`).
    let keyBytes: [UInt8]

    public init(key: SymmetricKey) {
        keyBytes = key.withUnsafeBytes { Array($0) }
    }

    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The data directory's snapshot key, made (0600) when there is none.
    public static func load(dataDirectory: String) throws -> SnapshotCipher {
        let path = "\(dataDirectory)/snapshot.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw SnapshotFileError("\(path) is not a 32-byte key; restore it from a backup or remove it (snapshots made with it become unreadable)") }
            return SnapshotCipher(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        FileManager.default.createFile(atPath: path + ".tmp", contents: bytes, attributes: [.posixPermissions: 0o600])
        guard rename(path + ".tmp", path) == 0 else { throw SnapshotFileError("cannot write \(path)") }
        return SnapshotCipher(key: key)
    }

    /// What a plaintext file was: its size and SHA-256 (hex).
    public struct Fingerprint: Sendable, Equatable {
        public var size: Int64
        public var sha256: String
    }

    /// Encrypts `source` into `destination` atomically (temporary file, fsync, rename).
    public func encrypt(_ source: String, to destination: String) throws -> Fingerprint {
        guard let input = FileHandle(forReadingAtPath: source) else { throw SnapshotFileError("cannot read \(source)") }
        defer { try? input.close() }
        let temporary = destination + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = FileHandle(forWritingAtPath: temporary)
        else { throw SnapshotFileError("cannot create \(temporary)") }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try output.write(contentsOf: Self.magic)
            var index: UInt64 = 0
            var chunk = try input.read(upToCount: Self.chunkSize) ?? Data()
            while true {
                let next = chunk.count == Self.chunkSize ? (try input.read(upToCount: Self.chunkSize) ?? Data()) : Data()
                let last = next.isEmpty
                hasher.update(data: chunk)
                size += Int64(chunk.count)
                let sealed = try AES.GCM.seal(chunk, using: key, authenticating: Self.context(index, last: last))
                var length = UInt32(chunk.count).bigEndian
                try output.write(contentsOf: Data(bytes: &length, count: 4))
                try output.write(contentsOf: Data(sealed.nonce))
                try output.write(contentsOf: sealed.ciphertext)
                try output.write(contentsOf: sealed.tag)
                if last { break }
                chunk = next
                index += 1
            }
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, destination) == 0 else { throw SnapshotFileError("cannot move \(temporary) into place") }
        Self.syncDirectory(of: destination)
        return Fingerprint(size: size, sha256: Self.hex(hasher.finalize()))
    }

    /// Decrypts `source` into `destination` (0600), checking every chunk and, when given, the
    /// plaintext's SHA-256. Throws `SnapshotFileError` naming what is wrong.
    @discardableResult
    public func decrypt(_ source: String, to destination: String, expectedSHA256: String? = nil) throws -> Fingerprint {
        guard let input = FileHandle(forReadingAtPath: source) else { throw SnapshotFileError("\(source) is missing") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = FileHandle(forWritingAtPath: destination)
        else { throw SnapshotFileError("cannot create \(destination)") }
        defer { try? output.close() }
        guard try input.read(upToCount: Self.magic.count) == Self.magic else {
            throw SnapshotFileError("\(source) is not a MemoryPlane snapshot file (bad header)")
        }
        var hasher = SHA256()
        var size: Int64 = 0
        var index: UInt64 = 0
        while true {
            guard let header = try input.read(upToCount: 4), header.count == 4 else {
                throw SnapshotFileError("\(source) ends before its last chunk (cut short)")
            }
            let length = Int(header.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).bigEndian })
            guard length <= Self.chunkSize, let body = try input.read(upToCount: 12 + length + 16), body.count == 12 + length + 16 else {
                throw SnapshotFileError("\(source) is damaged: chunk \(index) is incomplete")
            }
            // A chunk shorter than the chunk size is most likely the last; its tag proves which.
            let last = length < Self.chunkSize
            let plaintext: (data: Data, last: Bool)
            do {
                let box = try AES.GCM.SealedBox(
                    nonce: AES.GCM.Nonce(data: body.prefix(12)), ciphertext: body.dropFirst(12).prefix(length), tag: body.suffix(16))
                plaintext = try Self.open(box, key: key, index: index, preferLast: last)
            } catch let error as SnapshotFileError {
                throw error
            } catch {
                throw SnapshotFileError("\(source) is corrupted: chunk \(index) fails authentication (\(error))")
            }
            hasher.update(data: plaintext.data)
            size += Int64(plaintext.data.count)
            try output.write(contentsOf: plaintext.data)
            if plaintext.last {
                guard (try input.read(upToCount: 1) ?? Data()).isEmpty else {
                    throw SnapshotFileError("\(source) is damaged: bytes follow its last chunk")
                }
                break
            }
            index += 1
        }
        try output.synchronize()
        let fingerprint = Fingerprint(size: size, sha256: Self.hex(hasher.finalize()))
        if let expectedSHA256, expectedSHA256 != fingerprint.sha256 {
            throw SnapshotFileError("\(source) decrypts to data whose SHA-256 is \(fingerprint.sha256), not the \(expectedSHA256) recorded")
        }
        return fingerprint
    }

    /// Opens a chunk as the last one or not, as its tag says.
    private static func open(_ box: AES.GCM.SealedBox, key: SymmetricKey, index: UInt64, preferLast: Bool) throws -> (data: Data, last: Bool) {
        for last in preferLast ? [true, false] : [false, true] {
            if let data = try? AES.GCM.open(box, using: key, authenticating: context(index, last: last)) { return (data, last) }
        }
        throw SnapshotFileError("chunk \(index) fails authentication: the file was changed or damaged")
    }

    /// Makes a rename durable: the directory entry is on disk too, not only the file's bytes.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        Glibc.close(descriptor)
    }

    static func context(_ index: UInt64, last: Bool) -> Data {
        var value = index.bigEndian
        return Data(bytes: &value, count: 8) + Data([last ? 1 : 0])
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A snapshot file that is missing, damaged or does not match its record.
public struct SnapshotFileError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

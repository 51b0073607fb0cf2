@preconcurrency import Crypto
import Foundation

/// Seals access-key secrets for the database: AES-256-GCM under a key in
/// `<data-dir>/access-keys.key` (0600), made on first start.
///
/// A SigV4 signature can only be checked with the secret itself (the signing key is an HMAC
/// chain over it), so the server must be able to recover it: a one-way hash would do for HTTP
/// Basic but not for the AWS door. Sealing keeps the secret out of the database file, its WAL and
/// its backups; whoever can read the key file too (this user, root) can recover every secret, as
/// they could by reading the server's memory.
public struct SecretSealer: Sendable {
    let keyBytes: [UInt8]

    public init(key: SymmetricKey) {
        keyBytes = key.withUnsafeBytes { Array($0) }
    }

    /// A key that lives only as long as the process: for tests and in-memory stores.
    public static func ephemeral() -> SecretSealer { SecretSealer(key: SymmetricKey(size: .bits256)) }

    /// The data directory's key, made (0600) when there is none.
    public static func load(dataDirectory: String) throws -> SecretSealer {
        let path = "\(dataDirectory)/access-keys.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else {
                throw SecretSealerError("\(path) is not a 32-byte key; restore it from a backup (the stored access keys cannot be read without it)")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return SecretSealer(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        guard FileManager.default.createFile(atPath: path + ".tmp", contents: key.withUnsafeBytes { Data($0) }, attributes: [.posixPermissions: 0o600]),
            rename(path + ".tmp", path) == 0
        else { throw SecretSealerError("cannot write \(path)") }
        return SecretSealer(key: key)
    }

    /// The sealed box of `secret`, bound to the key id so a sealed secret cannot be moved to
    /// another key's row.
    public func seal(_ secret: String, keyID: String) throws -> Data {
        let box = try AES.GCM.seal(Data(secret.utf8), using: SymmetricKey(data: keyBytes), authenticating: Data(keyID.utf8))
        guard let combined = box.combined else { throw SecretSealerError("AES-GCM gave no combined box") }
        return combined
    }

    public func open(_ sealed: Data, keyID: String) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: SymmetricKey(data: keyBytes), authenticating: Data(keyID.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw SecretSealerError("a stored access key secret cannot be unsealed: the data directory's access-keys.key is not the one it was sealed with")
        }
    }
}

public struct SecretSealerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

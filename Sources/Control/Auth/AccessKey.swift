import Foundation
import Ports

/// An access key pair; the credentials file holds the first (the admin's).
///
/// Kept as an AWS shared-credentials file (profile `memoryplane`, mode 0600) so the AWS CLI and
/// boto3 can use it as is; the secret is never logged or returned by the API.
public struct AccessKey: Sendable, Equatable {
    public var id: String
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    public static let profile = "memoryplane"

    /// Reads the key pair from `path`, or creates a new one there (0600) on first start. A key
    /// pair `given` by the operator replaces whatever the file held, so the file always names
    /// the keys the server accepts.
    public static func loadOrCreate(at path: String, given: AccessKey? = nil) throws -> (key: AccessKey, created: Bool) {
        if let given {
            try write(given, to: path)
            return (given, false)
        }
        if FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let key = parse(text) else {
                throw CredentialsFileError(path: path, reason: "no [\(profile)] profile with aws_access_key_id and aws_secret_access_key")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return (key, false)
        }
        let key = generate()
        try write(key, to: path)
        return (key, true)
    }

    /// A fresh pair: `AKMP` and 16 base-32 characters (an AWS-shaped id), and a 40-character secret.
    public static func generate() -> AccessKey {
        AccessKey(
            id: "AKMP" + random(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            secret: random(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
    }

    static func write(_ key: AccessKey, to path: String) throws {
        let text = "[\(profile)]\naws_access_key_id = \(key.id)\naws_secret_access_key = \(key.secret)\n"
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CredentialsFileError(path: path, reason: "cannot be written")
        }
        guard rename(temporary, path) == 0 else {
            throw CredentialsFileError(path: path, reason: "cannot be moved into place (errno \(errno))")
        }
    }

    static func parse(_ text: String) -> AccessKey? {
        parse(text, profile: profile)
    }

    /// The key pair of one profile of an AWS shared-credentials file.
    public static func parse(_ text: String, profile: String) -> AccessKey? {
        var inProfile = false
        var values: [String: String] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                inProfile = line == "[\(profile)]"
                continue
            }
            guard inProfile, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"], !id.isEmpty, !secret.isEmpty else {
            return nil
        }
        return AccessKey(id: id, secret: secret)
    }

    private static func random(_ count: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in characters[Int.random(in: 0..<characters.count, using: &generator)] })
    }

    /// Compares secrets in time independent of where they differ.
    public func matches(id: String, secret: String) -> Bool {
        let a = Array(self.secret.utf8)
        let b = Array(secret.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
        return difference == 0 && id == self.id
    }
}

/// The credentials file exists but cannot be used.
public struct CredentialsFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "credentials file \(path): \(reason)" }
}

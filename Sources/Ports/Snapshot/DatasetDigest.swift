@preconcurrency import Crypto
import Foundation

/// Combines Redis' `DEBUG DIGEST` of several nodes into the digest of their data taken together,
/// so a snapshot of N shards and a restore into M compare as one dataset.
///
/// Redis computes a dataset's digest as `C ⊕ h(k1) ⊕ h(k2) ⊕ ...`: one constant `C` for database 0
/// (SHA-1 of 20 zero bytes XOR SHA-1 of the database number, hashed again) and one hash per key,
/// all zeros when there is no key. XOR is order-free, so the keys' part of each node's digest
/// (`digest ⊕ C`) XORs into the whole's.
public enum DatasetDigest {
    public static let empty = String(repeating: "0", count: 40)

    /// `C`: what `mixDigest(zeros, htonl(0))` leaves for database 0.
    static let databaseZero: [UInt8] = {
        let id = [UInt8](repeating: 0, count: 4)
        let hashed = Array(Insecure.SHA1.hash(data: id))
        // xorDigest into 20 zero bytes, then SHA-1 of the result.
        return Array(Insecure.SHA1.hash(data: hashed))
    }()

    public static func combine(_ digests: [String]) -> String {
        var keys = [UInt8](repeating: 0, count: 20)
        var any = false
        for digest in digests where digest != empty {
            guard let bytes = bytes(digest) else { continue }
            any = true
            for index in 0..<20 { keys[index] ^= bytes[index] ^ databaseZero[index] }
        }
        guard any else { return empty }
        return hex(zip(keys, databaseZero).map { $0 ^ $1 })
    }

    static func bytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var out: [UInt8] = []
        for index in stride(from: 0, to: 40, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

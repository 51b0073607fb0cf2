import Foundation

/// Reads the key count Redis writes at the start of an RDB file (the `RESIZEDB` record of
/// database 0: the keys the fork saw), without loading the file: counting by loading costs a
/// core for half a second per million keys, taken from the clients of a 2-core machine.
public enum RDBHeader {
    /// The key count of database 0, or nil when the file has no `RESIZEDB` record before its
    /// first key (then a load must count).
    public static func keyCount(of path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 64 * 1024) else { return nil }
        var reader = Reader(bytes: [UInt8](head))
        guard reader.take(5) == Array("REDIS".utf8), reader.take(4) != nil else { return nil }
        while let opcode = reader.byte() {
            switch opcode {
            case 0xFA:  // AUX: a key and a value, both strings
                guard reader.skipString(), reader.skipString() else { return nil }
            case 0xFE:  // SELECTDB
                guard reader.length() != nil else { return nil }
            case 0xFB:  // RESIZEDB: keys, then keys with an expiry
                return reader.length().map { Int($0) }
            case 0xFF:  // EOF: an empty database
                return 0
            default:
                return nil
            }
        }
        return nil
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) -> [UInt8]? {
            guard offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        /// A length; nil for the special (integer or compressed) encodings or a short buffer.
        mutating func length() -> UInt64? {
            guard let first = byte() else { return nil }
            switch first >> 6 {
            case 0: return UInt64(first & 0x3F)
            case 1:
                guard let second = byte() else { return nil }
                return UInt64(first & 0x3F) << 8 | UInt64(second)
            case 2:
                let size = first == 0x80 ? 4 : first == 0x81 ? 8 : 0
                guard size > 0, let raw = take(size) else { return nil }
                return raw.reduce(0) { $0 << 8 | UInt64($1) }
            default:
                offset -= 1
                return nil
            }
        }

        /// Skips a string: plain, an integer encoding, or LZF-compressed.
        mutating func skipString() -> Bool {
            if let size = length() { return take(Int(size)) != nil }
            guard let first = byte(), first >> 6 == 3 else { return false }
            switch first & 0x3F {
            case 0: return take(1) != nil
            case 1: return take(2) != nil
            case 2: return take(4) != nil
            case 3:
                guard let compressed = length(), length() != nil else { return false }
                return take(Int(compressed)) != nil
            default: return false
            }
        }
    }
}

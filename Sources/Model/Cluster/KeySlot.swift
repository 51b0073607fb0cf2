/// The hash slot of a key, as Redis Cluster computes it: CRC16 (XMODEM) of the key, or of its
/// hash tag (the part between the first `{` and the next `}`, when not empty), modulo 16384.
public enum KeySlot {
    public static func of<Bytes: Collection>(_ key: Bytes) -> Int where Bytes.Element == UInt8 {
        let bytes = Array(key)
        var data = bytes[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            data = bytes[(open + 1)..<close]
        }
        var crc: UInt16 = 0
        for byte in data {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return Int(crc) % SlotRange.slotCount
    }

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }
}

extension KeySlot {
    /// A short hash tag whose keys land in `slot` (`"{<tag>}..."`): for keys the control plane
    /// must place in a given slot, such as a slot hand-over's markers. The smallest decimal
    /// number that hashes there; found once for every slot (about 160k CRCs), then kept.
    public static func tag(forSlot slot: Int) -> String {
        precondition(slot >= 0 && slot < SlotRange.slotCount, "slot \(slot) out of range")
        return tags[slot]
    }

    private static let tags: [String] = {
        var found = [String?](repeating: nil, count: SlotRange.slotCount)
        var missing = SlotRange.slotCount
        var candidate = 0
        while missing > 0 {
            let text = String(candidate)
            let slot = of(text)
            if found[slot] == nil {
                found[slot] = text
                missing -= 1
            }
            candidate += 1
        }
        return found.map { $0! }
    }()
}

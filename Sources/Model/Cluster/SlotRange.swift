/// A contiguous range of Redis cluster hash slots, inclusive at both ends.
public struct SlotRange: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let slotCount = 16384

    public let first: Int
    public let last: Int

    public init(first: Int, last: Int) {
        precondition(first <= last, "empty slot range")
        self.first = first
        self.last = last
    }

    public var count: Int { last - first + 1 }
    /// "0-8191", the form MemoryDB reports in `Shard.Slots`.
    public var description: String { "\(first)-\(last)" }

    public func contains(_ slot: Int) -> Bool { slot >= first && slot <= last }

    /// Splits all 16384 slots evenly and contiguously over `shards` shards, as MemoryDB does:
    /// the first `16384 % shards` shards get one slot more (3 shards: 0-5461, 5462-10922, 10923-16383).
    public static func evenSplit(shards: Int) -> [SlotRange] {
        precondition(shards > 0 && shards <= slotCount)
        let base = slotCount / shards
        let extra = slotCount % shards
        var ranges: [SlotRange] = []
        var next = 0
        for index in 0..<shards {
            let size = base + (index < extra ? 1 : 0)
            ranges.append(SlotRange(first: next, last: next + size - 1))
            next += size
        }
        return ranges
    }
}

extension SlotRange {
    /// Parses "0-5460,6000-6100" (single slots as "7"); nil for anything else.
    public static func parseList(_ text: String) -> [SlotRange]? {
        guard !text.isEmpty else { return [] }
        var ranges: [SlotRange] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard bounds.count == 1 || bounds.count == 2, let first = bounds[0], let last = bounds.last ?? nil,
                first >= 0, first <= last, last < slotCount
            else { return nil }
            ranges.append(SlotRange(first: first, last: last))
        }
        return ranges
    }

    /// "0-5460,6000-6100", as stored and as `Shard.Slots` reports it.
    public static func listDescription(_ ranges: [SlotRange]) -> String {
        ranges.map(\.description).joined(separator: ",")
    }
}

extension SlotRange {
    /// Every slot not in `ranges`, as ranges in order (overlaps and order of `ranges` do not matter).
    public static func complement(of ranges: [SlotRange]) -> [SlotRange] {
        var covered = [Bool](repeating: false, count: slotCount)
        for range in ranges {
            for slot in range.first...range.last { covered[slot] = true }
        }
        return SlotLayout.ranges(of: (0..<slotCount).filter { !covered[$0] })
    }
}

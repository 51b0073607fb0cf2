/// The slot layout a resharding aims at: every shard within one slot of an even share, reached
/// by moving as few slots as possible.
///
/// MemoryDB reshards online, so every slot moved is keys copied while clients write; an even
/// split recomputed from scratch would move almost everything (growing 2 → 5 shards, shard 2
/// would give up all of 8192-16383 to take 3277-6553). Instead each shard that stays keeps
/// the lowest slots it has up to its share, and only the surplus goes to the shards short of
/// theirs, lowest slots first.
public enum SlotLayout {
    /// The target slots of shards 1...`shardCount`, given what shards 1...n serve now (the
    /// index in `current` is the shard index minus one). Shards beyond `shardCount` get none.
    public static func rebalance(_ current: [[SlotRange]], to shardCount: Int) -> [[SlotRange]] {
        precondition(shardCount > 0 && shardCount <= SlotRange.slotCount)
        let width = max(current.count, shardCount)
        let base = SlotRange.slotCount / shardCount
        let extra = SlotRange.slotCount % shardCount
        // Shares as evenSplit gives them: the first `extra` shards take one slot more.
        let share = (0..<width).map { index in index < shardCount ? base + (index < extra ? 1 : 0) : 0 }
        var kept = [[Int]](repeating: [], count: width)
        var surplus: [Int] = []
        var owned = [Bool](repeating: false, count: SlotRange.slotCount)
        for (index, ranges) in current.enumerated() {
            let slots = ranges.flatMap { Array($0.first...$0.last) }.sorted()
            for slot in slots { owned[slot] = true }
            kept[index] = Array(slots.prefix(share[index]))
            surplus += slots.dropFirst(share[index])
        }
        // Slots nobody serves (a layout recorded before a crash) are handed out like surplus.
        surplus += (0..<SlotRange.slotCount).filter { !owned[$0] }
        surplus.sort()
        var next = surplus.makeIterator()
        for index in 0..<shardCount {
            while kept[index].count < share[index], let slot = next.next() { kept[index].append(slot) }
        }
        return (0..<shardCount).map { ranges(of: kept[$0].sorted()) }
    }

    /// Sorted slots as the fewest ranges.
    public static func ranges(of sortedSlots: [Int]) -> [SlotRange] {
        var result: [SlotRange] = []
        for slot in sortedSlots {
            if let last = result.last, last.last + 1 == slot {
                result[result.count - 1] = SlotRange(first: last.first, last: slot)
            } else {
                result.append(SlotRange(first: slot, last: slot))
            }
        }
        return result
    }

    /// How many slots change shard between two layouts.
    public static func movedSlots(from current: [[SlotRange]], to target: [[SlotRange]]) -> Int {
        var owner = [Int](repeating: -1, count: SlotRange.slotCount)
        for (index, ranges) in current.enumerated() { for range in ranges { for slot in range.first...range.last { owner[slot] = index } } }
        var moved = 0
        for (index, ranges) in target.enumerated() { for range in ranges { for slot in range.first...range.last where owner[slot] != index { moved += 1 } } }
        return moved
    }
}

import Model
import Testing

@Suite struct SlotLayoutTests {
    func counts(_ layout: [[SlotRange]]) -> [Int] { layout.map { $0.reduce(0) { $0 + $1.count } } }

    func coversEverySlotOnce(_ layout: [[SlotRange]]) -> Bool {
        var seen = [Int](repeating: 0, count: SlotRange.slotCount)
        for ranges in layout { for range in ranges { for slot in range.first...range.last { seen[slot] += 1 } } }
        return seen.allSatisfy { $0 == 1 }
    }

    @Test func growingTwoToFiveMovesOnlyTheNewShardsShare() {
        let current = SlotRange.evenSplit(shards: 2).map { [$0] }
        let target = SlotLayout.rebalance(current, to: 5)
        #expect(counts(target) == [3277, 3277, 3277, 3277, 3276])
        #expect(coversEverySlotOnce(target))
        // Each old shard keeps its lowest slots; nothing moves between the two old shards.
        #expect(target[0] == [SlotRange(first: 0, last: 3276)])
        #expect(target[1] == [SlotRange(first: 8192, last: 11468)])
        #expect(SlotLayout.movedSlots(from: current, to: target) == 3277 * 2 + 3276)
    }

    @Test func shrinkingFiveToThreeDrainsTheRemovedShards() {
        let current = SlotRange.evenSplit(shards: 5).map { [$0] }
        let target = SlotLayout.rebalance(current, to: 3)
        #expect(target.count == 3)
        #expect(counts(target) == [5462, 5461, 5461])
        #expect(coversEverySlotOnce(target))
        // Only what shards 4 and 5 served moves.
        #expect(SlotLayout.movedSlots(from: current, to: target) == 3277 + 3276)
    }

    @Test(arguments: [(1, 2), (2, 5), (5, 3), (3, 1), (4, 4), (1, 20), (7, 2)])
    func everyResultIsEvenAndComplete(from: Int, to: Int) {
        let target = SlotLayout.rebalance(SlotRange.evenSplit(shards: from).map { [$0] }, to: to)
        #expect(target.count == to)
        #expect(coversEverySlotOnce(target))
        let sizes = counts(target)
        #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
    }

    @Test func anEvenLayoutStaysPut() {
        let current = SlotRange.evenSplit(shards: 3).map { [$0] }
        #expect(SlotLayout.rebalance(current, to: 3) == current)
    }

    @Test func slotsNobodyServesAreHandedOut() {
        let target = SlotLayout.rebalance([[SlotRange(first: 0, last: 100)]], to: 1)
        #expect(target == [[SlotRange(first: 0, last: 16383)]])
    }

    @Test func rangesJoinNeighbours() {
        #expect(SlotLayout.ranges(of: [1, 2, 3, 7, 9, 10]) == [SlotRange(first: 1, last: 3), SlotRange(first: 7, last: 7), SlotRange(first: 9, last: 10)])
    }
}

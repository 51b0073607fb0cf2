@testable import Control
@testable import Reconciler
import Runtime
import Model
import Store
import Testing

/// An event's words are what `DescribeEvents` shows and what scripts match on: they are written in
/// one place (`ClusterEvent.message`) and pinned here, so a refactor cannot change them unnoticed.
@Suite struct ClusterEventTests {
    @Test(arguments: [
        (ClusterEvent.available, "Cluster is available", EventSourceType.cluster),
        (.nodeDown(node: "demo-0001-001", port: 7001), "Node demo-0001-001 is down; restarting it on port 7001", .node),
        (.nodeHung(node: "demo-0001-001", pid: 42, silentMilliseconds: 620, port: 7001),
         "Node demo-0001-001 stopped answering (process 42 alive, no reply for 620 ms); killing and restarting it on port 7001", .node),
        (.updateComplete(shards: 2, nodesPerShard: 1), "Cluster update complete: 2 shard(s) of 1 node(s)", .cluster),
        (.failoverBegun(shard: 1, reason: "primary demo-0001-001 failed: its process ended", replica: "demo-0001-002", zone: "us-east-1b"),
         "Shard 0001 failing over: primary demo-0001-001 failed: its process ended; promoting demo-0001-002 in us-east-1b", .cluster),
        (.failedOver(shard: 1, seconds: 0.25, primary: "demo-0001-002", zone: "us-east-1b", oldPrimary: "demo-0001-001", zoneLost: false),
         "Shard 0001 failed over in 0.25 s: demo-0001-002 (us-east-1b) is primary; demo-0001-001 is its replica", .cluster),
        (.promoted(replica: "demo-0001-002", zone: "us-east-1b", gap: .behindLostPrimary(replicaOffset: 90, lostOffset: 100)),
         "Promoted demo-0001-002 in us-east-1b; replica was 10 bytes behind the lost primary (offset 90 of 100)", .cluster),
        (.slotsClaimed(node: "demo-0002-001", slots: [SlotRange(first: 0, last: 15)], keys: 7, afterCutHandover: true),
         "Node demo-0002-001 claimed slot(s) 0-15 with the 7 key(s) it holds there: a hand-over whose source had given them up was cut short before the target claimed them",
         .cluster),
        (.stepFailing(step: "start node demo-0001-001", times: 3, error: "boom"), "Step 'start node demo-0001-001' failed 3 times in a row: boom", .cluster),
        (.restored(source: .snapshot("daily"), keysMoved: nil, seconds: 0), "Cluster restored from snapshot daily: each shard started from its own RDB", .cluster),
        (.serviceUpdatesApplied(engine: (from: "7.0.14", to: "7.0.15")),
         "Service updates applied: every node runs the parameter group's values and engine 7.0.15 (was 7.0.14)", .cluster),
    ])
    func theWordsAndSourceOfAnEvent(event: ClusterEvent, message: String, source: EventSourceType) {
        #expect(event.message == message)
        #expect(event.sourceType == source)
    }

    @Test func aRestoreSourceIsReadFromWhatTheClusterRecorded() {
        #expect(ClusterEvent.RestoreSource(recorded: "daily") == .snapshot("daily"))
        #expect(ClusterEvent.RestoreSource(recorded: "arns:[\"arn:aws:s3:::b/k.rdb\"]") == .exportedFiles)
    }
}

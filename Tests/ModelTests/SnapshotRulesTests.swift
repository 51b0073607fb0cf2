import Model
import Testing

@Suite struct SnapshotRulesTests {
    @Test func keySlotsMatchRedis() {
        // Values from redis-cli CLUSTER KEYSLOT.
        #expect(KeySlot.of("foo") == 12182)
        #expect(KeySlot.of("bar") == 5061)
        #expect(KeySlot.of("{user1000}.following") == KeySlot.of("user1000"))
        #expect(KeySlot.of("foo{}bar") == KeySlot.of(Array("foo{}bar".utf8)))
        #expect(KeySlot.of("") == 0)
    }

    @Test func automatedNamesAreAWSs() {
        #expect(SnapshotNames.automated(cluster: "demo", year: 2026, month: 3, day: 7, hour: 5, minute: 0) == "automatic.demo-2026-03-07-05-00")
    }

    @Test func s3ARNsNameAFileInABucket() throws {
        let object = try SnapshotNames.parseS3ARN("arn:aws:s3:::my-bucket/nightly-0001.rdb")
        #expect(object.bucket == "my-bucket" && object.key == "nightly-0001.rdb")
        for bad in ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/../x", "arn:aws:s3:::my-bucket/a/b", "arn:aws:s3:::My_Bucket/x",
                    "s3://my-bucket/x", "arn:aws:s3:::ab/x", "arn:aws:s3:::my-bucket/.hidden"] {
            #expect(throws: MemoryDBError.self) { try SnapshotNames.parseS3ARN(bad) }
        }
    }

    @Test func snapshotWindowsWrapMidnight() {
        #expect(Windows.contains(snapshotWindow: "05:00-06:00", minuteOfDay: 5 * 60))
        #expect(!Windows.contains(snapshotWindow: "05:00-06:00", minuteOfDay: 6 * 60))
        #expect(Windows.contains(snapshotWindow: "23:30-00:30", minuteOfDay: 10))
        #expect(Windows.contains(snapshotWindow: "23:30-00:30", minuteOfDay: 23 * 60 + 45))
        #expect(!Windows.contains(snapshotWindow: "23:30-00:30", minuteOfDay: 12 * 60))
    }
}

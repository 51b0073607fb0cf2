import Engine
import Testing
import Ports

/// Digests measured on redis-server 7.0 (`DEBUG DIGEST`): {a=1}, {b=2} and {a=1, b=2}.
@Suite struct DatasetDigestTests {
    let a = "943d800368fb9c0e951138f1bc0e313ac769d91f"
    let b = "43f25254b30b4502d35b14b8588d2be6bac05311"
    let both = "7dff4aa4711992a6870417c26949f355d23a7cac"

    @Test func twoNodesCombineIntoTheDigestOfTheirDataTogether() {
        #expect(DatasetDigest.combine([a, b]) == both)
        #expect(DatasetDigest.combine([b, a]) == both)
    }

    @Test func emptyNodesAddNothing() {
        #expect(DatasetDigest.combine([a, DatasetDigest.empty]) == a)
        #expect(DatasetDigest.combine([DatasetDigest.empty]) == DatasetDigest.empty)
        #expect(DatasetDigest.combine([]) == DatasetDigest.empty)
    }
}

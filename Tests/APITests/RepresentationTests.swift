@testable import API
import Control
import Runtime
import Foundation
import Testing
import Ports

/// Reads served from kept representations: timestamps written without a formatter, bytes
/// rendered once per store revision.
struct RepresentationTests {
    @Test(arguments: [Int64(0), 1, 999, 1_000, 86_399_999, 951_782_400_000, 1_795_786_332_345, 4_102_444_800_000, -1, -86_400_001])
    func timestampsMatchFoundationsISO8601(_ milliseconds: Int64) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(RESTTime.iso8601(milliseconds) == formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
    }

    @Test func randomTimestampsMatchToo() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let milliseconds = Int64.random(in: 0..<4_102_444_800_000, using: &generator)
            #expect(RESTTime.iso8601(milliseconds) == formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
        }
    }

    @Test func bytesAreRenderedOncePerRevision() {
        let cache = RepresentationCache()
        var renders = 0
        let render = { () -> [UInt8] in
            renders += 1
            return Array("r\(renders)".utf8)
        }
        #expect(cache.bytes(for: "a", format: "rest", revision: 1, render: render) == Array("r1".utf8))
        #expect(cache.bytes(for: "a", format: "rest", revision: 1, render: render) == Array("r1".utf8))
        #expect(cache.bytes(for: "a", format: "aws", revision: 1, render: render) == Array("r2".utf8))
        #expect(cache.bytes(for: "a", format: "rest", revision: 2, render: render) == Array("r3".utf8))
        // A render from an older revision (a read that raced a write) does not replace a newer one.
        #expect(cache.bytes(for: "a", format: "rest", revision: 1, render: render) == Array("r4".utf8))
        #expect(cache.bytes(for: "a", format: "rest", revision: 2, render: render) == Array("r3".utf8))
        #expect(renders == 4)
    }
}

import Model
import Ports

/// Pages over a list ordered by a unique key, with opaque tokens naming the last key served.
///
/// Tokens stay valid while items are added or removed: a page starts after the key, not at an
/// offset, so nothing is served twice or skipped because the list moved.
public enum Pagination {
    public static func page<Item>(
        _ items: [Item], key: (Item) -> String, maxResults: Int?, nextToken: String?, limit: ClosedRange<Int> = 1...100
    ) throws -> (items: [Item], nextToken: String?) {
        let size = maxResults ?? limit.upperBound
        guard limit.contains(size) else {
            throw MemoryDBError.invalid("MaxResults must be between \(limit.lowerBound) and \(limit.upperBound); got \(size).")
        }
        var remaining = items[...]
        if let nextToken {
            let after = try PageToken.decode(nextToken)
            remaining = remaining.drop { key($0) <= after }
        }
        let page = Array(remaining.prefix(size))
        let token = remaining.count > size ? page.last.map { PageToken.encode(key($0)) } : nil
        return (page, token)
    }
}

import Synchronization
import Ports

/// Rendered bytes of resources (a cluster's REST JSON, its AWS JSON with or without shards),
/// each kept with the store revision it was rendered from and served until that changes.
///
/// Reads then cost a lookup per resource however many nodes, shards and tags it has: the view,
/// its parameter-group status and its JSON are built once per change, not once per request.
public final class RepresentationCache: Sendable {
    private struct Key: Hashable {
        var name: String
        var format: String
    }

    private let entries = Mutex<[Key: (revision: UInt64, bytes: [UInt8])]>([:])
    /// Entries past this are dropped together (names of deleted resources would pile up).
    private let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The bytes rendered for `name` in `format` at `revision`, rendering them with `render` when
    /// none are kept for that revision.
    public func bytes(for name: String, format: String, revision: UInt64, render: () throws -> [UInt8]) rethrows -> [UInt8] {
        let key = Key(name: name, format: format)
        if let kept = entries.withLock({ $0[key] }), kept.revision == revision { return kept.bytes }
        let bytes = try render()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            // A render that raced a newer one must not replace it.
            if let kept = entries[key], kept.revision > revision { return }
            entries[key] = (revision, bytes)
        }
        return bytes
    }
}

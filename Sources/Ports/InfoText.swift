/// Reads `INFO`'s `name:value` lines (and `a=1,b=2` values) straight from the reply's bytes.
///
/// Splitting the text into Characters (grapheme by grapheme) and trimming it with Foundation was
/// most of what a metrics collection cost the control plane; INFO is ASCII, so bytes suffice.
public enum InfoText {
    /// Calls `body` with each field's name and value, skipping `# Section` headers and blank lines.
    public static func forEachField(in text: String, _ body: (String, String) -> Void) {
        var text = text
        text.withUTF8 { buffer in
            var lineStart = 0
            var index = 0
            let count = buffer.count
            while index <= count {
                if index == count || buffer[index] == UInt8(ascii: "\n") {
                    var start = lineStart
                    var end = index
                    while start < end && (buffer[start] == UInt8(ascii: " ") || buffer[start] == UInt8(ascii: "\t")) { start += 1 }
                    while end > start && (buffer[end - 1] == UInt8(ascii: "\r") || buffer[end - 1] == UInt8(ascii: " ")) { end -= 1 }
                    if end > start && buffer[start] != UInt8(ascii: "#") {
                        var colon = start
                        while colon < end && buffer[colon] != UInt8(ascii: ":") { colon += 1 }
                        if colon < end {
                            body(
                                String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<colon]), as: UTF8.self),
                                String(decoding: UnsafeBufferPointer(rebasing: buffer[(colon + 1)..<end]), as: UTF8.self))
                        }
                    }
                    lineStart = index + 1
                }
                index += 1
            }
        }
    }

    /// Every field of the reply by name.
    public static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        fields.reserveCapacity(64)
        forEachField(in: text) { fields[$0] = $1 }
        return fields
    }

    /// `a=1,b=2` as a map (keyspace, replica and command lines).
    public static func pairs(_ text: String) -> [String: String] {
        var pairs: [String: String] = [:]
        var text = text
        text.withUTF8 { buffer in
            var itemStart = 0
            var index = 0
            let count = buffer.count
            while index <= count {
                if index == count || buffer[index] == UInt8(ascii: ",") {
                    var equals = itemStart
                    while equals < index && buffer[equals] != UInt8(ascii: "=") { equals += 1 }
                    if equals < index && equals > itemStart {
                        pairs[String(decoding: UnsafeBufferPointer(rebasing: buffer[itemStart..<equals]), as: UTF8.self)] =
                            String(decoding: UnsafeBufferPointer(rebasing: buffer[(equals + 1)..<index]), as: UTF8.self)
                    }
                    itemStart = index + 1
                }
                index += 1
            }
        }
        return pairs
    }
}

/// Free text the API stores (descriptions, tag keys and values) may not hold control
/// characters: SQLite's C interface ends a string at NUL (so "a\u{0}b" would be stored as "a"),
/// and newlines or escapes in a value end up in logs and config files.
public enum TextRules {
    /// Refuses a value holding a control character (U+0000–U+001F, U+007F–U+009F), naming the field.
    public static func refuseControlCharacters(_ value: String, field: String) throws(MemoryDBError) {
        guard let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }) else { return }
        throw .invalid("\(field) must not contain control characters; it has U+\(String(bad.value, radix: 16, uppercase: true).leftPadded(4)).")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

import Foundation

/// A list of strings in one column, as a JSON array (migration 0016; before it, comma-joined).
enum StoredList {
    static func text(_ items: [String]) -> String {
        // Encoding an array of strings cannot fail.
        String(decoding: (try? JSONEncoder().encode(items)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// The items of a stored list. A value that is not a JSON array can only be a comma-joined
    /// list written before migration 0016 converted them all, and is read as one.
    static func items(_ text: String) -> [String] {
        if let items = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) { return items }
        return text.split(separator: ",").map(String.init)
    }
}

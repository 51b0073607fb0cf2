import Foundation

/// Telling JSON booleans from numbers after JSONSerialization: on Linux `1 is Bool` is true, so
/// the NSNumber's storage type decides (`c` is how a parsed `true`/`false` is stored).
enum JSONNumbers {
    static func isBool(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A JSON number that is not a boolean.
    static func number(_ value: Any) -> NSNumber? {
        guard let number = value as? NSNumber, !isBool(value) else { return nil }
        return number
    }
}

import Foundation

/// Milliseconds since 1970, the precision the store keeps.
public func nowMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded())
}

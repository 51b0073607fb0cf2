/// Checks parameter values against the metadata MemoryDB publishes for them.
extension ParameterDefinition {
    /// Refuses a value outside `allowedValues`, naming the parameter and what it accepts.
    ///
    /// The grammar is AWS's: for integers `a-b` (range), `a-` (at least a), `-` (any integer),
    /// `a` (exactly a), joined by commas (`0,20-`); for strings a comma-separated enumeration, or
    /// anything when no values are listed.
    public func validate(_ value: String) throws(MemoryDBError) {
        let refusal = MemoryDBError.invalid(
            "Parameter \(name)=\(value.isEmpty ? "\"\"" : value) is not allowed; allowed values: \(allowedValues.isEmpty ? "any" : allowedValues).")
        switch dataType {
        case .integer:
            guard let number = Int(value) else { throw refusal }
            let alternatives = allowedValues.split(separator: ",")
            guard alternatives.contains(where: { Self.accepts(number, $0) }) else { throw refusal }
        case .string:
            if allowedValues.isEmpty {
                // Free strings go into redis.conf and CONFIG SET: printable ASCII, no quotes.
                guard value.unicodeScalars.allSatisfy({ (0x20...0x7e).contains($0.value) && $0 != "\"" && $0 != "'" }) else { throw refusal }
                if name == "notify-keyspace-events" {
                    // Redis' own alphabet for the setting; anything else it refuses at CONFIG SET.
                    guard value.allSatisfy({ "KEg$lshzxetmdnA".contains($0) }) else { throw refusal }
                }
                return
            }
            guard allowedValues.split(separator: ",").contains(where: { $0 == value }) else { throw refusal }
        }
    }

    static func accepts(_ number: Int, _ rule: Substring) -> Bool {
        if rule == "-" { return true }
        // A leading minus is a negative bound, not a range separator.
        let body = rule.hasPrefix("-") ? rule.dropFirst() : rule[...]
        if let dash = body.firstIndex(of: "-") {
            let lowerText = rule.hasPrefix("-") ? "-" + body[..<dash] : String(body[..<dash])
            guard let lower = Int(lowerText) else { return false }
            let upperText = body[body.index(after: dash)...]
            if upperText.isEmpty { return number >= lower }
            guard let upper = Int(upperText) else { return false }
            return number >= lower && number <= upper
        }
        return Int(rule) == number
    }
}

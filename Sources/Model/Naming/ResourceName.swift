/// The naming rules MemoryDB applies to clusters, users, ACLs and other named resources.
///
/// AWS lower-cases the names it is given, so validation runs on the lower-cased form and
/// callers store that form.
public enum ResourceName {
    /// Validates and normalises a name: lower-case letters, digits and hyphens, starting with a
    /// letter, no `--`, no trailing hyphen, at most `maxLength` characters.
    public static func normalise(_ raw: String, field: String, maxLength: Int = 40) throws(MemoryDBError) -> String {
        // Checked before lower-casing: Unicode lower-cases some non-ASCII letters to ASCII ones
        // (the Kelvin sign to "k"), which must not slip through as a valid name.
        for scalar in raw.unicodeScalars where !(scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-")) {
            throw .invalid("\(field) may contain only ASCII letters, digits and hyphens; got '\(raw)'.")
        }
        let name = raw.lowercased()
        guard !name.isEmpty else {
            throw .invalid("\(field) must not be empty.")
        }
        guard name.count <= maxLength else {
            throw .invalid("\(field) must be at most \(maxLength) characters; got \(name.count).")
        }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            throw .invalid("\(field) must begin with a letter; got '\(raw)'.")
        }
        for scalar in name.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
            guard ok else {
                throw .invalid("\(field) may contain only ASCII letters, digits and hyphens; got '\(raw)'.")
            }
        }
        guard !name.contains("--") else {
            throw .invalid("\(field) must not contain two consecutive hyphens; got '\(raw)'.")
        }
        guard !name.hasSuffix("-") else {
            throw .invalid("\(field) must not end with a hyphen; got '\(raw)'.")
        }
        return name
    }
}

import Model

/// A REST body read through its operation's member table: the same decoder, field names and
/// error sentences as a hand-written `Decodable` body, with no copy of the members.
struct TabledBody<Request: TabledRequest>: Decodable {
    var request: Request

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: MemberKey.self)
        var request = Request.empty
        for member in Request.members {
            try member.read(into: &request, from: DecodedMembers(container: container), name: member.rest)
        }
        self.request = request
    }

    struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Members as the JSON decoder reads them (its errors name the field and the type wanted).
    struct DecodedMembers: MemberSource {
        let container: KeyedDecodingContainer<MemberKey>

        func requiredString(_ member: String) throws -> String { try container.decode(String.self, forKey: MemberKey(stringValue: member)) }
        func string(_ member: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: MemberKey(stringValue: member)) }
        func int(_ member: String) throws -> Int? { try container.decodeIfPresent(Int.self, forKey: MemberKey(stringValue: member)) }
        func bool(_ member: String) throws -> Bool? { try container.decodeIfPresent(Bool.self, forKey: MemberKey(stringValue: member)) }
        func strings(_ member: String) throws -> [String]? { try container.decodeIfPresent([String].self, forKey: MemberKey(stringValue: member)) }
        func requiredStrings(_ member: String) throws -> [String] { try container.decode([String].self, forKey: MemberKey(stringValue: member)) }
        func authentication(_ member: String, required: Bool) throws -> AuthenticationModeInput? {
            let key = MemberKey(stringValue: member)
            let body = required ? try container.decode(AuthenticationBody.self, forKey: key) : try container.decodeIfPresent(AuthenticationBody.self, forKey: key)
            if body?.passwordCount != nil {
                throw MemoryDBError.invalid("Field '\(member).passwordCount' is what a user's description shows; send passwords instead.")
            }
            return body.map { AuthenticationModeInput(type: $0.type, passwords: $0.passwords) }
        }
        func tags(_ member: String) throws -> [Tag]? { try container.decodeIfPresent([TagBody].self, forKey: MemberKey(stringValue: member))?.map(\.tag) }
        /// REST gives counts flat (`numShards`), not in AWS's one-member structure.
        func count(_ member: String, inner: String) throws -> Int? { try int(member) }
    }
}

/// A user's authentication mode in a REST body: `{type, passwords}` in, `{type, passwordCount}`
/// out (a description never shows passwords).
struct AuthenticationBody: Codable {
    var type: String
    var passwordCount: Int?
    var passwords: [String]?
}

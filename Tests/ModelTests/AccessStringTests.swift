import Model
import Testing

@Suite struct AccessStringTests {
    @Test(arguments: [
        ("~objects:* ~items:*", "off ~objects:* ~items:* resetchannels -@all"),
        ("on ~app:* +@read +@write", "on ~app:* resetchannels +@read +@write"),
        ("on ~* &* +@all", "on ~* &* +@all"),
        ("ON allkeys +GET -@dangerous", "on allkeys resetchannels +get -@dangerous"),
        ("on %R~reports:* +client|id", "on %R~reports:* resetchannels +client|id"),
    ])
    func normalisesAsMemoryDB(input: String, normalised: String) throws {
        #expect(try AccessString(parsing: input).description == normalised)
    }

    @Test(arguments: ["on >secret ~*", "on #abc ~*", "on nopass ~*", "reset on ~*", "on ~* +@nonsense", "on ~* +nocommand", "on ~", "hello", "", "on ~* (+get)"])
    func refusesPasswordsResetsAndUnknownRules(input: String) {
        #expect(throws: MemoryDBError.self) { try AccessString(parsing: input) }
    }

    @Test func usersLimitedToSomeKeysCannotWipeTheRest() throws {
        #expect(try AccessString(parsing: "on ~app:* +@write").nodeRules.contains("-flushall -flushdb -swapdb"))
        #expect(!(try AccessString(parsing: "on ~* +@write").nodeRules.contains("-flushall")))
    }

    @Test func nodeRulesAlwaysEndWithTheRestrictedCommands() throws {
        let rules = try AccessString(parsing: "on ~* +@all").nodeRules
        #expect(rules.hasPrefix("on ~* resetchannels +@all -config"))
        #expect(rules.hasSuffix(RestrictedCommands.aclRules))
    }
}

import Model
import Testing

@Suite struct ParameterValidationTests {
    func definition(_ name: String) throws -> ParameterDefinition {
        try #require(ParameterCatalog.redis7.first { $0.name == name })
    }

    @Test(arguments: [("timeout", "0"), ("timeout", "20"), ("timeout", "300"), ("acllog-max-len", "1"), ("acllog-max-len", "10000"),
                      ("maxmemory-policy", "allkeys-lru"), ("activedefrag", "yes"), ("slowlog-log-slower-than", "-1"),
                      ("maxmemory-samples", "1000"), ("notify-keyspace-events", "Ex"), ("notify-keyspace-events", "")])
    func acceptsAllowedValues(name: String, value: String) throws {
        try definition(name).validate(value)
    }

    @Test(arguments: [("timeout", "5"), ("timeout", "-1"), ("timeout", "abc"), ("acllog-max-len", "0"), ("acllog-max-len", "10001"),
                      ("maxmemory-policy", "lru"), ("activedefrag", "true"), ("maxmemory-samples", "0"), ("hll-sparse-max-bytes", "2.5")])
    func refusesOthersNamingTheAllowedValues(name: String, value: String) throws {
        let parameter = try definition(name)
        do {
            try parameter.validate(value)
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains(name))
            #expect(error.message.contains(parameter.allowedValues))
        }
    }

    @Test func everyDefaultValueIsValid() throws {
        for parameter in ParameterCatalog.redis6 + ParameterCatalog.redis7 {
            try parameter.validate(parameter.defaultValue)
        }
    }
}

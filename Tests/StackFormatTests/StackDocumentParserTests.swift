import Model
import StackFormat
import Testing

/// The stack document as a CI job writes it, and every way it can be wrong, each reported with
/// its line and column.
@Suite struct StackDocumentParserTests {
    /// The issue's example, verbatim.
    static let example = """
        stack: ci-cache
        parameterGroups:
          - name: ci-tuned
            family: memorydb_redis7
            parameters: {maxmemory-policy: allkeys-lru}
        users:
          - name: ci-app
            accessString: "on ~app:* +@all"
            authenticationMode: {type: password, passwords: ["${env:CI_APP_PASSWORD}"]}
        acls:
          - name: ci-acl
            userNames: [ci-app]
        clusters:
          - name: ci-cache
            nodeType: db.t4g.small
            numShards: 2
            numReplicasPerShard: 1
            aclName: ci-acl
            parameterGroupName: ci-tuned
        """

    let environment = ["CI_APP_PASSWORD": "a-password-of-16-or-more"]

    func problems(_ text: String, environment: [String: String]? = ["X": "y"], existing: ExistingResources? = ExistingResources()) -> [StackDocumentProblem] {
        do {
            _ = try StackDocumentParser.parse(text, environment: environment, existing: existing)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func theIssuesExampleReadsWithThePasswordFromTheEnvironment() throws {
        let document = try StackDocumentParser.parse(Self.example, environment: environment, existing: ExistingResources())
        #expect(document.stack == "ci-cache")
        #expect(document.parameterGroups == [StackParameterGroup(name: "ci-tuned", family: "memorydb_redis7", parameters: ["maxmemory-policy": "allkeys-lru"])])
        #expect(document.users.first?.authenticationMode == StackUser.AuthenticationMode(type: "password", passwords: ["a-password-of-16-or-more"]))
        #expect(document.acls == [StackACL(name: "ci-acl", userNames: ["ci-app"])])
        let cluster = try #require(document.clusters.first)
        #expect(cluster.numShards == 2 && cluster.numReplicasPerShard == 1 && cluster.aclName == "ci-acl" && cluster.parameterGroupName == "ci-tuned")
        #expect(document.resources.map(\.description) == ["parameter-group ci-tuned", "user ci-app", "acl ci-acl", "cluster ci-cache"])
    }

    @Test func jsonIsADocumentToo() throws {
        let json = #"{"stack":"s","acls":[{"name":"a","userNames":[]}],"clusters":[{"name":"c","nodeType":"db.t4g.small","aclName":"a","numShards":2,"tlsEnabled":false}]}"#
        let document = try StackDocumentParser.parse(json, environment: nil, existing: ExistingResources())
        #expect(document.clusters.first?.numShards == 2)
        #expect(document.clusters.first?.tlsEnabled == false)
    }

    @Test func anUnknownFieldIsNamedWithItsPlaceAndTheNearestKnownName() {
        let found = problems("stack: s\nclusters:\n  - name: c\n    nodeTyp: db.t4g.small\n    aclName: open-access\n")
        #expect(found.count == 2)
        #expect(found.contains { $0.line == 4 && $0.column == 5 && $0.message.contains("unknown field 'nodeTyp'") && $0.message.contains("did you mean 'nodeType'") })
        #expect(found.contains { $0.path == "clusters[0].nodeType" && $0.message.contains("required") })
    }

    @Test func wrongTypesAreRefusedWhereTheyAre() {
        let found = problems("stack: s\nclusters:\n  - name: c\n    nodeType: db.t4g.small\n    aclName: open-access\n    numShards: two\n    tlsEnabled: \"yes\"\n")
        #expect(found.map(\.line) == [6, 7])
        #expect(found[0].description.hasPrefix("line 6, column 16, clusters[0].numShards: must be a whole number"))
        #expect(found[1].message.contains("true or false"))
    }

    @Test func aDanglingReferenceNamesTheMissingResourceAndItsPlace() {
        let found = problems("stack: s\nacls:\n  - name: a\n    userNames: [ghost]\nclusters:\n  - name: c\n    nodeType: db.t4g.small\n    aclName: nope\n")
        #expect(found.count == 2)
        #expect(found[0].line == 4 && found[0].column == 17 && found[0].message.contains("no user named 'ghost'"))
        #expect(found[1].line == 8 && found[1].message.contains("no ACL named 'nope'"))
        // What exists already may be referred to.
        #expect(problems("stack: s\nacls:\n  - name: a\n    userNames: [ghost]\n", existing: ExistingResources(users: ["ghost"])).isEmpty)
        #expect(problems("stack: s\nclusters:\n  - name: c\n    nodeType: db.t4g.small\n    aclName: open-access\n").isEmpty)
    }

    @Test func environmentPlaceholdersNeedTheVariableAndAClient() {
        let text = "stack: s\nusers:\n  - name: u\n    accessString: on ~* +@all\n    authenticationMode: {type: password, passwords: [\"${env:NOPE}\"]}\n"
        #expect(problems(text, environment: [:]).first?.message == "environment variable NOPE is not set (${env:NOPE})")
        #expect(problems(text, environment: nil).first?.message.contains("filled in by the memoryplane CLI") == true)
        #expect(problems(text, environment: ["NOPE": "p4ssword-of-16-chars"]).isEmpty)
    }

    @Test func namesAreCheckedAndGivenOnce() {
        let found = problems("stack: Bad_Name\nusers:\n  - {name: u, accessString: on, authenticationMode: {type: no-password}}\n  - {name: U, accessString: on, authenticationMode: {type: no-password}}\n")
        #expect(found.count == 2)
        #expect(found[0].path == "stack" && found[0].message.contains("letters, digits and hyphens"))
        #expect(found[1].line == 4 && found[1].message.contains("'u' is named twice"))
    }

    @Test func malformedYAMLSaysWhere() {
        let found = problems("stack: s\nclusters: [\n  - name: c\n")
        #expect(found.count == 1)
        #expect(found[0].line != nil && found[0].message.hasPrefix("not valid YAML"))
        #expect(problems("").first?.message.contains("empty") == true)
        #expect(problems("- a\n- b\n").first?.message.contains("must be a mapping") == true)
    }
}

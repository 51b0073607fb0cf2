import Model
import Testing

/// IAM's evaluation logic and wildcards, with the examples IAM's own documentation gives:
/// an explicit deny overrides any allow, an allow is needed on every resource, nothing is
/// allowed by default, `*` and `?` in actions (any case) and resources (exact case).
@Suite struct IAMPolicyTests {
    static let account = "arn:aws:memorydb:us-east-1:000000000000"
    static func cluster(_ name: String) -> String { "\(account):cluster/\(name)" }

    let ci = IAMPolicy(statements: [
        IAMPolicy.Statement(effect: .allow, actions: ["memorydb:Describe*", "memorydb:List*"], resources: ["*"]),
        IAMPolicy.Statement(
            effect: .allow, actions: ["memorydb:CreateCluster", "memorydb:DeleteCluster", "memorydb:UpdateCluster"],
            resources: [Self.cluster("ci-*"), "\(Self.account):acl/*", "\(Self.account):parametergroup/*", "\(Self.account):subnetgroup/*"]),
        IAMPolicy.Statement(sid: "NeverProduction", effect: .deny, actions: ["memorydb:*"], resources: [Self.cluster("prod-*")]),
    ])

    @Test func defaultDenyThenAllowThenExplicitDenyWins() {
        #expect(ci.decide("memorydb:DescribeClusters", on: [Self.cluster("anything")]) == .allowed)
        #expect(ci.decide("memorydb:CreateCluster", on: [Self.cluster("ci-1"), "\(Self.account):acl/open-access"]) == .allowed)
        #expect(ci.decide("memorydb:CreateCluster", on: [Self.cluster("dev-1")]) == .implicitlyDenied)
        #expect(ci.decide("memorydb:DescribeClusters", on: [Self.cluster("prod-1")]) == .explicitlyDenied(statement: 2, sid: "NeverProduction"))
        #expect(ci.decide("memorydb:TagResource", on: [Self.cluster("ci-1")]) == .implicitlyDenied)
        #expect(IAMPolicy(statements: []).decide("memorydb:DescribeClusters", on: ["*"]) == .implicitlyDenied)
    }

    @Test func anOperationOnSeveralResourcesNeedsAnAllowOnEach() {
        let clustersOnly = IAMPolicy(statements: [IAMPolicy.Statement(effect: .allow, actions: ["memorydb:CreateCluster"], resources: [Self.cluster("*")])])
        #expect(clustersOnly.decide("memorydb:CreateCluster", on: [Self.cluster("a")]) == .allowed)
        #expect(clustersOnly.decide("memorydb:CreateCluster", on: [Self.cluster("a"), "\(Self.account):acl/open-access"]) == .implicitlyDenied)
        #expect(clustersOnly.decide("memorydb:CreateCluster", on: []) == .implicitlyDenied)
    }

    @Test func wildcardsAsIAMReadsThem() {
        #expect(Wildcard.matches("memorydb:Describe*", "memorydb:describeclusters", ignoringCase: true))
        #expect(!Wildcard.matches("memorydb:Describe*", "memorydb:DeleteCluster", ignoringCase: true))
        #expect(Wildcard.matches("cluster/ci-?", "cluster/ci-1", ignoringCase: false))
        #expect(!Wildcard.matches("cluster/ci-?", "cluster/ci-12", ignoringCase: false))
        #expect(Wildcard.matches("*", "", ignoringCase: false))
        #expect(Wildcard.matches("a*b*c", "aXXbYYbc", ignoringCase: false))
        #expect(!Wildcard.matches("cluster/CI-*", "cluster/ci-1", ignoringCase: false))
        #expect(Wildcard.matches("**a", "bba", ignoringCase: false))
        // `?` is one character, however many bytes it takes.
        #expect(Wildcard.matches("team-?", "team-é", ignoringCase: false))
        #expect(!Wildcard.matches("team-??", "team-é", ignoringCase: false))
        #expect(Wildcard.matches("*é?", "xxéy", ignoringCase: false))
    }

    @Test func notActionAndNotResourceMeanEverythingBut() {
        var readOnly = IAMPolicy.Statement(effect: .deny, actions: ["memorydb:Describe*", "memorydb:List*"], resources: ["*"])
        readOnly.notActions = true
        let policy = IAMPolicy(statements: [IAMPolicy.Statement(effect: .allow, actions: ["*"], resources: ["*"]), readOnly])
        #expect(policy.decide("memorydb:DescribeClusters", on: [Self.cluster("a")]) == .allowed)
        #expect(!policy.decide("memorydb:DeleteCluster", on: [Self.cluster("a")]).isAllowed)
    }

    @Test func conditionsAreAndedAcrossKeysAndOredAcrossValues() {
        let tagged = IAMPolicy(statements: [
            IAMPolicy.Statement(
                effect: .allow, actions: ["memorydb:DeleteCluster"], resources: ["*"],
                conditions: [
                    IAMPolicy.Condition(.stringLike, "aws:ResourceTag/pipeline", ["ci-*", "nightly"]),
                    IAMPolicy.Condition(.stringEquals, "aws:ResourceTag/team", ["cache"]),
                ])
        ])
        let resource = [Self.cluster("x")]
        #expect(tagged.decide("memorydb:DeleteCluster", on: resource, context: ["aws:ResourceTag/pipeline": "ci-42", "aws:ResourceTag/team": "cache"]).isAllowed)
        #expect(tagged.decide("memorydb:DeleteCluster", on: resource, context: ["aws:ResourceTag/pipeline": "nightly", "aws:ResourceTag/team": "cache"]).isAllowed)
        #expect(!tagged.decide("memorydb:DeleteCluster", on: resource, context: ["aws:ResourceTag/pipeline": "ci-42"]).isAllowed)
        #expect(!tagged.decide("memorydb:DeleteCluster", on: resource, context: [:]).isAllowed)
    }

    /// A key the request lacks: a positive test fails, a negated one holds (IAM's rule).
    @Test func aMissingKeyFailsPositiveTestsAndPassesNegatedOnes() {
        #expect(!IAMPolicy.Condition(.stringEquals, "aws:ResourceTag/env", ["prod"]).holds(in: [:]))
        #expect(IAMPolicy.Condition(.stringNotEquals, "aws:ResourceTag/env", ["prod"]).holds(in: [:]))
        #expect(IAMPolicy.Condition(.stringNotLike, "aws:ResourceTag/env", ["prod*"]).holds(in: ["aws:ResourceTag/env": "dev"]))
        #expect(!IAMPolicy.Condition(.stringNotLike, "aws:ResourceTag/env", ["prod*"]).holds(in: ["aws:ResourceTag/env": "production"]))
        #expect(IAMPolicy.Condition(.stringEqualsIgnoreCase, "memorydb:ClusterName", ["CI-1"]).holds(in: ["memorydb:ClusterName": "ci-1"]))
    }
}

/// The resources each operation acts on, and the built-in templates evaluated against them: the
/// issue's read-only key and CI key limited to `ci-*`.
@Suite struct PolicyTemplateTests {
    static func target(_ operation: String, _ input: [String: String] = [:], lists: [String: [String]] = [:]) -> AuthorizationTarget {
        OperationResources.target(
            of: operation, region: "us-east-1", account: "000000000000", string: { input[$0] }, strings: { lists[$0] ?? [] })
    }

    static func allowed(_ policy: IAMPolicy, _ target: AuthorizationTarget) -> Bool {
        policy.decide(target.action, on: target.resources).isAllowed
    }

    @Test func createClusterActsOnTheClusterAndWhatItNames() {
        let target = Self.target("CreateCluster", ["ClusterName": "ci-1", "ACLName": "open-access", "ParameterGroupName": "tuned"])
        #expect(target.action == "memorydb:CreateCluster")
        #expect(target.resources == [
            "arn:aws:memorydb:us-east-1:000000000000:cluster/ci-1", "arn:aws:memorydb:us-east-1:000000000000:acl/open-access",
            "arn:aws:memorydb:us-east-1:000000000000:parametergroup/tuned", "arn:aws:memorydb:us-east-1:000000000000:subnetgroup/default",
        ])
        #expect(Self.target("DescribeClusters").resources == ["*"])
        #expect(Self.target("UpdateACL", ["ACLName": "apps"], lists: ["UserNamesToAdd": ["a"]]).resources.count == 2)
    }

    @Test func theReadOnlyTemplateReadsAndChangesNothing() {
        let policy = PolicyTemplates.readOnly
        #expect(Self.allowed(policy, Self.target("DescribeClusters")))
        #expect(Self.allowed(policy, Self.target("ListTags", ["ResourceArn": "arn:aws:memorydb:us-east-1:000000000000:cluster/a"])))
        #expect(!Self.allowed(policy, Self.target("CreateCluster", ["ClusterName": "a", "ACLName": "open-access"])))
        #expect(!Self.allowed(policy, Self.target("DeleteCluster", ["ClusterName": "a"])))
        #expect(!Self.allowed(policy, Self.target("TagResource", ["ResourceArn": "arn:aws:memorydb:us-east-1:000000000000:cluster/a"])))
    }

    @Test func theCITemplateTouchesOnlyItsOwn() {
        let policy = PolicyTemplates.ci(prefix: "ci-")
        #expect(Self.allowed(policy, Self.target("CreateCluster", ["ClusterName": "ci-1", "ACLName": "open-access"])))
        #expect(Self.allowed(policy, Self.target("DeleteCluster", ["ClusterName": "ci-1"])))
        #expect(!Self.allowed(policy, Self.target("CreateCluster", ["ClusterName": "prod-1", "ACLName": "open-access"])))
        #expect(!Self.allowed(policy, Self.target("DeleteCluster", ["ClusterName": "prod-1"])))
        #expect(Self.allowed(policy, Self.target("DescribeClusters", ["ClusterName": "prod-1"])))
        #expect(!Self.allowed(policy, Self.target("DeleteParameterGroup", ["ParameterGroupName": "ci-tuned"])))
        #expect(Self.allowed(PolicyTemplates.admin, Self.target("DeleteCluster", ["ClusterName": "prod-1"])))
    }

    @Test func theCITemplateByTagAsksTheResourcesTag() {
        let policy = PolicyTemplates.ci(tag: Tag(key: "pipeline", value: "42"))
        let delete = Self.target("DeleteCluster", ["ClusterName": "any"])
        #expect(policy.decide(delete.action, on: delete.resources, context: ["aws:ResourceTag/pipeline": "42"]).isAllowed)
        #expect(!policy.decide(delete.action, on: delete.resources, context: ["aws:ResourceTag/pipeline": "7"]).isAllowed)
    }
}

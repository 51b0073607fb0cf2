import Model
import Testing

/// Every fault has a wire name and the statuses its doors answer with.
@Suite struct FaultStatusTests {
    @Test func everyFaultHasItsWireNameAndAStatus() {
        #expect(MemoryDBError.Code.allCases.count > 25)
        for code in MemoryDBError.Code.allCases {
            #expect(code.rawValue.first?.isUppercase == true, "\(code) has no wire name")
            #expect([400, 401, 403, 404, 409, 429, 500, 503].contains(code.wireStatus.rest), "\(code): REST status \(code.wireStatus.rest)")
            #expect([400, 403, 500].contains(code.wireStatus.aws), "\(code): AWS status \(code.wireStatus.aws)")
        }
    }

    @Test(arguments: [
        (MemoryDBError.Code.clusterNotFound, 404, 400), (.clusterAlreadyExists, 409, 400), (.invalidClusterState, 409, 400),
        (.subnetGroupInUse, 409, 400), (.insufficientClusterCapacity, 503, 400), (.internalFailure, 500, 500),
        (.invalidParameterValue, 400, 400), (.tagNotFound, 404, 400),
    ])
    func statusesAreTheDocumentedOnes(code: MemoryDBError.Code, rest: Int, aws: Int) {
        #expect(code.wireStatus.rest == rest)
        #expect(code.wireStatus.aws == aws)
    }
}

import Foundation
import Model
import Testing

/// The one table of wire statuses covers every fault the code declares.
@Suite struct FaultStatusTests {
    /// The raw values of every `Code` declared in MemoryDBError.swift, read from the source so a
    /// fault added there without a row here fails this test.
    func declaredFaults() throws -> [String] {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Model/Errors/MemoryDBError.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"Code\(rawValue: "([A-Za-z]+)"\)"#)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func everyDeclaredFaultHasARow() throws {
        let declared = try declaredFaults()
        #expect(declared.count > 25)
        let inTable = Set(MemoryDBError.Code.all.map(\.rawValue))
        for fault in declared {
            #expect(inTable.contains(fault), "\(fault) has no wire status")
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

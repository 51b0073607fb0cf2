import Foundation
import Hummingbird
import Model
import NIOCore

/// The two ways into the API, and how each answers an error. Every middleware and handler renders
/// errors through its door's renderer, so an AWS call always gets AWS's shape (`__type`, 400) and
/// a REST call the REST one (`{"error": {...}}`, the status that says what went wrong), whichever
/// layer refused it.
enum Door: String, Sendable {
    case rest
    case aws

    /// The door a request came through: `POST /` is the AWS JSON 1.1 protocol.
    static func of(_ request: Request) -> Door {
        request.uri.path == "/" && request.method == .post ? .aws : .rest
    }

    /// A fault, with the status this door gives it.
    func render(_ error: MemoryDBError) -> Response {
        let status = HTTPResponse.Status(code: self == .aws ? error.code.wireStatus.aws : error.code.wireStatus.rest)
        return render(status: status, code: error.code.rawValue, message: error.message)
    }

    /// An error in this door's shape, with the fault also in `x-amzn-ErrorType` (as AWS sends it;
    /// the audit trail reads it from there).
    func render(status: HTTPResponse.Status, code: String, message: String) -> Response {
        var buffer = ByteBuffer()
        switch self {
        case .aws:
            buffer.writeBytes(AWSJSON.object(["__type": .string(code), "message": .string(message)]).serialized())
        case .rest:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            buffer.writeBytes((try? encoder.encode(["error": ["code": code, "message": message]])) ?? Data())
        }
        let contentType = self == .aws ? AWSDoor.contentType : "application/json"
        return Response(status: status, headers: [.contentType: contentType, AWSDoor.errorTypeHeader: code], body: .init(byteBuffer: buffer))
    }

    /// A body over the size limit, refused before it is read further.
    func bodyTooLarge(limit: Int) -> Response {
        render(status: .contentTooLarge, code: MemoryDBError.Code.invalidParameterValue.rawValue, message: "The request body is larger than \(limit) bytes.")
    }
}

import Control
import Foundation
import HTTPTypes
import Hummingbird
import Ports
import Logging
import Model
import NIOCore
import NIOFoundationCompat

/// The AWS MemoryDB JSON 1.1 protocol: `POST /` with `X-Amz-Target: AmazonMemoryDB.<Operation>`,
/// so the AWS CLI, boto3 and Terraform work with `--endpoint-url`.
///
/// Errors are rendered as AWS does (`Door.aws`): HTTP 400 (403 for authentication) with
/// `{"__type": "<Fault>", "message": ...}` and the `x-amzn-ErrorType` header.
struct AWSDoor {
    static let targetPrefix = "AmazonMemoryDB."
    // Both are valid header names, so the initialiser never fails; the fallback only spares a `!`.
    static let targetHeader = HTTPField.Name("X-Amz-Target") ?? .contentType
    static let errorTypeHeader = HTTPField.Name("x-amzn-ErrorType") ?? .contentType
    let services: APIServices
    let operations: [String: (members: Set<String>, handler: AWSOperations.Handler)]

    init(services: APIServices) {
        self.services = services
        operations = AWSOperations(services: services).table
    }

    /// The operation an `X-Amz-Target` header names (`""` when it names none).
    static func operationName(_ request: Request) -> String {
        let target = request.headers[targetHeader] ?? ""
        return target.hasPrefix(targetPrefix) ? String(target.dropFirst(targetPrefix.count)) : ""
    }

    func addRoutes(to router: Router<APIRequestContext>) {
        router.post("/") { request, context in
            await self.handle(request, context: context)
        }
    }

    func handle(_ request: Request, context: APIRequestContext) async -> Response {
        var request = request
        let target = request.headers[Self.targetHeader] ?? ""
        do {
            let body = try await SigV4Request.collectBody(&request, context: context)
            var caller: Caller?
            if let authenticator = services.authenticator {
                do {
                    caller = try authenticator.signer(of: SigV4Request.parts(of: request, body: body))
                } catch {
                    // No credentials at all is 401 (HTTP's "authenticate first"); credentials that
                    // do not hold are 403, as AWS answers. botocore reads the fault from __type
                    // either way.
                    let missing = (request.headers[.authorization] ?? "").isEmpty
                    return Self.error(status: missing ? .unauthorized : .forbidden, type: error.code.rawValue, message: error.message)
                }
            }
            guard target.hasPrefix(Self.targetPrefix) else {
                return Self.error(
                    status: .badRequest, type: "UnknownOperationException",
                    message: "X-Amz-Target must be AmazonMemoryDB.<Operation>; got '\(target)'.")
            }
            let name = String(target.dropFirst(Self.targetPrefix.count))
            guard let operation = operations[name] else {
                if AWSOperations.notYetSupported.contains(name) {
                    throw MemoryDBError(.invalidParameterCombination, "MemoryPlane does not support \(name) yet.")
                }
                return Self.error(status: .badRequest, type: "UnknownOperationException", message: "Unknown operation \(name).")
            }
            let input = try AWSInput(operation: name, body: Data(buffer: body), allowed: operation.members)
            if let caller { try services.authorizer.authorize(caller, self.target(of: name, input)) }
            let output = try await operation.handler(input)
            return try Self.json(output, status: .ok)
        } catch let error as MemoryDBError {
            let name = String(target.dropFirst(Self.targetPrefix.count))
            let message = operations[name].map { AWSFieldNames.translate(error.message, operation: name, members: $0.members) } ?? error.message
            return Door.aws.render(MemoryDBError(error.code, message))
        } catch APIError.bodyTooLarge(let limit) {
            return Door.aws.bodyTooLarge(limit: limit)
        } catch {
            context.logger.error("unhandled error on the AWS door", metadata: ["error": "\(error)", "aws.operation": "\(target)"])
            return Self.error(status: .internalServerError, type: "InternalFailure", message: "Internal error; see the server log.")
        }
    }

    /// The operation's action and the resources its input names. A member of the wrong type
    /// names nothing here; the handler then refuses the input, so nothing is done either way.
    func target(of operation: String, _ input: AWSInput) -> AuthorizationTarget {
        services.authorizer.target(
            operation, string: { try? input.string($0) }, strings: { (try? input.strings($0)) ?? [] }, tags: (try? input.tags("Tags")) ?? [])
    }

    static let contentType = "application/x-amz-json-1.1"

    static func json(_ value: AWSJSON, status: HTTPResponse.Status) throws -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(value.serialized())
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: buffer))
    }

    static func error(status: HTTPResponse.Status, type: String, message: String) -> Response {
        Door.aws.render(status: status, code: type, message: message)
    }
}

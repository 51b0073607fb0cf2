import Control
import Foundation
import Ports

/// Who a request is: the key its SigV4 signature or HTTP Basic pair names, if that key exists,
/// is active and its secret holds. Every door and the console's sign-in ask it.
struct Authenticator: Sendable {
    let keys: AccessKeyService
    let region: String
    let clock: any WallClock

    /// The signer's key, once the signature holds; AWS's fault names otherwise.
    func signer(of request: SigV4Verifier.Request) throws(SigV4Failure) -> Caller {
        let id = try SigV4Verifier.keyID(of: request)
        let caller = try active(id)
        try SigV4Verifier(key: caller.key, region: region).verify(request, now: clock.date)
        keys.recordUse(id)
        return caller
    }

    /// The key an id and secret name (HTTP Basic, the console's sign-in).
    func holder(id: String, secret: String) throws(SigV4Failure) -> Caller {
        let caller = try active(id)
        guard caller.key.matches(id: id, secret: secret) else {
            throw SigV4Failure(code: .unrecognizedClient, message: "The access key or secret is wrong.")
        }
        keys.recordUse(id)
        return caller
    }

    /// The key with this id, if it is active: a deactivated key is refused from the next request.
    func active(_ id: String) throws(SigV4Failure) -> Caller {
        switch keys.lookup(id) {
        case .active(let caller): return caller
        case .inactive:
            throw SigV4Failure(code: .unrecognizedClient, message: "The security token included in the request is invalid: the access key is inactive.")
        case .unknown:
            throw SigV4Failure(code: .unrecognizedClient, message: "The security token included in the request is invalid: unknown access key \(id).")
        }
    }
}

import Foundation
import Hummingbird

/// `bench-hello PORT`: Hummingbird's hello-world app with the framework's defaults, the baseline
/// `make bench` measures the API's connection bursts against. A separate executable, so the
/// product binary carries nothing that only benchmarks use.
guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]), (1...65535).contains(port) else {
    print("usage: bench-hello PORT (listens on 127.0.0.1:PORT, GET /health answers ok)")
    exit(2)
}
let router = Router()
router.get("/health") { _, _ in "ok" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()

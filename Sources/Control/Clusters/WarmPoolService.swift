import Ports
import Foundation
import Logging
import ServiceLifecycle
import Store

/// Keeps the warm pool full (`serve --warm-nodes N`): N ready nodes of each kind, plain and TLS.
///
/// Starts by stopping whatever warm nodes a previous run left (nothing about them is stored);
/// then, every half second, replaces nodes that were adopted or have died. A port for a warm
/// node is chosen inside a store write, as a creation chooses its ports, so the two never pick
/// the same one. At shutdown the pool's nodes are stopped.
public final class WarmPoolService: Service {
    let pool: WarmNodePool
    let source: any WarmNodeSource
    let store: Store
    let ports: PortAllocator
    let logger: Logger

    public init(pool: WarmNodePool, source: any WarmNodeSource, store: Store, ports: PortAllocator, logger: Logger) {
        self.pool = pool
        self.source = source
        self.store = store
        self.ports = ports
        self.logger = logger
    }

    public func run() async throws {
        await source.discardWarmNodes()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refill()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        for node in pool.drain() { await source.discard(node) }
    }

    /// Starts what the pool lacks; a failure (ports exhausted, a spawn refused) is logged and
    /// retried on the next round.
    func refill() async {
        for dead in pool.dropDead() {
            logger.warning("warm node ended; replacing it", metadata: ["warm.id": "\(dead.id)", "node.port": "\(dead.port)"])
            await source.discard(dead)
        }
        for tls in [false, true] {
            while pool.count(tls: tls) < pool.size && !Task.isCancelled {
                let port: Int
                do {
                    let pool = pool
                    let ports = ports
                    port = try store.write { transaction in
                        let port = try ports.allocate(1, excluding: try transaction.portsInUse().union(pool.ports))[0]
                        pool.reserve(port)
                        return port
                    }
                } catch {
                    logger.warning("no port for a warm node", metadata: ["error": "\(error)"])
                    return
                }
                do {
                    let node = try await source.startWarmNode(id: String(UUID().uuidString.prefix(8)).lowercased(), port: port, tls: tls, pool: pool)
                    pool.add(node, reserved: port)
                } catch {
                    pool.add(nil, reserved: port)
                    logger.warning("warm node did not start", metadata: ["error": "\(error)"])
                    return
                }
            }
        }
    }
}

import Ports
import Logging
import Control
import Model
import ServiceLifecycle
import Store
import Synchronization

/// Runs a reconcile loop per cluster, concurrently, for as long as the server runs.
///
/// Each loop is level-triggered: it looks at the cluster again after every step, soon while
/// work is in progress and every `supervisionInterval` once settled. A wake-up cuts the wait
/// short: a new request, or the liveness probe reporting that a node stopped (or started)
/// answering, which is how a killed or hung node is noticed within moments (the probe keeps one
/// connection per node and pings it; the loop itself looks at nothing between passes). One
/// slow cluster never delays another: each has its own task.
public final class ReconcilerService: Service {
    private let store: Store
    private let reconciler: ClusterReconciler
    private let signal: WakeSignal
    private let logger: Logger
    private let clock: any Clock<Duration>
    public let supervisionInterval: Duration
    public let progressInterval: Duration
    private let state = Mutex(State())

    private struct State {
        var running: Set<String> = []
        /// Clusters whose supervision is paused because the data plane cannot be looked at.
        var deferred: Set<String> = []
    }

    public init(
        store: Store, reconciler: ClusterReconciler, signal: WakeSignal, logger: Logger,
        supervisionInterval: Duration = .seconds(10), progressInterval: Duration = .milliseconds(30),
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.store = store
        self.reconciler = reconciler
        self.signal = signal
        self.logger = logger
        self.supervisionInterval = supervisionInterval
        self.progressInterval = progressInterval
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    do {
                        for name in try self.store.clusterNames() where self.claim(name) {
                            group.addTask { await self.loop(name) }
                        }
                    } catch {
                        self.logger.error("cannot list clusters", metadata: ["error": "\(error)"])
                    }
                    _ = await self.signal.wait(for: .anyCluster, timeout: .seconds(1), clock: self.clock)
                }
            }
        }
    }

    private func claim(_ name: String) -> Bool {
        state.withLock { $0.running.insert(name).inserted }
    }

    private func loop(_ name: String) async {
        defer { state.withLock { _ = $0.running.remove(name) } }
        while !Task.isCancelled {
            let outcome: ClusterReconciler.Outcome
            do {
                let started = reconciler.configuration.clock.monotonic
                outcome = try await reconciler.reconcile(name)
                reconciler.metrics?.reconcilePass(duration: reconciler.configuration.clock.monotonic - started)
            } catch {
                logger.error("reconcile pass failed", metadata: ["cluster.name": "\(name)", "error": "\(error)"])
                outcome = .progressing
            }
            noteDeferral(of: name, outcome)
            switch outcome {
            case .gone:
                signal.forget(cluster: name)
                return
            case .settled: _ = await signal.wait(for: .cluster(name), timeout: supervisionInterval, clock: clock)
            case .progressing: _ = await signal.wait(for: .cluster(name), timeout: progressInterval, clock: clock)
            case .retry(let pause): _ = await signal.wait(for: .cluster(name), timeout: pause, clock: clock)
            case .failed: _ = await signal.wait(for: .cluster(name), timeout: .seconds(30), clock: clock)
            case .deferred: try? await clock.sleep(for: supervisionInterval * 4)
            }
        }
    }

    /// Says once, in the log and as an event, that a cluster's supervision is paused (and once
    /// that it resumed): out of descriptors, the control plane cannot tell a dead node from one it
    /// could not look at, so it judges nothing rather than restart healthy nodes.
    private func noteDeferral(of name: String, _ outcome: ClusterReconciler.Outcome) {
        let event: ClusterEvent?
        if case .deferred(let reason) = outcome {
            event = state.withLock { $0.deferred.insert(name).inserted } ? .supervisionPaused(cluster: name, reason: reason) : nil
        } else {
            event = state.withLock { $0.deferred.remove(name) != nil } ? .supervisionResumed(cluster: name) : nil
        }
        // The event may itself fail while descriptors are short; the log line stands.
        if let event { try? reconciler.events.record(event, cluster: name) }
    }
}

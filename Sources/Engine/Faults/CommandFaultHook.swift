import CSpawn
import Foundation
import Ports

#if canImport(Glibc)
import Glibc
#endif

/// `serve --fault-hook PATH` (tests only): runs PATH at every fault point and waits for it, so an
/// end-to-end test can kill or freeze a process at exactly that boundary. The point arrives in
/// the environment: `MEMORYPLANE_FAULT_POINT`, `_CLUSTER`, `_DETAIL`, one `_NODE_<ROLE>` per
/// participant, and `_SERVE_PID` (the hook may kill `serve` itself). A hook that runs for more
/// than `timeout` is killed and the operation goes on.
public struct CommandFaultHook: FaultInjector {
    public let path: String
    public var timeout: Duration = .seconds(30)

    public init(path: String) {
        self.path = path
    }

    public func reached(_ point: FaultPoint) async {
        var environment = ProcessInfo.processInfo.environment
        environment["MEMORYPLANE_FAULT_POINT"] = point.name
        environment["MEMORYPLANE_FAULT_CLUSTER"] = point.cluster
        environment["MEMORYPLANE_FAULT_DETAIL"] = point.detail
        environment["MEMORYPLANE_FAULT_SERVE_PID"] = String(getpid())
        for (role, node) in point.nodes { environment["MEMORYPLANE_FAULT_NODE_\(role.uppercased())"] = node }
        guard let pid = Self.spawn(path, environment: environment) else { return }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return
            }
            // Cancelled: the loop still ends at the deadline, with the hook killed.
            try? await Task.sleep(for: .microseconds(200))
        }
    }

    /// Starts the hook with its output on ours; nil when it cannot be started.
    static func spawn(_ path: String, environment: [String: String]) -> pid_t? {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        cspawn_file_actions_addclosefrom(&fileActions, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &fileActions, nil, &argv, &envp) == 0 else { return nil }
        return pid
    }
}

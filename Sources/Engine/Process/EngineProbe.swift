import Foundation
import Model
import Ports

/// Asks the installed engine what it is (`redis-server --version`).
public enum EngineProbe {
    public static func version(of enginePath: String) throws -> EngineVersion {
        // A short-lived command that never forks, so Foundation's Process is safe here.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: enginePath)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let version = EngineVersion(redisVersionOutput: output) else {
            throw ProcessError("\(enginePath) --version printed no version: \(output)")
        }
        guard version.major >= 7 else {
            throw ProcessError("\(enginePath) is Redis \(version.patchVersion); MemoryPlane needs Redis 7 or later (CLUSTER ADDSLOTSRANGE).")
        }
        return version
    }
}

import Foundation

/// Directories only this user may enter (0700): nodes' data, snapshots, scratch servers.
public enum PrivateDirectory {
    /// Creates the directory (and its parents) and makes it 0700, also when it existed.
    public static func make(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }
}

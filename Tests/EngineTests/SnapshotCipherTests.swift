import Crypto
import Engine
import Foundation
import Testing
import Ports

/// Encryption at rest: round trips of any size, and every kind of damage refused by name.
@Suite struct SnapshotCipherTests {
    let directory = NSTemporaryDirectory() + "cipher-\(UUID().uuidString.prefix(8))"
    let cipher = SnapshotCipher(key: SymmetricKey(size: .bits256))

    func write(_ bytes: Int) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/plain-\(bytes)"
        var data = Data(count: bytes)
        for index in 0..<min(bytes, 5000) { data[index] = UInt8(index % 251) }
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    @Test(arguments: [0, 1, 4 << 20, (4 << 20) + 1, 9 << 20])
    func aFileOfAnySizeRoundTrips(_ size: Int) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = try write(size)
        let sealed = try cipher.encrypt(plain, to: plain + ".enc")
        #expect(sealed.size == Int64(size))
        let opened = try cipher.decrypt(plain + ".enc", to: plain + ".out", expectedSHA256: sealed.sha256)
        #expect(opened == sealed)
        #expect(FileManager.default.contents(atPath: plain + ".out") == FileManager.default.contents(atPath: plain))
    }

    @Test func aFlippedByteATruncationOrAnotherKeyIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = try write(6 << 20)
        let sealed = try cipher.encrypt(plain, to: plain + ".enc")
        var data = try #require(FileManager.default.contents(atPath: plain + ".enc"))
        data[data.count / 2] ^= 1
        FileManager.default.createFile(atPath: plain + ".flipped", contents: data)
        #expect(throws: SnapshotFileError.self) { try cipher.decrypt(plain + ".flipped", to: plain + ".out") }
        let original = try #require(FileManager.default.contents(atPath: plain + ".enc"))
        FileManager.default.createFile(atPath: plain + ".cut", contents: original.prefix(original.count - 100))
        #expect(throws: SnapshotFileError.self) { try cipher.decrypt(plain + ".cut", to: plain + ".out") }
        // Cut exactly after the first (whole) chunk: the missing last chunk is noticed too.
        FileManager.default.createFile(atPath: plain + ".chunk", contents: original.prefix(8 + 4 + 12 + (4 << 20) + 16))
        #expect(throws: SnapshotFileError.self) { try cipher.decrypt(plain + ".chunk", to: plain + ".out") }
        let stranger = SnapshotCipher(key: SymmetricKey(size: .bits256))
        #expect(throws: SnapshotFileError.self) { try stranger.decrypt(plain + ".enc", to: plain + ".out") }
        #expect(throws: SnapshotFileError.self) { try cipher.decrypt(plain + ".enc", to: plain + ".out", expectedSHA256: String(repeating: "0", count: 64)) }
        _ = sealed
    }
}

import Engine
import Foundation
import Testing
import Ports

@Suite struct CertificateAuthorityTests {
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func createdOnceWithAPrivateKeyAndAPublishedCertificate() throws {
        try withDirectory { directory in
            let first = try CertificateAuthority.loadOrCreate(dataDirectory: directory)
            #expect(try mode("\(directory)/tls/ca.key") == 0o600)
            #expect(try mode("\(directory)/tls") == 0o700)
            #expect(try String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8) == first.certificatePEM)
            #expect(first.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
            let again = try CertificateAuthority.loadOrCreate(dataDirectory: directory)
            #expect(again.certificatePEM == first.certificatePEM)
        }
    }

    @Test func issuedCertificatesExpireWhenAskedAndAreRenewedInTheirLastMonth() throws {
        try withDirectory { directory in
            let authority = try CertificateAuthority.loadOrCreate(dataDirectory: directory)
            let now = Date()
            let issued = try authority.issue(commonName: "demo-0001-001", names: ["demo-0001-001"], validity: 86400, now: now)
            #expect(issued.keyPEM.contains("PRIVATE KEY"))
            let expiry = try #require(CertificateAuthority.expiry(ofPEM: issued.certificatePEM))
            #expect(abs(expiry.timeIntervalSince(now) - 86400) < 2)
            let yearly = try authority.issue(commonName: "n")
            #expect(CertificateAuthority.expiry(ofPEM: yearly.certificatePEM)!.timeIntervalSinceNow > 300 * 86400)
            #expect(CertificateAuthority.expiry(ofPEM: "not a certificate") == nil)
        }
    }

    @Test func aTLSNodeHasNoPlaintextPortAndTLSOnEveryLink() {
        var config = NodeConfig(
            port: 7001, busPort: 17001, directory: "/d", maxmemoryBytes: 1, admin: NodeCredentials(user: "a", password: "p"))
        config.tls = NodeConfig.TLSFiles(certificate: "/d/tls-1.crt", key: "/d/tls-1.key", authority: "/d/ca.pem")
        let lines = Set(config.render().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for line in ["port 0", "tls-port 7001", "tls-cluster yes", "tls-replication yes", "tls-cert-file /d/tls-1.crt", "tls-key-file /d/tls-1.key", "tls-ca-cert-file /d/ca.pem", "tls-protocols \"TLSv1.2 TLSv1.3\""] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(!lines.contains("port 7001"))
    }
}

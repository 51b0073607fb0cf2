import Crypto
import Foundation
import NIOSSL
import Synchronization
import SwiftASN1
import X509
import Ports

/// The data directory's own certificate authority: it signs every node certificate, and
/// clients trust it through `ca.pem`.
///
/// Made with swift-certificates and swift-crypto (ECDSA P-256), never by shelling out. The key
/// is kept 0600 under `<data-dir>/tls/`; the certificate is also copied to `<data-dir>/ca.pem`.
public struct CertificateAuthority: Sendable {
    public let certificatePEM: String
    private let keyPEM: String

    /// Node certificates live a year and are renewed in their last 30 days.
    public static let nodeValidity: TimeInterval = 365 * 86400
    public static let renewalWindow: TimeInterval = 30 * 86400

    /// Loads the authority of `dataDirectory`, creating it on first need.
    public static func loadOrCreate(dataDirectory: String) throws -> CertificateAuthority {
        let directory = "\(dataDirectory)/tls"
        let keyPath = "\(directory)/ca.key"
        let certificatePath = "\(directory)/ca.pem"
        if FileManager.default.fileExists(atPath: keyPath), FileManager.default.fileExists(atPath: certificatePath) {
            let authority = CertificateAuthority(
                certificatePEM: try String(contentsOfFile: certificatePath, encoding: .utf8),
                keyPEM: try String(contentsOfFile: keyPath, encoding: .utf8))
            try LocalDataPlane.writePrivateFile("\(dataDirectory)/ca.pem", authority.certificatePEM)
            return authority
        }
        try LocalDataPlane.makePrivateDirectory(directory)
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("MemoryPlane")
            CommonName("MemoryPlane local CA")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        let authority = CertificateAuthority(certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
        try LocalDataPlane.writePrivateFile(keyPath, authority.keyPEM)
        try LocalDataPlane.writePrivateFile(certificatePath, authority.certificatePEM)
        try LocalDataPlane.writePrivateFile("\(dataDirectory)/ca.pem", authority.certificatePEM)
        return authority
    }

    init(certificatePEM: String, keyPEM: String) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    /// A server certificate for the addresses clients use: 127.0.0.1, localhost and `names`.
    public func issue(commonName: String, names: [String] = [], validity: TimeInterval = nodeValidity, now: Date = Date()) throws -> (certificatePEM: String, keyPEM: String) {
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let caCertificate = try Certificate(pemEncoded: certificatePEM)
        let key = P256.Signing.PrivateKey()
        var alternativeNames: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        alternativeNames += names.map { .dnsName($0) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(validity),
            issuer: caCertificate.subject,
            subject: try DistinguishedName {
                OrganizationName("MemoryPlane")
                CommonName(commonName)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(alternativeNames)
                AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// When a PEM certificate stops being valid; nil when it cannot be read.
    public static func expiry(ofPEM pem: String) -> Date? {
        (try? Certificate(pemEncoded: pem))?.notValidAfter
    }

    /// A TLS client context that trusts only this authority and verifies the peer's certificate.
    public func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)])
        configuration.certificateVerification = .fullVerification
        return try NIOSSLContext(configuration: configuration)
    }
}

/// The authority of one data directory, created the first time anything needs it.
public final class CertificateAuthorityProvider: Sendable {
    private let dataDirectory: String
    private let state = Mutex<(authority: CertificateAuthority, context: NIOSSLContext)?>(nil)

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public func authority() throws -> CertificateAuthority {
        try loaded().authority
    }

    /// The client context trusting the authority, built once.
    public func clientContext() throws -> NIOSSLContext {
        try loaded().context
    }

    private func loaded() throws -> (authority: CertificateAuthority, context: NIOSSLContext) {
        try state.withLock { state in
            if let state { return state }
            let authority = try CertificateAuthority.loadOrCreate(dataDirectory: dataDirectory)
            let loaded = (authority, try authority.clientContext())
            state = loaded
            return loaded
        }
    }
}

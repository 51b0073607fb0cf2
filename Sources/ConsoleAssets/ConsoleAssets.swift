/// The web console's files, embedded in the binary at build time (no CDN, no build step, no
/// npm): plain HTML, CSS and one JavaScript module.
public enum ConsoleAssets {
    public struct File: Sendable {
        public let contentType: String
        public let bytes: [UInt8]
    }

    /// Each file by its name under `/console/`.
    public static let files: [String: File] = [
        "index.html": File(contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "console.js": File(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.console_js),
        "console.css": File(contentType: "text/css; charset=utf-8", bytes: PackageResources.console_css),
    ]
}

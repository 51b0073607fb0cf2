/// The price list `serve` uses unless given `--price-list`: a sample in AWS's offer-file format
/// with illustrative rates (its `disclaimer` says so, and how to replace it with AWS's own).
public enum BundledPriceList {
    public static let name = "memorydb-sample.json"
    public static var bytes: [UInt8] { PackageResources.memorydb_sample_json }
}

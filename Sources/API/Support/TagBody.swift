import Model

/// A tag as every REST body and view spells it: `{"key": ..., "value": ...}`.
struct TagBody: Codable {
    var key: String
    var value: String

    init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    init(_ tag: Tag) {
        self.init(key: tag.key, value: tag.value)
    }

    var tag: Tag { Tag(key: key, value: value) }
}

// Header fields in arrival order with ASCII case-insensitive lookup.

/// One header field. Names keep the case they arrived in; compare them with
/// `HTTPHeaders` lookups, which ignore ASCII case.
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Header fields in order. Lookups are linear scans: a request holds at most
/// `HTTPParserLimits.maxHeaderCount` fields, and a scan beats hashing at that size.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [HTTPField]

    public init() { fields = [] }
    public init(_ fields: [HTTPField]) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }
    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    /// Appends a field (a second field with the same name is kept: use `replace` to overwrite).
    public mutating func add(name: String, value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Removes every field named `name` and appends one with `value`.
    public mutating func replace(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    public mutating func remove(name: String) {
        fields.removeAll { ASCII.equalsIgnoringCase($0.name, name) }
    }

    /// The first value of `name`, ignoring ASCII case, or nil.
    public subscript(name: String) -> String? { first(name: name) }

    public func first(name: String) -> String? {
        for f in fields where ASCII.equalsIgnoringCase(f.name, name) { return f.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(name: String) -> [String] {
        fields.filter { ASCII.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    public func contains(name: String) -> Bool { first(name: name) != nil }

    /// True when any field `name` holds `token` in its comma-separated list, ignoring case
    /// (`contains(name: "Connection", token: "upgrade")`).
    public func contains(name: String, token: String) -> Bool {
        for f in fields where ASCII.equalsIgnoringCase(f.name, name) {
            if ASCII.listContainsToken(f.value, token) { return true }
        }
        return false
    }
}

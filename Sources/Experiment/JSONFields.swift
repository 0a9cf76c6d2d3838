// JSONFields.swift: reading JSON whose shape we do not control (datasets, released files, configs)
// with errors that name the file and the exact key path, e.g. `[12].questions[3].answer`.
import Foundation
import Workspace

/// A JSON value at a known path of a known file.
public struct JSONNode {
  public let value: JSONValue
  public let path: String
  public let key: String

  public init(value: JSONValue, path: String, key: String = "") { self.value = value; self.path = path; self.key = key }

  /// Parses a file (`.gz` through libarchive). Missing file and invalid JSON name the file.
  public static func load(_ file: String) throws -> JSONNode {
    guard FileManager.default.fileExists(atPath: file) else {
      throw ExperimentError.missingFile(path: file, what: "no such file")
    }
    let data: Data
    if file.lowercased().hasSuffix(".gz") {
      do { data = try Gunzip.decompress(path: file) } catch let e as WorkspaceError {
        throw ExperimentError.malformed(
          path: file, key: "(file)", expected: "a gzip-compressed JSON file", found: e.localizedDescription)
      }
    } else {
      guard let d = FileManager.default.contents(atPath: file) else {
        throw ExperimentError.missingFile(path: file, what: "unreadable")
      }
      data = d
    }
    return try parse(data, path: file)
  }

  public static func parse(_ data: Data, path: String) throws -> JSONNode {
    do { return JSONNode(value: try JSONValue.parse(data), path: path) } catch {
      throw ExperimentError.malformed(path: path, key: "(file)", expected: "valid JSON", found: error.reason)
    }
  }

  func child(_ v: JSONValue, _ k: String) -> JSONNode { JSONNode(value: v, path: path, key: k) }
  var here: String { key.isEmpty ? "(top level)" : key }

  public func fail(_ expected: String) -> ExperimentError {
    .malformed(path: path, key: here, expected: expected, found: JSONNode.describe(value))
  }

  public static func describe(_ v: JSONValue) -> String {
    switch v {
    case .null: return "null"
    case .string(let s): return "the string \"\(s.count > 60 ? String(s.prefix(60)) + "..." : s)\""
    case .bool(let b): return b ? "true" : "false"
    case .integer(let i): return "the number \(i)"
    case .number(let d): return "the number \(d)"
    case .array(let a): return "an array of \(a.count)"
    case .object: return "an object"
    }
  }

  public func array() throws -> [JSONNode] {
    guard let a = value.array else { throw fail("an array") }
    return a.enumerated().map { child($0.element, "\(key)[\($0.offset)]") }
  }

  public func object() throws -> [String: JSONValue] {
    guard let o = value.object else { throw fail("an object") }
    return o
  }

  /// The member `name`; missing is an error naming it.
  public func field(_ name: String) throws -> JSONNode {
    let o = try object()
    guard let v = o[name] else {
      throw ExperimentError.malformed(
        path: path, key: key.isEmpty ? name : "\(key).\(name)", expected: "a value", found: "no such key")
    }
    return child(v, key.isEmpty ? name : "\(key).\(name)")
  }

  public func fieldIfPresent(_ name: String) throws -> JSONNode? {
    let o = try object()
    guard let v = o[name], v != .null else { return nil }
    return child(v, key.isEmpty ? name : "\(key).\(name)")
  }

  /// Rejects keys outside `allowed` (typos in configs must not be silently ignored).
  public func onlyKeys(_ allowed: Set<String>) throws {
    for k in try object().keys.sorted() where !allowed.contains(k) {
      throw ExperimentError.malformed(
        path: path, key: key.isEmpty ? k : "\(key).\(k)",
        expected: "one of the keys " + allowed.sorted().joined(separator: ", "), found: "an unknown key")
    }
  }

  public func string() throws -> String {
    guard let s = value.string else { throw fail("a string") }
    return s
  }

  public func int() throws -> Int {
    guard case .integer(let i) = value, abs(i) < 1_000_000_000_000_000 else { throw fail("an integer") }
    return Int(i)
  }

  public func double() throws -> Double {
    guard let d = value.double, d.isFinite else { throw fail("a finite number") }
    return d
  }

  public func bool() throws -> Bool {
    guard let b = value.bool else { throw fail("true or false") }
    return b
  }
}

/// A config value that is one of a fixed set of strings (an enum with raw values): decoded
/// strictly by `JSONNode.decode`, whose error then lists the choices.
public protocol ConfigChoice: Codable, CaseIterable, Equatable, Sendable, RawRepresentable where RawValue == String {}

extension ConfigChoice {
  /// "a or b or c", as errors name what was expected.
  public static var choices: String { allCases.map(\.rawValue).joined(separator: " or ") }
}

/// A type whose decoding error should name what it accepts (a config's method names, say), as
/// `ConfigChoice` types list their choices. Its `init(from:)` throws `typeMismatch(Self.self, ...)`.
public protocol ConfigExpected { static var expected: String { get } }

extension JSONNode {
  /// An object read through its `Codable` type, strictly and at every depth: the allowed keys are
  /// the ones `defaults` encodes (plus the dotted paths in `optional`, properties that may be nil;
  /// where such a property is an object, `shapes` gives a value whose keys it may hold), a nested
  /// object merges into its default section key by key, a key left out or set to null keeps its
  /// default (null clears the paths in `optional`), and a decoding error names the key path, what
  /// was expected and what was found, in the words of the field readers above. The keys are thus
  /// spelled once, by the types.
  public func decode<T: Codable>(
    _ defaults: T, optional: Set<String> = [], shapes: [String: any Encodable] = [:]
  ) throws -> T {
    func encodedObject(_ v: any Encodable) throws -> [String: JSONValue] { try JSONValue(encoding: v).object ?? [:] }
    let base = try encodedObject(defaults)
    let shapeObjects = try shapes.mapValues { try encodedObject($0) }
    // The given leaves (values not merged into a default object), each key checked against the
    // keys its level allows.
    var leaves: [(path: [String], value: JSONValue)] = []
    func collect(
      _ given: [String: JSONValue], allowedIn level: [String: JSONValue], at path: [String], merging: Bool
    ) throws {
      let optionalHere = optional.compactMap { o -> String? in
        let parts = o.split(separator: ".").map(String.init)
        return parts.count == path.count + 1 && Array(parts.dropLast()) == path ? parts.last : nil
      }
      let allowed = Set(level.keys).union(optionalHere)
      for k in given.keys.sorted() {
        let full = path + [k]
        guard allowed.contains(k) else {
          throw ExperimentError.malformed(
            path: self.path, key: keyPath(full),
            expected: "one of the keys " + allowed.sorted().joined(separator: ", "), found: "an unknown key")
        }
        let sub = given[k]?.object
        if merging, let sub, let b = level[k]?.object {
          try collect(sub, allowedIn: b, at: full, merging: true)
          continue
        }
        // An object with no default to merge into is one leaf; its keys are still checked.
        if let sub, let shape = shapeObjects[full.joined(separator: ".")] ?? level[k]?.object {
          try collect(sub, allowedIn: shape, at: full, merging: false)
        }
        if merging { leaves.append((full, given[k]!)) }
      }
    }
    try collect(try object(), allowedIn: base, at: [], merging: true)
    func set(_ d: inout [String: JSONValue], _ path: ArraySlice<String>, _ v: JSONValue, _ full: String) {
      let k = path.first!
      if path.count == 1 {
        if v == .null { if optional.contains(full) { d[k] = nil } } else { d[k] = v }
        return
      }
      var inner = d[k]?.object ?? [:]
      set(&inner, path.dropFirst(), v, full)
      d[k] = .object(inner)
    }
    func decoded(_ use: [(path: [String], value: JSONValue)]) throws -> T {
      var merged = base
      for l in use { set(&merged, l.path[...], l.value, l.path.joined(separator: ".")) }
      return try JSONDecoder().decode(T.self, from: try JSONValue.object(merged).text())
    }
    do {
      return try decoded(leaves)
    } catch let e as DecodingError {
      let (type, context): (Any.Type?, DecodingError.Context?) =
        switch e {
        case .typeMismatch(let t, let c), .valueNotFound(let t, let c): (t, c)
        case .dataCorrupted(let c): (nil, c)
        case .keyNotFound(let k, let c):
          // A required key of an object given whole (an endpoint's url, say).
          throw ExperimentError.malformed(
            path: path, key: keyPath(c.codingPath.map(\.stringValue) + [k.stringValue]), expected: "a value",
            found: "no such key")
        @unknown default: (nil, nil)
        }
      if let p = context?.codingPath, !p.isEmpty {
        throw failure(at: p, type: type, defaults: defaults, shapes: shapes)
      }
      // A number the property cannot hold (1.5 for an Int) may come back without its key: find it.
      for l in leaves where (try? decoded([l])) == nil {
        // In an object decoded whole, the key without which it decodes.
        let whole = l.value.object ?? [:]
        for k in whole.keys.sorted() {
          var less = whole
          less[k] = nil
          if (try? decoded([(l.path, .object(less))])) != nil {
            throw failure(at: (l.path + [k]).map(JSONKey.init), type: nil, defaults: defaults, shapes: shapes)
          }
        }
        throw failure(at: l.path.map(JSONKey.init), type: nil, defaults: defaults, shapes: shapes)
      }
      throw failure(at: [], type: type, defaults: defaults)
    }
  }

  private func keyPath(_ parts: [String]) -> String {
    parts.reduce(key) { $0.isEmpty ? $1 : "\($0).\($1)" }
  }

  private struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// The error for the value at `codingPath` below this node: its key, what the property's type
  /// expects (the type the decoder names, else the property's own), and the value found there.
  func failure(
    at codingPath: [CodingKey], type: Any.Type?, defaults: Any, shapes: [String: any Encodable] = [:]
  ) -> ExperimentError {
    var node = self
    var property: Any? = defaults
    var target: Any.Type? = nil
    var names: [String] = []
    for k in codingPath {
      let key =
        if let i = k.intValue { node.key + "[\(i)]" } else {
          node.key.isEmpty ? k.stringValue : "\(node.key).\(k.stringValue)"
        }
      let next: JSONValue? =
        if let i = k.intValue { node.value.array.flatMap { i < $0.count ? $0[i] : nil } } else {
          node.value[k.stringValue]
        }
      node = JSONNode(value: next ?? .null, path: path, key: key)
      // The property's own type, from the defaults, while the path stays inside them.
      if k.intValue == nil, let p = property {
        names.append(k.stringValue)
        var child = Mirror(reflecting: p).children.first { $0.label == k.stringValue }?.value
        target = child.map { Swift.type(of: $0) }
        // Below an optional property: its value, or where it is nil, its shape.
        if let c = child, Mirror(reflecting: c).displayStyle == .optional {
          child = Mirror(reflecting: c).children.first?.value ?? shapes[names.joined(separator: ".")]
        }
        property = child
      } else {
        property = nil
        target = nil
      }
    }
    if let o = target as? any OptionalProperty.Type { target = o.wrapped }
    let expected: String =
      switch type ?? target {
      case is Int.Type: "an integer"
      case is UInt64.Type: "an integer >= 0"
      case is Double.Type: "a finite number"
      case is Bool.Type: "true or false"
      case is String.Type: "a string"
      case let c as any ConfigChoice.Type: c.choices
      case let c as any ConfigExpected.Type: c.expected
      case let t? where "\(t)".hasPrefix("Array"): "an array"
      case let t? where "\(t)".hasPrefix("Dictionary"): "an object"
      default: property.map { Mirror(reflecting: $0).displayStyle == .struct } == true ? "an object" : "a valid value"
      }
    return node.fail(expected)
  }
}

/// An optional property's wrapped type, for error messages (`Int?` expects an integer).
private protocol OptionalProperty { static var wrapped: Any.Type { get } }
extension Optional: OptionalProperty { static var wrapped: Any.Type { Wrapped.self } }

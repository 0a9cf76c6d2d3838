// JSONFields.swift: reading JSON whose shape we do not control (datasets, released files, configs)
// with errors that name the file and the exact key path, e.g. `[12].questions[3].answer`.
import Foundation
import Workspace

/// A JSON value at a known path of a known file.
public struct JSONNode {
  public let value: Any
  public let path: String
  public let key: String

  public init(value: Any, path: String, key: String = "") { self.value = value; self.path = path; self.key = key }

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
    do {
      return JSONNode(value: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]), path: path)
    } catch {
      let ns = error as NSError
      let detail = (ns.userInfo["NSDebugDescription"] as? String) ?? "not valid JSON"
      throw ExperimentError.malformed(path: path, key: "(file)", expected: "valid JSON", found: detail)
    }
  }

  func child(_ v: Any, _ k: String) -> JSONNode { JSONNode(value: v, path: path, key: k) }
  var here: String { key.isEmpty ? "(top level)" : key }

  public func fail(_ expected: String) -> ExperimentError {
    .malformed(path: path, key: here, expected: expected, found: JSONNode.describe(value))
  }

  /// JSONSerialization gives true/false as a boolean NSNumber subclass (no CoreFoundation on Linux).
  static func isBool(_ n: NSNumber) -> Bool { String(describing: type(of: n)).contains("Boolean") }

  public static func describe(_ v: Any) -> String {
    switch v {
    case is NSNull: return "null"
    case let s as String: return "the string \"\(s.count > 60 ? String(s.prefix(60)) + "..." : s)\""
    case let n as NSNumber:
      if isBool(n) { return n.boolValue ? "true" : "false" }
      return "the number \(n)"
    case let a as [Any]: return "an array of \(a.count)"
    case is [String: Any]: return "an object"
    default: return "\(type(of: v))"
    }
  }

  public func array() throws -> [JSONNode] {
    guard let a = value as? [Any] else { throw fail("an array") }
    return a.enumerated().map { child($0.element, "\(key)[\($0.offset)]") }
  }

  public func object() throws -> [String: Any] {
    guard let o = value as? [String: Any] else { throw fail("an object") }
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
    guard let v = o[name], !(v is NSNull) else { return nil }
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
    guard let s = value as? String else { throw fail("a string") }
    return s
  }

  func number() -> NSNumber? {
    guard let n = value as? NSNumber, !JSONNode.isBool(n) else { return nil }
    return n
  }

  public func int() throws -> Int {
    guard let d = number()?.doubleValue, d.isFinite, d == d.rounded(), abs(d) < 1e15 else { throw fail("an integer") }
    return Int(d)
  }

  /// A seed: an integer >= 0.
  public func seed() throws -> UInt64 {
    let s = try int()
    guard s >= 0 else { throw fail("an integer >= 0") }
    return UInt64(s)
  }

  public func double() throws -> Double {
    guard let n = number(), n.doubleValue.isFinite else { throw fail("a finite number") }
    return n.doubleValue
  }

  public func bool() throws -> Bool {
    guard let n = value as? NSNumber, JSONNode.isBool(n) else { throw fail("true or false") }
    return n.boolValue
  }
}

/// A config value that is one of a fixed set of strings (an enum with raw values): decoded
/// strictly by `JSONNode.decode`, whose error then lists the choices.
public protocol ConfigChoice: Codable, CaseIterable, Equatable, Sendable, RawRepresentable where RawValue == String {}

extension ConfigChoice {
  /// "a or b or c", as errors name what was expected.
  public static var choices: String { allCases.map(\.rawValue).joined(separator: " or ") }
}

extension JSONNode {
  /// A config section read through its `Codable` type, strictly: the allowed keys are the ones
  /// `defaults` encodes (plus `optional`, properties that may be nil), a key the section leaves out
  /// or sets to null keeps its default (null clears the properties in `optional`), and a decoding
  /// error names the key, what was expected and what was found, in the words of the field readers
  /// above. The keys are thus spelled once, by the type.
  public func decode<T: Codable>(_ defaults: T, optional: Set<String> = []) throws -> T {
    let base = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any]) ?? [:]
    try onlyKeys(Set(base.keys).union(optional))
    let given = try object()
    func decoded(_ keys: [String]) throws -> T {
      var merged = base
      for k in keys {
        if given[k] is NSNull {
          if optional.contains(k) { merged[k] = nil }
        } else {
          merged[k] = given[k]
        }
      }
      return try JSONDecoder().decode(T.self, from: try JSONSerialization.data(withJSONObject: merged))
    }
    do {
      return try decoded(Array(given.keys))
    } catch let e as DecodingError {
      let (type, context): (Any.Type?, DecodingError.Context?) =
        switch e {
        case .typeMismatch(let t, let c), .valueNotFound(let t, let c): (t, c)
        case .dataCorrupted(let c), .keyNotFound(_, let c): (nil, c)
        @unknown default: (nil, nil)
        }
      if let path = context?.codingPath, !path.isEmpty { throw failure(at: path, type: type, defaults: defaults) }
      // A number the property cannot hold (1.5 for an Int) may come back without its key: find it.
      for k in given.keys.sorted() where (try? decoded([k])) == nil {
        throw failure(at: [JSONKey(k)], type: nil, defaults: defaults)
      }
      throw failure(at: [], type: type, defaults: defaults)
    }
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
  func failure(at codingPath: [CodingKey], type: Any.Type?, defaults: Any) -> ExperimentError {
    var node = self
    for k in codingPath {
      let key =
        if let i = k.intValue { node.key + "[\(i)]" } else { node.key.isEmpty ? k.stringValue : "\(node.key).\(k.stringValue)" }
      let next: Any? =
        if let i = k.intValue { (node.value as? [Any]).flatMap { i < $0.count ? $0[i] : nil } }
        else { (node.value as? [String: Any])?[k.stringValue] }
      node = JSONNode(value: next ?? NSNull(), path: path, key: key)
    }
    let property = codingPath.first?.stringValue
    let target: Any.Type? =
      type ?? Mirror(reflecting: defaults).children.first { $0.label == property }.map { Swift.type(of: $0.value) }
    let expected: String =
      switch target {
      case is Int.Type, is Int?.Type: "an integer"
      case is UInt64.Type: "an integer >= 0"
      case is Double.Type, is Double?.Type: "a finite number"
      case is Bool.Type: "true or false"
      case is String.Type: "a string"
      case let c as any ConfigChoice.Type: c.choices
      case let t? where "\(t)".hasPrefix("Array"): "an array"
      case let t? where "\(t)".hasPrefix("Dictionary"): "an object"
      default: "a valid value"
      }
    return node.fail(expected)
  }
}

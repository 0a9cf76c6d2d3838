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

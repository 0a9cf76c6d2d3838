// JSONValue: a decoded JSON document of unknown shape, for inputs that are walked rather than
// mapped (ad-hoc analysis files, `training_sequences` anywhere in a tree). Booleans are decoded
// before numbers so that `true` never becomes 1. Object key order is not kept (not needed here).
import Foundation

public indirect enum JSONValue: Equatable, Sendable, Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() { self = .null; return }
    if let b = try? c.decode(Bool.self) { self = .bool(b); return }
    if let d = try? c.decode(Double.self) { self = .number(d); return }
    if let s = try? c.decode(String.self) { self = .string(s); return }
    if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
    self = .object(try c.decode([String: JSONValue].self))
  }

  public var kind: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .number: return "number"
    case .string: return "string"
    case .array(let a): return "array of \(a.count)"
    case .object: return "object"
    }
  }

  public subscript(key: String) -> JSONValue? {
    if case .object(let o) = self { return o[key] }
    return nil
  }

  public static func parse(_ data: Data, path: String) throws -> JSONValue {
    do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch {
      // The first line of the parser's reason, not a DecodingError dump.
      let reason =
        ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String)
        ?? (error as? DecodingError).map { e -> String in
          if case .dataCorrupted(let c) = e { return c.debugDescription } else { return "\(e)" }
        }
        ?? "\(error)"
      throw AnalysisError.malformed(
        path: path, key: "(document)", expected: "JSON", found: "text that is not JSON (\(reason))")
    }
  }

  public static func load(_ path: String) throws -> JSONValue {
    try parse(try readFile(path), path: path)
  }
}

/// Reads a whole file; a typed error names the path.
public func readFile(_ path: String) throws -> Data {
  do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
    throw AnalysisError.unreadable(
      path: path, reason: FileManager.default.fileExists(atPath: path) ? AtomicFile.describe(error) : "no such file")
  }
}

/// Decodes `T` from a file, turning DecodingError into a message with the key path.
public func decodeFile<T: Decodable>(_ type: T.Type, path: String) throws -> T {
  try decodeData(type, data: try readFile(path), path: path)
}

public func decodeData<T: Decodable>(_ type: T.Type, data: Data, path: String) throws -> T {
  do { return try JSONDecoder().decode(type, from: data) } catch let DecodingError.keyNotFound(key, ctx) {
    throw AnalysisError.malformed(
      path: path, key: keyPath(ctx.codingPath + [key]), expected: "key \(key.stringValue)", found: "missing")
  } catch let DecodingError.typeMismatch(t, ctx) {
    throw AnalysisError.malformed(
      path: path, key: keyPath(ctx.codingPath), expected: "\(t)", found: ctx.debugDescription)
  } catch let DecodingError.valueNotFound(t, ctx) {
    throw AnalysisError.malformed(path: path, key: keyPath(ctx.codingPath), expected: "\(t)", found: "null")
  } catch let DecodingError.dataCorrupted(ctx) {
    throw AnalysisError.malformed(
      path: path, key: keyPath(ctx.codingPath), expected: "valid JSON", found: ctx.debugDescription)
  } catch {
    throw AnalysisError.malformed(path: path, key: "(document)", expected: "\(T.self)", found: "\(error)")
  }
}

func keyPath(_ path: [CodingKey]) -> String {
  path.isEmpty ? "(root)" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
}

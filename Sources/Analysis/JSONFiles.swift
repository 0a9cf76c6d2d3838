// JSONFiles.swift: reading the analysis inputs (released files, run files, ad-hoc documents)
// with errors that name the file and the key path. Documents walked rather than mapped are
// Workspace's `JSONValue`.
import Foundation
import Workspace

extension JSONValue {
  public static func parse(_ data: Data, path: String) throws -> JSONValue {
    do { return try parse(data) } catch {
      throw AnalysisError.malformed(
        path: path, key: "(document)", expected: "JSON", found: "text that is not JSON (\(error.reason))")
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
public func decodeFile<T: Decodable>(_ type: T.Type, path: String, decoder: JSONDecoder = JSONDecoder()) throws -> T {
  try decodeData(type, data: try readFile(path), path: path, decoder: decoder)
}

public func decodeData<T: Decodable>(
  _ type: T.Type, data: Data, path: String, decoder: JSONDecoder = JSONDecoder()
) throws -> T {
  do { return try decoder.decode(type, from: data) } catch let DecodingError.keyNotFound(key, ctx) {
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

// CanonicalJSON.swift: the one JSON encoding for files whose bytes matter (manifests, records,
// summaries): sorted keys, no escaped slashes, so the same values always give the same bytes.
import Foundation

public enum CanonicalJSON {
  /// One line (records).
  public static func line<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try e.encode(value)
  }

  /// Indented, with a final newline (manifests, summaries, configs).
  public static func pretty<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
    var d = try e.encode(value)
    d.append(0x0A)
    return d
  }
}

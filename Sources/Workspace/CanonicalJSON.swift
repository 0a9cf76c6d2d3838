// CanonicalJSON.swift: the one JSON encoding for files whose bytes matter (manifests, records,
// summaries): sorted keys, no escaped slashes, so the same values always give the same bytes.
// Non-finite numbers (a metric over nothing, a normalized gain with B = 1) are written as the
// strings "NaN", "Infinity", "-Infinity"; `decoder()` reads them back.
import Foundation

public enum CanonicalJSON {
  /// One line (records).
  public static func line<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.nonConformingFloatEncodingStrategy = nonFinite
    return try e.encode(value)
  }

  /// Indented, with a final newline (manifests, summaries, configs).
  public static func pretty<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
    e.nonConformingFloatEncodingStrategy = nonFinite
    var d = try e.encode(value)
    d.append(0x0A)
    return d
  }

  static let nonFinite = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
    positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

  /// A decoder that reads what these encoders write (non-finite numbers included).
  public static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return d
  }
}

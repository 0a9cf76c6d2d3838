// JSONValue.swift: the one JSON value of unknown shape, for documents that are walked rather than
// mapped (configs before their types decode them, released files, replies of HTTP services).
// Text is parsed by JSONSerialization (its errors say where), then turned into this enum so that
// no module handles `Any`. Integers keep every digit (a config's 64-bit seed survives a round
// trip); a number that is an exact integer a double can count to (1.0, 1e3) is an integer too,
// and is written back as one, as JSONSerialization wrote it. Booleans are never numbers.
import Foundation

public indirect enum JSONValue: Equatable, Sendable, Codable {
  case null
  case bool(Bool)
  case integer(Int128)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The parser's reason, without a file name: callers name the file in their own error type.
  public struct SyntaxError: Error, Equatable, Sendable {
    public let reason: String
    public init(reason: String) { self.reason = reason }
  }

  /// Parses JSON text (a bare scalar at the top level included).
  public static func parse(_ data: Data) throws(SyntaxError) -> JSONValue {
    let any: Any
    do { any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
      throw SyntaxError(
        reason: ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "not valid JSON")
    }
    return JSONValue(foundation: any)
  }

  /// What JSONSerialization gives, as a value (NSNumber's type code tells integers from doubles).
  init(foundation v: Any) {
    switch v {
    case let s as String: self = .string(s)
    case let a as [Any]: self = .array(a.map(JSONValue.init(foundation:)))
    case let o as [String: Any]: self = .object(o.mapValues(JSONValue.init(foundation:)))
    case let n as NSDecimalNumber:
      // Long numbers arrive as decimals, whose doubleValue is not the nearest double: go by the text.
      let t = n.stringValue
      self = Int128(t).map(JSONValue.integer) ?? JSONValue(double: Double(t) ?? n.doubleValue)
    case let n as NSNumber:
      // true/false arrive as a Boolean NSNumber subclass (no CoreFoundation on Linux to ask).
      if String(describing: type(of: n)).contains("Boolean") { self = .bool(n.boolValue); return }
      switch String(cString: n.objCType) {
      case "Q", "L", "I", "S", "C": self = .integer(Int128(n.uint64Value))
      case "q", "l", "i", "s", "c": self = .integer(Int128(n.int64Value))
      default: self = JSONValue(double: n.doubleValue)
      }
    default: self = .null
    }
  }

  /// A count or size (token counts, caps) as a JSON integer.
  public init(_ i: Int) { self = .integer(Int128(i)) }

  /// A double that is an exact integer a double can count to is an integer.
  public init(double d: Double) {
    self = d.isFinite && d == d.rounded() && abs(d) <= 9_007_199_254_740_992 ? .integer(Int128(d)) : .number(d)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() { self = .null; return }
    if let b = try? c.decode(Bool.self) { self = .bool(b); return }
    if let i = try? c.decode(Int128.self) { self = .integer(i); return }
    if let d = try? c.decode(Double.self) { self = JSONValue(double: d); return }
    if let s = try? c.decode(String.self) { self = .string(s); return }
    if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
    self = .object(try c.decode([String: JSONValue].self))
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case .bool(let b): try c.encode(b)
    case .integer(let i): try c.encode(i)
    case .number(let d): try c.encode(d)
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }

  /// The value of an Encodable, as the encoder writes it.
  public init(encoding value: some Encodable) throws {
    self = try JSONValue.parse(try JSONEncoder().encode(value))
  }

  /// The text, keys sorted (equal values give equal bytes).
  public func text() throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return try e.encode(self)
  }

  public subscript(key: String) -> JSONValue? {
    if case .object(let o) = self { return o[key] }
    return nil
  }

  public var string: String? { if case .string(let s) = self { return s } else { return nil } }
  public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
  public var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
  /// Any number, as a double.
  public var double: Double? {
    switch self {
    case .integer(let i): return Double(i)
    case .number(let d): return d
    default: return nil
    }
  }
  /// An integer that fits `Int`.
  public var int: Int? { if case .integer(let i) = self { return Int(exactly: i) } else { return nil } }

  /// What a value is, for "expected X, found Y" messages.
  public var kind: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .integer, .number: return "number"
    case .string: return "string"
    case .array(let a): return "array of \(a.count)"
    case .object: return "object"
    }
  }
}

// Literals, so that a request body reads as the JSON it sends.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral s: String) { self = .string(s) }
  public init(integerLiteral i: Int) { self = .integer(Int128(i)) }
  public init(floatLiteral d: Double) { self = .number(d) }
  public init(booleanLiteral b: Bool) { self = .bool(b) }
  public init(arrayLiteral a: JSONValue...) { self = .array(a) }
  public init(dictionaryLiteral o: (String, JSONValue)...) { self = .object(Dictionary(o) { a, _ in a }) }
  public init(nilLiteral: ()) { self = .null }
}

// GGUFValue.swift: metadata values as read from or written to a GGUF file.
//
// Arrays are stored typed (`[String]`, `[Float]`, ...) rather than as `[GGUFValue]` because the
// tokenizer arrays hold ~50k entries each. An array keeps its element type even when empty, and
// arrays of arrays are `.array([GGUFArray])`, each inner array with its own element type, exactly
// as the format allows. Encoding: a value is its bytes little-endian; a string is a u64 byte length
// then UTF-8 bytes (no terminator); an array is element type (u32), count (u64), then elements.
import Workspace

/// One metadata value. `typeName` gives the GGUF spelling used in errors ("u32", "array<string>").
public enum GGUFValue: Equatable, Sendable {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case float32(Float)
  case bool(Bool)
  case string(String)
  case array(GGUFArray)
  case uint64(UInt64)
  case int64(Int64)
  case float64(Double)

  public var type: GGUFValueType {
    switch self {
    case .uint8: return .uint8
    case .int8: return .int8
    case .uint16: return .uint16
    case .int16: return .int16
    case .uint32: return .uint32
    case .int32: return .int32
    case .float32: return .float32
    case .bool: return .bool
    case .string: return .string
    case .array: return .array
    case .uint64: return .uint64
    case .int64: return .int64
    case .float64: return .float64
    }
  }

  /// "u32", "string", "array<i32>", "array<array<string>>" (element type of the first inner array).
  public var typeName: String {
    if case .array(let a) = self { return a.typeName }
    return type.name
  }

  /// The value as a signed 64-bit integer when it is any integer type and fits.
  public var int64Value: Int64? {
    switch self {
    case .uint8(let v): return Int64(v)
    case .int8(let v): return Int64(v)
    case .uint16(let v): return Int64(v)
    case .int16(let v): return Int64(v)
    case .uint32(let v): return Int64(v)
    case .int32(let v): return Int64(v)
    case .uint64(let v): return Int64(exactly: v)
    case .int64(let v): return v
    default: return nil
    }
  }

  public var isInteger: Bool {
    switch self {
    case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: return true
    default: return false
    }
  }

  /// A short human rendering: numbers and bools as is, strings quoted and cut at `maxLength`
  /// characters, arrays as `[count × type]` plus their first few elements.
  public func preview(maxLength: Int = 60) -> String {
    switch self {
    case .uint8(let v): return String(v)
    case .int8(let v): return String(v)
    case .uint16(let v): return String(v)
    case .int16(let v): return String(v)
    case .uint32(let v): return String(v)
    case .int32(let v): return String(v)
    case .uint64(let v): return String(v)
    case .int64(let v): return String(v)
    case .float32(let v): return "\(v)"
    case .float64(let v): return "\(v)"
    case .bool(let v): return v ? "true" : "false"
    case .string(let s): return quotePreview(s, maxLength: maxLength)
    case .array(let a): return a.preview(maxLength: maxLength)
    }
  }
}

/// A typed metadata array.
public enum GGUFArray: Equatable, Sendable {
  case uint8([UInt8])
  case int8([Int8])
  case uint16([UInt16])
  case int16([Int16])
  case uint32([UInt32])
  case int32([Int32])
  case float32([Float])
  case bool([Bool])
  case string([String])
  case array([GGUFArray])
  case uint64([UInt64])
  case int64([Int64])
  case float64([Double])

  public var elementType: GGUFValueType {
    switch self {
    case .uint8: return .uint8
    case .int8: return .int8
    case .uint16: return .uint16
    case .int16: return .int16
    case .uint32: return .uint32
    case .int32: return .int32
    case .float32: return .float32
    case .bool: return .bool
    case .string: return .string
    case .array: return .array
    case .uint64: return .uint64
    case .int64: return .int64
    case .float64: return .float64
    }
  }

  public var count: Int {
    switch self {
    case .uint8(let a): return a.count
    case .int8(let a): return a.count
    case .uint16(let a): return a.count
    case .int16(let a): return a.count
    case .uint32(let a): return a.count
    case .int32(let a): return a.count
    case .float32(let a): return a.count
    case .bool(let a): return a.count
    case .string(let a): return a.count
    case .array(let a): return a.count
    case .uint64(let a): return a.count
    case .int64(let a): return a.count
    case .float64(let a): return a.count
    }
  }

  public var typeName: String {
    if case .array(let inner) = self, let first = inner.first { return "array<\(first.typeName)>" }
    return "array<\(elementType.name)>"
  }

  /// All elements as Int64 when the element type is an integer type and every element fits.
  public var int64Values: [Int64]? {
    switch self {
    case .uint8(let a): return a.map(Int64.init)
    case .int8(let a): return a.map(Int64.init)
    case .uint16(let a): return a.map(Int64.init)
    case .int16(let a): return a.map(Int64.init)
    case .uint32(let a): return a.map(Int64.init)
    case .int32(let a): return a.map(Int64.init)
    case .int64(let a): return a
    case .uint64(let a):
      var out = [Int64]()
      out.reserveCapacity(a.count)
      for v in a {
        guard let x = Int64(exactly: v) else { return nil }
        out.append(x)
      }
      return out
    default: return nil
    }
  }

  /// Element `i` as a single value (nested arrays become `.array`).
  public func element(_ i: Int) -> GGUFValue? {
    guard i >= 0, i < count else { return nil }
    switch self {
    case .uint8(let a): return .uint8(a[i])
    case .int8(let a): return .int8(a[i])
    case .uint16(let a): return .uint16(a[i])
    case .int16(let a): return .int16(a[i])
    case .uint32(let a): return .uint32(a[i])
    case .int32(let a): return .int32(a[i])
    case .float32(let a): return .float32(a[i])
    case .bool(let a): return .bool(a[i])
    case .string(let a): return .string(a[i])
    case .array(let a): return .array(a[i])
    case .uint64(let a): return .uint64(a[i])
    case .int64(let a): return .int64(a[i])
    case .float64(let a): return .float64(a[i])
    }
  }

  /// `[49152 × string] "<|endoftext|>", "<|im_start|>", ...`
  public func preview(maxLength: Int = 60, elements: Int = 3) -> String {
    var parts: [String] = []
    for i in 0..<min(count, elements) {
      if let e = element(i) { parts.append(e.preview(maxLength: 24)) }
    }
    var s = "[\(count) × \(elementType.name)]"
    if !parts.isEmpty { s += " " + parts.joined(separator: ", ") + (count > elements ? ", ..." : "") }
    return s.count > maxLength + 20 ? String(s.prefix(maxLength + 20)) + "..." : s
  }
}

/// A string as `seb model info` shows it: JSON-escaped, cut after `maxLength` characters.
func quotePreview(_ s: String, maxLength: Int) -> String {
  let body = JSONText.quote(s).dropFirst().dropLast()
  if body.count > maxLength { return "\"" + body.prefix(maxLength) + "\"... (\(s.utf8.count) bytes)" }
  return "\"" + body + "\""
}

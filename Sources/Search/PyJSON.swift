// PyJSON.swift: JSON as Python's json module sees it, for byte-exact prompts and SFT rows.
// json.loads keeps object key order and tells ints from floats by their literal; json.dumps with
// the defaults writes ", " and ": " separators, escapes non-ASCII as \uXXXX (ensure_ascii=True,
// surrogate pairs above U+FFFF) and writes floats as repr() does (shortest round-trip: 0.001,
// 1e-05, 1e+16, 1.0). Used for templates, the archive and SFT rows (reference-pipeline 3.2, 3.9).
import Foundation
import Workspace

public indirect enum PyJSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case array([PyJSON])
  case object([(String, PyJSON)])

  public static func == (a: PyJSON, b: PyJSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// The value of `key` in an object (the last one, as json.loads keeps the last duplicate).
  public subscript(key: String) -> PyJSON? {
    if case .object(let o) = self { return o.last { $0.0 == key }?.1 }
    return nil
  }

  public var number: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .float(let d): return d
    default: return nil
    }
  }

  // MARK: dumps

  /// json.dumps(value) with Python's defaults (ensure_ascii=True) or ensure_ascii=False.
  public func dumps(ensureASCII: Bool = true) -> String {
    var out = ""
    write(&out, ensureASCII)
    return out
  }

  func write(_ out: inout String, _ ascii: Bool) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .float(let d): out += PyJSON.repr(d)
    case .string(let s): JSONText.quote(s, asciiOnly: ascii, into: &out)
    case .array(let a):
      out += "["
      for (i, v) in a.enumerated() {
        if i > 0 { out += ", " }
        v.write(&out, ascii)
      }
      out += "]"
    case .object(let o):
      out += "{"
      for (i, (k, v)) in o.enumerated() {
        if i > 0 { out += ", " }
        JSONText.quote(k, asciiOnly: ascii, into: &out)
        out += ": "
        v.write(&out, ascii)
      }
      out += "}"
    }
  }

  /// Python's float repr: shortest round-trip digits; exponent form when the exponent is < -4 or
  /// >= 16 ("1e-05", "1e+16"); a ".0" on integral values; json writes NaN/Infinity/-Infinity.
  public static func repr(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
    // Swift's description is also the shortest round-trip form; only the layout may differ.
    var s = d.description
    if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      // Python: mantissa without a trailing ".0", exponent sign always, at least two digits.
      var mant = String(s[..<e])
      var exp = String(s[s.index(after: e)...])
      if mant.hasSuffix(".0") { mant.removeLast(2) }
      let neg = exp.hasPrefix("-")
      exp = exp.trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
      if exp.count < 2 { exp = "0" + exp }
      s = mant + "e" + (neg ? "-" : "+") + exp
    }
    return s
  }

  // MARK: loads

  /// json.loads: key order kept, ints (no fraction or exponent) apart from floats. `source`
  /// names the input in errors.
  public static func loads(_ text: String, source: String = "json") throws -> PyJSON {
    var p = Parser(bytes: Array(text.utf8), source: source)
    p.skipSpace()
    let v = try p.value()
    p.skipSpace()
    guard p.i == p.bytes.count else { throw p.fail("the end of the JSON text") }
    return v
  }

  struct Parser {
    let bytes: [UInt8]
    let source: String
    var i = 0

    func fail(_ expected: String) -> SearchError {
      let found =
        i < bytes.count ? "'" + String(decoding: bytes[i..<min(bytes.count, i + 12)], as: UTF8.self) + "'" : "the end"
      return .badJSON(source: source, offset: i, expected: expected, found: found)
    }

    mutating func skipSpace() { while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 } }

    mutating func literal(_ s: String) -> Bool {
      let b = Array(s.utf8)
      guard i + b.count <= bytes.count, Array(bytes[i..<(i + b.count)]) == b else { return false }
      i += b.count
      return true
    }

    mutating func value() throws -> PyJSON {
      guard i < bytes.count else { throw fail("a value") }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var o: [(String, PyJSON)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
        while true {
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("a string key") }
          let k = try string()
          skipSpace()
          guard literal(":") else { throw fail("':'") }
          skipSpace()
          o.append((k, try value()))
          skipSpace()
          if literal(",") { continue }
          if literal("}") { return .object(o) }
          throw fail("',' or '}'")
        }
      case UInt8(ascii: "["):
        i += 1
        var a: [PyJSON] = []
        skipSpace()
        if literal("]") { return .array(a) }
        while true {
          skipSpace()
          a.append(try value())
          skipSpace()
          if literal(",") { continue }
          if literal("]") { return .array(a) }
          throw fail("',' or ']'")
        }
      case UInt8(ascii: "\""): return .string(try string())
      default:
        if literal("true") { return .bool(true) }
        if literal("false") { return .bool(false) }
        if literal("null") { return .null }
        if literal("NaN") { return .float(.nan) }
        if literal("Infinity") { return .float(.infinity) }
        if literal("-Infinity") { return .float(-.infinity) }
        return try numberValue()
      }
    }

    mutating func numberValue() throws -> PyJSON {
      let start = i
      if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
      let digits = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
      guard i < bytes.count, digits(bytes[i]) else { throw fail("a value") }
      if bytes[i] == 0x30 { i += 1 } else { while i < bytes.count, digits(bytes[i]) { i += 1 } }
      var isFloat = false
      if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
        i += 1
        guard i < bytes.count, digits(bytes[i]) else { throw fail("digits after '.'") }
        while i < bytes.count, digits(bytes[i]) { i += 1 }
        isFloat = true
      }
      if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        i += 1
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, digits(bytes[i]) else { throw fail("exponent digits") }
        while i < bytes.count, digits(bytes[i]) { i += 1 }
        isFloat = true
      }
      let text = String(decoding: bytes[start..<i], as: UTF8.self)
      if !isFloat, let n = Int(text) { return .int(n) }
      // Python ints are unbounded; one beyond Int64 is kept as the nearest float (never here in practice).
      return .float(Double(text) ?? .nan)
    }

    mutating func string() throws -> String {
      i += 1  // opening quote
      var scalars = String.UnicodeScalarView()
      var run: [UInt8] = []
      func flush() { scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars); run.removeAll() }
      while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "\"") { i += 1; flush(); return String(scalars) }
        if b < 0x20 { throw fail("no control character inside a string") }  // json.loads(strict=True)
        if b != UInt8(ascii: "\\") { run.append(b); i += 1; continue }
        flush()
        i += 1
        guard i < bytes.count else { throw fail("an escape") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"):
          var v = try hex4()
          if v >= 0xD800 && v < 0xDC00, literal("\\u") {
            let lo = try hex4()
            if lo >= 0xDC00 && lo < 0xE000 { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00) } else { i -= 6 }
          }
          // A lone surrogate (Python keeps it) becomes U+FFFD: Swift strings hold no surrogates.
          scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        default: i -= 1; throw fail("a valid escape")
        }
      }
      throw fail("a closing quote")
    }

    mutating func hex4() throws -> UInt32 {
      guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
        throw fail("4 hex digits")
      }
      i += 4
      return v
    }
  }
}

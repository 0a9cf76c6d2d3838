// JSONText.swift: the one JSON string escaper. Python's json.dumps and serde_json write the same
// escapes (\" \\ \n \r \t \b \f, other control characters as \u00XX), so one function serves
// every writer that must match them byte for byte: PyJSON (the search's Python-equal JSON), the
// safetensors header, and previews of GGUF strings.
import Foundation

public enum JSONText {
  /// Appends `s` as a JSON string literal; with `asciiOnly` (json.dumps' ensure_ascii) every
  /// scalar above 0x7E is written as \uXXXX, those above 0xFFFF as a surrogate pair.
  public static func quote(_ s: String, asciiOnly: Bool = false, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if u.value < 0x20 || (asciiOnly && u.value > 0x7E) {
          if u.value > 0xFFFF {
            let v = u.value - 0x10000
            out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
          } else {
            out += String(format: "\\u%04x", u.value)
          }
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }

  public static func quote(_ s: String, asciiOnly: Bool = false) -> String {
    var out = ""
    quote(s, asciiOnly: asciiOnly, into: &out)
    return out
  }
}

// ByteEncoder: GPT-2's reversible byte <-> unicode table used by byte-level BPE vocabularies.
// Invariants: the 188 "printable" bytes `!..~`, `¡..¬`, `®..ÿ` map to the scalar of the same value;
// the other 68 bytes map, in increasing byte order, to U+0100, U+0101, ... (so 0x20 space -> U+0120
// "Ġ", 0x0A "\n" -> U+010A "Ċ"). The map is a bijection onto 256 scalars, all below U+0144.
// Mirrors `bytes_to_unicode()` of openai/gpt-2 `encoder.py` and llama.cpp `unicode_byte_to_utf8`.

public enum ByteEncoder {
  /// Scalar value for each byte. (256)
  public static let byteToScalar: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
      if printable {
        table[b] = UInt32(b)
      } else {
        table[b] = next
        next += 1
      }
    }
    return table
  }()

  /// Byte for each scalar value below `scalarLimit`, or -1 when the scalar is not in the table. (0x144)
  public static let scalarToByte: [Int16] = {
    var table = [Int16](repeating: -1, count: Int(scalarLimit))
    for b in 0..<256 { table[Int(byteToScalar[b])] = Int16(b) }
    return table
  }()

  /// One past the largest scalar of the table (U+0143).
  public static let scalarLimit: UInt32 = 0x144

  /// The byte-level string for raw bytes (each byte becomes one scalar).
  public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
    return String(s)
  }

  /// Raw bytes of a byte-level string, or nil if some scalar is not in the table.
  public static func decode(_ text: String) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.unicodeScalars.count)
    for s in text.unicodeScalars {
      guard s.value < scalarLimit else { return nil }
      let b = scalarToByte[Int(s.value)]
      guard b >= 0 else { return nil }
      out.append(UInt8(b))
    }
    return out
  }
}

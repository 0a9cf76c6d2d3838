// StreamingDecoder: turns token ids into text one token at a time, for printing while generating.
// A byte-level token may end in the middle of a multi-byte UTF-8 character (emoji and CJK are
// often split across 2-4 tokens), so the decoder holds back a trailing *valid but incomplete*
// UTF-8 prefix until the next token completes it. Everything else is emitted at once; invalid
// bytes become U+FFFD exactly as `String(decoding:as:)` would on the whole byte stream.
//
// Invariant (tested): the concatenation of every `append` result plus `flush()` equals
// `String(decoding: allBytes, as: UTF8.self)`, i.e. `tokenizer.decode(allIds)`.

public struct StreamingDecoder: Sendable {
  public let tokenizer: Tokenizer
  public let skipSpecial: Bool
  private var pending: [UInt8] = []

  public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
    self.tokenizer = tokenizer
    self.skipSpecial = skipSpecial
  }

  /// Adds one token; returns the newly completed text (possibly ""). Throws `.idOutOfRange`.
  public mutating func append(_ id: Int) throws -> String {
    pending.append(contentsOf: try tokenizer.bytes(of: id, skipSpecial: skipSpecial))
    return takeComplete()
  }

  /// Adds raw bytes (for callers that decode tokens themselves); returns the completed text.
  public mutating func append(bytes: some Sequence<UInt8>) -> String {
    pending.append(contentsOf: bytes)
    return takeComplete()
  }

  /// Emits whatever is held back; a dangling partial character becomes one U+FFFD.
  public mutating func flush() -> String {
    defer { pending.removeAll() }
    return String(decoding: pending, as: UTF8.self)
  }

  /// Bytes held back waiting for the rest of a character.
  public var pendingByteCount: Int { pending.count }

  private mutating func takeComplete() -> String {
    let keep = UTF8Util.incompleteTailLength(pending)
    let emit = pending.count - keep
    if emit == 0 { return "" }
    let text = String(decoding: pending[..<emit], as: UTF8.self)
    pending.removeFirst(emit)
    return text
  }
}

enum UTF8Util {
  /// Length of the trailing bytes that form a valid, incomplete UTF-8 sequence (0...3), following
  /// the well-formed byte table (Unicode 15, Table 3-7) so that e.g. E0 80 is never held back.
  static func incompleteTailLength<C: RandomAccessCollection>(_ b: C) -> Int where C.Element == UInt8, C.Index == Int {
    let n = b.endIndex
    var s = n - 1
    while s >= b.startIndex && s >= n - 3 {
      let lead = b[s]
      if lead & 0xC0 != 0x80 {
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0  // ASCII or an invalid lead: nothing to wait for
        }
        let have = n - s
        if have >= need { return 0 }
        if have >= 2 {
          let second = b[s + 1]
          let ok: Bool
          switch lead {
          case 0xE0: ok = (0xA0...0xBF).contains(second)
          case 0xED: ok = (0x80...0x9F).contains(second)
          case 0xF0: ok = (0x90...0xBF).contains(second)
          case 0xF4: ok = (0x80...0x8F).contains(second)
          default: ok = (0x80...0xBF).contains(second)
          }
          if !ok { return 0 }
        }
        return have  // later bytes were already checked to be continuation bytes by the scan
      }
      s -= 1
    }
    return 0
  }

  static func isValid<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
    var it = bytes.makeIterator()
    var decoder = Unicode.UTF8()
    while true {
      switch decoder.decode(&it) {
      case .scalarValue: continue
      case .emptyInput: return true
      case .error: return false
      }
    }
  }
}

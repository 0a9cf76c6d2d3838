// Test helpers: a tiny hand-made byte-level vocab, a seeded RNG, random strings, and the
// NSRegularExpression reference pre-tokenizer.
import Foundation
import Tokenizer

enum Tiny {
  /// Ids 0...3: three control tokens and one user-defined token.
  static let specials: [(String, Int32)] = [
    ("<|endoftext|>", TokenType.control), ("<|im_start|>", TokenType.control), ("<|im_end|>", TokenType.control),
    ("<tool>", TokenType.userDefined),
  ]

  /// Vocab = specials + extra tokens, then the 256 byte characters in byte order, then every merge
  /// result not yet present, in merge order.
  static func make(
    merges: [String], pre: String = "smollm", extra: [(String, Int32)] = [], addBOS: Bool = false
  ) throws -> Tokenizer {
    var tokens = (specials + extra).map { $0.0 }
    var types = (specials + extra).map { $0.1 }
    for b in 0..<256 {
      tokens.append(ByteEncoder.encode([UInt8(b)]))
      types.append(TokenType.normal)
    }
    var seen = Set(tokens)
    for m in merges {
      let parts = m.split(separator: " ", maxSplits: 1)
      let merged = parts.joined()
      if seen.insert(merged).inserted {
        tokens.append(merged)
        types.append(TokenType.normal)
      }
    }
    return try Tokenizer(
      tokens: tokens, merges: merges, tokenTypes: types, bosId: 1, eosId: 2, unknownId: 0, paddingId: 2,
      preTokenizer: pre, addBOS: addBOS)
  }

  /// Merges that build `word` (byte-level form) one character at a time, left to right.
  static func chain(_ word: String) -> [String] {
    let chars = Array(word.unicodeScalars).map { String($0) }
    return (1..<chars.count).map { k in chars[..<k].joined() + " " + chars[k] }
  }

  /// Token texts of the encoding of `text`.
  static func texts(_ tok: Tokenizer, _ text: String, parseSpecial: Bool = true) -> [String] {
    tok.encode(text, parseSpecial: parseSpecial).map { tok.tokens[$0] }
  }
}

/// SplitMix64: deterministic test randomness.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

enum RandomText {
  /// Pieces chosen to hit every branch of the scanners: contractions in both cases, runs of each
  /// class, White_Space outside ASCII, letters of categories Lt/Lm/Lo, numbers Nd/Nl/No outside
  /// ASCII, combining marks and format characters (class "other"), emoji with ZWJ, CR/LF.
  static let pool: [String] = [
    "a", "b", "Z", "hello", " world", "x", "don", "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'Ll", "'d", "'",
    "'x", "0", "7", "123", " 42", "٣", "Ⅻ", "²", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u{0B}", "\u{0C}",
    "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", ".", ",", "!", "?", "-", "(", ")", "\"", "...", "—", "“", "é", "ß", "ǅ",
    "ʰ", "北京", "🙂", "👩‍👩‍👧", "e\u{301}", "\u{200D}", "<", "|", ">", "_", "Ġ",
  ]

  static func make(_ rng: inout SplitMix64, maxPieces: Int = 24) -> String {
    var s = ""
    for _ in 0..<rng.below(maxPieces + 1) { s += pool[rng.below(pool.count)] }
    return s
  }
}

/// The pre-tokenizer regexes run by NSRegularExpression, applied in sequence, each splitting every
/// piece and keeping the unmatched spans. `\s`/`\S` are spelled as the White_Space property because
/// ICU's `\s` is a slightly different set.
struct RegexPreTokenizer {
  static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  static let llama3 =
    #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

  static func patterns(_ kind: PreTokenizerKind) -> [String] {
    switch kind {
    case .smollm: return [#"\p{N}"#, gpt2]
    case .gpt2: return [gpt2]
    case .llama3: return [llama3]
    case .qwen2: return [llama3.replacingOccurrences(of: #"\p{N}{1,3}"#, with: #"\p{N}"#)]
    }
  }

  let regexes: [NSRegularExpression]

  init(kind: PreTokenizerKind) throws {
    regexes = try Self.patterns(kind).map { p in
      let q = p.replacingOccurrences(of: #"\s"#, with: #"\p{White_Space}"#)
        .replacingOccurrences(of: #"\S"#, with: #"\P{White_Space}"#)
      return try NSRegularExpression(pattern: q)
    }
  }

  func split(_ text: String) -> [String] {
    var pieces = text.isEmpty ? [] : [text]
    for re in regexes {
      var next: [String] = []
      for piece in pieces {
        let ns = piece as NSString
        var last = 0
        for m in re.matches(in: piece, range: NSRange(location: 0, length: ns.length)) where m.range.length > 0 {
          if m.range.location > last {
            next.append(ns.substring(with: NSRange(location: last, length: m.range.location - last)))
          }
          next.append(ns.substring(with: m.range))
          last = m.range.location + m.range.length
        }
        if last < ns.length { next.append(ns.substring(from: last)) }
      }
      pieces = next
    }
    return pieces
  }
}

/// Compares piece lists scalar by scalar (String == would use canonical equivalence).
func scalars(_ pieces: [String]) -> [[UInt32]] {
  pieces.map { $0.unicodeScalars.map(\.value) }
}

// WordPiece.swift: the BERT uncased tokenizer (BasicTokenizer + WordPiece), as in Hugging Face
// `BertTokenizer` with do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None.
//
// Pipeline: clean text (drop NUL, U+FFFD and control characters; every whitespace -> ' ') ->
// put spaces around CJK ideographs -> NFC -> split on whitespace -> per word: lowercase, NFD and
// drop nonspacing marks (accents), split off every punctuation character -> WordPiece each word:
// greedy longest-match-first, continuation pieces prefixed "##", a word longer than 100
// characters or with any unmatched rest becomes a single [UNK].
// `encode` adds [CLS] ... [SEP] and truncates the pieces so the total is at most `maxLength`.
// Characters are Unicode scalars throughout (Python iterates code points, not graphemes).
import Foundation

public struct WordPieceTokenizer: Sendable {
  public let vocab: [String: Int32]
  public let idToToken: [String]
  public let lowercase: Bool
  /// Maximum sequence length including [CLS] and [SEP].
  public let maxLength: Int
  public let maxCharsPerWord = 100
  public let clsID: Int32
  public let sepID: Int32
  public let unkID: Int32
  public let padID: Int32

  /// `tokens[i]` is the piece with id i (the order of vocab.txt).
  public init(tokens: [String], lowercase: Bool = true, maxLength: Int = 256, source: String = "vocab") throws {
    var vocab: [String: Int32] = [:]
    vocab.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() where vocab[t] == nil { vocab[t] = Int32(i) }
    func special(_ s: String) throws -> Int32 {
      guard let id = vocab[s] else { throw EmbeddingError.missingSpecialToken(file: source, token: s) }
      return id
    }
    clsID = try special("[CLS]")
    sepID = try special("[SEP]")
    unkID = try special("[UNK]")
    padID = vocab["[PAD]"] ?? 0
    guard maxLength >= 2 else {
      throw EmbeddingError.badConfig(file: source, key: "max_seq_length", found: "\(maxLength)")
    }
    self.vocab = vocab
    self.idToToken = tokens
    self.lowercase = lowercase
    self.maxLength = maxLength
  }

  /// Loads vocab.txt: one piece per line, the line number is the id.
  public init(vocabFile: URL, lowercase: Bool = true, maxLength: Int = 256) throws {
    let text: String
    do { text = try String(contentsOf: vocabFile, encoding: .utf8) } catch {
      throw EmbeddingError.fileUnreadable(path: vocabFile.path, message: error.localizedDescription)
    }
    var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    if lines.last == "" { lines.removeLast() }
    try self.init(tokens: lines, lowercase: lowercase, maxLength: maxLength, source: vocabFile.path)
  }

  // MARK: Basic tokenizer

  static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    if s == " " || s == "\t" || s == "\n" || s == "\r" { return true }
    return s.properties.generalCategory == .spaceSeparator
  }

  static func isControl(_ s: Unicode.Scalar) -> Bool {
    if s == "\t" || s == "\n" || s == "\r" { return false }
    let c = s.properties.generalCategory
    return c == .control || c == .format
  }

  static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    // BERT treats all non-alphanumeric ASCII as punctuation ("$", "^", "`" are symbols in Unicode).
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
      return true
    }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK Unified Ideographs blocks BERT splits per character (not kana or hangul).
  static func isCJK(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }

  /// Words after the basic tokenizer (before WordPiece).
  public func basicTokenize(_ text: String) -> [String] {
    var cleaned = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      if s.value == 0 || s.value == 0xFFFD || WordPieceTokenizer.isControl(s) { continue }
      if WordPieceTokenizer.isWhitespace(s) {
        cleaned.append(" ")
      } else if WordPieceTokenizer.isCJK(s) {
        cleaned.append(" ")
        cleaned.append(s)
        cleaned.append(" ")
      } else {
        cleaned.append(s)
      }
    }
    let normalized = String(cleaned).precomposedStringWithCanonicalMapping  // NFC, as HF does
    var words: [String] = []
    for raw in normalized.unicodeScalars.split(whereSeparator: WordPieceTokenizer.isWhitespace) {
      var word = String(String.UnicodeScalarView(raw))
      if lowercase {
        word = word.lowercased()
        // Strip accents: NFD, then drop nonspacing marks (Mn).
        var kept = String.UnicodeScalarView()
        for s in word.decomposedStringWithCanonicalMapping.unicodeScalars
        where s.properties.generalCategory != .nonspacingMark {
          kept.append(s)
        }
        word = String(kept)
      }
      var current = String.UnicodeScalarView()
      for s in word.unicodeScalars {
        if WordPieceTokenizer.isPunctuation(s) {
          if !current.isEmpty { words.append(String(current)) }
          current = String.UnicodeScalarView()
          words.append(String(s))
        } else {
          current.append(s)
        }
      }
      if !current.isEmpty { words.append(String(current)) }
    }
    return words
  }

  // MARK: WordPiece

  /// Word pieces of one basic-tokenizer word (ids).
  public func wordPieceIDs(_ word: String) -> [Int32] {
    let chars = Array(word.unicodeScalars)
    if chars.count > maxCharsPerWord { return [unkID] }
    var out: [Int32] = []
    var start = 0
    while start < chars.count {
      var end = chars.count
      var found: Int32?
      while start < end {
        var piece = String(String.UnicodeScalarView(chars[start..<end]))
        if start > 0 { piece = "##" + piece }
        if let id = vocab[piece] {
          found = id
          break
        }
        end -= 1
      }
      guard let id = found else { return [unkID] }
      out.append(id)
      start = end
    }
    return out
  }

  /// Word-piece ids of the text, without special tokens or truncation.
  public func pieceIDs(_ text: String) -> [Int32] {
    basicTokenize(text).flatMap(wordPieceIDs)
  }

  /// Word-piece strings (for display and tests).
  public func tokenize(_ text: String) -> [String] {
    pieceIDs(text).map { idToToken[Int($0)] }
  }

  /// `[CLS] pieces [SEP]`, the pieces cut at the end so the total is at most `maxLength`.
  public func encode(_ text: String) -> [Int32] {
    let pieces = pieceIDs(text)
    return [clsID] + pieces.prefix(maxLength - 2) + [sepID]
  }
}

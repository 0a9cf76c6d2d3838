// WordPieceTests.swift: the BERT basic tokenizer and WordPiece on a tiny in-memory vocabulary.
import Embedding
import Foundation
import Testing

/// Tiny vocabulary shared by the tokenizer and model-folder tests (ids = positions).
let tinyVocab = [
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "un", "##aff", "##able", "aff", "##s", ",", "!",
  ".", "cafe", "resume", "学", "习", "hello", "run", "##ning", "[", "empty", "]", "$",
]

private func tokenizer(maxLength: Int = 256) throws -> WordPieceTokenizer {
  try WordPieceTokenizer(tokens: tinyVocab, lowercase: true, maxLength: maxLength)
}

@Suite("WordPiece")
struct WordPieceTests {
  @Test("basic tokenizer lowercases, strips accents and splits punctuation and CJK ideographs")
  func basic() throws {
    let t = try tokenizer()
    #expect(t.basicTokenize("Hello, World!") == ["hello", ",", "world", "!"])
    #expect(t.basicTokenize("Café RÉSUMÉ") == ["cafe", "resume"])
    #expect(t.basicTokenize("学习abc") == ["学", "习", "abc"])
    #expect(t.basicTokenize("a\tb\nc\r\nd\u{00A0}e") == ["a", "b", "c", "d", "e"])
    // NUL, U+FFFD and control/format characters are dropped, not turned into spaces.
    #expect(t.basicTokenize("ab\u{0}c\u{FFFD}d\u{200B}e\u{7}f") == ["abcdef"])
    #expect(t.basicTokenize("$5^`~") == ["$", "5", "^", "`", "~"])
    #expect(t.basicTokenize("  ") == [])
  }

  @Test("WordPiece matches the longest prefix first and continues with ## pieces")
  func greedy() throws {
    let t = try tokenizer()
    #expect(t.tokenize("unaffable") == ["un", "##aff", "##able"])
    #expect(t.tokenize("running cats dogs") == ["run", "##ning", "cat", "##s", "[UNK]"])
    #expect(t.tokenize("affs") == ["aff", "##s"])
    #expect(t.tokenize("The cat, unaffable!") == ["the", "cat", ",", "un", "##aff", "##able", "!"])
  }

  @Test("a word with an unmatched remainder or over 100 characters is one [UNK]")
  func unknown() throws {
    let t = try tokenizer()
    #expect(t.tokenize("unx") == ["[UNK]"])
    #expect(t.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
    #expect(t.pieceIDs(String(repeating: "cat", count: 33)) == [1])  // 99 chars: tried, no match
  }

  @Test("encode wraps in [CLS] ... [SEP] and truncates the pieces to the maximum length")
  func encode() throws {
    let t = try tokenizer(maxLength: 5)
    #expect(t.encode("the cat") == [2, 4, 5, 3])
    #expect(t.encode("the cat the cat the") == [2, 4, 5, 4, 3])
    #expect(t.encode("") == [2, 3])
  }

  @Test("a vocabulary without [CLS], [SEP] or [UNK] is rejected")
  func missingSpecial() {
    #expect(throws: EmbeddingError.missingSpecialToken(file: "vocab", token: "[SEP]")) {
      try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "a"])
    }
  }

  @Test("vocab.txt is read one piece per line")
  func vocabFile() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seb-vocab-\(getpid()).txt")
    defer { try? FileManager.default.removeItem(at: url) }
    try (tinyVocab.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    let t = try WordPieceTokenizer(vocabFile: url)
    #expect(t.idToToken == tinyVocab)
    #expect(t.encode("[EMPTY]") == [2, 21, 22, 23, 3])
  }
}

// Golden tokenizer tests on the real SmolLM2-135M-Instruct GGUF (enabled by SEB_REAL_MODEL=1).
// Compares every case of ../shared/reference/tokenizer.json (llama.cpp ids, special tokens parsed,
// no BOS) and the model-facts §3.4 chat prompt exactly, and decodes each back to its text.
import Foundation
import GGUF
import LLM
import Testing
import Tokenizer

private enum RealTokenizerFixture {
  /// Package root: this file is <root>/Tests/RealModelTests/TokenizerRealModelTests.swift.
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let modelPath = root.appendingPathComponent("Data/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
  static let referencePath = root.appendingPathComponent("../shared/reference/tokenizer.json").standardized.path

  static var enabled: Bool {
    ProcessInfo.processInfo.environment["SEB_REAL_MODEL"] == "1"
      && FileManager.default.fileExists(atPath: modelPath) && FileManager.default.fileExists(atPath: referencePath)
  }

  struct Cases: Decodable {
    struct Case: Decodable {
      let text: String
      let ids: [Int]
    }
    let cases: [Case]
  }

  static func load() throws -> Tokenizer {
    let file = try GGUFFile(path: modelPath)
    return try Tokenizer(gguf: file)
  }
}

@Suite("Tokenizer on the real SmolLM2 vocab", .enabled(if: RealTokenizerFixture.enabled))
struct TokenizerRealModelTests {
  @Test("every reference case encodes to llama.cpp's ids and decodes back to its text")
  func referenceCases() throws {
    let tok = try RealTokenizerFixture.load()
    let data = try Data(contentsOf: URL(fileURLWithPath: RealTokenizerFixture.referencePath))
    let cases = try JSONDecoder().decode(RealTokenizerFixture.Cases.self, from: data).cases
    #expect(cases.count >= 12)
    for c in cases {
      #expect(tok.encode(c.text) == c.ids, "\(c.text.debugDescription)")
      #expect(try tok.decode(c.ids) == c.text)
    }
  }

  @Test("model-facts 3.4 vectors, special ids and the chat prompt match")
  func modelFacts() throws {
    let tok = try RealTokenizerFixture.load()
    #expect(tok.vocabSize == 49152)
    #expect(tok.bosId == 1 && tok.eosId == 2 && tok.unknownId == 0 && tok.paddingId == 2)
    #expect(tok.controlTokenIds == Set(0...16))
    #expect(tok.endOfGenerationIds == [0, 2])
    #expect(tok.encode("Hello, we can use") == [19556, 28, 392, 416, 722])
    #expect(tok.encode("\n") == [198])
    #expect(tok.encode("  multiple   spaces") == [216, 2701, 256, 5600])
    #expect(tok.encode("Café déjà vu.") == [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30])
    #expect(tok.id(of: "Ċ") == 198 && tok.id(of: "Ġ") == 216 && tok.id(of: "ĠĠ") == 256 && tok.id(of: "ĊĊ") == 1116)
    #expect(tok.encode("<|im_start|>", parseSpecial: false).count == 7)
    let chat = tok.encodeChat([.user("What is the capital of France?")], addGenerationPrompt: true)
    #expect(
      chat == [
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
        19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
      ])
  }

  @Test("bytes without a token are dropped as HF tokenizers drop them (no <|endoftext|> inside text)")
  func bytesWithoutToken() throws {
    let tok = try RealTokenizerFixture.load()
    // Six ASCII control bytes, and UTF-8 lead bytes that are invalid (C0, C1, F5-FF) or start unassigned planes (F1, F2).
    #expect(tok.bytesWithoutToken == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2] + Array(0xF5...0xFF))
    // transformers 5.24 AutoTokenizer(gguf_file=...) on the same file, add_special_tokens=False.
    for (text, ids) in [
      ("x\u{04}y", [104, 105]), ("i\u{04}n", [89, 94]), ("t\u{04}he", [100, 255]), ("hello\u{06}world", [28120, 6693]),
      ("a\u{00}b\u{05}c\u{06}", [81, 190, 82, 194, 83]),
    ] {
      #expect(tok.encode(text, parseSpecial: false) == ids, "\(Array(text.utf8))")
      #expect(NaiveBPE(tokenizer: tok).encode(text) == ids)
    }
  }

  @Test("the fast BPE agrees with the naive reference on random text with the real merges")
  func fastMatchesNaive() throws {
    let tok = try RealTokenizerFixture.load()
    let naive = NaiveBPE(tokenizer: tok)
    let pool = [
      "the", " cat", "Hello", "  ", "\n", "\t", "'s", "'ll", "123", "é", "北京", "🙂", "👩‍👩‍👧", "<|im_end|>", "<|im",
      "naïve", "—", "“", " ", "ZZ", "...", "٣", "\u{A0}", "\r\n", " disestablishment", "antidisestablishmentarianism",
    ]
    var state: UInt64 = 42
    func next() -> Int {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Int((z ^ (z >> 31)) >> 1)
    }
    for _ in 0..<200 {
      var s = ""
      for _ in 0..<(next() % 30) { s += pool[next() % pool.count] }
      let ids = tok.encode(s)
      #expect(ids == naive.encode(s), "\(s.debugDescription)")
      #expect(try tok.decode(ids) == s)
    }
  }
}

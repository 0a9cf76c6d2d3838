import Testing
import Tokenizer

@Suite("Encoding with a tiny vocab")
struct EncodeTests {
  let tok: Tokenizer

  init() throws {
    tok = try Tiny.make(
      merges: Tiny.chain("Ġmultiple") + Tiny.chain("Ġspaces") + ["Ġ Ġ", "Ċ Ċ", "ĊĊ Ċ"] + Tiny.chain("user")
        + Tiny.chain("don") + ["' t", "' l", "'l l"])
  }

  @Test("runs of spaces: one space alone, the last space joins the next word")
  func spaces() {
    #expect(Tiny.texts(tok, "  multiple   spaces") == ["Ġ", "Ġmultiple", "ĠĠ", "Ġspaces"])
  }

  @Test("newline runs merge when they end the text")
  func newlines() {
    #expect(Tiny.texts(tok, "\n") == ["Ċ"])
    #expect(Tiny.texts(tok, "\n\n\n") == ["ĊĊĊ"])
    #expect(Tiny.texts(tok, "\n\n\nuser") == ["ĊĊ", "Ċ", "user"])
  }

  @Test("contractions are their own tokens")
  func contractions() {
    #expect(Tiny.texts(tok, "don't") == ["don", "'t"])
    #expect(Tiny.texts(tok, "'ll") == ["'ll"])
  }

  @Test("digits never merge with each other")
  func digits() throws {
    let withDigitMerge = try Tiny.make(merges: ["1 2", "Ġ 1"])
    #expect(Tiny.texts(withDigitMerge, " 12") == ["Ġ", "1", "2"])
  }

  @Test("emoji and accented letters become their UTF-8 bytes' tokens and round-trip")
  func utf8Bytes() throws {
    #expect(Tiny.texts(tok, "🙂") == ["ð", "Ł", "Ļ", "Ĥ"])
    #expect(Tiny.texts(tok, "é") == ["Ã", "©"])
    for s in ["🙂🚀 and 北京大学", "Café déjà vu.", "e\u{301}", "👩‍👩‍👧"] {
      #expect(try tok.decode(tok.encode(s)) == s)
    }
  }

  @Test("control tokens are split out before BPE, or encoded as text without parseSpecial")
  func controlTokens() throws {
    let ids = tok.encode("<|im_start|>user\nHi<|im_end|>\n")
    #expect(ids.first == 1 && ids.contains(2))
    #expect(Tiny.texts(tok, "<|im_start|>user") == ["<|im_start|>", "user"])
    let plain = tok.encode("<|im_start|>user", parseSpecial: false)
    #expect(!plain.contains(1) && plain.count == 13)
    #expect(try tok.decode(plain) == "<|im_start|>user")
    #expect(tok.controlTokenIds == [0, 1, 2])
  }

  @Test("user-defined tokens are split out even without parseSpecial")
  func userDefined() {
    #expect(tok.encode("a<tool>b", parseSpecial: false) == [tok.id(of: "a")!, 3, tok.id(of: "b")!])
  }

  @Test("the longest special token wins over a shorter one it contains")
  func longestFirst() throws {
    let t = try Tiny.make(merges: [], extra: [("<x>", TokenType.control), ("<x>y", TokenType.control)])
    #expect(t.encode("<x>y<x>") == [5, 4])
    #expect(t.fragments("a<x>y<x>b") == [.text("a"), .special(5), .special(4), .text("b")])
  }

  @Test("plain encode never adds BOS; addSpecial adds it only when the model asks")
  func bos() throws {
    #expect(tok.encode("a").first != 1)
    #expect(tok.encode("a", addSpecial: true) == tok.encode("a"))
    let withBOS = try Tiny.make(merges: [], addBOS: true)
    #expect(withBOS.encode("a", addSpecial: true).first == 1)
    #expect(withBOS.encode("a", addSpecial: false).first != 1)
  }

  @Test("empty text encodes to nothing")
  func empty() {
    #expect(tok.encode("").isEmpty)
  }

  @Test("id(of:) distinguishes canonically equivalent token texts")
  func canonicalEquivalence() throws {
    // (é itself is a byte-level character, so use a letter outside the byte table.)
    let t = try Tiny.make(
      merges: [], extra: [("\u{1E31}", TokenType.userDefined), ("k\u{301}", TokenType.userDefined)])
    #expect(t.id(of: "\u{1E31}") == 4 && t.id(of: "k\u{301}") == 5)
  }

  @Test("random text round-trips through encode and decode")
  func roundTrip() throws {
    var rng = SplitMix64(seed: 11)
    for _ in 0..<200 {
      let s = RandomText.make(&rng)
      #expect(scalars([try tok.decode(tok.encode(s, parseSpecial: false))]) == scalars([s]))
    }
  }
}

import Foundation
import Testing
import Tokenizer

@Suite("Pre-tokenizer")
struct PreTokenizerTests {
  let smollm = PreTokenizer(kind: .smollm)

  @Test("every digit is its own piece, and a space before a digit stays a separate piece")
  func digits() {
    #expect(smollm.split("Hello world! 123") == ["Hello", " world", "!", " ", "1", "2", "3"])
    #expect(smollm.split("abc٣Ⅻ²x") == ["abc", "٣", "Ⅻ", "²", "x"])
    #expect(PreTokenizer(kind: .gpt2).split("a 123") == ["a", " 123"])
  }

  @Test("contractions split off as in the GPT-2 regex, case-sensitively")
  func contractions() {
    #expect(
      smollm.split("don't we'll they've I'm you'd it's we're") == [
        "don", "'t", " we", "'ll", " they", "'ve", " I", "'m", " you", "'d", " it", "'s", " we", "'re",
      ])
    #expect(smollm.split("DON'T") == ["DON", "'", "T"])
    #expect(PreTokenizer(kind: .llama3).split("DON'T") == ["DON", "'T"])
  }

  @Test("runs of spaces leave their last space to the next word (\\s+(?!\\S))")
  func spaces() {
    #expect(smollm.split("  multiple   spaces") == [" ", " multiple", "  ", " spaces"])
    #expect(smollm.split("trailing space ") == ["trailing", " space", " "])
    #expect(smollm.split("a   ") == ["a", "   "])
    #expect(smollm.split("a \t b") == ["a", " \t", " b"])
  }

  @Test("newlines are whitespace: a run before a word keeps one for the word, at the end all stay together")
  func newlines() {
    #expect(smollm.split("\n") == ["\n"])
    #expect(smollm.split("\n\n\n") == ["\n\n\n"])
    #expect(smollm.split("spaces\n\n\ttabs") == ["spaces", "\n\n", "\t", "tabs"])
    #expect(PreTokenizer(kind: .llama3).split("a \n\n b") == ["a", " \n\n", " b"])
  }

  @Test("punctuation and symbols form runs, with one optional leading space")
  func punctuation() {
    #expect(smollm.split("vu. — “quotes”") == ["vu", ".", " —", " “", "quotes", "”"])
    #expect(smollm.split("🙂🚀 ok") == ["🙂🚀", " ok"])
  }

  @Test("pieces concatenate back to the input")
  func lossless() {
    var rng = SplitMix64(seed: 7)
    for kind in PreTokenizerKind.allCases {
      let p = PreTokenizer(kind: kind)
      for _ in 0..<100 {
        let s = RandomText.make(&rng)
        #expect(scalars([p.split(s).joined()]) == scalars([s]))
      }
    }
  }

  @Test("the scanners agree with NSRegularExpression on random and edge strings", arguments: PreTokenizerKind.allCases)
  func matchesRegex(kind: PreTokenizerKind) throws {
    let reference = try RegexPreTokenizer(kind: kind)
    let p = PreTokenizer(kind: kind)
    let edges = [
      "", " ", "  ", "\n", " \n ", "'", "''s", "'s'", "a'", " 'll", "1234567", " 12 345", "a1b2", "x \u{A0}y",
      "\u{A0}\u{A0}z",
      "\r\n\r\nx", " \r\n", "!!\n\nx", " !\r\n", "ab\u{301}c", "\u{200D}\u{200D}", "Ⅻ12", "e'S", "  \t\n  a", "a  ",
    ]
    var rng = SplitMix64(seed: 2024 &+ UInt64(kind.rawValue.count))
    var cases = edges
    for _ in 0..<400 { cases.append(RandomText.make(&rng)) }
    for s in cases {
      #expect(scalars(p.split(s)) == scalars(reference.split(s)), "\(kind) \(s.debugDescription)")
    }
  }

  @Test("GGUF names map to kinds; an unknown name is an error naming tokenizer.ggml.pre")
  func names() throws {
    for name in ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"] {
      #expect(try PreTokenizerKind(ggufName: name) == .smollm)
    }
    #expect(try PreTokenizerKind(ggufName: "llama-bpe") == .llama3)
    #expect(try PreTokenizerKind(ggufName: "qwen2") == .qwen2)
    #expect(try PreTokenizerKind(ggufName: "gpt2") == .gpt2)
    #expect(throws: TokenizerError.unknownPreTokenizer("deepseek-coder")) {
      try PreTokenizer(ggufName: "deepseek-coder")
    }
    let message = TokenizerError.unknownPreTokenizer("deepseek-coder").errorDescription ?? ""
    #expect(message.contains("tokenizer.ggml.pre") && message.contains("deepseek-coder"))
  }
}

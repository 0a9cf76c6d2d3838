import Testing
import Tokenizer

@Suite("BPE merging")
struct BPETests {
  @Test("the lowest-rank merge applies first")
  func mergeOrder() throws {
    let bcFirst = try Tiny.make(merges: ["b c", "a b"])
    #expect(Tiny.texts(bcFirst, "abc") == ["a", "bc"])
    let abFirst = try Tiny.make(merges: ["a b", "b c"])
    #expect(Tiny.texts(abFirst, "abc") == ["ab", "c"])
  }

  @Test("equal-rank pairs merge leftmost first")
  func leftmostTie() throws {
    let tok = try Tiny.make(merges: ["a a", "aa aa"])
    #expect(Tiny.texts(tok, "aaa") == ["aa", "a"])
    #expect(Tiny.texts(tok, "aaaa") == ["aaaa"])
    #expect(Tiny.texts(tok, "aaaaa") == ["aaaa", "a"])
  }

  @Test("merges chain into whole words and never cross piece boundaries")
  func chains() throws {
    let tok = try Tiny.make(merges: Tiny.chain("hello") + Tiny.chain("Ġworld") + ["o Ġ", "1 2"])
    #expect(Tiny.texts(tok, "hello world") == ["hello", "Ġworld"])
    #expect(Tiny.texts(tok, "12") == ["1", "2"])  // digits are separate pieces in smollm
    let gpt2 = try Tiny.make(merges: ["1 2"], pre: "gpt2")
    #expect(Tiny.texts(gpt2, "12") == ["12"])
  }

  @Test("the fast merger agrees with the naive reference on random merges and random text")
  func fastMatchesNaive() throws {
    var rng = SplitMix64(seed: 99)
    for trial in 0..<12 {
      // Random merges over a small alphabet, ranks in random order (including "unnatural" ones
      // whose result ranks below its parts), so ties and re-merges are frequent.
      var symbols = ["a", "b", "c", "Ġ"]
      var merges: [String] = []
      for _ in 0..<(20 + trial * 5) {
        let l = symbols[rng.below(symbols.count)]
        let r = symbols[rng.below(symbols.count)]
        merges.insert(l + " " + r, at: rng.below(merges.count + 1))
        if !symbols.contains(l + r) { symbols.append(l + r) }
      }
      let tok = try Tiny.make(merges: merges, pre: trial % 2 == 0 ? "gpt2" : "smollm")
      let naive = NaiveBPE(tokenizer: tok)
      for _ in 0..<40 {
        var s = ""
        for _ in 0..<rng.below(40) { s += ["a", "b", "c", " ", "ab", "  "][rng.below(6)] }
        #expect(tok.encode(s) == naive.encode(s), "merges \(merges) text \(s.debugDescription)")
      }
    }
  }

  @Test("the fast merger agrees with the naive reference on mixed Unicode text")
  func fastMatchesNaiveUnicode() throws {
    let tok = try Tiny.make(
      merges: Tiny.chain("Ġhello") + Tiny.chain("ðŁĻĤ") + ["Ã ©", "l l", "e l", "h e", "Ġ Ġ", "ĠĠ ĠĠ"])
    let naive = NaiveBPE(tokenizer: tok)
    var rng = SplitMix64(seed: 5)
    for _ in 0..<150 {
      let s = RandomText.make(&rng)
      #expect(tok.encode(s) == naive.encode(s), "\(s.debugDescription)")
    }
  }
}

@Suite("BPE edge cases")
struct BPEEdgeTests {
  @Test("pieces longer than the initial workspace merge like the reference")
  func longPiece() throws {
    let tok = try Tiny.make(merges: ["a a", "aa aa", "aaaa aaaa", "b a"], pre: "gpt2")
    let naive = NaiveBPE(tokenizer: tok)
    for n in [63, 64, 65, 200, 1000] {
      let s = String(repeating: "a", count: n) + "b" + String(repeating: "a", count: n / 3)
      #expect(tok.encode(s) == naive.encode(s), "n = \(n)")
      #expect(try tok.decode(tok.encode(s)) == s)
    }
  }

  @Test("a byte without a token is dropped (HF tokenizers and llama.cpp), never the unknown id")
  func missingByte() throws {
    // Vocab: <unk> plus the byte characters of "a" and "b" only.
    let tok = try Tokenizer(
      tokens: ["<unk>", "a", "b", "ab"], merges: ["a b"], tokenTypes: [2, 1, 1, 1], bosId: nil, eosId: nil,
      unknownId: 0, paddingId: nil, preTokenizer: "gpt2", addBOS: false)
    #expect(tok.encode("abzab") == [3, 3])
    #expect(NaiveBPE(tokenizer: tok).encode("abzab") == [3, 3])
  }
}

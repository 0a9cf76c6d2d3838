import Decoding
// Schema-constrained decoding: the byte automaton, the token masks, and sampled outputs that
// always parse, over thousands of seeds on a tiny model.
import Foundation
import GGUF
import LLM
import TestSupport
import Testing
import Tokenizer

/// A small schema with every kind of piece: {"name": string, "n": enumeration, "k": integer,
/// "x": number, "tags": [strings]}.
func smallSchema() -> ByteDFA {
  let b = ByteDFABuilder()
  return b.build(
    ByteDFA.jsonObject(
      b,
      [
        ("name", b.string(minCharacters: 1)), ("n", b.oneOf(["4", "8", "16"])), ("k", b.integer(maxDigits: 3)),
        ("x", b.number(maxIntDigits: 1, maxFractionDigits: 4)), ("tags", b.list { b.string() }),
      ]))
}

@Suite("Schema-constrained decoding")
struct ConstrainedDecodingTests {
  @Test("the automaton accepts schema instances and refuses near misses")
  func automaton() {
    let t = smallSchema()
    let ok = #"{"name": "Write \"facts\" \\ caf\u00e9 é 北 🙂\n", "n": 16, "k": 120, "x": 1e-4, "tags": ["a", ""]}"#
    #expect(t.accepts(Array(ok.utf8)))
    for bad in [
      ok.replacingOccurrences(of: "\"n\": 16", with: "\"n\": 12"),  // not in the enumeration
      ok.replacingOccurrences(of: "\"k\": 120", with: "\"k\": 0120"),  // leading zero
      ok.replacingOccurrences(of: "\"k\": 120", with: "\"k\": 1200"),  // too many digits
      ok.replacingOccurrences(of: "\"k\": 120", with: "\"k\": 12.0"),  // a float for an int
      ok.replacingOccurrences(of: "\"x\": 1e-4", with: "\"x\": .0001"),
      ok.replacingOccurrences(of: "\\\"facts\\\"", with: "\"facts\""),  // unescaped quote
      ok.replacingOccurrences(of: "\\u00e9", with: "\\u00g9"),  // bad hex escape
      ok.replacingOccurrences(of: "\"name\": \"Write", with: "\"name\":\"Write"),
      ok.replacingOccurrences(of: "[\"a\", \"\"]", with: "[]"),  // lists hold at least one item
      String(ok.dropLast()),
      ok + " ",
    ] { #expect(!t.accepts(Array(bad.utf8)), "\(bad)") }
    var raw = Array(#"{"name": "a"#.utf8) + [0xED, 0xA0, 0x80]  // a UTF-16 surrogate in UTF-8
    #expect(t.run(t.start, raw) == ByteDFA.dead)
    raw = Array(#"{"name": "a"#.utf8) + [0xC0, 0x80]  // an overlong encoding
    #expect(t.run(t.start, raw) == ByteDFA.dead)
    raw = Array(#"{"name": "a"#.utf8) + [0x01]  // a raw control character
    #expect(t.run(t.start, raw) == ByteDFA.dead)
    #expect(!t.accepts(Array(#"{"name": "", "n": 4, "k": 1, "x": 0, "tags": ["a"]}"#.utf8)))  // minCharacters
  }

  /// A tiny model with a byte-level vocabulary (every byte has a token) and merged tokens.
  static func tinyModel() throws -> LanguageModel {
    let c = LlamaConfig(
      vocabSize: 300, dim: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, ffnDim: 64,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 512)
    let file = try GGUFFile(bytes: try TinyGGUF.make(config: c, seed: 7, matrixType: .f32, embeddingType: .f32))
    return LanguageModel(
      file: file, tokenizer: try Tokenizer(gguf: file), weights: try ModelWeights(gguf: file, pack: false))
  }

  static func constraint(_ dfa: ByteDFA, _ m: LanguageModel) -> TokenConstraint {
    TokenConstraint(dfa: dfa, vocabSize: m.config.vocabSize) { id in
      Array((try? m.tokenizer.bytes(of: id, skipSpecial: true)) ?? [])
    }
  }

  @Test("sampled outputs always parse: 300 seeds at temperature 1.5 with budgets down to the shortest")
  func alwaysParses() throws {
    let m = try Self.tinyModel()
    let c = Self.constraint(smallSchema(), m)
    let shortest = Int(c.dfa.distance[Int(c.dfa.start)])
    let requests = (0..<300).map { i in
      GenerationRequest(
        promptTokens: [65, 66, 67], options: SamplingOptions(temperature: 1.5, topP: 0.99),
        maxNewTokens: shortest + [0, 1, 7, 40, 200][i % 5], stopTokens: [299], seed: UInt64(i), constraint: c)
    }
    for r in try m.generator().generate(requests, batchSize: 16) {
      #expect(r.finish == .complete && r.tokens.count <= requests[r.request].maxNewTokens)
      let obj = try? JSONSerialization.jsonObject(with: Data(try m.tokenizer.decodeBytes(r.tokens))) as? [String: Any]
      #expect(obj?["tags"] is [String] && [4, 8, 16].contains(obj?["n"] as? Int ?? -1), "request \(r.request)")
    }
    var tooShort = requests[0]
    tooShort.maxNewTokens = shortest - 1
    #expect(throws: LLMError.self) { _ = try m.generator().generate([tooShort]) }
  }

  @Test("a token spanning JSON syntax is judged by all its bytes; control tokens are never allowed")
  func tokensSpanningSyntax() throws {
    let b = ByteDFABuilder()
    let dfa = b.build(ByteDFA.jsonObject(b, [("a", b.integer(maxDigits: 2))]))
    // Vocabulary: "{", "\"a\": ", "1", "2}", "}", "12", a control token (no bytes).
    let vocab: [[UInt8]] = ["{", "\"a\": ", "1", "2}", "}", "12", ""].map { Array($0.utf8) }
    let c = TokenConstraint(dfa: dfa, vocabSize: vocab.count) { vocab[$0] }
    var logits = [Float](repeating: 0, count: vocab.count)
    var s = dfa.start
    // "2}" may follow `"a": ` at once: a digit, then the closing brace.
    for (tok, allowed) in [(0, [0]), (1, [1]), (2, [2, 3, 5])] {
      logits = [Float](repeating: 0, count: vocab.count)
      c.mask(&logits, state: s, tokensLeft: 10)
      #expect(logits.indices.filter { logits[$0] == 0 } == allowed)
      s = c.row(s)[tok]
    }
    // After "1": "2}" (closes in one token), "}" and "12"? "112" has 3 digits: refused.
    logits = [Float](repeating: 0, count: vocab.count)
    c.mask(&logits, state: s, tokensLeft: 10)
    #expect(logits.indices.filter { logits[$0] == 0 } == [2, 3, 4])
    // With one token left only the tokens that accept at once remain.
    logits = [Float](repeating: 0, count: vocab.count)
    c.mask(&logits, state: s, tokensLeft: 1)
    #expect(logits.indices.filter { logits[$0] == 0 } == [3, 4])
  }
}

// Schema-constrained decoding: the byte automaton, the token masks, and sampled outputs that
// always parse, over thousands of seeds on a tiny model.
import Foundation
import GGUF
import LLM
import TestSupport
import Testing
import Tokenizer

/// The self-edit template schema of the search (reference-pipeline 3.2), rank as an enumeration.
func templateSchema() -> ByteDFA {
  let b = ByteDFABuilder()
  let hp = ByteDFA.jsonObject(b, [
    ("lora_rank", b.oneOf(["4", "8", "16", "32", "64"])), ("lora_alpha", b.integer(maxDigits: 3)),
    ("lora_dropout", b.number(maxIntDigits: 1, maxFractionDigits: 3)), ("learning_rate", b.number(maxIntDigits: 1, maxFractionDigits: 6)),
    ("num_epochs", b.integer(maxDigits: 2)), ("gradient_accumulation_steps", b.integer(maxDigits: 1)),
  ])
  return b.build(ByteDFA.jsonObject(b, [("data_creation_instruction", b.string(minCharacters: 1)), ("hyperparameters", hp)]))
}

/// {"training_sequences": [at least one non-empty string]}.
func sequencesSchema() -> ByteDFA {
  let b = ByteDFABuilder()
  return b.build(ByteDFA.jsonObject(b, [("training_sequences", b.list { b.string(minCharacters: 1) })]))
}

@Suite("Schema-constrained decoding")
struct ConstrainedDecodingTests {
  @Test("the automaton accepts schema instances and refuses near misses")
  func automaton() {
    let t = templateSchema()
    let ok = #"{"data_creation_instruction": "Write \"facts\" \\ caf\u00e9 é 北 🙂\n", "hyperparameters": {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.05, "learning_rate": 1e-4, "num_epochs": 3, "gradient_accumulation_steps": 1}}"#
    #expect(t.accepts(Array(ok.utf8)))
    for bad in [
      ok.replacingOccurrences(of: "\"lora_rank\": 16", with: "\"lora_rank\": 12"),  // not in the enumeration
      ok.replacingOccurrences(of: "\"num_epochs\": 3", with: "\"num_epochs\": 03"),  // leading zero
      ok.replacingOccurrences(of: "\"num_epochs\": 3", with: "\"num_epochs\": 3.0"),  // a float for an int
      ok.replacingOccurrences(of: "\"learning_rate\": 1e-4", with: "\"learning_rate\": .0001"),
      ok.replacingOccurrences(of: "\\\"facts\\\"", with: "\"facts\""),  // unescaped quote
      ok.replacingOccurrences(of: "\\u00e9", with: "\\u00g9"),  // bad hex escape
      ok.replacingOccurrences(of: "\"data_creation_instruction\": \"Write", with: "\"data_creation_instruction\":\"Write"),
      String(ok.dropLast()),
      ok + " ",
      #"{"data_creation_instruction": "", "hyperparameters": {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.05, "learning_rate": 1e-4, "num_epochs": 3, "gradient_accumulation_steps": 1}}"#,
    ] { #expect(!t.accepts(Array(bad.utf8)), "\(bad)") }
    #expect(!t.accepts([0x7B, 0x22] + [0xC0, 0x80]))  // overlong UTF-8 never reaches a string
    var raw = Array(#"{"data_creation_instruction": "a"#.utf8) + [0xED, 0xA0, 0x80]  // a UTF-16 surrogate
    #expect(t.run(t.start, raw) == ByteDFA.dead)
    raw = Array(#"{"data_creation_instruction": "a"#.utf8) + [0x01]  // a raw control character
    #expect(t.run(t.start, raw) == ByteDFA.dead)
    let s = sequencesSchema()
    #expect(s.accepts(Array(#"{"training_sequences": ["a", "b c", "\u0041"]}"#.utf8)))
    #expect(!s.accepts(Array(#"{"training_sequences": []}"#.utf8)) && !s.accepts(Array(#"{"training_sequences": ["a",]}"#.utf8)))
    #expect(t.stateCount < 400 && s.stateCount < 100)
  }

  /// A tiny model with a byte-level vocabulary (every byte has a token) and merged tokens.
  static func tinyModel() throws -> LanguageModel {
    let c = LlamaConfig(vocabSize: 300, dim: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, ffnDim: 64,
                        ropeTheta: 10000, rmsEps: 1e-5, contextLength: 512)
    let file = try GGUFFile(bytes: try TinyGGUF.make(config: c, seed: 7, matrixType: .f32, embeddingType: .f32))
    return LanguageModel(file: file, tokenizer: try Tokenizer(gguf: file), weights: try ModelWeights(gguf: file, pack: false))
  }

  static func constraint(_ dfa: ByteDFA, _ m: LanguageModel) -> TokenConstraint {
    TokenConstraint(dfa: dfa, vocabSize: m.config.vocabSize) { id in
      Array((try? m.tokenizer.bytes(of: id, skipSpecial: true)) ?? [])
    }
  }

  #if DEBUG
  static let seeds = 200  // debug builds run the numeric code ~20x slower; CI runs the release build
  #else
  static let seeds = 2000
  #endif

  @Test("sampled outputs always parse and follow the schema: 2,000 seeds (release) at temperature 1.5, budgets down to the shortest")
  func alwaysParses() throws {
    let m = try Self.tinyModel()
    let template = Self.constraint(templateSchema(), m), seqs = Self.constraint(sequencesSchema(), m)
    let shortest = Int(template.dfa.distance[Int(template.dfa.start)])
    var requests: [GenerationRequest] = []
    for i in 0..<Self.seeds {
      let c = i % 2 == 0 ? template : seqs
      let minimum = Int(c.dfa.distance[Int(c.dfa.start)])
      // Budgets from the exact minimum up: the guard must close the JSON in time.
      let budget = minimum + [0, 1, 7, 40, 200][i % 5]
      requests.append(GenerationRequest(promptTokens: [65, 66, 67], options: SamplingOptions(temperature: 1.5, topP: 0.99),
                                        maxNewTokens: budget, stopTokens: [299], seed: UInt64(i), constraint: c))
    }
    let results = try m.generator().generate(requests, batchSize: 16)
    var complete = 0
    for r in results {
      let req = requests[r.request]
      #expect(r.finish == .complete, "request \(r.request): \(r.finish)")
      #expect(r.tokens.count <= req.maxNewTokens)
      let bytes = try m.tokenizer.decodeBytes(r.tokens)
      guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
        Issue.record("request \(r.request) does not parse: \(String(decoding: bytes, as: UTF8.self))")
        continue
      }
      if req.constraint === template {
        let hp = obj["hyperparameters"] as? [String: Any]
        #expect((obj["data_creation_instruction"] as? String).map { !$0.isEmpty } == true)
        #expect([4, 8, 16, 32, 64].contains(hp?["lora_rank"] as? Int ?? -1))
        #expect(hp?.count == 6 && hp?["learning_rate"] is NSNumber)
      } else {
        let list = obj["training_sequences"] as? [String]
        #expect(list.map { !$0.isEmpty && $0.allSatisfy { !$0.isEmpty } } == true)
      }
      complete += 1
    }
    #expect(complete == Self.seeds)
    #expect(shortest > 100)  // the keys alone are forced bytes
    // A budget below the shortest accepted output is refused before any work.
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

import Decoding
// The search's rules on hand-made inputs with known answers: the meta prompt byte for byte,
// Python's JSON, template parsing, the exploit/explore split, validation, metrics, archive
// update, SFT pair selection and the MAP-Elites archive.
import Experiment
import Foundation
import GGUF
import LLM
import Search
import TestSupport
import Testing
import Tokenizer
import Workspace

private let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("../shared/data/self-edit-search").standardized.path
private let haveShared = FileManager.default.fileExists(atPath: shared + "/archive_seed.json")

@Suite("Search: meta prompt and templates")
struct TemplateTests {
  @Test(
    "the archive meta prompt on archive_seed.json equals the hand-written expected blocks byte for byte",
    .enabled(if: haveShared))
  func metaPromptSeed() throws {
    let text = String(
      decoding: FileManager.default.contents(atPath: shared + "/meta_prompt_archive.txt")!, as: UTF8.self)
    let archive = try ArchiveEntry.load(shared + "/archive_seed.json")
    let filled = try MetaPrompt.fill(archiveTemplate: text, archive: archive)
    let hp =
      #""hyperparameters": {"lora_rank": 32, "lora_alpha": 64, "lora_dropout": 0, "learning_rate": 0.001, "num_epochs": 10, "gradient_accumulation_steps": 1}}"#
    let expectedBlocks = """
      Highest Accuracy Template:
      {"data_creation_instruction": "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.", \(hp)
      Accuracy: 0.4937, Normalized Gain: 0.253575114

      Second Highest Accuracy Template:
      {"data_creation_instruction": "Let's read the following passage and produce a long list of implications derived directly or indirectly from the content.", \(hp)
      Accuracy: 0.4929, Normalized Gain: 0.253715968

      Second Lowest Accuracy Template:
      {"data_creation_instruction": "Repeat the passage verbatim.", \(hp)
      Accuracy: 0.335, Normalized Gain: 0.0

      Lowest Accuracy Template:
      {"data_creation_instruction": "", \(hp)
      Accuracy: 0.1379, Normalized Gain: -0.264447052
      """
    let start = text.range(of: "Highest Accuracy Template:")!.lowerBound
    let end = text.range(of: "Accuracy: ${acc4}, Normalized Gain: ${ngain4}")!.upperBound
    let expected = String(text[..<start]) + expectedBlocks + String(text[end...])
    #expect(filled == expected)
    // python3: string.Template(...).substitute(...) of the same file and archive.
    #expect(
      filled.utf8.count == 6933
        && SHA256.hash(Array(filled.utf8)) == "ab55970740a10ce498a1feb8243753b91f8bc606e05f064422216440c9a8f3f1")
    #expect(throws: SearchError.self) { try MetaPrompt.fill(archiveTemplate: text, archive: Array(archive.prefix(3))) }
  }

  @Test("string.Template rules: $$, ${name}, $name; a missing name or a bad placeholder is an error")
  func substitute() throws {
    #expect(try MetaPrompt.substitute("a $$ ${x}y $x.z", ["x": "1"]) == "a $ 1y 1.z")
    #expect(throws: SearchError.self) { try MetaPrompt.substitute("${nope}", [:]) }
    #expect(throws: SearchError.self) { try MetaPrompt.substitute("cost $5", [:]) }
  }

  @Test("Python's json: key order, ints vs floats, float repr and ensure_ascii escapes")
  func pyJSON() throws {
    for (d, s) in [
      (0.001, "0.001"), (1e-05, "1e-05"), (5e-05, "5e-05"), (1e16, "1e+16"), (1.0, "1.0"),
      (-0.264447052, "-0.264447052"),
      (123456789.0, "123456789.0"), (0.00025, "0.00025"),
    ] { #expect(PyJSON.repr(d) == s) }
    let v = try PyJSON.loads(#"{"b": 1, "a": 1.0, "c": [true, null, "caf\u00e9 🙂 \"q\" \\ /\n\u0001"], "b": 2}"#)
    #expect(v.dumps() == #"{"b": 1, "a": 1.0, "c": [true, null, "caf\u00e9 \ud83d\ude42 \"q\" \\ /\n\u0001"], "b": 2}"#)
    #expect(v["b"] == .int(2) && v["a"] == .float(1))
    #expect(PyJSON.string("café").dumps(ensureASCII: false) == "\"café\"")
    for bad in ["{\"a\": 01}", "{\"a\" 1}", "[1,]", "{\"a\": \"\u{01}\"}", "\"\\x\"", "{} x"] {
      #expect(throws: SearchError.self, "\(bad)") { try PyJSON.loads(bad) }
    }
  }

  @Test("proposer output parsing: think tags, greedy braces, required keys, ints stay ints")
  func parse() throws {
    let good =
      #"<think>{"not": "this"}</think> Sure: {"data_creation_instruction": "List facts.", "hyperparameters": {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.1, "learning_rate": 1e-4, "num_epochs": 3, "gradient_accumulation_steps": 2, "extra": 1}} done"#
    let t = try SelfEditTemplate.parse(good)
    #expect(t.instruction == "List facts." && t.value("learning_rate") == 1e-4 && t.hyperparameters["extra"] == .int(1))
    #expect(
      t.dumps()
        == #"{"data_creation_instruction": "List facts.", "hyperparameters": {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.1, "learning_rate": 0.0001, "num_epochs": 3, "gradient_accumulation_steps": 2, "extra": 1}}"#
    )
    for bad in [
      good.replacingOccurrences(of: "\"num_epochs\": 3", with: "\"num_epochs\": 3.0"),
      good.replacingOccurrences(of: "\"lora_rank\": 16, ", with: ""),
      good.replacingOccurrences(of: "\"List facts.\"", with: "7"),
      "no json here", "{\"data_creation_instruction\": \"x\"}",
    ] {
      #expect(throws: SearchError.self, "\(bad)") { try SelfEditTemplate.parse(bad) }
    }
  }

  @Test("the exploit/explore split: round(M x 0.6) half to even, at least one exploit, at most M")
  func split() {
    #expect(
      ProposerSampling.split(5) == (3, 2) && ProposerSampling.split(1) == (1, 0) && ProposerSampling.split(3) == (2, 1))
    #expect(
      ProposerSampling.split(1, exploitFraction: 1.0) == (1, 0) && ProposerSampling.split(4) == (2, 2)
        && ProposerSampling.split(0) == (0, 0))
    #expect(
      ProposerSampling.split(5, exploitFraction: 0.1) == (1, 4)
        && ProposerSampling.split(2, exploitFraction: 0) == (0, 2))
    #expect((0..<3).map { ProposerSampling.completionUsesExploit($0, of: 3) } == [true, true, false])
    // Completions follow the run's exploit fraction too (the reference's --exploit_fraction).
    #expect(
      (0..<3).map { ProposerSampling.completionUsesExploit($0, of: 3, exploitFraction: 1.0 / 3) } == [
        true, false, false,
      ])
  }

  @Test(
    "validation policies: reference lifts only epochs and accumulation to 1; clamped uses the stated ranges and counts")
  func validation() throws {
    let t = try SelfEditTemplate.parse(
      #"{"data_creation_instruction": "x", "hyperparameters": {"lora_rank": 0, "lora_alpha": 512, "lora_dropout": 1.0, "learning_rate": 0.1, "num_epochs": 0, "gradient_accumulation_steps": -2}}"#
    )
    let (r, rc) = ValidationPolicy.reference.apply(t, base: TrainingSpec())
    #expect(r.rank == 0 && r.alpha == 512 && r.learningRate == 0.1 && r.epochs == 1 && r.gradientAccumulation == 1)
    #expect(rc == ["num_epochs", "gradient_accumulation_steps"])
    let (c, cc) = ValidationPolicy.clamped.apply(t, base: TrainingSpec())
    #expect(
      c.rank == 4 && c.alpha == 256 && c.dropout == 0.9 && c.learningRate == 5e-3 && c.epochs == 1
        && c.gradientAccumulation == 1)
    #expect(cc.count == 6)
    let ok = try SelfEditTemplate.parse(
      #"{"data_creation_instruction": "x", "hyperparameters": {"lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0, "learning_rate": 0.0002, "num_epochs": 3, "gradient_accumulation_steps": 1}}"#
    )
    #expect(ValidationPolicy.clamped.apply(ok, base: TrainingSpec()).changed.isEmpty)
  }

  @Test("the output schemas accept what the parsers accept, and the template schema's rank is the meta prompt's")
  func schemas() throws {
    let t = OutputSchemas.template(), s = OutputSchemas.trainingSequences()
    let text =
      #"{"data_creation_instruction": "List facts.", "hyperparameters": {"lora_rank": 16, "lora_alpha": 32, "lora_dropout": 0.05, "learning_rate": 1e-4, "num_epochs": 3, "gradient_accumulation_steps": 2}}"#
    #expect(t.accepts(Array(text.utf8)))
    _ = try SelfEditTemplate.parse(text)
    #expect(!t.accepts(Array(text.replacingOccurrences(of: "\"lora_rank\": 16", with: "\"lora_rank\": 17").utf8)))
    #expect(s.accepts(Array(#"{"training_sequences": ["a b", "c"]}"#.utf8)))
  }

  @Test(
    "the reference policy decodes under pydantic's types-only schemas: rank 128, negatives, empty strings and lists")
  func referenceSchemas() throws {
    let (tg, sg) = OutputSchemas.grammars(.reference)
    let t = tg.automaton(), s = sg.automaton()
    let wide =
      #"{"data_creation_instruction": "", "hyperparameters": {"lora_rank": 128, "lora_alpha": 256, "lora_dropout": 0.1, "learning_rate": -0.001, "num_epochs": -1, "gradient_accumulation_steps": 12}}"#
    #expect(t.accepts(Array(wide.utf8)))
    #expect(!OutputSchemas.grammars(.clamped).template.automaton().accepts(Array(wide.utf8)))
    #expect(!t.accepts(Array(wide.replacingOccurrences(of: "\"lora_rank\": 128", with: "\"lora_rank\": 1.5").utf8)))
    #expect(
      s.accepts(Array(#"{"training_sequences": []}"#.utf8))
        && s.accepts(Array(#"{"training_sequences": ["", "x"]}"#.utf8)))
    // The schemas are pydantic's: types only, no bound, no enumeration (the reference's own text).
    let schema = try PyJSON.loads(tg.jsonSchema, source: "template schema")
    guard case .object(let defs)? = schema["$defs"],
      case .object(let hp)? = defs.first(where: { $0.0 == "Hyperparameters" })?.1,
      case .object(let props)? = hp.first(where: { $0.0 == "properties" })?.1
    else { Issue.record("no Hyperparameters properties"); return }
    let types = props.map { k, v -> String in
      if case .string(let t)? = v["type"] { return "\(k):\(t)" } else { return k }
    }
    #expect(
      types == [
        "lora_rank:integer", "lora_alpha:integer", "lora_dropout:number", "learning_rate:number", "num_epochs:integer",
        "gradient_accumulation_steps:integer",
      ])
    for bound in ["minimum", "maximum", "enum", "minLength", "minItems"] {
      #expect(!tg.jsonSchema.contains(bound) && !sg.jsonSchema.contains(bound), "\(bound)")
    }
    // Raw values: rank 128 stays 128 (and is a valid training setting); only epochs/accumulation < 1 are lifted to 1.
    let parsed = try SelfEditTemplate.parse(wide)
    let (spec, changed) = ValidationPolicy.reference.apply(parsed, base: TrainingSpec())
    #expect(spec.rank == 128 && spec.alpha == 256 && spec.epochs == 1 && changed == ["num_epochs"])
  }
}

@Suite("Search: metrics, archives and SFT selection")
struct ScoringTests {
  /// 2 articles x 3 templates x 2 completions x 2 runs with known means.
  func results() throws -> SearchResults {
    // Article 0: baseline 0.5 everywhere. Article 1: baseline 0.25 (binary-exact values: no ties by rounding).
    let base =
      [[[[Double]]]](repeating: [[[Double]]](repeating: [[0.5, 0.5], [0.5, 0.5]], count: 3), count: 1)
      + [[[[Double]]](repeating: [[0.25, 0.25], [0.25, 0.25]], count: 3)]
    let adapted: [[[[Double]]]] = [
      [
        [[0.625, 0.875], [0.375, 0.375]],  // t0: completions 0.75, 0.375 -> 0.5625
        [[0.5, 0.5], [0.5, 0.5]],  // t1: 0.5 (= baseline)
        [[0.875, .nan], [0.75, 0.75]],
      ],  // t2: completion 0 = (0.875 + 0) / 2 (NaN -> 0), completion 1 = 0.75 -> 0.59375
      [
        [[0.125, 0.125], [0.25, 0.25]],  // t0: 0.125, 0.25 -> 0.1875
        [[0.75, 0.25], [0.375, 0.375]],  // t1: 0.5, 0.375 -> 0.4375
        [[0.125, 0.125], [0.125, 0.125]],
      ],  // t2: 0.125
    ]
    return try SearchResults(base: base, adapted: adapted)
  }

  @Test("per-template accuracy and normalized gain as write_results computes them (NaN runs count 0, no epsilon)")
  func metrics() throws {
    let r = try results()
    #expect(r.templateAccuracy(0) == (0.5625 + 0.1875) / 2)
    #expect(r.templateAccuracy(2) == (0.59375 + 0.125) / 2)
    // t0: article 0: (0.75-0.5)/0.5 = 0.5, (0.375-0.5)/0.5 = -0.25; article 1: (0.125-0.25)/0.75, 0 -> mean
    #expect(abs(r.templateNormalizedGain(0) - (0.5 - 0.25 - 0.125 / 0.75) / 4) < 1e-12)
    let o = r.overall
    // Wins: article 0 t0c0, t2c1; article 1 t1c0, t1c1.
    #expect(o.baseline == 0.375 && o.winRate == 4.0 / 12)
    #expect(throws: SearchError.self) { try SearchResults(base: [[[[0.5]]]], adapted: [[[[0.5, 0.5]]]]) }
    let perfect = try SearchResults(base: [[[[1.0]]]], adapted: [[[[1.0]]]])
    #expect(perfect.templateNormalizedGain(0).isNaN)
  }

  @Test(
    "skipped (failed) self-edits leave their baseline cells out of the overall baseline: accuracy - baseline = gain")
  func overallSkipsFailedCells() throws {
    // Articles a0 (B 0.2) and a1 (B 0.6), two templates; a0's second self-edit failed (NaN).
    let base: [[[[Double]]]] = [[[[0.2]], [[0.2]]], [[[0.6]], [[0.6]]]]
    let adapted: [[[[Double]]]] = [[[[0.5]], [[Double.nan]]], [[[0.7]], [[0.9]]]]
    let o = try SearchResults(base: base, adapted: adapted, skipMissing: true).overall
    #expect(abs(o.baseline - 1.4 / 3) < 1e-12 && abs(o.accuracy - 0.7) < 1e-12)
    #expect(abs(o.gain - (o.accuracy - o.baseline)) < 1e-12)
    // The reference (NaN counts 0, every cell kept): baseline over all four cells.
    let ref = try SearchResults(base: base, adapted: adapted).overall
    #expect(abs(ref.baseline - 0.4) < 1e-12 && abs(ref.accuracy - 2.1 / 4) < 1e-12)
  }

  @Test("SFT pairs: top-2 templates per article, best completion; the archive variant drops what does not beat B_a")
  func sftPairs() throws {
    let r = try results()
    // Article 0: t2 (0.59375) > t0 (0.5625) > t1; best completions t2 -> c1 (0.75), t0 -> c0 (0.75).
    // Article 1: t1 (0.4375) > t0 (0.1875) > t2; t1 -> c0 (0.5), t0 -> c1 (0.25).
    let plain = r.sftPairs(archive: false).map { [$0.article, $0.template, $0.completion] }
    #expect(plain == [[0, 2, 1], [0, 0, 0], [1, 1, 0], [1, 0, 1]])
    // Archive: article 1's t0 (0.1875 <= 0.25) is dropped; article 0's t2 keeps only c1 (c0 is 0.4375 <= 0.5).
    let archive = r.sftPairs(archive: true).map { [$0.article, $0.template, $0.completion] }
    #expect(archive == [[0, 2, 1], [0, 0, 0], [1, 1, 0]])
  }

  @Test("archive update: old + new sorted by accuracy, ties keep order, nothing evicted")
  func archiveUpdate() {
    func e(_ n: String, _ a: Double) -> ArchiveEntry {
      ArchiveEntry(
        template: SelfEditTemplate(instruction: n, hyperparameters: .object([])), accuracy: a, normalizedGain: 0)
    }
    let updated = ArchiveEntry.update([e("a", 0.5), e("b", 0.3)], with: [e("c", 0.4), e("d", 0.5), e("e", 0.1)])
    #expect(updated.map(\.template.instruction) == ["a", "d", "c", "b", "e"])
  }

  @Test("MAP-Elites: one elite per cell, replaced only by a strictly better entry; coverage and QD-score")
  func mapElites() throws {
    func e(_ n: String, _ a: Double, lr: Double) -> ArchiveEntry {
      ArchiveEntry(
        template: SelfEditTemplate(instruction: n, hyperparameters: .object([("learning_rate", .float(lr))])),
        accuracy: a,
        normalizedGain: a - 0.25)  // gains: c 0.10, d -0.05 (floored to 0)
    }
    let seed = (0..<4).map { e("seed\($0)", 0.1 * Double($0), lr: 1e-3) }
    var qd = QualityDiversityArchive(seed: seed)
    let placed = [
      qd.insert(e("a", 0.30, lr: 1e-3), meanTrainingTokens: 300),  // cell (1, 2)
      qd.insert(e("b", 0.30, lr: 1.5e-3), meanTrainingTokens: 400),  // same cell, not better
      qd.insert(e("c", 0.35, lr: 6e-4), meanTrainingTokens: 500),  // same cell, better
      qd.insert(e("d", 0.20, lr: 5e-5), meanTrainingTokens: 3000),
    ]  // cell (3, 0)
    #expect(placed == [true, false, true, true])
    #expect(qd.elites.count == 2 && abs(qd.coverage - 2.0 / 16) < 1e-12 && abs(qd.qdScore - 0.10) < 1e-12)
    #expect(
      QualityDiversityArchive.cell(meanTrainingTokens: 127, learningRate: 1e-4) == .init(length: 0, learningRate: 1))
    // Fewer than 4 elites: the seed fills the prompt's slots.
    #expect(qd.shown.map(\.template.instruction) == ["c", "seed3", "d", "seed2", "seed1", "seed0"])
    let more = [
      qd.insert(e("f", 0.9, lr: 3e-3), meanTrainingTokens: 50),
      qd.insert(e("g", 0.05, lr: 1e-5), meanTrainingTokens: 50),
    ]
    #expect(more == [true, true])
    #expect(qd.shown.map(\.template.instruction) == ["f", "c", "d", "g"])
  }

  @Test(
    "MAP-Elites proper: elites replaced on normalized gain, the trained learning rate places them, parents drawn uniformly"
  )
  func mapElitesProper() throws {
    func e(_ n: String, _ a: Double, gain: Double, lr: Double = 1e-3) -> ArchiveEntry {
      ArchiveEntry(
        template: SelfEditTemplate(instruction: n, hyperparameters: .object([("learning_rate", .float(lr))])),
        accuracy: a, normalizedGain: gain)
    }
    var top = QualityDiversityArchive(seed: [], selection: .topBottom)
    var proper = QualityDiversityArchive(seed: [], selection: .mapElites)
    for qd in [0, 1] {
      var g = qd == 0 ? top : proper
      g.insert(e("high accuracy", 0.9, gain: 0.1), meanTrainingTokens: 300)
      // Lower accuracy, larger gain (its baseline was lower): only MAP-Elites proper takes it.
      #expect(g.insert(e("high gain", 0.5, gain: 0.3), meanTrainingTokens: 300) == (qd == 1))
      #expect(!g.insert(e("no gain", 0.95, gain: .nan), meanTrainingTokens: 300) || qd == 0)
      if qd == 0 { top = g } else { proper = g }
    }
    // A proposed lr of 1 trained at the clamp 5e-3 sits in the top learning-rate bucket either way;
    // one proposed at 1 but trained at 1e-3 moves to bucket 2.
    proper.insert(e("clamped", 0.2, gain: 0.2, lr: 1), meanTrainingTokens: 50, learningRate: 1e-3)
    #expect(proper.elites[.init(length: 0, learningRate: 2)]?.template.instruction == "clamped")
    // Parents: 4 distinct elites drawn uniformly from 6 filled cells, in accuracy order, the same for a seed.
    var grid = QualityDiversityArchive(seed: [], selection: .mapElites)
    for (k, tokens) in [10.0, 200, 1000, 5000, 20, 300].enumerated() {
      grid.insert(e("cell\(k)", 0.1 * Double(k + 1), gain: 0.1, lr: k < 4 ? 1e-3 : 1e-5), meanTrainingTokens: tokens)
    }
    #expect(grid.elites.count == 6)
    let p = grid.parents(seed: 7)
    #expect(Set(p.map(\.template.instruction)).count == 4 && p == ArchiveEntry.update([], with: p))
    #expect(grid.parents(seed: 7) == p && grid.metaPromptEntries(seed: 7) == p)
    var picked: [String: Int] = [:]
    for s in 0..<3000 { for x in grid.parents(seed: UInt64(s)) { picked[x.template.instruction, default: 0] += 1 } }
    // Each cell is a parent with probability 4/6: 2,000 of 3,000 draws, within 5%.
    #expect(picked.count == 6 && picked.values.allSatisfy { abs(Double($0) - 2000) < 100 }, "\(picked)")
    // With 4 or fewer elites the prompt shows them all (topped up with the seed), as search-qd does.
    #expect(proper.parents(seed: 1) == proper.shown)
  }
}

@Suite("Search: constrained proposer outputs")
struct ConstrainedOutputTests {
  #if DEBUG
    static let seeds = 200  // debug builds run the numeric code ~20x slower; CI runs the release build
  #else
    static let seeds = 2000
  #endif

  @Test(
    "templates and training-sequence lists sampled under their schemas always parse and pass the reference parsers: 2,000 seeds (release)"
  )
  func alwaysParse() throws {
    let c = LlamaConfig(
      vocabSize: 300, dim: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, ffnDim: 64,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 512)
    let file = try GGUFFile(bytes: try TinyGGUF.make(config: c, seed: 7, matrixType: .f32, embeddingType: .f32))
    let m = LanguageModel(
      file: file, tokenizer: try Tokenizer(gguf: file), weights: try ModelWeights(gguf: file, pack: false))
    func constraint(_ d: ByteDFA) -> TokenConstraint {
      TokenConstraint(dfa: d, vocabSize: 300) { Array((try? m.tokenizer.bytes(of: $0, skipSpecial: true)) ?? []) }
    }
    let template = constraint(OutputSchemas.template()), seqs = constraint(OutputSchemas.trainingSequences())
    var requests: [GenerationRequest] = []
    for i in 0..<Self.seeds {
      let k = i % 2 == 0 ? template : seqs
      let minimum = Int(k.dfa.distance[Int(k.dfa.start)])
      requests.append(
        GenerationRequest(
          promptTokens: [65, 66, 67], options: SamplingOptions(temperature: 1.5, topP: 0.99),
          maxNewTokens: minimum + [0, 1, 7, 40, 200][i % 5], stopTokens: [299], seed: UInt64(i), constraint: k))
    }
    var parsed = 0
    for r in try m.generator().generate(requests, batchSize: 16) {
      #expect(r.finish == .complete, "request \(r.request): \(r.finish)")
      let text = String(decoding: try m.tokenizer.decodeBytes(r.tokens), as: UTF8.self)
      if requests[r.request].constraint === template {
        let t = try SelfEditTemplate.parse(text)
        #expect(!t.instruction.isEmpty && [4, 8, 16, 32, 64].contains(t.value("lora_rank") ?? -1))
      } else {
        guard case .array(let list)? = try PyJSON.loads(text)["training_sequences"] else {
          Issue.record("no list: \(text)"); continue
        }
        #expect(
          !list.isEmpty && list.allSatisfy { if case .string(let s) = $0 { return !s.isEmpty } else { return false } })
      }
      parsed += 1
    }
    #expect(parsed == Self.seeds)
  }
}

// SearchLoopTests.swift: the strategy search end to end on a tiny model written to disk and a tiny
// data root: every stage's file per iteration, the proposer checkpoint reloaded, determinism,
// kill -9 at any stage resumes to the same bytes, shards, every variant, and the stage rules
// (completion parsing, SFT truncation, pydantic dumps, GGUF round trip).
import Analysis
import CPUEngine
import Experiment
import Foundation
import GGUF
import LLM
import Reporting
import Search
import SearchLoop
import SelfEdit
import TestSupport
import Testing
import Training
import Workspace

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// A tiny model file, passages, two split manifests, short meta prompts and a 4-entry seed archive.
final class SearchFixture {
  let root: String
  let modelPath: String
  var config = SearchConfig()

  init(variant: SearchVariant = .noArchive, modelSeed: UInt64 = 5) throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("seb-search-\(UUID().uuidString)").path
    try SearchDataRoot.write(at: root, train: "tiny-train", val: "tiny-val")
    let cfg = LlamaConfig(
      vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 4096)
    modelPath = root + "/tiny.gguf"
    try Data(try TinyGGUF.make(config: cfg, seed: modelSeed)).write(to: URL(fileURLWithPath: modelPath))
    config.name = "tiny"
    config.seed = 7
    config.variant = variant
    config.iterations = 2
    config.templates = 2
    config.completions = 1
    config.trainSplit = root + "/tiny-train.json"
    config.validationSplit = root + "/tiny-val.json"
    config.trainPassages = 3
    config.validationPassages = 2
    config.proposer.templateMaxTokens = 200
    config.proposer.completionMaxTokens = 40
    config.proposer.retries = 1
    config.training.rank = 4
    config.training.alpha = 8
    config.training.epochs = 2
    config.evaluation.maxTokens = 4
    config.sft.rank = 4
    config.sft.alpha = 8
    config.sft.maxLength = 128
  }

  func options(_ out: String, shard: Shard = .whole) -> RunOptions {
    var o = RunOptions(dataRoot: root + "/data", out: root + "/" + out)
    o.shard = shard
    o.prompts = PromptLibrary(directory: packageRoot + "/Data/prompts")
    o.blockSize = 2
    o.adaptersPerStep = 4
    return o
  }

  @discardableResult
  func run(_ out: String, shard: Shard = .whole) throws -> SearchSummary? {
    try SearchRunner(
      engine: try LocalEngine(path: modelPath), modelSHA256: "tiny", config: config, options: options(out, shard: shard)
    ).run()
  }

  func path(_ out: String, _ name: String) -> String { root + "/\(out)/\(name)" }
  func file(_ out: String, _ name: String) -> Data { FileManager.default.contents(atPath: path(out, name)) ?? Data() }

  func snapshot(_ out: String) -> [String: Data] { SearchDataRoot.snapshot(root + "/" + out) }
}

@Suite("Strategy search on a tiny model", .serialized)
struct SearchLoopTests {
  @Test("a run writes every stage of every iteration, a loadable proposer checkpoint, and a complete summary")
  func runWritesEveryStage() throws {
    let fx = try SearchFixture()
    let s = try #require(try fx.run("a"))
    #expect(s.complete && s.iterations.count == 2)
    for f in [
      "train-proposals.json", "train-completions.json", "train-evaluations.jsonl", "train-results.json",
      "val-proposals.json",
      "val-completions.json", "val-evaluations.jsonl", "val-results.json", "sft-rows.jsonl", "sft-log.json",
      "proposer.gguf",
    ] {
      #expect(FileManager.default.fileExists(atPath: fx.path("a", "iter-00/" + f)), "iter-00/\(f)")
    }
    #expect(
      !FileManager.default.fileExists(atPath: fx.path("a", "iter-01/sft-log.json")),
      "no update after the last iteration")
    let proposals = try CanonicalJSON.decoder().decode(
      ProposalStage.self, from: fx.file("a", "iter-00/train-proposals.json"))
    #expect(proposals.slots == 2 && proposals.attempts.map(\.category).contains("exploit"))
    // Every evaluation of every (passage, template, completion, run) is recorded once, with a baseline per passage.
    let t = proposals.templates.count
    let lines = String(decoding: fx.file("a", "iter-00/train-evaluations.jsonl"), as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 3 * (1 + t))
    #expect(s.iterations[0].train.evaluations == 3 * t && s.iterations[0].validation.evaluations == 2)
    // The checkpoint loads and differs from the base in the adapted projections only.
    let log = try CanonicalJSON.decoder().decode(SFTLog.self, from: fx.file("a", "iter-00/sft-log.json"))
    let ck = try LanguageModel(path: fx.path("a", "iter-00/proposer.gguf"))
    let base = try LanguageModel(path: fx.modelPath)
    #expect(
      log.checkpointSHA256
        == (try SHA256.hashFile(at: URL(fileURLWithPath: fx.path("a", "iter-00/proposer.gguf"))).digest))
    if log.rows > 0 {
      #expect(ck.weights.layers[0].wq.w.array != base.weights.layers[0].wq.w.array)
      #expect(log.steps >= 1 && log.losses.allSatisfy(\.isFinite))
    }
    #expect(ck.weights.layers[0].attnNorm.array == base.weights.layers[0].attnNorm.array)
    let manifest = try CanonicalJSON.decoder().decode(SearchManifest.self, from: fx.file("a", "manifest.json"))
    #expect(manifest.invocations.count == 1 && manifest.invocations[0].status == "finished")
    #expect(manifest.dataFiles["self-edit-search/meta_prompt.txt"] != nil)
  }

  @Test("same seed: every file identical; another seed changes the proposals")
  func determinism() throws {
    let fx = try SearchFixture()
    try fx.run("a")
    try fx.run("b")
    let a = fx.snapshot("a"), b = fx.snapshot("b")
    #expect(a.keys.sorted() == b.keys.sorted())
    for (k, v) in a.sorted(by: { $0.key < $1.key }) where b[k] != v { Issue.record("differs: \(k)") }
    fx.config.seed = 8
    try fx.run("c")
    #expect(fx.file("a", "iter-00/train-proposals.json") != fx.file("c", "iter-00/train-proposals.json"))
  }

  @Test("killed at any stage or mid-evaluation (torn line), a run resumes to the same bytes, nothing counted twice")
  func killAndResume() throws {
    let fx = try SearchFixture()
    try fx.run("full")
    let full = fx.snapshot("full")
    let fm = FileManager.default
    func copyFull(_ out: String) throws {
      try? fm.removeItem(atPath: fx.root + "/" + out)
      try fm.copyItem(atPath: fx.root + "/full", toPath: fx.root + "/" + out)
      try fm.removeItem(atPath: fx.path(out, "summary.json"))
    }
    // Cut 1: only the first stage of iteration 0 survived.
    try copyFull("cut1")
    for f in try fm.contentsOfDirectory(atPath: fx.path("cut1", "iter-00")) where f != "train-proposals.json" {
      try fm.removeItem(atPath: fx.path("cut1", "iter-00/" + f))
    }
    try fm.removeItem(atPath: fx.path("cut1", "iter-01"))
    // Cut 2: mid train evaluations (one record and a torn half line).
    try copyFull("cut2")
    let lines = String(decoding: fx.file("full", "iter-00/train-evaluations.jsonl"), as: UTF8.self).split(
      separator: "\n"
    ).map(String.init)
    try Data((lines[0] + "\n" + lines[1].prefix(lines[1].count / 2)).utf8).write(
      to: URL(fileURLWithPath: fx.path("cut2", "iter-00/train-evaluations.jsonl")))
    for f in [
      "train-results.json", "val-proposals.json", "val-completions.json", "val-evaluations.jsonl", "val-results.json",
      "sft-rows.jsonl", "sft-log.json", "proposer.gguf",
    ] {
      try? fm.removeItem(atPath: fx.path("cut2", "iter-00/" + f))
    }
    try fm.removeItem(atPath: fx.path("cut2", "iter-01"))
    // Cut 3: SFT rows written, the update not finished (no log, no checkpoint).
    try copyFull("cut3")
    for f in ["sft-log.json", "proposer.gguf"] { try fm.removeItem(atPath: fx.path("cut3", "iter-00/" + f)) }
    try fm.removeItem(atPath: fx.path("cut3", "iter-01"))
    // Cut 4: iteration 1 mid validation.
    try copyFull("cut4")
    for f in ["val-evaluations.jsonl", "val-results.json"] {
      try fm.removeItem(atPath: fx.path("cut4", "iter-01/" + f))
    }
    // Cut 5: a fresh clone of a committed run: the checkpoint (gitignored) is missing while
    // iteration 1 is mid train evaluations; it is rebuilt from sft-rows.jsonl to the same bytes.
    try copyFull("cut5")
    try fm.removeItem(atPath: fx.path("cut5", "iter-00/proposer.gguf"))
    for f in try fm.contentsOfDirectory(atPath: fx.path("cut5", "iter-01"))
    where !["train-proposals.json", "train-completions.json"].contains(f) {
      try fm.removeItem(atPath: fx.path("cut5", "iter-01/" + f))
    }
    for out in ["cut1", "cut2", "cut3", "cut4", "cut5"] {
      try fx.run(out)
      let got = fx.snapshot(out)
      #expect(got.keys.sorted() == full.keys.sorted(), "\(out)")
      for (k, v) in full.sorted(by: { $0.key < $1.key }) where got[k] != v {
        let a = String(decoding: v, as: UTF8.self).split(separator: "\n"),
          b = String(decoding: got[k] ?? Data(), as: UTF8.self).split(separator: "\n")
        let first = zip(a, b).first { $0 != $1 }.map { "\n\($0.0)\n\($0.1)" } ?? "(lengths \(a.count) vs \(b.count))"
        Issue.record("\(out): differs: \(k)\(k.hasSuffix(".jsonl") ? first : "")")
      }
    }
  }

  @Test(
    "a missing checkpoint whose rebuild differs from the recorded hash is used and noted in the manifest; malformed SFT rows are a named error"
  )
  func checkpointRebuildMismatch() throws {
    let fx = try SearchFixture()
    try fx.run("full")
    let fm = FileManager.default
    try fm.copyItem(atPath: fx.root + "/full", toPath: fx.root + "/m")
    try fm.removeItem(atPath: fx.path("m", "summary.json"))
    try fm.removeItem(atPath: fx.path("m", "iter-00/proposer.gguf"))
    try fm.removeItem(atPath: fx.path("m", "iter-01/val-results.json"))
    var log = try CanonicalJSON.decoder().decode(SFTLog.self, from: fx.file("m", "iter-00/sft-log.json"))
    let recorded = log.checkpointSHA256
    log.checkpointSHA256 = String(repeating: "0", count: 64)
    try CanonicalJSON.pretty(log).write(to: URL(fileURLWithPath: fx.path("m", "iter-00/sft-log.json")))
    #expect(try fx.run("m") != nil)
    let manifest = try CanonicalJSON.decoder().decode(SearchManifest.self, from: fx.file("m", "manifest.json"))
    let notes = manifest.invocations.last?.notes ?? []
    #expect(notes.count == 1 && notes[0].contains("iter-00/proposer.gguf rebuilt with SHA-256 \(recorded)"))
    #expect(fx.file("m", "iter-01/val-results.json") == fx.file("full", "iter-01/val-results.json"))

    try fm.copyItem(atPath: fx.root + "/full", toPath: fx.root + "/r")
    try fm.removeItem(atPath: fx.path("r", "summary.json"))
    try fm.removeItem(atPath: fx.path("r", "iter-00/proposer.gguf"))
    try Data("{\"prompt\": 3}\n".utf8).write(to: URL(fileURLWithPath: fx.path("r", "iter-00/sft-rows.jsonl")))
    #expect { try fx.run("r") } throws: { "\($0)".contains("iter-00/sft-rows.jsonl") && "\($0)".contains("line 1") }
  }

  @Test(
    "archive variants score the seed archive with the run's model and reward (measured) unless told to use the released accuracies"
  )
  func measuredSeedArchive() throws {
    let fx = try SearchFixture(variant: .archive)
    fx.config.iterations = 1
    try fx.run("m")
    let seedResults = try CanonicalJSON.decoder().decode(
      StageResults.self, from: fx.file("m", "iter-00/seed-results.json"))
    let seedProposals = try CanonicalJSON.decoder().decode(
      ProposalStage.self, from: fx.file("m", "iter-00/seed-proposals.json"))
    #expect(seedProposals.templates.map(\.instruction) == ["plan 0", "plan 1", "plan 2", "plan 3"])
    #expect(seedResults.templates.count == 4 && seedResults.reward == .goldLogLikelihood)
    // The iteration-0 meta prompt shows the seeds with their measured scores, best first.
    let measured = seedResults.templates.compactMap { t -> (String, Double)? in
      guard let a = t.accuracy[.goldLogLikelihood], !a.isNaN else { return nil }
      return (seedProposals.templates[t.index].instruction, a)
    }.sorted { $0.1 > $1.1 }
    let p0 = try CanonicalJSON.decoder().decode(ProposalStage.self, from: fx.file("m", "iter-00/train-proposals.json"))
    #expect(p0.prompt.hasPrefix("Best: {\"data_creation_instruction\": \"\(measured[0].0)\""))
    #expect(!p0.prompt.contains(" 0.5/") && measured.allSatisfy { $0.1 < 0 })
    // The archive after the iteration holds the measured seeds and the new templates on one scale.
    let archive = try CanonicalJSON.decoder().decode(ArchiveFile.self, from: fx.file("m", "iter-00/archive.json"))
    for (ins, acc) in measured {
      #expect(archive.entries.contains { $0.instruction == ins && $0.accuracy == acc }, "\(ins)")
    }
    #expect(archive.entries.allSatisfy { $0.accuracy <= 0 })
    let config = try SearchConfig.parse(fx.file("m", "config.json"), path: "config.json")
    #expect(config.seedArchive == .measured)
    // Analysis reads the measured seeds for the report's template table.
    let run = try SearchRun.load(fx.root + "/m")
    #expect(run.seeds.map(\.template.instruction) == ["plan 0", "plan 1", "plan 2", "plan 3"])
    #expect(
      zip(run.seeds, seedResults.templates).allSatisfy { a, b in
        a.accuracy.isNaN ? (b.accuracy[.goldLogLikelihood] ?? .nan).isNaN : a.accuracy == b.accuracy[.goldLogLikelihood]
      })

    fx.config.seedArchive = .released
    try fx.run("r")
    #expect(!FileManager.default.fileExists(atPath: fx.path("r", "iter-00/seed-results.json")))
    let r0 = try CanonicalJSON.decoder().decode(ProposalStage.self, from: fx.file("r", "iter-00/train-proposals.json"))
    #expect(r0.prompt.hasPrefix("Best: {\"data_creation_instruction\": \"plan 0\"") && r0.prompt.contains(" 0.5/"))

    // search-qd: measured seeds are the grid's first elites.
    let q = try SearchFixture(variant: .qualityDiversity)
    q.config.iterations = 1
    try q.run("q")
    let grid = try CanonicalJSON.decoder().decode(ArchiveFile.self, from: q.file("q", "iter-00/archive.json"))
    #expect(grid.entries.contains { $0.instruction.hasPrefix("plan ") })

    // search-map-elites: the same grid, parents drawn from it; runs through two iterations.
    let m = try SearchFixture(variant: .mapElites)
    try m.run("m")
    let elites = try CanonicalJSON.decoder().decode(ArchiveFile.self, from: m.file("m", "iter-01/archive.json"))
    #expect(!elites.entries.isEmpty && elites.entries.allSatisfy { $0.cell?.count == 2 })
    let summary = try CanonicalJSON.decoder().decode(SearchSummary.self, from: m.file("m", "summary.json"))
    #expect(summary.complete && summary.variant == "search-map-elites" && summary.iterations.count == 2)
  }

  @Test("an inner-loop sequence gets EOS appended unless its stripped text already ends with it (3.6)")
  func eosAppendedOnce() throws {
    let fx = try SearchFixture()
    let lm = try LanguageModel(path: fx.modelPath)
    var rc = RunConfig()
    rc.training = SearchConfig.searchTraining
    let engine = LocalEngine(model: lm)
    let eos = try #require(lm.eosId), eosText = try #require(lm.tokenizer.tokenText(eos))
    let ex = engine.examples(["Zed is in town", "Zed is in town" + eosText + " \n"], spec: rc.training)
    #expect(ex[0].tokens == lm.encode("Zed is in town") + [eos])
    #expect(ex[1].tokens == lm.encode("Zed is in town" + eosText + " \n"))
  }

  @Test("evaluation shards 1/2 and 2/2 then a plain run equal the unsharded run")
  func shards() throws {
    let fx = try SearchFixture()
    fx.config.iterations = 1
    try fx.run("whole")
    // Each invocation advances as far as its own evaluations allow; stages after an evaluation
    // stage wait for every shard's records.
    #expect(try fx.run("s", shard: Shard(index: 1, count: 2)) == nil)
    #expect(try fx.run("s", shard: Shard(index: 2, count: 2)) == nil)
    let s = try #require(try fx.run("s", shard: Shard(index: 1, count: 2)))
    #expect(s == (try CanonicalJSON.decoder().decode(SearchSummary.self, from: fx.file("whole", "summary.json"))))
    #expect(fx.file("s", "summary.json") == fx.file("whole", "summary.json"))
    #expect(fx.file("s", "iter-00/train-results.json") == fx.file("whole", "iter-00/train-results.json"))
  }

  @Test("search-archive appends the iteration's templates; search-qd keeps elites with coverage and QD-score")
  func archiveVariants() throws {
    let fx = try SearchFixture(variant: .archive)
    let s = try #require(try fx.run("a"))
    let t = s.iterations[0].train.templates.filter { !($0.accuracy[fx.config.reward] ?? Double.nan).isNaN }.count
    #expect(s.iterations[0].archiveSize == 4 + t)
    let archive = try CanonicalJSON.decoder().decode(ArchiveFile.self, from: fx.file("a", "iter-00/archive.json"))
    #expect(zip(archive.entries, archive.entries.dropFirst()).allSatisfy { $0.accuracy >= $1.accuracy })
    // New entries carry pydantic's dump: batch_size added (reference-pipeline 5 X9).
    #expect(archive.entries.contains { $0.hyperparameters.contains("\"batch_size\": 1") } == (t > 0))
    // The next iteration's meta prompt shows the archive's top-2 and bottom-2.
    let p1 = try CanonicalJSON.decoder().decode(ProposalStage.self, from: fx.file("a", "iter-01/train-proposals.json"))
    #expect(p1.prompt.hasPrefix("Best: {\"data_creation_instruction\": \"" + archive.entries[0].instruction))

    let q = try SearchFixture(variant: .qualityDiversity)
    let sq = try #require(try q.run("q"))
    let grid = try CanonicalJSON.decoder().decode(ArchiveFile.self, from: q.file("q", "iter-00/archive.json"))
    #expect(sq.iterations[0].coverage == Double(grid.entries.count) / 16)
    #expect(Set(grid.entries.compactMap(\.cell).map { "\($0)" }).count == grid.entries.count)
  }

  @Test("fixed-prompt variants: one template, M x C completions per train passage, SFT rows of the best completions")
  func fixedPromptVariants() throws {
    for (v, perPassage) in [(SearchVariant.rewrite, 2), (.implications, 2), (.restem, 1)] {
      let fx = try SearchFixture(variant: v)
      fx.config.iterations = 2
      let s = try #require(try fx.run(v.rawValue))
      #expect(s.iterations[0].train.templates.count == 1)
      let comps = try CanonicalJSON.decoder().decode(
        CompletionStage.self, from: fx.file(v.rawValue, "iter-00/train-completions.json"))
      #expect(comps.completions.count == 3 * 2, "\(v)")  // M x C = 2 x 1 per passage
      let rows = String(decoding: fx.file(v.rawValue, "iter-00/sft-rows.jsonl"), as: UTF8.self).split(separator: "\n")
      // Rows carry the raw completion (3.5), stripped only for ReST-EM (2.6).
      let texts = Set(comps.completions.map { v == .restem ? TrainingSequences.pyStrip($0.text) : $0.text })
      for r in rows {
        #expect(texts.contains(try CanonicalJSON.decoder().decode(SFTRow.self, from: Data(r.utf8)).completion), "\(v)")
      }
      let evaluable = Set(comps.completions.filter { $0.failure == nil }.map(\.passage))
      #expect(
        rows.count
          == evaluable.reduce(0) { n, a in
            n + min(perPassage, comps.completions.filter { $0.passage == a && $0.failure == nil }.count)
          }, "\(v)")
    }
  }

  @Test("completion parsing as the reference: '\\n}' appended, greedy braces, a list of strings; baseline lines")
  func completionParsing() throws {
    #expect(try CompletionText.trainingSequences(#"{"training_sequences": ["a", "b"]"#).get() == ["a", "b"])
    #expect(try CompletionText.trainingSequences(#"<think>x</think> {"training_sequences": ["a"]} "#).get() == ["a"])
    #expect((try? CompletionText.trainingSequences(#"{"training_sequences": [1]}"#).get()) == nil)
    #expect((try? CompletionText.trainingSequences("no json").get()) == nil)
    #expect(CompletionText.baselineLines("Sure:\n1. a\n2. b\n\n") == ["1. a", "2. b"])
    #expect(CompletionText.baselineLines("Title\nSure:\n1. a") == ["1. a"])
    #expect(CompletionText.baselineLines(" x \n\n y") == ["x", "y"])
    // strip_thinking_content strips first: a leading newline does not shift the line indices.
    #expect(CompletionText.baselineLines("\nIntro\n\n1. a\n2. b") == ["1. a", "2. b"])
  }

  @Test("SFT rows: completion cut first, a prompt over budget keeps half, EOS appended, the longest row loses its EOS")
  func sftTruncation() throws {
    let fx = try SearchFixture()
    let m = try LanguageModel(path: fx.modelPath)
    let eos = try #require(m.eosId)
    let rows = [
      SFTRow(prompt: "abc", completion: "de"), SFTRow(prompt: "abcdef", completion: "ghij"),
      SFTRow(prompt: String(repeating: "p", count: 20), completion: "xy"),
    ]
    let ex = ProposerUpdate.examples(rows, model: m, maxLength: 8)
    let p0 = m.encode("abc").count, c0 = m.encode("de").count
    #expect(ex[0].promptLength == p0 && ex[0].tokens.count == p0 + c0 + 1 && ex[0].tokens.last == eos)
    #expect(ex[1].tokens.count == 8 && !ex[1].tokens.contains(eos))  // cut to 8 = the longest before EOS
    #expect(ex[2].promptLength == 4)  // the prompt alone over budget keeps half
  }

  @Test("pydantic's model_dump of hyperparameters: schema order, floats coerced, batch_size appended")
  func modelDump() throws {
    let t = try SelfEditTemplate.parse(
      #"{"data_creation_instruction": "x", "hyperparameters": {"learning_rate": 1, "lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0, "num_epochs": 3, "gradient_accumulation_steps": 1, "extra": 5}}"#
    )
    #expect(
      t.modelDump().dumps()
        == #"{"lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0.0, "learning_rate": 1.0, "num_epochs": 3, "gradient_accumulation_steps": 1, "batch_size": 1}"#
    )
  }

  @Test(
    "the merged proposer written as GGUF: metadata and untouched tensors byte-identical, projections within Q8_0 rounding"
  )
  func checkpointRoundTrip() throws {
    let fx = try SearchFixture()
    let m = try LanguageModel(path: fx.modelPath)
    let out = fx.root + "/copy.gguf"
    try ProposerUpdate.writeGGUF(model: m, to: out)
    let a = m.file, b = try GGUFFile(path: out)
    #expect(a.metadata.keys == b.metadata.keys && a.tensors.map(\.name) == b.tensors.map(\.name))
    for k in a.metadata.keys where a.metadata.value(k) != b.metadata.value(k) { Issue.record("metadata \(k) differs") }
    #expect(
      Array(try a.tensorData(a.tensor(named: "token_embd.weight")))
        == Array(try b.tensorData(b.tensor(named: "token_embd.weight"))))
    let w0 = m.weights.layers[1].wGate.w.array, w1 = try b.dequantizeToArray(b.tensor(named: "blk.1.ffn_gate.weight"))
    let maxAbs = w0.map(abs).max()!
    #expect(zip(w0, w1).allSatisfy { abs($0 - $1) <= maxAbs / 127 })
    #expect(try b.tensor(named: "blk.1.ffn_gate.weight").type == .q8_0)
  }
}

@Suite("Search configs")
struct SearchConfigTests {
  @Test("the whole config decodes through its types: each bad value's error names its key, the choices and the value")
  func messages() throws {
    for (text, key, expected, found) in [
      (#"{"variant": "search"}"#, "variant", SearchVariant.choices, "the string \"search\""),
      (#"{"reward": "bleu"}"#, "reward", Metric.choices, "the string \"bleu\""),
      (#"{"validationPolicy": "strict"}"#, "validationPolicy", "reference or clamped", "the string \"strict\""),
      (#"{"iterations": "2"}"#, "iterations", "an integer", "the string \"2\""),
      (#"{"baselineCompletions": 1.5}"#, "baselineCompletions", "an integer", "the number 1.5"),
      (#"{"trainSplits": ["a", 1]}"#, "trainSplits[1]", "a string", "the number 1"),
      (
        #"{"evaluation": {"runs": 3}}"#, "evaluation.runs", "1 (evaluation runs are the top-level 'runs')",
        "the number 3"
      ),
      (
        #"{"trainSplit": "x", "trainSplits": ["a"]}"#, "trainSplit", "trainSplits[0] (a) when both are given",
        "the string \"x\""
      ),
      (
        #"{"judge": {"url": "http://h", "model": "m", "retries": "3"}}"#, "judge.retries", "an integer",
        "the string \"3\""
      ),
      (
        #"{"proposer": {"retires": 3}}"#, "proposer.retires",
        "one of the keys completionMaxTokens, constrained, exploitFraction, retries, templateMaxTokens",
        "an unknown key"
      ),
    ] {
      #expect(throws: ExperimentError.malformed(path: "c.json", key: key, expected: expected, found: found)) {
        try SearchConfig.parse(Data(text.utf8), path: "c.json")
      }
    }
  }

  @Test("proposer and sft sections decode through their types; a negative or fractional seed names the key")
  func sections() throws {
    let c = try SearchConfig.parse(
      Data(#"{"variant": "search-noarchive", "proposer": {"retries": 5}, "sft": {"seed": 7, "epochs": 1}}"#.utf8),
      path: "c.json")
    #expect(c.proposer.retries == 5 && c.proposer.templateMaxTokens == 256 && c.sft.seed == 7 && c.sft.rank == 64)
    for (seed, found) in [("-1", "the number -1"), ("2.5", "the number 2.5")] {
      #expect(
        throws: ExperimentError.malformed(path: "c.json", key: "sft.seed", expected: "an integer >= 0", found: found)
      ) { try SearchConfig.parse(Data(#"{"sft": {"seed": \#(seed)}}"#.utf8), path: "c.json") }
    }
  }

  @Test(
    "defaults: the search repo's inner loop and answering; fixed-prompt variants take one template and M x C completions"
  )
  func defaults() throws {
    let c = try SearchConfig.parse(
      Data(#"{"variant": "rewrite", "templates": 5, "completions": 3}"#.utf8), path: "c.json")
    #expect(c.templatesPerIteration == 1 && c.trainCompletions == 15)
    #expect(c.training.appendEOS && c.training.targets == ["q", "v"] && c.training.rank == 32)
    #expect(c.evaluation.template == .chat && !c.evaluation.topic && c.reward == .goldLogLikelihood)
    let s = try SearchConfig.parse(Data(#"{"variant": "search-qd", "training": {"epochs": 3}}"#.utf8), path: "c.json")
    #expect(s.templatesPerIteration == 3 && s.trainCompletions == 1 && s.training.epochs == 3 && s.training.appendEOS)
    #expect(try SearchConfig.parse(try s.canonical(), path: "again") == s)
    // seedArchive: measured by default and written out for archive variants only.
    let sText = String(decoding: try s.canonical(), as: UTF8.self)
    #expect(s.seedArchive == .measured && sText.contains(#""seedArchive" : "measured""#))
    let n = try SearchConfig.parse(
      Data(#"{"variant": "search-noarchive", "seedArchive": "released"}"#.utf8), path: "c.json")
    let nText = String(decoding: try n.canonical(), as: UTF8.self)
    #expect(n.seedArchive == nil && !nText.contains("seedArchive"))
    #expect {
      try SearchConfig.parse(Data(#"{"variant": "search-archive", "seedArchive": "judge"}"#.utf8), path: "c.json")
    } throws: {
      "\($0)".contains("seedArchive") && "\($0)".contains("measured or released")
    }
    for file in ["search-smoke", "search-small", "search-paper"] {
      #expect(throws: Never.self) { try SearchConfig.load(path: packageRoot + "/Data/configs/\(file).json") }
    }
    // The judge reward and the engine key: bad values name their key; the engine is not part of the run's identity.
    for (text, key) in [
      (#"{"variant": "restem", "reward": "judge"}"#, "judge"),
      (#"{"variant": "restem", "reward": "judge", "judge": {"url": "ftp://x", "model": "m"}}"#, "judge.url"),
      (#"{"variant": "restem", "judge": {"model": "m"}}"#, "url"),
      (#"{"variant": "restem", "engine": 3}"#, "engine"),
    ] {
      #expect(throws: (any Error).self) { try SearchConfig.parse(Data(text.utf8), path: "c.json") }
      do { _ = try SearchConfig.parse(Data(text.utf8), path: "c.json") } catch {
        #expect("\(error)".contains(key), "\(error)")
      }
    }
    let e = try SearchConfig.parse(
      Data(#"{"variant": "restem", "engine": "http://127.0.0.1:8300"}"#.utf8), path: "c.json")
    let eText = String(decoding: try e.canonical(), as: UTF8.self)
    #expect(e.engine == "http://127.0.0.1:8300" && !eText.contains("engine"))
    #expect(throws: Never.self) { try SearchConfig.load(path: packageRoot + "/Data/configs/search-smoke-judge.json") }
    #expect(
      SearchConfig.isSearchConfig(Data(#"{"variant": "restem"}"#.utf8))
        && !SearchConfig.isSearchConfig(Data(#"{"methods": []}"#.utf8)))
  }
}

@Suite("Search run reports", .serialized)
struct SearchReportTests {
  @Test(
    "a search run reads back through Analysis (templates, scores, validation intervals) and reports with collapse charts"
  )
  func reportOfARun() throws {
    let fx = try SearchFixture(variant: .archive)
    fx.config.iterations = 2
    let s = try #require(try fx.run("r"))
    #expect(SearchRun.isSearchRun(fx.root + "/r") && !SearchRun.isSearchRun(fx.root + "/data"))
    let run = try SearchRun.load(fx.root + "/r")
    #expect(
      run.complete && run.iterations.count == 2 && run.variant == "search-archive" && run.reward == .goldLogLikelihood)
    for (it, si) in zip(run.iterations, s.iterations) {
      #expect(
        it.templates.count == si.train.templates.count
          && it.templates.map(\.instruction) == si.train.templates.map(\.instruction))
      #expect(
        it.validation[.goldLogLikelihood]?.score.mean
          == si.validation.overall[.goldLogLikelihood]?.accuracyInterval.mean)
      #expect(it.archiveSize == si.archiveSize && it.validationTemplate != nil)
    }
    let out = fx.root + "/report"
    let o = try SearchReport.write(
      runs: [run, run], outDir: out, command: "test", embedder: nil, gnuplot: "/nonexistent/gnuplot")
    let md = String(decoding: FileManager.default.contents(atPath: o.markdownPath) ?? Data(), as: UTF8.self)
    #expect(
      md.contains("## Collapse of the train templates") && md.contains("search-archive")
        && md.contains("## Templates proposed"))
    #expect(
      Set(o.charts.map(\.name)).isSuperset(of: [
        "hp-similarity", "text-similarity", "distinct-instructions", "data-length",
        "validation-score-gold_loglik", "validation-gain-gold_loglik",
      ]))
    // A run cut before its second validation reads as one finished iteration, not complete.
    try FileManager.default.removeItem(atPath: fx.path("r", "iter-01/val-results.json"))
    let cut = try SearchRun.load(fx.root + "/r")
    #expect(cut.iterations.count == 1 && !cut.complete)
    // A stage file that is not what the search writes is an error naming the file and the key; so is an unknown reward.
    let results = fx.path("r", "iter-00/train-results.json")
    try Data(#"{"reward": "gold_loglik", "passages": "two"}"#.utf8).write(to: URL(fileURLWithPath: results))
    do {
      _ = try SearchRun.load(fx.root + "/r")
      Issue.record("a malformed train-results.json was read")
    } catch let AnalysisError.malformed(path, key, _, _) {
      #expect(path == results && key == ".passages")
    }
    let config = fx.path("r", "config.json")
    let text = String(decoding: FileManager.default.contents(atPath: config) ?? Data(), as: UTF8.self)
    try Data(text.replacingOccurrences(of: "\"gold_loglik\"", with: "\"accuracy\"").utf8)
      .write(to: URL(fileURLWithPath: config))
    do {
      _ = try SearchRun.load(fx.root + "/r")
      Issue.record("an unknown reward was read")
    } catch let AnalysisError.malformed(path, key, _, found) {
      #expect(path == config && key == "reward" && found == "string")
    }
  }

  @Test("a clamped hyperparameter reads back with the value trained and shows as proposed → trained")
  func clampedShown() throws {
    var training = TrainingSpec()
    (training.rank, training.dropout, training.learningRate, training.epochs) = (32, 0.9, 1e-5, 10)
    let t = ProposalStage(
      prompt: "", slots: 1, attempts: [],
      templates: [
        ProposedTemplate(
          index: 0, slot: 0, category: "explore", instruction: "x",
          hyperparameters: #"{"lora_rank": 32, "lora_dropout": 1.0, "learning_rate": 0.0, "num_epochs": 10}"#,
          training: training, clamped: ["learning_rate", "lora_dropout"])
      ])
    let templates = try SearchRun.templates(t, path: "p.json")
    #expect(templates.first?.clamped == ["learning_rate": 1e-5, "lora_dropout": 0.9])
    #expect(SearchReport.hyperparameters(templates[0]) == "r 32, drop 1 → 0.9, lr 0 → 1e-05, ep 10")
  }
}

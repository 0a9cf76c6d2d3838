import CPUEngine
// HarnessTests.swift: the knowledge-incorporation harness end to end on a tiny in-memory model and
// a tiny data root written by the test: determinism, kill/resume, shards + merge, refusals, and
// failures recorded (never thrown away, never scored as wrong).
import Experiment
import Foundation
import GGUF
import LLM
import SelfEdit
import TestSupport
import Testing
import Tokenizer
import Training
import Workspace

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// A tiny model, a data root with 5 passages and a released file, and a split manifest.
final class Fixture {
  let root: String
  let model: LanguageModel
  let splitPath: String
  var config = RunConfig()

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("seb-harness-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root + "/data/squad", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      atPath: root + "/data/seal/data/synthetic_data/eval", withIntermediateDirectories: true)
    let cfg = LlamaConfig(
      vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 1024)
    let bytes = try TinyGGUF.make(config: cfg, seed: 11)
    let f = try GGUFFile(bytes: bytes, name: "tiny.gguf")
    model = LanguageModel(file: f, tokenizer: try Tokenizer(gguf: f), weights: try ModelWeights(gguf: f))
    var passages: [[String: Any]] = []
    var rel: [[String: Any]] = []
    for i in 0..<5 {
      let ctx = "Zed \(i) lives in town \(i * 7). It is blue."
      let qs = [
        ["question": "Where does Zed \(i) live?", "answer": "town \(i * 7)"], ["question": "Color?", "answer": "blue"],
      ]
      passages.append(["title": "Zed \(i)", "context": ctx, "questions": qs])
      rel.append([
        "title": "Zed \(i)", "context": ctx, "questions": qs,
        "completions": ["", "Zed \(i) is in town \(i * 7).\nZed is blue."], "prompt": "",
      ])
    }
    try JSONSerialization.data(withJSONObject: passages).write(
      to: URL(fileURLWithPath: root + "/data/squad/squad_val.json"))
    try JSONSerialization.data(withJSONObject: rel).write(
      to: URL(fileURLWithPath: root + "/data/seal/data/synthetic_data/eval/tiny_val.json"))
    let split = try SplitManifest.make(
      name: "tiny", source: "squad/squad_val.json",
      passages: try Datasets.loadSEAL(path: root + "/data/squad/squad_val.json"), start: 0, count: 5)
    splitPath = root + "/tiny.json"
    try CanonicalJSON.pretty(split).write(to: URL(fileURLWithPath: splitPath))
    config.name = "tiny"
    config.seed = 3
    config.split = splitPath
    config.limit = 4
    config.methods = [.base, .passage, .prompt("implications"), .released("tiny_val.json")]
    config.selfEdit.maxTokens = 12
    config.training.rank = 4
    config.training.alpha = 8
    config.training.epochs = 2
    config.evaluation.maxTokens = 4
  }

  func options(_ out: String, shard: Shard = .whole) -> RunOptions {
    var o = RunOptions(dataRoot: root + "/data", out: root + "/" + out)
    o.shard = shard
    o.prompts = PromptLibrary(directory: packageRoot + "/Data/prompts")
    o.blockSize = 3
    return o
  }

  @discardableResult
  func run(_ out: String, shard: Shard = .whole) throws -> RunSummary? {
    try Harness(
      engine: LocalEngine(model: model), modelSHA256: "tiny", config: config, options: options(out, shard: shard)
    ).run()
  }

  func file(_ out: String, _ name: String) -> Data {
    FileManager.default.contents(atPath: root + "/\(out)/\(name)") ?? Data()
  }
}

@Suite("Harness on a tiny model", .serialized)
struct HarnessTests {
  @Test("a run writes config, manifest, records and a complete summary; every method has records")
  func runWritesDirectory() throws {
    let fx = try Fixture()
    let s = try #require(try fx.run("a"))
    #expect(s.complete && s.expectedEvaluations == 4 * (1 + 4))
    #expect(Set(s.methods.keys) == ["base", "passage", "implications", "released:tiny_val.json"])
    #expect(s.methods["base"]?.metrics[.containsAll]?.gain.mean == 0)
    #expect(s.methods["released:tiny_val.json"]?.failures == 0)
    let records = try RunDirectory(dir: fx.root + "/a", shard: .whole).records()
    // released: first non-empty completion; SEAL sequences with the passage appended.
    let rel = try #require(records.first { $0.method == "released:tiny_val.json" && $0.passage == 1 })
    #expect(
      rel.sequences == [
        "Zed 1\nZed 1 is in town 7.", "Zed 1\nZed is blue.", "Zed 1\nZed 1 lives in town 7. It is blue.",
      ])
    #expect(rel.training?.steps == 6)
    let manifest = try #require(try RunDirectory(dir: fx.root + "/a", shard: .whole).manifest())
    #expect(manifest.passages == 4 && manifest.questions == 8 && manifest.invocations.count == 1)
    #expect(manifest.dataFiles["squad/squad_val.json"] != nil && manifest.promptSHA256["implications"] != nil)
    // A run without summary.json (killed, in progress) is summarised from its records for reports.
    let fromFile = try RunFiles.load(dir: fx.root + "/a").summary
    try FileManager.default.moveItem(atPath: fx.root + "/a/summary.json", toPath: fx.root + "/a/summary.bak")
    #expect(try RunFiles.load(dir: fx.root + "/a").summary == fromFile)
    // Its manifest is then read through RunManifest: a broken one is an error naming the file.
    let manifestPath = fx.root + "/a/manifest.json"
    let manifestBytes = fx.file("a", "manifest.json")
    try Data(#"{"passages": 4}"#.utf8).write(to: URL(fileURLWithPath: manifestPath))
    do {
      _ = try RunFiles.load(dir: fx.root + "/a")
      Issue.record("a broken manifest was read")
    } catch let ExperimentError.malformed(path, _, expected, _) {
      #expect(path == manifestPath && expected == "a run manifest")
    }
    try manifestBytes.write(to: URL(fileURLWithPath: manifestPath))
    try FileManager.default.moveItem(atPath: fx.root + "/a/summary.bak", toPath: fx.root + "/a/summary.json")
    let summaryText = String(decoding: fx.file("a", "summary.json"), as: UTF8.self)
    #expect(!summaryText.contains(fx.root) && !summaryText.contains("seconds"))
  }

  @Test("same seed: identical records and summary; another seed changes them")
  func determinism() throws {
    let fx = try Fixture()
    try fx.run("a")
    try fx.run("b")
    #expect(fx.file("a", "records.jsonl") == fx.file("b", "records.jsonl"))
    #expect(fx.file("a", "summary.json") == fx.file("b", "summary.json"))
    fx.config.seed = 4
    try fx.run("c")
    #expect(fx.file("a", "records.jsonl") != fx.file("c", "records.jsonl"))
  }

  @Test("a run killed mid-write resumes with nothing lost or counted twice: same summary bytes")
  func killAndResume() throws {
    let fx = try Fixture()
    try fx.run("full")
    let full = fx.file("full", "summary.json")
    // Simulate kill -9 at several points: keep the first n records and a torn half line.
    let lines = String(decoding: fx.file("full", "records.jsonl"), as: UTF8.self).split(separator: "\n").map(
      String.init)
    let seLines = String(decoding: fx.file("full", "selfedits.jsonl"), as: UTF8.self).split(separator: "\n").map(
      String.init)
    for n in [0, 1, 3, 5, 11, lines.count - 1] {  // 1 and 5: inside a block's baselines and adapters
      let out = "cut\(n)"
      try fx.run(out)
      let dir = fx.root + "/" + out
      let torn = n < lines.count ? String(lines[n].prefix(lines[n].count / 2)) : ""
      try Data((lines.prefix(n).map { $0 + "\n" }.joined() + torn).utf8).write(
        to: URL(fileURLWithPath: dir + "/records.jsonl"))
      try Data((seLines.prefix(n / 3).map { $0 + "\n" }.joined()).utf8).write(
        to: URL(fileURLWithPath: dir + "/selfedits.jsonl"))
      try FileManager.default.removeItem(atPath: dir + "/summary.json")
      try fx.run(out)
      #expect(fx.file(out, "summary.json") == full, "cut after \(n) records")
      let keys = try RunDirectory(dir: dir, shard: .whole).records().map(\.key)
      #expect(Set(keys).count == keys.count && keys.count == lines.count)
    }
  }

  @Test(
    "--stop-after ends the invocation between blocks (status stopped); the same command resumes to the same summary")
  func stopAfterEndsBetweenBlocks() throws {
    let fx = try Fixture()
    try fx.run("full")
    var o = fx.options("cut")
    o.stopAfter = 1e-9  // past the limit once the first block has run: stop before the second
    let h = try Harness(engine: LocalEngine(model: fx.model), modelSHA256: "tiny", config: fx.config, options: o)
    #expect(try h.run() == nil)
    #expect(h.stoppedEarly)
    let dir = RunDirectory(dir: fx.root + "/cut", shard: .whole)
    #expect(Set(try dir.records().map(\.passage)) == [0, 1, 2])  // block 0: passages 0-2 (blockSize 3)
    #expect(try dir.manifest()?.invocations.last?.status == "stopped")
    #expect(FileManager.default.fileExists(atPath: fx.root + "/cut/summary.json") == false)
    try fx.run("cut")
    #expect(fx.file("cut", "summary.json") == fx.file("full", "summary.json"))
    #expect(fx.file("cut", "records.jsonl") == fx.file("full", "records.jsonl"))
  }

  @Test("shards 1/2 and 2/2 merged equal the unsharded run, records and summary")
  func shardsMerge() throws {
    let fx = try Fixture()
    try fx.run("whole")
    #expect(try fx.run("sh", shard: Shard(index: 1, count: 2)) == nil)
    try fx.run("sh", shard: Shard(index: 2, count: 2))
    try Harness.merge(inputs: [fx.root + "/sh"], out: fx.root + "/merged")
    #expect(fx.file("merged", "summary.json") == fx.file("whole", "summary.json"))
    let cfg = fx.config
    let sortedWhole = RunDirectory.sorted(
      try RunDirectory(dir: fx.root + "/whole", shard: .whole).records(), methods: cfg.methodNames)
    #expect(try RunDirectory(dir: fx.root + "/merged", shard: .whole).records() == sortedWhole)
    #expect(throws: ExperimentError.self) { try Harness.merge(inputs: [fx.root + "/sh"], out: fx.root + "/merged") }
  }

  @Test("another config, another shard layout or another model against a directory is refused")
  func refusals() throws {
    let fx = try Fixture()
    try fx.run("a")
    let before = fx.file("a", "records.jsonl")
    fx.config.training.epochs = 3
    #expect(throws: ExperimentError.self) { try fx.run("a") }
    fx.config.training.epochs = 2
    #expect(throws: ExperimentError.self) { try fx.run("a", shard: Shard(index: 1, count: 2)) }
    #expect(throws: SelfEditError.self) {
      try Harness(
        engine: LocalEngine(model: fx.model), modelSHA256: "other", config: fx.config, options: fx.options("a")
      ).run()
    }
    #expect(fx.file("a", "records.jsonl") == before)
    #expect(throws: ExperimentError.invalidInput(what: "--shard", expected: "i/n with 1 <= i <= n", found: "3/2")) {
      _ = try Shard.parse("3/2")
    }
  }

  @Test("a self-edit with no training sequence and an unreachable teacher are recorded failures, counted")
  func recordedFailures() throws {
    let fx = try Fixture()
    fx.config.methods = [.base, .released("tiny_val.json"), .teacher]
    fx.config.sequences.appendPassage = false
    fx.config.sequences.titlePrefix = false
    fx.config.teacher = EndpointSpec(url: "http://127.0.0.1:9/v1", model: "m", retries: 0, timeoutSeconds: 2)
    fx.config.limit = 2
    let s = try #require(try fx.run("f"))
    #expect(s.methods["teacher"]?.failures == 2)
    #expect(s.methods["teacher"]?.failureReasons.keys.first?.contains("127.0.0.1:9") == true)
    #expect(s.methods["teacher"]?.metrics.isEmpty == true)
    #expect(s.methods["released:tiny_val.json"]?.failures == 0)
    #expect(s.complete)
  }

  @Test("a rank wider than the model and a padded length beyond the context are refused before any work")
  func refusedSettings() throws {
    let fx = try Fixture()
    fx.config.training.rank = 200
    #expect(throws: TrainingError.self) { try fx.run("r") }
    fx.config.training.rank = 4
    fx.config.training.lossMask = .sealPadded
    fx.config.training.padLength = 4096
    #expect(throws: TrainingError.self) { try fx.run("r2") }
    #expect(!FileManager.default.fileExists(atPath: fx.root + "/r/records.jsonl"))
  }

  @Test("the judge stage: a local judge grades every answer once; a rerun asks nothing new")
  func judgeStage() throws {
    let fx = try Fixture()
    fx.config.methods = [.base]
    fx.config.limit = 2
    try fx.run("j")
    let (n, failed) = try Judge.run(
      dir: fx.root + "/j", backend: .local(LocalEngine(model: fx.model)), dataRoot: fx.root + "/data",
      prompts: PromptLibrary(directory: packageRoot + "/Data/prompts"))
    #expect(n == 8 && failed == 0)
    #expect(
      try Judge.run(
        dir: fx.root + "/j", backend: .local(LocalEngine(model: fx.model)), dataRoot: fx.root + "/data",
        prompts: PromptLibrary(directory: packageRoot + "/Data/prompts")
      ).judged == 0)
    let down = ChatEndpoint(spec: EndpointSpec(url: "http://127.0.0.1:9/v1", model: "m", retries: 0, timeoutSeconds: 2))
    #expect(throws: SelfEditError.self) { _ = try down.complete("hi") }
  }
}

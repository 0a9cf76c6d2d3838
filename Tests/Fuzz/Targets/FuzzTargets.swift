// FuzzTargets.swift: every parser of untrusted bytes, as a function from bytes to "accepted or a
// typed error". A crash, a trap (index out of range, overflow, precondition), a hang or a huge
// allocation on any input is a bug. Run under libFuzzer by `seb-fuzz` built with
// -sanitize=fuzzer (Tests/Fuzz/run.sh); the same functions replay the corpus and every past crash
// in the test suite (Tests/SebTests/FuzzRegressionTests.swift).
import Analysis
import Experiment
import Foundation
import GGUF
import LLM
import SafeTensors
import TestSupport
import Tokenizer
import Training

public enum FuzzTarget: String, CaseIterable, Sendable {
  case gguf, safetensors, tokenizer, trainingdata, config, template

  /// Runs one input. Returns normally for accepted and refused inputs alike.
  public func run(_ data: Data) {
    switch self {
    case .gguf: FuzzTargets.gguf(data)
    case .safetensors: FuzzTargets.safetensors(data)
    case .tokenizer: FuzzTargets.tokenizer(data)
    case .trainingdata: FuzzTargets.trainingData(data)
    case .config: FuzzTargets.config(data)
    case .template: FuzzTargets.template(data)
    }
  }

  /// A few valid inputs to start from (the fuzzer mutates them).
  public func seeds() throws -> [Data] {
    switch self {
    case .gguf:
      let f32 = LlamaConfig(
        architecture: .llama, vocabSize: 300, dim: 8, layers: 1, heads: 2, kvHeads: 1, headDim: 4, ffnDim: 12,
        ropeTheta: 10000, rmsEps: 1e-5, contextLength: 16)
      let q = LlamaConfig(
        architecture: .qwen2, vocabSize: 300, dim: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, ffnDim: 64,
        ropeTheta: 10000, rmsEps: 1e-5, contextLength: 16)
      return [
        Data(try TinyGGUF.make(config: f32, seed: 1, matrixType: .f32, embeddingType: .f16)),
        Data(try TinyGGUF.make(config: q, seed: 2, matrixType: .q4_1, embeddingType: .q8_0, tied: false)),
      ]
    case .safetensors:
      return [
        try SafeTensorsWriter.serialize(
          [
            "a": SafeTensorsF32(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            "b": SafeTensorsF32(shape: [1], values: [7]),
          ], metadata: ["format": "pt"])
      ]
    case .tokenizer:
      return [
        "Hello world! 123", "<|im_start|>user\nWhat is 2+2?<|im_end|>\n", "Ça va? 北京 🙂 don't  \t\n  x", "   ",
        "'s'll'VE",
      ]
      .map { Data($0.utf8) }
    case .trainingdata:
      return [
        "j{\"text\": \"a b\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n", "a[\"x\", {\"text\": \"y\"}]",
        "tone\n\ntwo\r\n\r\nthree", "t\u{FEFF}bom\r\r",
      ].map { Data($0.utf8) }
    case .config:
      var out: [Data] = []
      for f in (try? FileManager.default.contentsOfDirectory(atPath: Self.configDir)) ?? [] where f.hasSuffix(".json") {
        if let d = FileManager.default.contents(atPath: Self.configDir + "/" + f) { out.append(Data("c".utf8) + d) }
      }
      out.append(
        Data(
          "e{\"metrics\": {\"passages\": {\"equals\": 2}, \"methods.base.contains.mean\": {\"min\": 0, \"max\": 1}}}"
            .utf8))
      out.append(
        Data("r[{\"title\": \"t\", \"context\": \"c\", \"completions\": [\"\", \"x\"], \"prompt\": \"p\"}]".utf8))
      out.append(
        Data(
          "s{\"name\": \"v\", \"source\": \"squad/x.json\", \"seed\": 1, \"start\": 0, \"count\": 1, \"indices\": [0], \"contextSHA256\": [\"ab\"]}"
            .utf8))
      return out
    case .template:
      return [
        "j[[{\"instruction\": \"Write facts.\", \"hyperparameters\": {\"lora_rank\": 8, \"lora_alpha\": 16, \"lora_dropout\": 0.05, \"learning_rate\": 0.0001, \"num_train_epochs\": 3, \"batch_size\": 4}}]]",
        "s{\"training_sequences\": [\"a\", \"b\"]}", "l1. first\n2. second\n- third",
        "p{title}: {context} {missing} {{x}}",
        "gThe answer is Santa Clara, California.",
      ].map { Data($0.utf8) }
    }
  }

  static let configDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data/configs").path
}

enum FuzzTargets {
  /// The first byte picks a variant; the rest is the input (lets one target cover several parsers).
  static func split(_ data: Data) -> (UInt8, Data) {
    guard let first = data.first else { return (0, Data()) }
    return (first, data.dropFirst())
  }

  static func gguf(_ data: Data) {
    guard let f = try? GGUFFile(data: data, name: "fuzz.gguf") else { return }
    _ = try? LlamaConfig(gguf: f)
    _ = try? Tokenizer(gguf: f)
    // Dequantize small tensors only: a valid header may still describe gigabytes.
    for t in f.tensors where t.elementCount <= 1 << 16 { _ = try? f.dequantize(t) }
    if let w = try? ModelWeights(gguf: f, pack: true) { _ = w.firstNonFiniteTensor() }
  }

  static func safetensors(_ data: Data) {
    guard let f = try? SafeTensorsFile(data: data) else { return }
    for name in f.names { _ = try? f.floats(name); _ = try? f.int64s(name) }
  }

  /// The real SmolLM2 tokenizer when the model is installed (its 49,152 tokens and merges), else
  /// the tiny byte-level one: encode, then decode must give the text back.
  static let tok: Tokenizer = {
    let real =
      ProcessInfo.processInfo.environment["SEB_FUZZ_MODEL"]
      ?? URL(fileURLWithPath: FuzzTarget.configDir).deletingLastPathComponent().appendingPathComponent(
        "models/SmolLM2-135M-Instruct.Q4_1.gguf"
      ).path
    if let f = try? GGUFFile(path: real), let t = try? Tokenizer(gguf: f) { return t }
    let c = LlamaConfig(
      architecture: .llama, vocabSize: 300, dim: 8, layers: 1, heads: 2, kvHeads: 1, headDim: 4, ffnDim: 12,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 16)
    return try! Tokenizer(
      gguf: GGUFFile(bytes: try! TinyGGUF.make(config: c, seed: 1, matrixType: .f32, embeddingType: .f32)))
  }()

  static let dropped = Set(tok.bytesWithoutToken)

  static func tokenizer(_ data: Data) {
    let text = String(decoding: data, as: UTF8.self)
    // Bytes without a token are dropped by design; everything else must come back.
    let expected = String(decoding: Array(text.utf8).filter { !dropped.contains($0) }, as: UTF8.self)
    for special in [true, false] {
      let ids = tok.encode(text, parseSpecial: special)
      guard let back = try? tok.decode(ids) else { fatalError("decode refused the ids encode produced") }
      if !special && back != expected {
        fatalError("encode/decode round trip changed the text: \(Array(expected.utf8)) -> \(Array(back.utf8))")
      }
    }
    _ = try? tok.decode(data.prefix(64).map { Int($0) * 193 })
  }

  static func trainingData(_ data: Data) {
    let (v, rest) = split(data)
    let ext = [".jsonl", ".JSON", ".txt", ""][Int(v) % 4]
    guard let pieces = try? TrainingData.parse(rest, path: "fuzz" + ext) else { return }
    _ = TrainingData.examples(pieces, eos: 2) { s in s.utf8.prefix(64).map { Int($0) } }
  }

  static func config(_ data: Data) {
    let (v, rest) = split(data)
    switch v % 4 {
    case 0:
      if let c = try? RunConfig.parse(rest, path: "fuzz.json") { _ = try? c.canonical(); _ = c.evaluationsPerPassage }
    case 1:
      _ = try? Expectations.check(
        summary: Data("{\"passages\": 2, \"methods\": {\"base\": {\"contains\": {\"mean\": 0.5}}}}".utf8),
        summaryPath: "summary.json", expectations: rest, expectationsPath: "fuzz.json")
    case 2:
      if let n = try? JSONNode.parse(rest, path: "fuzz.json") { _ = try? Datasets.releasedGenerations(n) }
    default:
      _ = try? JSONDecoder().decode(SplitManifest.self, from: rest)
    }
  }

  static func template(_ data: Data) {
    let (v, rest) = split(data)
    let text = String(decoding: rest, as: UTF8.self)
    switch v % 5 {
    case 0:
      if let doc = try? JSONValue.parse(rest, path: "fuzz.json"),
        let groups = try? Collapse.templateGroups(doc, path: "fuzz.json")
      {
        _ = try? Collapse.analyze(groups)
      }
    case 1: _ = TrainingSequences.searchJSON(text)
    case 2:
      _ = TrainingSequences.searchLines(text); _ = TrainingSequences.seal(completion: text, context: "c", title: "t")
    case 3: _ = PromptLibrary.fill(text, ["title": "T", "context": "C", "question": "Q"])
    default:
      _ = Grades(
        prediction: text,
        question: Question(question: "q", answer: "Santa Clara", references: ["Santa Clara, California"]),
        goldLogLikelihood: -1)
    }
  }
}

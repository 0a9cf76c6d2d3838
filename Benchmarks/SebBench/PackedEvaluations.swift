// PackedEvaluations.swift: self-edit evaluations per hour with K adapters trained together, on a
// fixed set of real self-edits (the first released GPT-4.1 completion of val200 passages 0..n-1,
// SEAL's sequences and inner-loop settings: 10 epochs, q,v r32 alpha 64, lr 1e-3, batch 1),
// each then answering its passage's questions with exactly 64 greedy tokens (EOS ignored) and
// scoring the gold answers once. Benchmarks/compare/selfedit_bench.py --packed replays the same
// inputs with HF transformers + PEFT (one adapter at a time, what users run).
import CPUEngine
import EngineAPI
import Experiment
import Foundation
import LLM
import SelfEdit
import Tensor
import Training

struct PackedInputs: Codable {
  struct Item: Codable {
    var passage: Int
    var sequences: [String]
    var questions: [String]  // answer prompts as the model sees them
    var golds: [String]
  }
  var items: [Item]
  var epochs: Int
  var learningRate: Double
  var rank: Int
  var alpha: Double
  var answerTokens: Int
}

final class PackedEvaluationBench {
  let model: LanguageModel
  let engine: LocalEngine
  let loop: InnerLoop
  let inputs: PackedInputs
  let spec: TrainingSpec

  init(model: LanguageModel, dataRoot: String, count: Int) throws {
    self.model = model
    engine = LocalEngine(model: model)
    var config = RunConfig()
    config.methods = [.released("gpt4_1_val.json")]
    spec = config.training
    let (_, passages) = try Harness.passages(config: config, dataRoot: dataRoot)
    let released = try Datasets.loadReleased(
      path: try Datasets.file(Datasets.releasedDir + "/gpt4_1_val.json", dataRoot: dataRoot))
    var byContext: [String: [String]] = [:]
    for e in released where byContext[e.context] == nil { byContext[e.context] = e.completions }
    let loop = try InnerLoop(engine: engine, config: config, prompts: PromptLibrary())
    self.loop = loop
    var items: [PackedInputs.Item] = []
    for (i, p) in passages.enumerated() where items.count < count {
      guard let c = Datasets.firstNonEmpty(byContext[p.context] ?? []).first else { continue }
      items.append(
        PackedInputs.Item(
          passage: i, sequences: TrainingSequences.seal(completion: c, context: p.context, title: p.title),
          questions: try p.questions.map { try loop.answerPrompt($0, title: p.title) }, golds: p.questions.map(\.answer)
        ))
    }
    let t = config.training
    inputs = PackedInputs(
      items: items, epochs: t.epochs, learningRate: t.learningRate, rank: t.rank, alpha: t.alpha,
      answerTokens: config.evaluation.maxTokens)
  }

  /// Trains every item's adapter, K at a time, then answers with each. Seconds per stage, trained
  /// tokens and the products' FLOPs of training (TrainingBenchmark.flops per optimizer step).
  func run(adaptersPerStep k: Int) throws -> [String: Double] {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let trained = try loop.trainMany(
      inputs.items.enumerated().map { ($1.sequences, UInt64($0 + 1)) }, adaptersPerStep: k)
    let t1 = DispatchTime.now().uptimeNanoseconds
    var tokens = 0
    for r in trained { tokens += try r.get().summary.tokens }
    defer { engine.release(trained.compactMap { try? $0.get().adapter }) }
    // FLOPs: each optimizer step is one sequence (batch 1); its length is its token count.
    var flops = 0.0
    let c = model.config
    for item in inputs.items {
      let lens = engine.examples(item.sequences, spec: spec).map(\.tokens.count)
      flops +=
        Double(inputs.epochs)
        * lens.reduce(0.0) { $0 + TrainingBenchmark.flops(c, T: $1, targets: [.q, .v], rank: inputs.rank) }
    }
    // Every adapter's questions in one batched decode (exactly answerTokens each, EOS ignored),
    // then every gold answer scored, 16 sequences per forward.
    var adapters: [LinearDelta] = [], requests: [GenerationRequest] = []
    var scoring: [(prompt: [Int], continuation: [Int], delta: LinearDelta?)] = []
    for (item, r) in zip(inputs.items, trained) {
      let delta = try engine.adapter(try r.get().adapter)!.apply(to: model.weights)
      adapters.append(delta)
      for (q, gold) in zip(item.questions, item.golds) {
        let ids = model.encode(q)
        requests.append(
          GenerationRequest(
            promptTokens: ids, maxNewTokens: inputs.answerTokens, stopTokens: [], adapter: adapters.count - 1))
        scoring.append((ids, model.encode(gold), delta))
      }
    }
    let gen = model.generator()
    gen.adapters = adapters
    _ = try gen.generate(requests, batchSize: 16)
    _ = try model.transformer.continuationLogProbs(scoring)
    let t2 = DispatchTime.now().uptimeNanoseconds
    let train = Double(t1 - t0) / 1e9, answer = Double(t2 - t1) / 1e9
    return ["train": train, "answer": answer, "total": train + answer, "tokens": Double(tokens), "flops": flops]
  }
}

// InnerLoop.swift: one self-edit evaluation in one process (reference-pipeline 2.3-2.4): training
// sequences -> a fresh LoRA adapter on the frozen base -> closed-book answers to the passage's
// questions -> every offline grade. The base model is loaded once; nothing touches the disk.
import Experiment
import Foundation
import LLM
import Tensor
import Training

public final class InnerLoop {
  public let model: LanguageModel
  public let config: RunConfig
  let prompts: PromptLibrary
  let answerTemplate: String
  let chatSystem: String

  public init(model: LanguageModel, config: RunConfig, prompts: PromptLibrary) throws {
    self.model = model
    self.config = config
    self.prompts = prompts
    answerTemplate = try prompts.text("answer-seal")
    chatSystem = try prompts.text("answer-chat-system")
    try InnerLoop.checkFits(config.training, model: model.config)
  }

  /// Refuses settings the model cannot take before any work: rank above the projection width,
  /// padded length beyond the context, and an adapter + activations estimate beyond memory.
  public static func checkFits(_ t: TrainingSpec, model c: LlamaConfig) throws {
    let minWidth = t.targets.compactMap { Projection(loraName: $0) }.map { min($0.shape(c).out, $0.shape(c).in) }.min() ?? c.dim
    guard t.rank <= minWidth else {
      throw TrainingError.badHyperparameter(name: "training.rank", value: "\(t.rank)", expected: "<= \(minWidth) (the narrowest adapted projection)")
    }
    if t.lossMask == "seal-padded" && t.padLength > c.contextLength {
      throw TrainingError.badHyperparameter(name: "training.padLength", value: "\(t.padLength)", expected: "<= the model's context \(c.contextLength)")
    }
  }

  // MARK: Training

  public func loraConfig(seed: UInt64) -> LoRAConfig { config.training.loraConfig(seed: seed) }
  public func trainingConfig(seed: UInt64) throws -> TrainingConfig { try config.training.trainingConfig(eos: model.eosId, seed: seed) }

  /// Token ids of the training sequences: blank ones dropped, EOS appended if asked (unless the
  /// stripped text already ends with it, reference-pipeline 3.6), truncated to `maxLength` as HF's
  /// tokenizer(truncation=True) does.
  public func examples(_ sequences: [String], spec: TrainingSpec? = nil) -> [TrainingExample] {
    let t = spec ?? config.training
    let eosText = model.eosId.flatMap { model.tokenizer.tokenText($0) }
    return sequences.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map { s in
      var ids = model.encode(s)
      if t.appendEOS, let e = model.eosId, !(eosText.map { s.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix($0) } ?? false) { ids.append(e) }
      return TrainingExample(tokens: Array(ids.prefix(min(t.maxLength, model.config.contextLength))))
    }.filter { $0.tokens.count >= 2 }
  }

  /// Trains a fresh adapter.
  public func train(sequences: [String], seed: UInt64) throws -> (LoRAAdapter, TrainingSummary) {
    try trainMany([(sequences, seed)], adaptersPerStep: 1)[0].get()
  }

  /// Trains one fresh adapter per item, `adaptersPerStep` packed through the frozen base at a
  /// time; each equals training it alone (packing changes only float32 summation order). A
  /// self-edit that cannot be trained fails alone.
  /// `trained(done, total)` is called as each adapter finishes.
  public func trainMany(_ items: [(sequences: [String], seed: UInt64)], adaptersPerStep: Int,
                        trained: ((Int, Int) -> Void)? = nil) throws
    -> [Result<(LoRAAdapter, TrainingSummary), TrainingError>]
  {
    try trainMany(items.map { ($0.sequences, $0.seed, config.training) }, adaptersPerStep: adaptersPerStep, trained: trained)
  }

  /// The same with each item's own settings (a search template's hyperparameters).
  public func trainMany(_ items: [(sequences: [String], seed: UInt64, spec: TrainingSpec)], adaptersPerStep: Int,
                        trained: ((Int, Int) -> Void)? = nil) throws
    -> [Result<(LoRAAdapter, TrainingSummary), TrainingError>]
  {
    var jobs: [TrainingJob] = [], jobOf: [Int?] = []
    var out = [Result<(LoRAAdapter, TrainingSummary), TrainingError>?](repeating: nil, count: items.count)
    for (i, item) in items.enumerated() {
      let ex = examples(item.sequences, spec: item.spec)
      guard !ex.isEmpty else {
        out[i] = .failure(.badSequence(index: 0, reason: "the self-edit yields no training sequence of 2 or more tokens"))
        jobOf.append(nil); continue
      }
      do {
        try InnerLoop.checkFits(item.spec, model: model.config)
        let adapter = try LoRAAdapter(config: item.spec.loraConfig(seed: item.seed), shape: model.config)
        jobs.append(TrainingJob(examples: ex, adapter: adapter, config: try item.spec.trainingConfig(eos: model.eosId, seed: item.seed)))
        jobOf.append(jobs.count - 1)
      } catch {
        out[i] = .failure(error as? TrainingError ?? .badSequence(index: 0, reason: "\(error)")); jobOf.append(nil)
      }
    }
    var finished = 0
    let results = try LoRATrainer.train(model: model.weights, jobs: jobs, packing: PackingOptions(adaptersPerStep: adaptersPerStep)) { _, step, total in
      if step.step == total - 1 { finished += 1; trained?(finished, jobs.count) }
    }
    for (i, j) in jobOf.enumerated() {
      guard let j else { continue }
      out[i] = results[j].map { log in
        (jobs[j].adapter, TrainingSummary(sequences: jobs[j].examples.count, steps: log.steps.count, tokens: log.tokens, losses: log.losses))
      }
    }
    return out.map { $0! }
  }

  // MARK: Answering

  /// The question as the model sees it (SEAL: "Topic: {title}\n{question}").
  public func questionText(_ q: Question, title: String) -> String {
    config.evaluation.topic ? "Topic: \(title)\n\(q.question)" : q.question
  }

  public func answerPrompt(_ q: Question, title: String) -> String {
    let question = questionText(q, title: title)
    if config.evaluation.template == "chat" { return model.chatPrompt(system: chatSystem, user: question) }
    return PromptLibrary.fill(answerTemplate, ["question": question])
  }

  /// Greedy closed-book answers (at most `evaluation.maxTokens`) to every question, graded, with
  /// the gold answer's mean token log-likelihood after the prompt.
  public func answer(_ p: Passage, delta: LinearDelta?) throws -> [AnswerRecord] {
    try answerMany([(p, delta)])[0]
  }

  /// The same for many (passage, adapter) pairs at once: every question of every adapter decodes
  /// in one continuous batch over the shared base (each row with its own low-rank delta), and
  /// the gold answers are scored `perForward` sequences per forward pass.
  public func answerMany(_ items: [(passage: Passage, delta: LinearDelta?)], batchSize: Int = 16) throws -> [[AnswerRecord]] {
    var adapters: [LinearDelta] = []
    var requests: [GenerationRequest] = [], owner: [(item: Int, q: Int, prompt: [Int])] = []
    for (i, it) in items.enumerated() {
      let index: Int? = it.delta.map { adapters.append($0); return adapters.count - 1 }
      for (q, question) in it.passage.questions.enumerated() {
        let ids = model.encode(answerPrompt(question, title: it.passage.title))
        requests.append(GenerationRequest(promptTokens: ids, options: SamplingOptions(), maxNewTokens: config.evaluation.maxTokens,
                                          stopTokens: model.stopIds, adapter: index))
        owner.append((i, q, ids))
      }
    }
    let gen = model.generator()
    gen.adapters = adapters
    let results = try gen.generate(requests, batchSize: batchSize)
    var scoring: [(prompt: [Int], continuation: [Int], delta: LinearDelta?)] = [], scored: [Int] = []
    for (n, o) in owner.enumerated() {
      let gold = model.encode(items[o.item].passage.questions[o.q].answer)
      if !gold.isEmpty { scoring.append((o.prompt, gold, items[o.item].delta)); scored.append(n) }
    }
    var means = [Double](repeating: 0, count: owner.count)
    for (n, ll) in zip(scored, try model.transformer.continuationLogProbs(scoring)) { means[n] = ll.reduce(0, +) / Double(ll.count) }
    var out = items.map { _ in [AnswerRecord]() }
    for (n, o) in owner.enumerated() {
      let text = completionText(results[n])
      let q = items[o.item].passage.questions[o.q]
      out[o.item].append(AnswerRecord(q: o.q, text: text, grades: Grades(prediction: text, question: q, goldLogLikelihood: means[n])))
    }
    return out
  }

  // MARK: Self-edit generation

  /// Self-edits for many (key, prompt) pairs at once, `k` samples each, batched across passages.
  /// Sample i of a prompt depends only on its prompt, options and `seeds[j]`, never on batching.
  public func generate(prompts texts: [String], seeds: [UInt64], k: Int, batchSize: Int = 8) throws -> [[GenerationResult]] {
    let s = config.selfEdit
    let opts = SamplingOptions(temperature: Float(s.temperature), topP: Float(s.topP))
    let requests = zip(texts, seeds).map { text, seed in
      GenerationRequest(promptTokens: model.encode(s.chat ? model.chatPrompt(user: text) : text), options: opts,
                        maxNewTokens: s.maxTokens, stopTokens: model.stopIds, samples: k, seed: seed)
    }
    let results = try model.generator().generate(requests, batchSize: batchSize)
    var out = [[GenerationResult]](repeating: [], count: texts.count)
    for r in results { out[r.request].append(r) }
    return out
  }

  /// The text of a generation result: the stop token dropped, then stripped (SEAL strips completions
  /// and the grader strips predictions).
  public func completionText(_ r: GenerationResult) -> String { TrainingSequences.pyStrip(model.completionText(r)) }
}

/// A seed for one named random choice of a run: the run seed mixed with a stable hash of the name.
public func unitSeed(_ seed: UInt64, _ name: String) -> UInt64 {
  var r = SplitMix64(seed: seed ^ Summarize.fnv1a(name))
  return r.next()
}

extension TrainingSpec {
  /// The trainer's adapter config (one mapping, shared by the harness and `seb train`).
  public func loraConfig(seed: UInt64) -> LoRAConfig {
    LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: targets.compactMap { Projection(loraName: $0) }, seed: seed)
  }

  /// The trainer's optimisation config; `eos` is the pad token of SEAL's padded loss.
  public func trainingConfig(eos: Int?, seed: UInt64) throws -> TrainingConfig {
    var tc = TrainingConfig(learningRate: learningRate, epochs: epochs, batchSize: batchSize,
                            gradientAccumulation: gradientAccumulation, schedule: .linear, maxGradNorm: maxGradNorm, seed: seed)
    if lossMask == "seal-padded" {
      // SEAL pads with pad = eos and trains on the pads (reference-pipeline 5, S1); our EOS is the model's.
      guard let eos else { throw TrainingError.badHyperparameter(name: "training.lossMask", value: "seal-padded", expected: "a model with an EOS token") }
      tc.lossMask = .sealPadded(padToken: eos, length: padLength)
    }
    try tc.validate()
    return tc
  }
}

// InnerLoop.swift: one self-edit evaluation in one process (reference-pipeline 2.3-2.4): training
// sequences -> a fresh LoRA adapter on the frozen base -> closed-book answers to the passage's
// questions -> every offline grade. The base model is loaded once; nothing touches the disk.
import Decoding
import EngineAPI
import Experiment
import Foundation
import Workspace

public final class InnerLoop {
  public let engine: Engine
  public let config: RunConfig
  let prompts: PromptLibrary
  let answerTemplate: String
  let chatSystem: String

  public init(engine: Engine, config: RunConfig, prompts: PromptLibrary) throws {
    self.engine = engine
    self.config = config
    self.prompts = prompts
    answerTemplate = try prompts.text("answer-seal")
    chatSystem = try prompts.text("answer-chat-system")
    try engine.checkFits(config.training)
  }

  // MARK: Training

  /// Trains one fresh adapter per item, `adaptersPerStep` packed through the frozen base at a
  /// time; each equals training it alone (packing changes only float32 summation order). A
  /// self-edit that cannot be trained fails alone. `trained(done, total)` as each finishes.
  public func trainMany(
    _ items: [(sequences: [String], seed: UInt64)], adaptersPerStep: Int,
    trained: ((Int, Int) -> Void)? = nil
  ) throws -> [Result<TrainedAdapter, EngineFailure>] {
    try trainMany(
      items.map { ($0.sequences, $0.seed, config.training) }, adaptersPerStep: adaptersPerStep, trained: trained)
  }

  /// The same with each item's own settings (a search template's hyperparameters).
  public func trainMany(
    _ items: [(sequences: [String], seed: UInt64, spec: TrainingSpec)], adaptersPerStep: Int,
    trained: ((Int, Int) -> Void)? = nil
  ) throws -> [Result<TrainedAdapter, EngineFailure>] {
    try engine.train(
      items.map { TrainJob(sequences: $0.sequences, spec: $0.spec, seed: $0.seed) }, adaptersPerStep: adaptersPerStep,
      progress: trained)
  }

  // MARK: Answering

  /// The question as the model sees it (SEAL: "Topic: {title}\n{question}").
  public func questionText(_ q: Question, title: String) -> String {
    Self.questionText(q, title: title, topic: config.evaluation.topic)
  }

  public static func questionText(_ q: Question, title: String, topic: Bool) -> String {
    topic ? "Topic: \(title)\n\(q.question)" : q.question
  }

  public func answerPrompt(_ q: Question, title: String) throws -> String {
    let question = questionText(q, title: title)
    if config.evaluation.template == .chat { return try engine.chatPrompt(system: chatSystem, user: question) }
    return PromptLibrary.fill(answerTemplate, ["question": question])
  }

  /// Greedy closed-book answers (at most `evaluation.maxTokens`) to every question, graded, with
  /// the gold answer's mean token log-likelihood after the prompt.
  public func answer(_ p: Passage, adapter: AdapterHandle?) throws -> [AnswerRecord] {
    try answerMany([(p, adapter)])[0]
  }

  /// The same for many (passage, adapter) pairs at once: every question of every adapter decodes
  /// in one continuous batch over the shared base (each row with its own adapter), and the gold
  /// answers are scored in one call (the engine batches them; the batch fixes their rounding).
  public func answerMany(
    _ items: [(passage: Passage, adapter: AdapterHandle?)], batchSize: Int = 16
  ) throws -> [[AnswerRecord]] {
    var requests: [GenerateRequest] = [], scoring: [ScoreRequest] = [], owner: [(item: Int, q: Int)] = []
    for (i, it) in items.enumerated() {
      for (q, question) in it.passage.questions.enumerated() {
        let prompt = try answerPrompt(question, title: it.passage.title)
        requests.append(GenerateRequest(prompt: prompt, maxTokens: config.evaluation.maxTokens, adapter: it.adapter))
        scoring.append(ScoreRequest(prompt: prompt, continuation: question.answer, adapter: it.adapter))
        owner.append((i, q))
      }
    }
    let results = try engine.generate(requests, batchSize: batchSize, progress: nil)
    // A gold answer without tokens scores 0 (nothing to average).
    let means = try engine.score(scoring).map { $0.isEmpty ? 0 : $0.reduce(0, +) / Double($0.count) }
    var out = items.map { _ in [AnswerRecord]() }
    for (n, o) in owner.enumerated() {
      let text = completionText(results[n])
      let q = items[o.item].passage.questions[o.q]
      out[o.item].append(
        AnswerRecord(q: o.q, text: text, grades: Grades(prediction: text, question: q, goldLogLikelihood: means[n])))
    }
    return out
  }

  // MARK: Self-edit generation

  /// Self-edits for many (key, prompt) pairs at once, `k` samples each, batched across passages.
  /// Sample i of a prompt depends only on its prompt, options and `seeds[j]`, never on batching.
  public func generate(prompts texts: [String], seeds: [UInt64], k: Int, batchSize: Int = 8) throws -> [[Generation]] {
    let s = config.selfEdit
    let sampling = SamplingOptions(temperature: Float(s.temperature), topP: Float(s.topP))
    let requests = try zip(texts, seeds).map { text, seed in
      GenerateRequest(
        prompt: s.chat ? try engine.chatPrompt(system: nil, user: text) : text, sampling: sampling,
        maxTokens: s.maxTokens,
        samples: k, seed: seed)
    }
    var out = [[Generation]](repeating: [], count: texts.count)
    for r in try engine.generate(requests, batchSize: batchSize, progress: nil) { out[r.request].append(r) }
    return out
  }

  /// The text of a generation, stripped (SEAL strips completions and the grader strips predictions).
  public func completionText(_ g: Generation) -> String { TrainingSequences.pyStrip(g.text) }
}

/// A seed for one named random choice of a run: the run seed mixed with a stable hash of the name.
public func unitSeed(_ seed: UInt64, _ name: String) -> UInt64 {
  var r = SplitMix64(seed: seed ^ Summarize.fnv1a(name))
  return r.next()
}

// After LoRA training on a passage, the model (run through the generation path with the adapter
// as a LinearDelta, as `seb generate --adapter` does) assigns its sentences a lower loss than the
// base model, and its greedy continuation of the title overlaps the passage more.
// Enabled by SEB_REAL_MODEL=1; run it in release.
import Foundation
import GGUF
import LLM
import Testing
import Tokenizer
import Training

private enum RecallFixture {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let modelPath = root.appendingPathComponent("Data/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
  static var enabled: Bool {
    ProcessInfo.processInfo.environment["SEB_REAL_MODEL"] == "1" && FileManager.default.fileExists(atPath: modelPath)
  }
  static let title = "Super Bowl 50"
  static let sentences = [
    "Super Bowl 50 was an American football game to determine the champion of the National Football League for the 2015 season.",
    "The American Football Conference champion Denver Broncos defeated the National Football Conference champion Carolina Panthers 24-10.",
    "The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, California.",
  ]
}

/// Mean next-token NLL of `ids` through the inference forward pass (optionally with an adapter).
private func meanNLL(_ m: LanguageModel, _ ids: [Int], delta: LinearDelta?) throws -> Double {
  let lp = try m.continuationLogProbs(prompt: [ids[0]], continuation: Array(ids.dropFirst()), delta: delta)
  return -lp.reduce(0, +) / Double(lp.count)
}

@Suite("An adapter trained on a passage recalls it", .enabled(if: RecallFixture.enabled))
struct AdapterRecallRealModelTests {
  @Test("training on a passage lowers the loss on its sentences and steers generation toward it")
  func recall() throws {
    let m = try LanguageModel(path: RecallFixture.modelPath)
    let weights = m.weights
    let tok = m.tokenizer
    let seqs = RecallFixture.sentences.map { tok.encode(RecallFixture.title + "\n" + $0) }
    var cfg = TrainingConfig()
    cfg.learningRate = 1e-3
    cfg.epochs = 4
    cfg.seed = 7
    let (adapter, log) = try LoRATrainer.train(
      model: weights, examples: seqs.map { TrainingExample(tokens: $0, promptLength: 0) },
      adapterConfig: LoRAConfig(rank: 16, alpha: 32, targets: [.q, .v, .o, .up, .down], seed: 7), config: cfg)
    #expect(log.steps.count == 12)
    let delta = try adapter.apply(to: weights)
    var before = 0.0, after = 0.0
    for s in seqs {
      before += try meanNLL(m, s, delta: nil)
      after += try meanNLL(m, s, delta: delta)
    }
    print("passage NLL: base \(before / 3), adapted \(after / 3)")
    #expect(after < 0.5 * before)

    // The generation path with the adapter continues the title with the passage's words.
    let gen = m.generator()
    let prompt = tok.encode(RecallFixture.title + "\n")
    let base = try gen.generate([GenerationRequest(promptTokens: prompt, maxNewTokens: 24, stopTokens: m.stopIds)])[0]
    gen.delta = delta
    let tuned = try gen.generate([GenerationRequest(promptTokens: prompt, maxNewTokens: 24, stopTokens: m.stopIds)])[0]
    // Share of the generated token bigrams that occur in the passage (single tokens are too
    // common: digits, "the", punctuation).
    var passage = Set<[Int]>()
    for s in seqs { for i in 1..<s.count { passage.insert([s[i - 1], s[i]]) } }
    func overlap(_ ids: [Int]) -> Double {
      let pairs = ids.indices.dropFirst().map { [ids[$0 - 1], ids[$0]] }
      return Double(pairs.filter { passage.contains($0) }.count) / Double(max(1, pairs.count))
    }
    print("base: \(base.text)\nadapted: \(tuned.text)")
    #expect(overlap(tuned.tokens) > overlap(base.tokens))
  }
}

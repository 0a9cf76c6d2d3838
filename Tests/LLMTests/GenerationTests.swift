import Foundation
import LLM
import Tensor
import Testing

@Suite("Sampling and generation")
struct GenerationTests {
  func generator(seed: UInt64 = 9) -> Generator {
    let w = ModelWeights.random(config: tinyConfig(), seed: seed, pack: .q4_1)
    return Generator(transformer: Transformer(weights: w)) { ids in ids.map { String($0) }.joined(separator: ",") }
  }

  @Test("a sequence's sampled tokens depend only on prompt, options and seed, not on the batch")
  func batchInvariance() throws {
    let g = generator()
    let opts = SamplingOptions(temperature: 8, topP: 0.98, topK: 40, minP: 0.001, presencePenalty: 0.5)
    let reqs = [
      GenerationRequest(promptTokens: [1, 2, 3], options: opts, maxNewTokens: 12, samples: 3, seed: 5),
      GenerationRequest(promptTokens: [7, 8], options: opts, maxNewTokens: 9, stopTokens: [4], samples: 2, seed: 6),
      GenerationRequest(promptTokens: [9, 10, 11, 12, 13], options: .init(), maxNewTokens: 7, seed: 7),
    ]
    let one = try g.generate(reqs, batchSize: 1)
    let many = try g.generate(reqs, batchSize: 4)
    let alone = try g.generate([reqs[1]], batchSize: 1)
    #expect(one.map(\.tokens) == many.map(\.tokens))
    #expect(alone.map(\.tokens) == Array(many[3...4]).map(\.tokens))
    #expect(one.count == 6)
    // Different samples of one request differ (different seeds), so the test can fail.
    #expect(Set(one[0...2].map(\.tokens)).count > 1)
  }

  @Test("sequences that all stop at their first token never drop the requests still waiting")
  func allStopAtFirstToken() throws {
    let g = generator()
    let first = try g.generate([GenerationRequest(promptTokens: [1, 2], maxNewTokens: 1)])[0].tokens[0]
    // Every request stops on its first (greedy) token; with 1 or 2 slots the batch empties at once.
    let reqs = (0..<5).map { _ in GenerationRequest(promptTokens: [1, 2], maxNewTokens: 4, stopTokens: [first]) }
    for b in [1, 2] {
      let r = try g.generate(reqs, batchSize: b)
      #expect(r.count == 5 && r.allSatisfy { $0.tokens == [first] && $0.finish == .stopToken })
    }
  }

  @Test("NaN logits while running stop generation with a named error, never a sampled token")
  func nanLogits() throws {
    let w = ModelWeights.random(config: tinyConfig(), seed: 9)
    for i in 0..<w.outputNorm.count { w.outputNorm[i] = .nan }
    let g = Generator(transformer: Transformer(weights: w)) { ids in ids.map { String($0) }.joined(separator: ",") }
    #expect(throws: LLMError.nonFinite(what: "logits of request 0 at generated token 0")) {
      _ = try g.generate([GenerationRequest(promptTokens: [1, 2], maxNewTokens: 4)])
    }
  }

  @Test("greedy equals top-k 1 and takes the argmax of the logits")
  func greedy() throws {
    let g = generator()
    let a = try g.generate([GenerationRequest(promptTokens: [3, 4], maxNewTokens: 6)])
    let b = try g.generate([
      GenerationRequest(promptTokens: [3, 4], options: .init(temperature: 1.3, topK: 1), maxNewTokens: 6, seed: 99)
    ])
    #expect(a[0].tokens == b[0].tokens)
    let logits = try g.transformer.forward(
      [(0, [3, 4])], cache: KVCache(config: g.transformer.config, slots: 1, capacity: 8))
    #expect(a[0].tokens[0] == Sampler.argmax(logits.array))
  }

  @Test("stop tokens end a sequence and stay in the output; stop strings cut the text")
  func stops() throws {
    let g = generator()
    let free = try g.generate([GenerationRequest(promptTokens: [5], maxNewTokens: 8)])[0]
    let stopAt = free.tokens[2]
    let r = try g.generate([GenerationRequest(promptTokens: [5], maxNewTokens: 8, stopTokens: [stopAt])])[0]
    #expect(r.finish == .stopToken)
    #expect(r.tokens == Array(free.tokens[...(free.tokens.firstIndex(of: stopAt)!)]))
    let s = try g.generate([GenerationRequest(promptTokens: [5], maxNewTokens: 8, stopStrings: [",\(free.tokens[1]),"])]
    )[0]
    #expect(s.finish == .stopString)
    #expect(s.text == "\(free.tokens[0])")
  }

  @Test("top-p keeps the smallest nucleus and min-p drops unlikely tokens")
  func filters() {
    var logits: [Float] = [5, 4, 1, 0, -3]
    var s = Sampler(options: .init(temperature: 1, topP: 0.5), seed: 1)
    for _ in 0..<50 { #expect(s.sample(&logits, vocabSize: 5) == 0) }
    var m = Sampler(options: .init(temperature: 1, minP: 0.3), seed: 2)
    var seen = Set<Int>()
    for _ in 0..<200 { seen.insert(m.sample(&logits, vocabSize: 5)) }
    #expect(seen == [0, 1])
    var pp = Sampler(options: .init(presencePenalty: 10), seed: 3)
    pp.observe(0)
    #expect(pp.sample(&logits, vocabSize: 5) == 1)
  }

  @Test("bad sampling options are rejected with the option's name")
  func badOptions() {
    let g = generator()
    #expect(throws: LLMError.badOption(name: "top-p", value: "0.0", expected: "in (0, 1]")) {
      try g.generate([GenerationRequest(promptTokens: [1], options: .init(topP: 0))])
    }
    #expect(throws: LLMError.emptyPrompt) { try g.generate([GenerationRequest(promptTokens: [])]) }
  }
}

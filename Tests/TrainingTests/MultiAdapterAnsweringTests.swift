// Many adapters answering in one batch over one base model: the same tokens and scores as each
// adapter answering alone.
import Foundation
import LLM
import Testing
import Training

@Suite("Multi-adapter answering")
struct MultiAdapterAnsweringTests {
  @Test("batched greedy decode with per-request adapters equals each request alone; scores agree to 1e-5")
  func batchedEqualsAlone() throws {
    for arch in [Architecture.llama, .qwen2] {
      let c = tinyConfig(arch)
      let model = ModelWeights.random(config: c, seed: 12)
      let tr = Transformer(weights: model)
      let deltas: [LoRADelta] = try (0..<5).map { i in
        try randomAdapter(
          c, rank: 1 + i % 3, targets: i % 2 == 0 ? [.q, .v] : Projection.allCases, seed: UInt64(20 + i)
        ).apply(to: model)
      }
      var rng = TrainRNG(seed: 3)
      var requests: [GenerationRequest] = []
      for i in 0..<23 {
        let prompt = (0..<(1 + i % 5)).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
        requests.append(
          GenerationRequest(
            promptTokens: prompt, maxNewTokens: 3 + i % 6, stopTokens: [4], adapter: i % 6 == 5 ? nil : i % 5))
      }
      let gen = Generator(transformer: tr, decode: { $0.map(String.init).joined(separator: " ") })
      gen.adapters = deltas
      for batch in [1, 4, 16] {
        let together = try gen.generate(requests, batchSize: batch)
        try #require(together.count == requests.count, "\(together.count) results")
        for (i, r) in requests.enumerated() {
          let alone = Generator(transformer: tr, decode: gen.decode)
          alone.delta = r.adapter.map { deltas[$0] }
          var single = r
          single.adapter = nil
          let one = try alone.generate([single], batchSize: 1)[0]
          #expect(together[i].tokens == one.tokens, "request \(i), batch \(batch)")
        }
      }
      let items = requests.map { ($0.promptTokens, [1, 2, 3], $0.adapter.map { deltas[$0] as LinearDelta }) }
      let batched = try tr.continuationLogProbs(items, perForward: 7)
      for (i, it) in items.enumerated() {
        let single = try tr.continuationLogProbs(prompt: it.0, continuation: it.1, delta: it.2)
        for (a, b) in zip(batched[i], single) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a))) }
      }
      #expect(throws: LLMError.self) { _ = try gen.generate([GenerationRequest(promptTokens: [1], adapter: 9)]) }
    }
  }
}

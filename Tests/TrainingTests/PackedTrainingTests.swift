// Multi-adapter training: adapters packed into one step train exactly as they do alone.
import Foundation
import LLM
import Testing
import Training

@Suite("Packed multi-adapter training")
struct PackedTrainingTests {
  /// Jobs that differ in everything a template can choose: sequence count and length, rank,
  /// alpha, targets, layers, learning rate, epochs, batch and accumulation, dropout, loss mask.
  static func jobs(_ c: LlamaConfig) throws -> [TrainingJob] {
    var rng = TrainRNG(seed: 77)
    func seqs(_ n: Int, _ lo: Int, _ hi: Int) -> [TrainingExample] {
      (0..<n).map { _ in
        let len = lo + Int(rng.next() % UInt64(hi - lo + 1))
        return TrainingExample(tokens: (0..<len).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }, promptLength: 2)
      }
    }
    let specs: [(LoRAConfig, TrainingConfig)] = [
      (LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v], seed: 1), TrainingConfig(learningRate: 1e-2, epochs: 3)),
      (
        LoRAConfig(rank: 4, alpha: 2, targets: Projection.allCases, seed: 2),
        TrainingConfig(
          learningRate: 3e-3, epochs: 2, batchSize: 2, gradientAccumulation: 2, lossMask: .completionOnly, seed: 5)
      ),
      (
        LoRAConfig(rank: 1, alpha: 8, dropout: 0.2, targets: [.down, .o], layers: [1], seed: 3),
        TrainingConfig(learningRate: 5e-2, epochs: 4, maxGradNorm: nil, seed: 6)
      ),
      (
        LoRAConfig(rank: 3, alpha: 3, targets: [.k, .gate, .up], seed: 4),
        TrainingConfig(
          learningRate: 1e-2, epochs: 1, schedule: .constant, lossMask: .sealPadded(padToken: 2, length: 14), seed: 7)
      ),
      (
        LoRAConfig(rank: 2, alpha: 2, dropout: 0.1, targets: [.q, .v], layers: [0], seed: 8),
        TrainingConfig(learningRate: 2e-2, epochs: 2, gradientAccumulation: 3, seed: 9)
      ),
    ]
    let counts = [3, 5, 2, 4, 6]
    return try zip(specs, counts).map { spec, n in
      TrainingJob(examples: seqs(n, 3, 12), adapter: try LoRAAdapter(config: spec.0, shape: c), config: spec.1)
    }
  }

  static func relClose(_ a: Double, _ b: Double, _ tol: Double) -> Bool { abs(a - b) <= tol * max(1, abs(a), abs(b)) }

  @Test(
    "every adapter's loss trajectory and trained values equal training it alone (1e-5), whatever the packing",
    arguments: [(2, nil), (3, nil), (5, nil), (5, 14)] as [(Int, Int?)])
  func packedEqualsAlone(k: Int, budget: Int?) throws {
    for arch in [Architecture.llama, .qwen3] {
      let c = tinyConfig(arch)
      let model = ModelWeights.random(config: c, seed: 41)
      let alone = try Self.jobs(c)
      let aloneLogs = try alone.map {
        try LoRATrainer.train(model: model, examples: $0.examples, adapter: $0.adapter, config: $0.config)
      }
      let packed = try Self.jobs(c)
      var seen: [Int: Int] = [:]
      let results = try LoRATrainer.train(
        model: model, jobs: packed, packing: PackingOptions(adaptersPerStep: k, tokensPerStep: budget)
      ) { j, step, _ in
        #expect(step.step == seen[j, default: 0]); seen[j] = step.step + 1
      }
      for (j, r) in results.enumerated() {
        let log = try r.get()
        #expect(log.steps.count == aloneLogs[j].steps.count)
        for (a, b) in zip(aloneLogs[j].steps, log.steps) {
          #expect(Self.relClose(a.loss, b.loss, 1e-5), "job \(j) step \(a.step): \(a.loss) vs \(b.loss)")
          #expect(
            Self.relClose(a.gradNorm, b.gradNorm, 1e-5) && a.learningRate == b.learningRate && a.targets == b.targets
              && a.tokens == b.tokens)
        }
        for (pa, pb) in zip(alone[j].adapter.pairs, packed[j].adapter.pairs) {
          let va: [Float] = pa.a + pa.b, vb: [Float] = pb.a + pb.b
          var worst = 0.0
          for i in 0..<va.count { worst = max(worst, abs(Double(va[i]) - Double(vb[i]))) }
          #expect(worst < 1e-5, "job \(j) layer \(pa.layer) \(pa.projection): max |diff| \(worst)")
        }
      }
    }
  }

  @Test("a job with bad sequences or a diverging loss fails alone; the others still train")
  func failuresStayInTheirJob() throws {
    let c = tinyConfig()
    // Token 12's embedding is NaN (untied head): only job 4 reads it, and NaN must not leak
    // into the other segments of a packed step.
    let model = ModelWeights.random(config: c, seed: 41, tied: false)
    for i in 0..<c.dim { model.tokenEmbedding[12 * c.dim + i] = .nan }
    var jobs = try Self.jobs(c)
    for j in jobs.indices {
      jobs[j].examples = jobs[j].examples.map {
        TrainingExample(tokens: $0.tokens.map { min($0, 11) }, promptLength: $0.promptLength)
      }
    }
    jobs[1].examples = [TrainingExample(tokens: [1, 99])]
    jobs[3].config.learningRate = .infinity
    jobs[4].examples[3].tokens[1] = 12
    let results = try LoRATrainer.train(model: model, jobs: jobs, packing: PackingOptions(adaptersPerStep: 3))
    #expect(throws: TrainingError.badSequence(index: 0, reason: "token id 99 outside the vocabulary [0, 13)")) {
      try results[1].get()
    }
    #expect(
      throws: TrainingError.badHyperparameter(name: "learning_rate", value: "inf", expected: "a finite value >= 0")
    ) { try results[3].get() }
    if case .failure(let e) = results[4] {
      if case .nonFiniteLoss = e {} else { Issue.record("job 4: \(e)") }
    } else {
      Issue.record("job 4 trained on a NaN embedding")
    }
    for j in [0, 2] {
      let log = try results[j].get()
      #expect(log.steps.count > 0 && log.losses.allSatisfy(\.isFinite))
    }
    #expect(throws: TrainingError.self) {
      try LoRATrainer.train(model: model, jobs: jobs, packing: PackingOptions(adaptersPerStep: 0))
    }
  }

  @Test("packed forward: each segment's logits equal running it alone; an adapter may not run twice in one step")
  func packedForwardMatchesAlone() throws {
    let c = tinyConfig(.qwen2)
    let model = ModelWeights.random(config: c, seed: 3)
    let engine = try LoRAEngine<Double>(base: BaseWeights(model: model), maxTokens: 20, maxSegment: 9)
    let a0 = try engine.attach(randomAdapter(c, seed: 1)),
      a1 = try engine.attach(randomAdapter(c, rank: 3, targets: [.v, .up], seed: 2))
    let segs = [
      EngineSegment(adapter: a0, tokens: [1, 2, 3, 4, 5], targets: [2, 3, 4, 5, -1]),
      EngineSegment(adapter: nil, tokens: [7, 8, 9], targets: [8, 9, -1]),
      EngineSegment(
        adapter: a1, tokens: [3, 1, 4, 1, 5, 9, 2, 6, 5], targets: [1, 4, 1, 5, 9, 2, 6, 5, 3], validKeys: 7),
    ]
    _ = try engine.forward(segs, training: false, allLogits: true)
    var packedRows: [[Double]] = []
    for t in 0..<17 { packedRows.append(engine.logitsRow(t)) }
    var row = 0
    for s in segs {
      _ = try engine.forward([s], training: false, allLogits: true)
      for t in 0..<s.tokens.count {
        let worst = zip(engine.logitsRow(t), packedRows[row + t]).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-12)
      }
      row += s.tokens.count
    }
    #expect(throws: TrainingError.self) { try engine.forward([segs[0], segs[0]]) }
    #expect(throws: TrainingError.self) { try engine.forward([EngineSegment(adapter: 9, tokens: [1], targets: [-1])]) }
    #expect(throws: TrainingError.self) {
      try engine.forward([
        EngineSegment(adapter: nil, tokens: Array(repeating: 1, count: 10), targets: Array(repeating: 1, count: 10))
      ])
    }
  }
}

@Suite("Training memory")
struct TrainingMemoryTests {
  @Test("activation memory is estimated before allocating; an engine over the limit is refused with the figures")
  func refusesBeyondMemory() throws {
    let c = tinyConfig()
    let base = BaseWeights<Float>(model: ModelWeights.random(config: c, seed: 3))
    let small = LoRAEngine<Float>.estimatedBytes(c, maxTokens: 16, maxSegment: 16)
    let big = LoRAEngine<Float>.estimatedBytes(c, maxTokens: 64, maxSegment: 64)
    #expect(big > 4 * small)  // attention keeps (H, T, T) per layer: superlinear in T
    _ = try LoRAEngine<Float>(base: base, maxTokens: 16, memoryLimit: small)
    #expect(
      throws: TrainingError.insufficientMemory(
        what: "training activations for 16-token sequences (16 rows a step)",
        neededBytes: small, availableBytes: small - 1)
    ) {
      try LoRAEngine<Float>(base: base, maxTokens: 16, memoryLimit: small - 1)
    }
    // SmolLM2-135M: a 2,048-token sequence fits in a few GB; one of the full 8,192-token context does not.
    let smol = LlamaConfig(
      vocabSize: 49152, dim: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, ffnDim: 1536,
      ropeTheta: 100000, rmsEps: 1e-5, contextLength: 8192)
    #expect(LoRAEngine<Float>.estimatedBytes(smol, maxTokens: 2048, maxSegment: 2048) < 8e9)
    #expect(LoRAEngine<Float>.estimatedBytes(smol, maxTokens: 8192, maxSegment: 8192) > 60e9)
  }
}

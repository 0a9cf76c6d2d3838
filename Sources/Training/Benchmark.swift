// Benchmark.swift: training throughput for the benchmark harness. Runs full optimizer steps
// (forward, backward, AdamW) on a seeded random sequence and reports tokens/s and the achieved
// GFLOP/s of the matrix products (the FLOP count below), to compare with plain cblas_sgemm.
import Foundation
import LLM

public struct TrainingThroughput: Sendable, Equatable {
  public var tokensPerSecond: Double
  /// Median seconds of one optimizer step over the measured steps.
  public var medianStepSeconds: Double
  public var steps: Int
  public var sequenceLength: Int
  /// Estimated matrix-product FLOPs of one step (forward + dX backward + LoRA + attention).
  public var flopsPerStep: Double
  public var gflopsPerSecond: Double { flopsPerStep / medianStepSeconds / 1e9 }
}

public enum TrainingBenchmark {
  /// Runs `warmup` + `steps` optimizer steps of one `sequenceLength`-token sequence (all tokens
  /// are targets) and returns the throughput from the median step time.
  public static func run(
    model: ModelWeights, sequenceLength: Int, targets: [Projection], rank: Int, steps: Int = 5,
    warmup: Int = 1, seed: UInt64 = 1
  ) throws -> TrainingThroughput {
    let c = model.config
    guard sequenceLength >= 2, sequenceLength <= c.contextLength else {
      throw TrainingError.badHyperparameter(
        name: "sequence_length", value: "\(sequenceLength)", expected: "2...\(c.contextLength)")
    }
    guard steps >= 1 else { throw TrainingError.badHyperparameter(name: "steps", value: "\(steps)", expected: ">= 1") }
    let adapter = try LoRAAdapter(
      config: LoRAConfig(rank: rank, alpha: Double(2 * rank), targets: targets, seed: seed), shape: c)
    let engine = try LoRAEngine<Float>(base: BaseWeights(model: model), adapter: adapter, maxTokens: sequenceLength)
    let params = engine.parameterTensors
    let adam = AdamW<Float>(sizes: params.map(\.n))
    var rng = TrainRNG(seed: seed)
    let tokens = (0..<sequenceLength).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
    let tg = (0..<sequenceLength).map { $0 + 1 < sequenceLength ? tokens[$0 + 1] : -1 }
    var times: [Double] = []
    for i in 0..<(warmup + steps) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      engine.zeroGrad()
      let r = try engine.forward(tokens: tokens, targets: tg)
      engine.backward(lossWeight: 1 / Float(r.count))
      clipGradientNorm(params, maxNorm: 1)
      adam.update(params, lr: 1e-4)
      let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      if i >= warmup { times.append(dt) }
    }
    times.sort()
    let med = times[times.count / 2]
    return TrainingThroughput(
      tokensPerSecond: Double(sequenceLength) / med, medianStepSeconds: med, steps: steps,
      sequenceLength: sequenceLength, flopsPerStep: flops(c, T: sequenceLength, targets: targets, rank: rank))
  }

  /// Matrix-product FLOPs of one training step: base projections forward + dX backward (2 x 2TNK
  /// each, except q/k/v of layer 0 which need no dX), head forward + dX, attention (4 products
  /// forward-equivalent x 3), LoRA (forward 2 products, backward 3-4).
  public static func flops(_ c: LlamaConfig, T: Int, targets: [Projection], rank: Int) -> Double {
    let t = Double(T), R = Double(rank)
    var perLayer = 0.0
    for p in Projection.allCases {
      let (n, k) = p.shape(c)
      perLayer += 2 * 2 * t * Double(n) * Double(k)
      if targets.contains(p) { perLayer += 2 * t * R * Double(n + k) * 2.5 }
    }
    let attn = 2 * t * t * Double(c.headDim) * Double(c.heads) * 2 * 3
    let head = 2 * 2 * t * Double(c.vocabSize) * Double(c.dim)
    return Double(c.layers) * (perLayer + attn) + head
  }
}

// The training forward against LLM's inference forward, the Q/K permutation, adapters as values
// (save/load, delta, merge/unmerge).
import Foundation
import LLM
import Tensor
import Testing
import Training

func inferenceLogits(_ model: ModelWeights, _ tokens: [Int], delta: LinearDelta? = nil) throws -> [Float] {
  let cache = KVCache(config: model.config, slots: 1, capacity: 16)
  return try Transformer(weights: model).forward([(slot: 0, tokens: tokens)], cache: cache, logits: .all, delta: delta)
    .array
}

func trainingLogits(_ model: ModelWeights, _ tokens: [Int], adapter: LoRAAdapter? = nil) throws -> [Float] {
  let a = try adapter ?? LoRAAdapter(config: LoRAConfig(rank: 1, alpha: 1, targets: [.q]), shape: model.config)
  let e = try LoRAEngine<Float>(base: BaseWeights(model: model), adapter: a, maxTokens: tokens.count)
  try e.forward(tokens: tokens, targets: [Int](repeating: -1, count: tokens.count), training: false, allLogits: true)
  return (0..<tokens.count).flatMap { e.logitsRow($0) }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count)
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Training forward and adapters")
struct ModelTests {
  let tokens = [1, 5, 12, 3, 3, 7, 0, 9]

  @Test("training forward reproduces the inference logits to 1e-5", arguments: [Architecture.llama, .qwen2, .qwen3])
  func logitsMatchInference(arch: Architecture) throws {
    let model = ModelWeights.random(config: tinyConfig(arch), seed: 21)
    let a = try inferenceLogits(model, tokens), b = try trainingLogits(model, tokens)
    #expect(a.count == tokens.count * 13)
    #expect(maxAbsDiff(a, b) < 1e-5)
  }

  @Test("an adapter gives the same logits in training, as an inference delta, and merged; unmerge restores W")
  func deltaAndMerge() throws {
    let c = tinyConfig()
    let model = ModelWeights.random(config: c, seed: 22)
    let before = model.layers[1].wDown.w.array
    let adapter = try randomAdapter(c)
    let train = try trainingLogits(model, tokens, adapter: adapter)
    let viaDelta = try inferenceLogits(model, tokens, delta: try adapter.apply(to: model))
    let base = try inferenceLogits(model, tokens)
    #expect(maxAbsDiff(train, viaDelta) < 1e-5)
    #expect(maxAbsDiff(train, base) > 1e-3)
    let merge = try adapter.merge(into: model)
    let merged = try inferenceLogits(model, tokens)
    #expect(maxAbsDiff(merged, viaDelta) < 1e-5)
    merge.unmerge()
    #expect(maxAbsDiff(model.layers[1].wDown.w.array, before) < 1e-6)
    #expect(maxAbsDiff(try inferenceLogits(model, tokens), base) < 1e-5)
  }

  @Test("un-permuted Q/K with NEOX RoPE give the same logits as permuted Q/K with normal RoPE")
  func permutation() throws {
    var c = tinyConfig()
    let m = ModelWeights.random(config: c, seed: 23)
    c.ropeStyle = .neox
    func hf(_ l: Linear) -> Linear {
      Linear(
        outFeatures: l.outFeatures, inFeatures: l.inFeatures,
        w: FloatBuffer(QKPermutation.toHF(l.w.array, rows: l.outFeatures, cols: l.inFeatures, D: c.headDim)))
    }
    let layers = m.layers.map {
      LayerWeights(
        attnNorm: $0.attnNorm, wq: hf($0.wq), wk: hf($0.wk), wv: $0.wv, wo: $0.wo, qNorm: nil, kNorm: nil,
        ffnNorm: $0.ffnNorm, wGate: $0.wGate, wUp: $0.wUp, wDown: $0.wDown)
    }
    let h = ModelWeights(
      config: c, tokenEmbedding: m.tokenEmbedding, layers: layers, outputNorm: m.outputNorm, output: nil)
    #expect(maxAbsDiff(try trainingLogits(m, tokens), try trainingLogits(h, tokens)) < 1e-5)
    #expect(maxAbsDiff(try inferenceLogits(m, tokens), try inferenceLogits(h, tokens)) < 1e-5)
    // An adapter trained on the permuted model, exported (B rows of q/k un-permuted) and loaded on
    // the HF-order model, gives the same logits.
    let adapter = try randomAdapter(m.config)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-lora-perm-\(UInt32.random(in: 0...UInt32.max))")
    defer { try? FileManager.default.removeItem(at: dir) }
    try adapter.save(to: dir)
    var hfShape = m.config; hfShape.ropeStyle = .neox
    let loaded = try LoRAAdapter.load(from: dir, shape: hfShape)
    #expect(
      maxAbsDiff(try trainingLogits(m, tokens, adapter: adapter), try trainingLogits(h, tokens, adapter: loaded)) < 1e-5
    )
  }

  @Test("save then load gives back the same adapter; PEFT names and shapes are written")
  func saveLoad() throws {
    let c = tinyConfig()
    let adapter = try randomAdapter(c, targets: [.q, .v, .down])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-lora-io-\(UInt32.random(in: 0...UInt32.max))")
    defer { try? FileManager.default.removeItem(at: dir) }
    try adapter.save(to: dir)
    let loaded = try LoRAAdapter.load(from: dir, shape: c)
    #expect(loaded.pairs.count == adapter.pairs.count)
    for (x, y) in zip(adapter.pairs, loaded.pairs) {
      #expect(x.layer == y.layer && x.projection == y.projection && x.a == y.a && x.b == y.b)
    }
    #expect(loaded.config.rank == 2 && loaded.config.alpha == 3 && loaded.config.targets == [.q, .v, .down])
    let cfg = try String(contentsOf: dir.appendingPathComponent("adapter_config.json"), encoding: .utf8)
    #expect(cfg.contains("\"peft_type\" : \"LORA\""))
    let bytes = try Data(contentsOf: dir.appendingPathComponent("adapter_model.safetensors"))
    #expect(
      String(decoding: bytes.prefix(4000), as: UTF8.self).contains(
        "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"))
  }

  @Test("loading an adapter for the wrong model shape fails with a typed error")
  func loadMismatch() throws {
    let adapter = try randomAdapter(tinyConfig())
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-lora-bad-\(UInt32.random(in: 0...UInt32.max))")
    defer { try? FileManager.default.removeItem(at: dir) }
    try adapter.save(to: dir)
    var other = tinyConfig(); other.dim = 16
    #expect(throws: TrainingError.self) { try LoRAAdapter.load(from: dir, shape: other) }
    #expect(throws: TrainingError.self) { try LoRAAdapter.load(from: dir.appendingPathComponent("nope"), shape: other) }
  }

  @Test("PEFT init: A is U(-1/sqrt(in), 1/sqrt(in)), B is 0, same seed gives the same bytes")
  func initialisation() throws {
    let c = tinyConfig()
    let a1 = try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8, targets: [.q, .down], seed: 5), shape: c)
    let a2 = try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8, targets: [.q, .down], seed: 5), shape: c)
    for (p, q) in zip(a1.pairs, a2.pairs) {
      #expect(p.a == q.a)
      #expect(p.b.allSatisfy { $0 == 0 })
      let bound = 1 / Float(p.K).squareRoot()
      #expect(p.a.allSatisfy { abs($0) <= bound })
      #expect(p.a.map { abs($0) }.max()! > bound * 0.5)
    }
    let sine = try LoRAAdapter(
      config: LoRAConfig(rank: 2, alpha: 4, targets: [.v], initialization: .referenceSine), shape: c)
    #expect(sine.pairs[0].a[1 * 8 + 3] == Float(0.01 * sin(1.0 + 0.3)))
  }
}

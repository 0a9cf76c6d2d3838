import Foundation
import LLM
import Tensor
import TestSupport
import Testing

@Suite("Forward pass")
struct TransformerTests {
  @Test("llama, qwen2 and qwen3 logits match a plain Double reference", arguments: Architecture.allCases)
  func matchesReference(_ arch: Architecture) throws {
    let w = ModelWeights.random(config: tinyConfig(arch), seed: 7, tied: arch != .qwen2)
    let t = Transformer(weights: w)
    let tokens = [3, 17, 5, 40, 0, 22, 9]
    let cache = KVCache(config: w.config, slots: 1, capacity: 16)
    let logits = try t.forward([(0, tokens)], cache: cache, logits: .all)
    let ref = referenceLogits(w, tokens)
    for i in tokens.indices {
      let row = Array(logits.array[(i * 48)..<((i + 1) * 48)])
      #expect(maxAbsDiff(row, ref[i]) < 1e-4, "position \(i)")
    }
  }

  @Test("decoding token by token over the cache equals one forward over the whole sequence")
  func incrementalEqualsFull() throws {
    let w = ModelWeights.random(config: tinyConfig(), seed: 3)
    let t = Transformer(weights: w)
    let tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let full = try t.forward([(0, tokens)], cache: KVCache(config: w.config, slots: 1, capacity: 16), logits: .all)
    let cache = KVCache(config: w.config, slots: 1, capacity: 16)
    _ = try t.forward([(0, Array(tokens[0..<4]))], cache: cache)
    for i in 4..<tokens.count {
      let step = try t.forward([(0, [tokens[i]])], cache: cache)
      let expect = Array(full.array[(i * 48)..<((i + 1) * 48)])
      #expect(zip(step.array, expect).map { abs($0 - $1) }.max()! < 1e-4)
    }
  }

  @Test("a sequence's logits do not depend on the other sequences in the batch")
  func batchIndependence() throws {
    let w = ModelWeights.random(config: tinyConfig(), seed: 11, pack: .q4_1)
    let t = Transformer(weights: w)
    let seqs = [[1, 2, 3], [4, 5, 6, 7, 8], [9]]
    let cache = KVCache(config: w.config, slots: 3, capacity: 16)
    let batched = try t.forward(seqs.enumerated().map { ($0.offset, $0.element) }, cache: cache)
    for (i, s) in seqs.enumerated() {
      let alone = try t.forward([(0, s)], cache: KVCache(config: w.config, slots: 1, capacity: 16))
      #expect(zip(alone.array, Array(batched.array[(i * 48)..<((i + 1) * 48)])).map { abs($0 - $1) }.max()! < 1e-4)
    }
    // And a decode step of all three together (packed kernels, M = 3) matches each alone.
    let next = try t.forward([(0, [10]), (1, [11]), (2, [12])], cache: cache)
    for (i, s) in seqs.enumerated() {
      let c1 = KVCache(config: w.config, slots: 1, capacity: 16)
      _ = try t.forward([(0, s)], cache: c1)
      let alone = try t.forward([(0, [10 + i])], cache: c1)
      #expect(zip(alone.array, Array(next.array[(i * 48)..<((i + 1) * 48)])).map { abs($0 - $1) }.max()! < 1e-4)
    }
  }

  @Test("permuted Q/K rows with normal RoPE give the same logits as HF order with NEOX RoPE")
  func ropePermutation() throws {
    var cfg = tinyConfig()
    cfg.ropeStyle = .neox
    let hf = ModelWeights.random(config: cfg, seed: 5)
    // convert_hf_to_gguf.py's permute: rows reshaped (heads, 2, D/2) -> swap axes -> (heads, D/2, 2).
    func permute(_ l: Linear, heads: Int) -> Linear {
      let D = l.outFeatures / heads, K = l.inFeatures
      let out = FloatBuffer(count: l.w.count)
      for h in 0..<heads {
        for i in 0..<(D / 2) {
          for two in 0..<2 {
            let src = h * D + two * (D / 2) + i
            let dst = h * D + i * 2 + two
            (out.pointer + dst * K).update(from: l.w.pointer + src * K, count: K)
          }
        }
      }
      return Linear(outFeatures: l.outFeatures, inFeatures: K, w: out)
    }
    var ggufCfg = cfg
    ggufCfg.ropeStyle = .normal
    let layers = hf.layers.map {
      LayerWeights(
        attnNorm: $0.attnNorm, wq: permute($0.wq, heads: cfg.heads), wk: permute($0.wk, heads: cfg.kvHeads),
        wv: $0.wv, wo: $0.wo, qNorm: nil, kNorm: nil, ffnNorm: $0.ffnNorm, wGate: $0.wGate, wUp: $0.wUp, wDown: $0.wDown
      )
    }
    let gguf = ModelWeights(
      config: ggufCfg, tokenEmbedding: hf.tokenEmbedding, layers: layers, outputNorm: hf.outputNorm, output: nil)
    let tokens = [5, 9, 13, 2, 44]
    let a = try Transformer(weights: hf).forward(
      [(0, tokens)], cache: KVCache(config: cfg, slots: 1, capacity: 8), logits: .all)
    let b = try Transformer(weights: gguf).forward(
      [(0, tokens)], cache: KVCache(config: ggufCfg, slots: 1, capacity: 8), logits: .all)
    #expect(zip(a.array, b.array).map { abs($0 - $1) }.max()! < 1e-4)
    // Mixing the conventions gives different logits: the test can fail.
    var wrong = ggufCfg
    wrong.ropeStyle = .neox
    let mixed = ModelWeights(
      config: wrong, tokenEmbedding: hf.tokenEmbedding, layers: layers, outputNorm: hf.outputNorm, output: nil)
    let m = try Transformer(weights: mixed).forward(
      [(0, tokens)], cache: KVCache(config: wrong, slots: 1, capacity: 8), logits: .all)
    #expect(zip(a.array, m.array).map { abs($0 - $1) }.max()! > 1e-3)
  }

  @Test("a token id outside the vocabulary and a full cache are errors, not crashes")
  func badInput() throws {
    let w = ModelWeights.random(config: tinyConfig(), seed: 1)
    let t = Transformer(weights: w)
    let cache = KVCache(config: w.config, slots: 1, capacity: 4)
    #expect(throws: LLMError.tokenOutOfRange(token: 48, vocabSize: 48)) { try t.forward([(0, [48])], cache: cache) }
    #expect(throws: LLMError.contextOverflow(needed: 5, capacity: 4)) {
      try t.forward([(0, [1, 2, 3, 4, 5])], cache: cache)
    }
    #expect(cache.lengths == [0])
  }
}

@Suite("Packed kernels")
struct PackedTests {
  @Test(
    "packed q4_1 and q8_0 products match the naive reference for every batch size",
    arguments: [PackedFormat.q4_1, .q8_0], [1, 2, 3, 4, 5, 8, 17])
  func packedMatchesNaive(format: PackedFormat, M: Int) {
    var rng = SplitMix64(seed: 42)
    let N = 37, K = 192
    let w = FloatBuffer(count: N * K)
    for i in 0..<(N * K) { w[i] = Float(rng.nextDouble() * 2 - 1) }
    let p = PackedMatrix(quantizing: w, rows: N, cols: K, format: format)
    let x = FloatBuffer(count: M * K)
    for i in 0..<(M * K) { x[i] = Float(rng.nextDouble() * 2 - 1) }
    let fast = FloatBuffer(count: M * N), naive = FloatBuffer(count: M * N), blas = FloatBuffer(count: M * N)
    packedMatmul(fast.pointer, x.pointer, p, M: M, pool: ThreadPool(threads: 2))
    packedMatmulNaive(naive.pointer, x.pointer, p, M: M)
    // The quantizer wrote the dequantized values back into w, so sgemm on w is the same product.
    matmulNT(blas.pointer, x.pointer, w.pointer, M: M, N: N, K: K)
    #expect(zip(fast.array, naive.array).map { abs($0 - $1) }.max()! < 1e-4)
    #expect(zip(blas.array, naive.array).map { abs($0 - $1) }.max()! < 1e-4)
  }

  @Test(
    "a row's packed product is bit-identical whatever the batch size (rows in fours, pairs or alone)",
    arguments: [PackedFormat.q4_1, .q8_0])
  func packedBatchInvariant(format: PackedFormat) {
    var rng = SplitMix64(seed: 7)
    let N = 21, K = 128, M = 7
    let w = FloatBuffer(count: N * K)
    for i in 0..<(N * K) { w[i] = Float(rng.nextDouble() * 2 - 1) }
    let p = PackedMatrix(quantizing: w, rows: N, cols: K, format: format)
    let x = FloatBuffer(count: M * K)
    for i in 0..<(M * K) { x[i] = Float(rng.nextDouble() * 2 - 1) }
    let pool = ThreadPool(threads: 2)
    defer { pool.shutdown() }
    let all = FloatBuffer(count: M * N)
    packedMatmul(all.pointer, x.pointer, p, M: M, pool: pool)
    for m in 0..<M {
      let one = FloatBuffer(count: N)
      packedMatmul(one.pointer, x.pointer + m * K, p, M: 1, pool: pool)
      #expect(one.array == Array(all.array[(m * N)..<((m + 1) * N)]), "row \(m)")
    }
  }
}

@Suite("Non-finite weights")
struct NonFiniteWeightTests {
  @Test("a NaN in a weight is refused on load, naming the file and the tensor")
  func nanWeight() throws {
    let cfg = LlamaConfig(
      vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 64)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seb-nan-\(UUID().uuidString).gguf").path
    try Data(try TinyGGUF.make(config: cfg, seed: 1, nanTensor: "blk.1.ffn_norm.weight")).write(
      to: URL(fileURLWithPath: path))
    #expect(throws: LLMError.nonFinite(what: "\(path): tensor blk.1.ffn_norm.weight")) {
      _ = try LanguageModel(path: path)
    }
    let ok = FileManager.default.temporaryDirectory.appendingPathComponent("seb-ok-\(UUID().uuidString).gguf").path
    try Data(try TinyGGUF.make(config: cfg, seed: 1)).write(to: URL(fileURLWithPath: ok))
    #expect(try LanguageModel(path: ok).weights.firstNonFiniteTensor() == nil)
  }
}

// Weights.swift: every parameter of the model as float32 buffers (llama2.c's TransformerWeights),
// plus, for the big matrices, an optional packed quantized copy that the small-batch kernels read
// (decode is memory-bound: Q4_1 moves ~6x fewer bytes than float32).
// Row order of wq/wk is the file's: for llama GGUFs that is llama.cpp's permuted order.
import Tensor

/// A Linear layer y = x . W^T (+ b). `w` is [N, K] row-major (N outputs, K inputs).
public final class Linear: @unchecked Sendable {
  public let outFeatures: Int  // N
  public let inFeatures: Int  // K
  public let w: FloatBuffer  // [N, K]
  public let bias: FloatBuffer?  // [N]
  /// Same values as `w`, packed for the M <= 16 kernels (nil: always use sgemm).
  public var packed: PackedMatrix?

  public init(outFeatures: Int, inFeatures: Int, w: FloatBuffer, bias: FloatBuffer? = nil, packed: PackedMatrix? = nil)
  {
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
    self.w = w
    self.bias = bias
    self.packed = packed
  }
}

public final class LayerWeights: @unchecked Sendable {
  public let attnNorm: FloatBuffer  // [C]
  public let wq: Linear  // [H*D, C]
  public let wk: Linear  // [G*D, C]
  public let wv: Linear  // [G*D, C]
  public let wo: Linear  // [C, H*D]
  public let qNorm: FloatBuffer?  // [D] (qwen3)
  public let kNorm: FloatBuffer?  // [D] (qwen3)
  public let ffnNorm: FloatBuffer  // [C]
  public let wGate: Linear  // [F, C]
  public let wUp: Linear  // [F, C]
  public let wDown: Linear  // [C, F]

  public init(
    attnNorm: FloatBuffer, wq: Linear, wk: Linear, wv: Linear, wo: Linear, qNorm: FloatBuffer?,
    kNorm: FloatBuffer?, ffnNorm: FloatBuffer, wGate: Linear, wUp: Linear, wDown: Linear
  ) {
    self.attnNorm = attnNorm
    self.wq = wq
    self.wk = wk
    self.wv = wv
    self.wo = wo
    self.qNorm = qNorm
    self.kNorm = kNorm
    self.ffnNorm = ffnNorm
    self.wGate = wGate
    self.wUp = wUp
    self.wDown = wDown
  }

  /// The seven LoRA-able projections by their PEFT names.
  public func projection(_ name: String) -> Linear? {
    switch name {
    case "q_proj": return wq
    case "k_proj": return wk
    case "v_proj": return wv
    case "o_proj": return wo
    case "gate_proj": return wGate
    case "up_proj": return wUp
    case "down_proj": return wDown
    default: return nil
    }
  }
}

public final class ModelWeights: @unchecked Sendable {
  public let config: LlamaConfig
  public let tokenEmbedding: FloatBuffer  // [V, C]
  public let layers: [LayerWeights]  // L
  public let outputNorm: FloatBuffer  // [C]
  /// The output head; shares `tokenEmbedding`'s buffer when the embeddings are tied.
  public let output: Linear  // [V, C]
  public let tiedEmbeddings: Bool

  public init(
    config: LlamaConfig, tokenEmbedding: FloatBuffer, layers: [LayerWeights], outputNorm: FloatBuffer,
    output: Linear?
  ) {
    self.config = config
    self.tokenEmbedding = tokenEmbedding
    self.layers = layers
    self.outputNorm = outputNorm
    self.tiedEmbeddings = output == nil
    self.output = output ?? Linear(outFeatures: config.vocabSize, inFeatures: config.dim, w: tokenEmbedding)
  }

  /// Total parameter count (tied head counted once).
  public var parameterCount: Int {
    var n = tokenEmbedding.count + outputNorm.count
    if !tiedEmbeddings { n += output.w.count }
    for l in layers {
      n += l.attnNorm.count + l.ffnNorm.count + (l.qNorm?.count ?? 0) + (l.kNorm?.count ?? 0)
      for p in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] { n += p.w.count + (p.bias?.count ?? 0) }
    }
    return n
  }

  /// A model with seeded random weights (uniform, scaled by 1/sqrt(fan-in)); for tests and
  /// benchmarks. `pack` also builds the packed copies (as Q4_1 blocks rounded from the values).
  public static func random(
    config: LlamaConfig, seed: UInt64, tied: Bool = true, pack: PackedFormat? = nil
  ) -> ModelWeights {
    var rng = SplitMix64(seed: seed)
    func buf(_ n: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
      let b = FloatBuffer(count: n)
      for i in 0..<n { b[i] = offset + scale * (Float(rng.nextDouble()) * 2 - 1) }
      return b
    }
    func lin(_ n: Int, _ k: Int, bias: Bool = false) -> Linear {
      let w = buf(n * k, scale: 1 / Float(k).squareRoot())
      let l = Linear(outFeatures: n, inFeatures: k, w: w, bias: bias ? buf(n, scale: 0.1) : nil)
      if let pack, PackedMatrix.canPack(cols: k) {
        l.packed = PackedMatrix(quantizing: w, rows: n, cols: k, format: pack)
      }
      return l
    }
    let c = config
    var layers: [LayerWeights] = []
    for _ in 0..<c.layers {
      layers.append(
        LayerWeights(
          attnNorm: buf(c.dim, scale: 0.2, offset: 1), wq: lin(c.qDim, c.dim, bias: c.qkvBias),
          wk: lin(c.kvDim, c.dim, bias: c.qkvBias), wv: lin(c.kvDim, c.dim, bias: c.qkvBias),
          wo: lin(c.dim, c.qDim), qNorm: c.qkNorm ? buf(c.headDim, scale: 0.2, offset: 1) : nil,
          kNorm: c.qkNorm ? buf(c.headDim, scale: 0.2, offset: 1) : nil,
          ffnNorm: buf(c.dim, scale: 0.2, offset: 1), wGate: lin(c.ffnDim, c.dim), wUp: lin(c.ffnDim, c.dim),
          wDown: lin(c.dim, c.ffnDim)))
    }
    let emb = buf(c.vocabSize * c.dim, scale: 1)
    let model = ModelWeights(
      config: c, tokenEmbedding: emb, layers: layers, outputNorm: buf(c.dim, scale: 0.2, offset: 1),
      output: tied ? nil : lin(c.vocabSize, c.dim))
    if tied, let pack, PackedMatrix.canPack(cols: c.dim) {
      model.output.packed = PackedMatrix(quantizing: emb, rows: c.vocabSize, cols: c.dim, format: pack)
    }
    return model
  }
}

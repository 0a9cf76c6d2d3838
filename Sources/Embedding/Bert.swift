// Bert.swift: the BERT encoder (post-LayerNorm, absolute positions, GELU-erf) on the Tensor
// module's BLAS kernels, forward only.
//
// Batches are packed, not padded: the sequences' tokens are stacked as rows [N = sum T_b, C] and
// every dense layer runs once over all rows; attention runs per sequence over its own rows only.
// This is exactly the Hugging Face attention mask for right-padded batches (its large negative
// bias gives padded keys weight 0), without computing the padded rows at all.
// Invariants: weights are validated against the config when the model is built; token ids and
// lengths are validated per call, so kernels never index out of range.
import Foundation
import SafeTensors
import Tensor

public struct BertConfig: Sendable, Equatable, Codable {
  public var vocabSize: Int
  public var hiddenSize: Int  // C
  public var numLayers: Int  // L
  public var numHeads: Int  // H (D = C / H)
  public var intermediateSize: Int  // F
  public var maxPositions: Int
  public var typeVocabSize: Int
  public var layerNormEps: Float

  public init(
    vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
    maxPositions: Int, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12
  ) {
    self.vocabSize = vocabSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.numHeads = numHeads
    self.intermediateSize = intermediateSize
    self.maxPositions = maxPositions
    self.typeVocabSize = typeVocabSize
    self.layerNormEps = layerNormEps
  }

  public var headDim: Int { hiddenSize / max(numHeads, 1) }

  /// Reads a Hugging Face config.json (model_type bert, hidden_act gelu).
  public init(configFile url: URL) throws {
    let obj: [String: Any]
    do {
      let data = try Data(contentsOf: url)
      guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw EmbeddingError.badConfig(file: url.path, key: "(root)", found: "not a JSON object")
      }
      obj = o
    } catch let e as EmbeddingError { throw e } catch {
      throw EmbeddingError.fileUnreadable(path: url.path, message: error.localizedDescription)
    }
    func int(_ key: String, default d: Int? = nil) throws -> Int {
      if let n = obj[key] as? NSNumber, n.doubleValue == n.doubleValue.rounded(), n.intValue > 0 { return n.intValue }
      if obj[key] == nil, let d { return d }
      throw EmbeddingError.badConfig(file: url.path, key: key, found: "\(obj[key] ?? "nothing")")
    }
    let act = obj["hidden_act"] as? String ?? "gelu"
    guard act == "gelu" else { throw EmbeddingError.badConfig(file: url.path, key: "hidden_act", found: act) }
    let posType = obj["position_embedding_type"] as? String ?? "absolute"
    guard posType == "absolute" else {
      throw EmbeddingError.badConfig(file: url.path, key: "position_embedding_type", found: posType)
    }
    self.init(
      vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
      numLayers: try int("num_hidden_layers"), numHeads: try int("num_attention_heads"),
      intermediateSize: try int("intermediate_size"), maxPositions: try int("max_position_embeddings"),
      typeVocabSize: try int("type_vocab_size", default: 2),
      layerNormEps: (obj["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12)
    guard hiddenSize % numHeads == 0 else {
      throw EmbeddingError.badConfig(
        file: url.path, key: "num_attention_heads", found: "\(numHeads) does not divide \(hiddenSize)")
    }
  }

  /// The expected weight names (Hugging Face BertModel, without the optional "bert." prefix) and shapes.
  public var weightShapes: [(name: String, shape: [Int])] {
    let C = hiddenSize, F = intermediateSize
    var out: [(String, [Int])] = [
      ("embeddings.word_embeddings.weight", [vocabSize, C]),
      ("embeddings.position_embeddings.weight", [maxPositions, C]),
      ("embeddings.token_type_embeddings.weight", [typeVocabSize, C]),
      ("embeddings.LayerNorm.weight", [C]), ("embeddings.LayerNorm.bias", [C]),
    ]
    for l in 0..<numLayers {
      let p = "encoder.layer.\(l)."
      out += [
        (p + "attention.self.query.weight", [C, C]), (p + "attention.self.query.bias", [C]),
        (p + "attention.self.key.weight", [C, C]), (p + "attention.self.key.bias", [C]),
        (p + "attention.self.value.weight", [C, C]), (p + "attention.self.value.bias", [C]),
        (p + "attention.output.dense.weight", [C, C]), (p + "attention.output.dense.bias", [C]),
        (p + "attention.output.LayerNorm.weight", [C]), (p + "attention.output.LayerNorm.bias", [C]),
        (p + "intermediate.dense.weight", [F, C]), (p + "intermediate.dense.bias", [F]),
        (p + "output.dense.weight", [C, F]), (p + "output.dense.bias", [C]),
        (p + "output.LayerNorm.weight", [C]), (p + "output.LayerNorm.bias", [C]),
      ]
    }
    return out
  }
}

public final class BertModel: @unchecked Sendable {
  public let config: BertConfig

  private struct Layer {
    let wqkv: FloatBuffer  // [3C, C]: query rows, then key rows, then value rows
    let bqkv: FloatBuffer  // [3C]
    let wo: FloatBuffer  // [C, C]
    let bo: FloatBuffer  // [C]
    let ln1g: FloatBuffer, ln1b: FloatBuffer  // [C]
    let w1: FloatBuffer  // [F, C]
    let b1: FloatBuffer  // [F]
    let w2: FloatBuffer  // [C, F]
    let b2: FloatBuffer  // [C]
    let ln2g: FloatBuffer, ln2b: FloatBuffer  // [C]
  }

  private let wordEmb: FloatBuffer  // [V, C]
  private let posEmb: FloatBuffer  // [P, C]
  private let typeEmb: FloatBuffer  // [2, C]; only type 0 is used (single-segment input)
  private let embLNg: FloatBuffer, embLNb: FloatBuffer  // [C]
  private let layers: [Layer]

  /// Builds the model from a tensor source: `fetch(name)` returns (shape, values) or nil.
  /// Every weight's shape is checked against the config.
  public init(
    config: BertConfig, source: String = "weights", fetch: (String) throws -> (shape: [Int], values: [Float])?
  ) throws {
    guard config.numHeads > 0, config.hiddenSize % config.numHeads == 0 else {
      throw EmbeddingError.badConfig(file: source, key: "num_attention_heads", found: "\(config.numHeads)")
    }
    self.config = config
    var weights: [String: FloatBuffer] = [:]
    for (name, shape) in config.weightShapes {
      guard let t = try fetch(name) else { throw EmbeddingError.missingTensor(file: source, name: name) }
      guard t.shape == shape, t.values.count == shape.reduce(1, *) else {
        throw EmbeddingError.shapeMismatch(tensor: name, expected: shape, found: t.shape)
      }
      weights[name] = FloatBuffer(t.values)
    }
    func w(_ n: String) -> FloatBuffer { weights[n]! }  // all present: checked above
    wordEmb = w("embeddings.word_embeddings.weight")
    posEmb = w("embeddings.position_embeddings.weight")
    typeEmb = w("embeddings.token_type_embeddings.weight")
    embLNg = w("embeddings.LayerNorm.weight")
    embLNb = w("embeddings.LayerNorm.bias")
    var layers: [Layer] = []
    for l in 0..<config.numLayers {
      let p = "encoder.layer.\(l)."
      let q = w(p + "attention.self.query.weight").array, k = w(p + "attention.self.key.weight").array
      let v = w(p + "attention.self.value.weight").array
      let qb = w(p + "attention.self.query.bias").array, kb = w(p + "attention.self.key.bias").array
      let vb = w(p + "attention.self.value.bias").array
      layers.append(
        Layer(
          wqkv: FloatBuffer(q + k + v), bqkv: FloatBuffer(qb + kb + vb),
          wo: w(p + "attention.output.dense.weight"), bo: w(p + "attention.output.dense.bias"),
          ln1g: w(p + "attention.output.LayerNorm.weight"), ln1b: w(p + "attention.output.LayerNorm.bias"),
          w1: w(p + "intermediate.dense.weight"), b1: w(p + "intermediate.dense.bias"),
          w2: w(p + "output.dense.weight"), b2: w(p + "output.dense.bias"),
          ln2g: w(p + "output.LayerNorm.weight"), ln2b: w(p + "output.LayerNorm.bias")))
    }
    self.layers = layers
  }

  /// Loads from a safetensors file (F32/F16/BF16), accepting names with or without "bert.".
  public convenience init(
    config: BertConfig, safetensors file: SafeTensorsFile, source: String = "model.safetensors"
  ) throws {
    try self.init(config: config, source: source) { name in
      for candidate in [name, "bert." + name] where file.tensors[candidate] != nil {
        do {
          return (try file.info(candidate).shape, try file.floats(candidate))
        } catch let e as SafeTensorsError {
          throw EmbeddingError.fileUnreadable(path: source, message: e.errorDescription ?? "\(e)")
        }
      }
      return nil
    }
  }

  /// Random weights with the config's names and shapes (LayerNorm gains near 1), for tests.
  public static func randomWeights(config: BertConfig, seed: UInt64, scale: Float = 0.5) -> [String: SafeTensorsF32] {
    var rng = SplitMix64(seed: seed)
    var out: [String: SafeTensorsF32] = [:]
    for (name, shape) in config.weightShapes {
      let n = shape.reduce(1, *)
      let isGain = name.hasSuffix("LayerNorm.weight")
      let values = (0..<n).map { _ in isGain ? 1 + 0.1 * rng.nextSigned() : scale * rng.nextSigned() }
      out[name] = SafeTensorsF32(shape: shape, values: values)
    }
    return out
  }

  /// Final hidden states of each sequence: element b is [T_b * C] row-major.
  public func encode(_ batch: [[Int32]]) throws -> [[Float]] {
    let C = config.hiddenSize
    let (x, offsets) = try forward(batch)
    return batch.indices.map { b in
      Array(UnsafeBufferPointer(start: x.pointer + offsets[b] * C, count: batch[b].count * C))
    }
  }

  /// Mean of each sequence's final hidden states over its tokens (all tokens are real: packed).
  public func meanPooled(_ batch: [[Int32]]) throws -> [[Float]] {
    let C = config.hiddenSize
    let (x, offsets) = try forward(batch)
    return batch.indices.map { b in
      var sum = [Double](repeating: 0, count: C)
      let n = batch[b].count
      for t in 0..<n {
        let row = x.pointer + (offsets[b] + t) * C
        for c in 0..<C { sum[c] += Double(row[c]) }
      }
      return sum.map { Float($0 / Double(max(n, 1))) }
    }
  }

  /// Runs the encoder over the packed batch; returns x [N, C] and each sequence's first row.
  private func forward(_ batch: [[Int32]]) throws -> (FloatBuffer, [Int]) {
    let C = config.hiddenSize, F = config.intermediateSize, H = config.numHeads, D = config.headDim
    var offsets: [Int] = []
    var N = 0
    for seq in batch {
      guard seq.count <= config.maxPositions else {
        throw EmbeddingError.sequenceTooLong(length: seq.count, maximum: config.maxPositions)
      }
      for id in seq where id < 0 || Int(id) >= config.vocabSize {
        throw EmbeddingError.tokenOutOfRange(id: id, vocabSize: config.vocabSize)
      }
      offsets.append(N)
      N += seq.count
    }
    let x = FloatBuffer(count: N * C)  // [N, C] residual stream
    // Embeddings: word + position (per sequence, from 0) + token type 0, then LayerNorm.
    for (b, seq) in batch.enumerated() {
      for (t, id) in seq.enumerated() {
        let row = x.pointer + (offsets[b] + t) * C
        let w = wordEmb.pointer + Int(id) * C, p = posEmb.pointer + t * C, ty = typeEmb.pointer
        for c in 0..<C { row[c] = w[c] + p[c] + ty[c] }
      }
    }
    layerNorm(x.pointer, rows: N, C, embLNg.pointer, embLNb.pointer)
    if N == 0 { return (x, offsets) }

    let qkv = FloatBuffer(count: N * 3 * C)  // [N, 3C]: q | k | v per row
    let ctx = FloatBuffer(count: N * C)  // [N, C] attention output before projection
    let tmp = FloatBuffer(count: N * C)  // [N, C]
    let hid = FloatBuffer(count: N * F)  // [N, F]
    let maxT = batch.map(\.count).max() ?? 0
    let scores = FloatBuffer(count: maxT * maxT)  // [T, T] one head of one sequence
    let scale = 1 / Float(D).squareRoot()

    for layer in layers {
      linear(qkv.pointer, x.pointer, layer.wqkv.pointer, layer.bqkv.pointer, M: N, N: 3 * C, K: C)
      for (b, seq) in batch.enumerated() {
        let T = seq.count
        if T == 0 { continue }
        let base = qkv.pointer + offsets[b] * 3 * C
        for h in 0..<H {
          // scores[T,T] = scale * Q_h[T,D] . K_h[T,D]^T (strided views into qkv rows)
          sgemm(
            transA: false, transB: true, M: T, N: T, K: D, alpha: scale, base + h * D, lda: 3 * C,
            base + C + h * D, ldb: 3 * C, beta: 0, scores.pointer, ldc: T)
          softmaxRows(scores.pointer, rows: T, cols: T)
          // ctx_h[T,D] = P[T,T] . V_h[T,D]
          sgemm(
            transA: false, transB: false, M: T, N: D, K: T, alpha: 1, scores.pointer, lda: T,
            base + 2 * C + h * D, ldb: 3 * C, beta: 0, ctx.pointer + offsets[b] * C + h * D, ldc: C)
        }
      }
      linear(tmp.pointer, ctx.pointer, layer.wo.pointer, layer.bo.pointer, M: N, N: C, K: C)
      addInPlace(x.pointer, tmp.pointer, N * C)
      layerNorm(x.pointer, rows: N, C, layer.ln1g.pointer, layer.ln1b.pointer)
      linear(hid.pointer, x.pointer, layer.w1.pointer, layer.b1.pointer, M: N, N: F, K: C)
      geluErf(hid.pointer, N * F)
      linear(tmp.pointer, hid.pointer, layer.w2.pointer, layer.b2.pointer, M: N, N: C, K: F)
      addInPlace(x.pointer, tmp.pointer, N * C)
      layerNorm(x.pointer, rows: N, C, layer.ln2g.pointer, layer.ln2b.pointer)
    }
    return (x, offsets)
  }

  /// y[M,N] = x[M,K] . w[N,K]^T + bias[N]
  private func linear(
    _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>, M: Int, N: Int, K: Int
  ) {
    for m in 0..<M { (y + m * N).update(from: bias, count: N) }
    matmulNT(y, x, w, M: M, N: N, K: K, alpha: 1, beta: 1)
  }

  private func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { x[i] += y[i] }
  }

  /// Per row: (x - mean) / sqrt(var + eps) * g + b, biased variance (as torch.nn.LayerNorm).
  private func layerNorm(
    _ x: UnsafeMutablePointer<Float>, rows: Int, _ C: Int, _ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>
  ) {
    let eps = Double(config.layerNormEps)
    for r in 0..<rows {
      let row = x + r * C
      var mean = 0.0
      for c in 0..<C { mean += Double(row[c]) }
      mean /= Double(C)
      var v = 0.0
      for c in 0..<C {
        let d = Double(row[c]) - mean
        v += d * d
      }
      let inv = 1 / (v / Double(C) + eps).squareRoot()
      for c in 0..<C { row[c] = Float((Double(row[c]) - mean) * inv) * g[c] + b[c] }
    }
  }

  private func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows { softmaxInPlace(s + r * cols, cols) }
  }

  /// GELU, exact erf form (HF "gelu"), not the tanh approximation.
  private func geluErf(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let invSqrt2: Float = 0.707_106_781_186_547_6
    for i in 0..<n {
      let v = x[i]
      x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
    }
  }
}

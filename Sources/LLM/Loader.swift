// Loader.swift: config and weights from a GGUF file (llama.cpp's tensor names, model-facts 2.5-2.7).
// Every tensor is dequantized to float32 once; Q4_1 and Q8_0 matrices also keep a packed copy
// for the decode kernels. Missing keys, missing tensors, wrong shapes and unknown architectures
// raise errors that name the file, key or tensor.
import GGUF
import Tensor

extension LlamaConfig {
  public init(gguf f: GGUFFile) throws {
    let archName = try f.string("general.architecture")
    guard let arch = Architecture(rawValue: archName) else {
      throw LLMError.unsupportedArchitecture(source: f.displayName, found: archName)
    }
    let a = archName
    let dim = try f.int("\(a).embedding_length")
    let heads = try f.int("\(a).attention.head_count")
    let kvHeads = try f.intIfPresent("\(a).attention.head_count_kv") ?? heads
    let headDim = try f.intIfPresent("\(a).attention.key_length") ?? (heads > 0 ? dim / heads : 0)
    var vocab = try f.intIfPresent("\(a).vocab_size")
    if vocab == nil, let emb = f.tensorIfPresent(named: "token_embd.weight"), emb.dims.count == 2 {
      vocab = emb.dims[1]
    }
    if vocab == nil, let toks = try f.arrayIfPresent("tokenizer.ggml.tokens") { vocab = toks.count }
    self.init(
      architecture: arch, vocabSize: vocab ?? 0, dim: dim, layers: try f.int("\(a).block_count"), heads: heads,
      kvHeads: kvHeads, headDim: headDim, ffnDim: try f.int("\(a).feed_forward_length"),
      ropeDims: try f.intIfPresent("\(a).rope.dimension_count") ?? headDim,
      ropeTheta: try f.floatIfPresent("\(a).rope.freq_base") ?? 10000,
      rmsEps: try f.float("\(a).attention.layer_norm_rms_epsilon"),
      contextLength: try f.int("\(a).context_length"))
    if let scaling = try f.stringIfPresent("\(a).rope.scaling.type"), scaling != "none" {
      throw LLMError.badConfig(
        source: f.displayName, key: "\(a).rope.scaling.type", expected: "none (RoPE scaling is not implemented)",
        found: scaling)
    }
    try validate(source: f.displayName)
  }
}

extension ModelWeights {
  /// Loads every tensor of a llama/qwen2/qwen3 GGUF. `pack: false` skips the quantized copies.
  public convenience init(gguf f: GGUFFile, pack: Bool = true) throws {
    let c = try LlamaConfig(gguf: f)
    let src = f.displayName
    func load(_ name: String, _ dims: [Int]) throws -> FloatBuffer {
      let t = try f.tensor(named: name)
      if t.dims != dims { throw LLMError.tensorShape(source: src, name: name, expected: dims, found: t.dims) }
      return try f.dequantize(t)
    }
    // GGUF dims are [in, out] (ne[0] innermost); a Linear is [out, in] row-major: same bytes.
    func linear(_ name: String, out: Int, inp: Int, bias: Bool = false) throws -> Linear {
      let t = try f.tensor(named: name)
      if t.dims != [inp, out] {
        throw LLMError.tensorShape(source: src, name: name, expected: [inp, out], found: t.dims)
      }
      let w = try f.dequantize(t)
      var packed: PackedMatrix?
      if pack && PackedMatrix.canPack(cols: inp) && (t.type == .q4_1 || t.type == .q8_0) {
        let raw = try f.tensorData(t)
        packed = PackedMatrix(
          ggmlBlocks: raw.baseAddress!, format: t.type == .q4_1 ? .q4_1 : .q8_0, rows: out, cols: inp)
      }
      let b = bias ? try load(name.replacingOccurrences(of: ".weight", with: ".bias"), [out]) : nil
      return Linear(outFeatures: out, inFeatures: inp, w: w, bias: b, packed: packed)
    }
    let C = c.dim, F = c.ffnDim
    var layers: [LayerWeights] = []
    for i in 0..<c.layers {
      let p = "blk.\(i)."
      layers.append(
        LayerWeights(
          attnNorm: try load(p + "attn_norm.weight", [C]),
          wq: try linear(p + "attn_q.weight", out: c.qDim, inp: C, bias: c.qkvBias),
          wk: try linear(p + "attn_k.weight", out: c.kvDim, inp: C, bias: c.qkvBias),
          wv: try linear(p + "attn_v.weight", out: c.kvDim, inp: C, bias: c.qkvBias),
          wo: try linear(p + "attn_output.weight", out: C, inp: c.qDim),
          qNorm: c.qkNorm ? try load(p + "attn_q_norm.weight", [c.headDim]) : nil,
          kNorm: c.qkNorm ? try load(p + "attn_k_norm.weight", [c.headDim]) : nil,
          ffnNorm: try load(p + "ffn_norm.weight", [C]),
          wGate: try linear(p + "ffn_gate.weight", out: F, inp: C),
          wUp: try linear(p + "ffn_up.weight", out: F, inp: C),
          wDown: try linear(p + "ffn_down.weight", out: C, inp: F)))
    }
    let embInfo = try f.tensor(named: "token_embd.weight")
    if embInfo.dims != [C, c.vocabSize] {
      throw LLMError.tensorShape(
        source: src, name: "token_embd.weight", expected: [C, c.vocabSize], found: embInfo.dims)
    }
    let output = f.hasTensor("output.weight") ? try linear("output.weight", out: c.vocabSize, inp: C) : nil
    let emb = try f.dequantize(embInfo)
    self.init(
      config: c, tokenEmbedding: emb, layers: layers, outputNorm: try load("output_norm.weight", [C]), output: output)
    if output == nil, pack, PackedMatrix.canPack(cols: C), embInfo.type == .q4_1 || embInfo.type == .q8_0 {
      let raw = try f.tensorData(embInfo)
      self.output.packed = PackedMatrix(
        ggmlBlocks: raw.baseAddress!, format: embInfo.type == .q4_1 ? .q4_1 : .q8_0, rows: c.vocabSize, cols: C)
    }
  }
}

// TinyGGUF.swift: writes tiny llama/qwen GGUF models in memory (GGUFWriter), so loader and
// end-to-end tests never need the real model file.
import GGUF
import LLM
import Tensor

public enum TinyGGUF {
  /// A model file for `config` with seeded random weights: matrices as `matrixType`, the
  /// embedding as `embeddingType`, norms as F32. Tokenizer keys: a byte-level vocab of the 256
  /// GPT-2 byte tokens plus "<|im_start|>", "<|im_end|>" (control) and a few merges.
  public static func make(
    config c: LlamaConfig, seed: UInt64, matrixType: GGUFType = .q4_1, embeddingType: GGUFType = .q8_0,
    tied: Bool = true, dropKey: String? = nil, dropTensor: String? = nil, nanTensor: String? = nil
  ) throws -> [UInt8] {
    var w = try GGUFWriter()
    var rng = SplitMix64(seed: seed)
    func rand(_ n: Int, _ scale: Float, _ offset: Float = 0) -> [Float] {
      (0..<n).map { _ in offset + scale * (Float(rng.nextDouble()) * 2 - 1) }
    }
    let a = c.architecture.rawValue
    func key(_ k: String, _ v: GGUFValue) throws { if k != dropKey { try w.add(k, v) } }
    func tensor(_ name: String, _ dims: [Int], _ values: [Float], _ type: GGUFType) throws {
      var v = values
      if name == nanTensor { v[0] = .nan }
      if name != dropTensor { try w.addTensor(name, dims: dims, values: v, type: type) }
    }
    try key("general.architecture", .string(a))
    try key("\(a).context_length", .uint32(UInt32(c.contextLength)))
    try key("\(a).embedding_length", .uint32(UInt32(c.dim)))
    try key("\(a).block_count", .uint32(UInt32(c.layers)))
    try key("\(a).feed_forward_length", .uint32(UInt32(c.ffnDim)))
    try key("\(a).attention.head_count", .uint32(UInt32(c.heads)))
    try key("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeads)))
    try key("\(a).rope.dimension_count", .uint32(UInt32(c.ropeDims)))
    try key("\(a).rope.freq_base", .float32(c.ropeTheta))
    try key("\(a).attention.layer_norm_rms_epsilon", .float32(c.rmsEps))
    if c.headDim * c.heads != c.dim { try key("\(a).attention.key_length", .uint32(UInt32(c.headDim))) }
    let (tokens, types, merges) = byteVocab(size: c.vocabSize)
    try key("tokenizer.ggml.model", .string("gpt2"))
    try key("tokenizer.ggml.pre", .string("smollm"))
    try w.add("tokenizer.ggml.tokens", tokens)
    try key("tokenizer.ggml.token_type", .array(.int32(types)))
    try w.add("tokenizer.ggml.merges", merges)
    try key("tokenizer.ggml.eos_token_id", .uint32(UInt32(c.vocabSize - 1)))
    let C = c.dim, F = c.ffnDim
    for i in 0..<c.layers {
      let p = "blk.\(i)."
      try tensor(p + "attn_norm.weight", [C], rand(C, 0.2, 1), .f32)
      try tensor(p + "attn_q.weight", [C, c.qDim], rand(C * c.qDim, 1 / Float(C).squareRoot()), matrixType)
      try tensor(p + "attn_k.weight", [C, c.kvDim], rand(C * c.kvDim, 1 / Float(C).squareRoot()), matrixType)
      try tensor(p + "attn_v.weight", [C, c.kvDim], rand(C * c.kvDim, 1 / Float(C).squareRoot()), matrixType)
      if c.qkvBias {
        try tensor(p + "attn_q.bias", [c.qDim], rand(c.qDim, 0.1), .f32)
        try tensor(p + "attn_k.bias", [c.kvDim], rand(c.kvDim, 0.1), .f32)
        try tensor(p + "attn_v.bias", [c.kvDim], rand(c.kvDim, 0.1), .f32)
      }
      if c.qkNorm {
        try tensor(p + "attn_q_norm.weight", [c.headDim], rand(c.headDim, 0.2, 1), .f32)
        try tensor(p + "attn_k_norm.weight", [c.headDim], rand(c.headDim, 0.2, 1), .f32)
      }
      try tensor(p + "attn_output.weight", [c.qDim, C], rand(C * c.qDim, 1 / Float(c.qDim).squareRoot()), matrixType)
      try tensor(p + "ffn_norm.weight", [C], rand(C, 0.2, 1), .f32)
      try tensor(p + "ffn_gate.weight", [C, F], rand(C * F, 1 / Float(C).squareRoot()), matrixType)
      try tensor(p + "ffn_up.weight", [C, F], rand(C * F, 1 / Float(C).squareRoot()), matrixType)
      try tensor(p + "ffn_down.weight", [F, C], rand(C * F, 1 / Float(F).squareRoot()), matrixType)
    }
    try tensor("token_embd.weight", [C, c.vocabSize], rand(C * c.vocabSize, 1), embeddingType)
    try tensor("output_norm.weight", [C], rand(C, 0.2, 1), .f32)
    if !tied {
      try tensor("output.weight", [C, c.vocabSize], rand(C * c.vocabSize, 1 / Float(C).squareRoot()), matrixType)
    }
    return try w.serialize()
  }

  /// GPT-2 byte tokens (the first min(256, size - 2)), merges of "Ġ" + letters where room is
  /// left, unused fillers, and the two control tokens last (eos = size - 1).
  static func byteVocab(size: Int) -> ([String], [Int32], [String]) {
    var bs: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
    var cs = bs
    var n = 0
    for b in 0..<256 where !bs.contains(b) {
      bs.append(b)
      cs.append(256 + n)
      n += 1
    }
    var byteTokens = [String](repeating: "", count: 256)
    for (b, c) in zip(bs, cs) { byteTokens[b] = String(Character(Unicode.Scalar(UInt32(c))!)) }
    var tokens = Array(byteTokens.prefix(max(0, size - 2)))
    var merges: [String] = []
    if tokens.count == 256 {
      for ch in "abcdefghijklmnopqrstuvwxyz" where tokens.count < size - 2 {
        tokens.append("Ġ" + String(ch))
        merges.append("Ġ " + String(ch))
      }
    }
    var types = [Int32](repeating: 1, count: tokens.count)
    // Unused fillers (type 5) so that the vocabulary has exactly `size` entries.
    while tokens.count < size - 2 {
      tokens.append("<unused_\(tokens.count)>")
      types.append(5)
    }
    tokens += ["<|im_start|>", "<|im_end|>"]
    types += [3, 3]
    return (tokens, types, merges)
  }
}

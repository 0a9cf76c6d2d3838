// Config.swift: the architecture blueprint of a decoder-only transformer (llama2.c's `Config`).
// Built from GGUF keys (`<arch>.*`, see model-facts.md 2.5) or by hand for tiny test models.
// Invariants checked in `validate()`: every size positive, H divisible by G, D even, rope dims <= D.

import Foundation

/// Which family of decoder a GGUF file describes.
public enum Architecture: String, Sendable, CaseIterable {
  /// Llama / SmolLM2: RMSNorm, RoPE, GQA, SwiGLU; GGUF Q/K rows are permuted (use `.normal` RoPE).
  case llama
  /// Qwen2: llama plus biases on q, k and v; NEOX RoPE, no Q/K permutation in GGUF.
  case qwen2
  /// Qwen3: llama plus RMSNorm over each q and k head before RoPE; NEOX RoPE.
  case qwen3
}

/// How RoPE pairs the values of a head.
public enum RopeStyle: String, Sendable {
  /// llama.cpp's LLAMA_ROPE_TYPE_NORM: consecutive pairs (2k, 2k+1). llama GGUFs need this
  /// because convert_hf_to_gguf.py permuted Q/K rows (differs from HF's rotate_half).
  case normal
  /// HF rotate_half / llama.cpp NEOX: pairs (k, k + n/2).
  case neox
}

public struct LlamaConfig: Sendable, Equatable {
  public var architecture: Architecture
  public var vocabSize: Int  // V
  public var dim: Int  // C
  public var layers: Int  // L
  public var heads: Int  // H
  public var kvHeads: Int  // G
  public var headDim: Int  // D
  public var ffnDim: Int  // F
  public var ropeDims: Int  // rotated values per head (<= D)
  public var ropeTheta: Float
  public var rmsEps: Float
  public var contextLength: Int
  public var ropeStyle: RopeStyle
  /// q/k/v projections carry biases (qwen2).
  public var qkvBias: Bool
  /// q and k heads are RMS-normalised before RoPE (qwen3).
  public var qkNorm: Bool

  public init(
    architecture: Architecture = .llama, vocabSize: Int, dim: Int, layers: Int, heads: Int,
    kvHeads: Int, headDim: Int? = nil, ffnDim: Int, ropeDims: Int? = nil, ropeTheta: Float = 10000,
    rmsEps: Float = 1e-5, contextLength: Int = 2048, ropeStyle: RopeStyle? = nil
  ) {
    self.architecture = architecture
    self.vocabSize = vocabSize
    self.dim = dim
    self.layers = layers
    self.heads = heads
    self.kvHeads = kvHeads
    let d = headDim ?? (heads > 0 ? dim / heads : 0)
    self.headDim = d
    self.ffnDim = ffnDim
    self.ropeDims = ropeDims ?? d
    self.ropeTheta = ropeTheta
    self.rmsEps = rmsEps
    self.contextLength = contextLength
    self.ropeStyle = ropeStyle ?? (architecture == .llama ? .normal : .neox)
    self.qkvBias = architecture == .qwen2
    self.qkNorm = architecture == .qwen3
  }

  public var qDim: Int { heads * headDim }  // H*D
  public var kvDim: Int { kvHeads * headDim }  // G*D

  /// SmolLM2-135M's shape, handy for benchmarks with random weights.
  public static let smolLM2_135M = LlamaConfig(
    vocabSize: 49152, dim: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, ffnDim: 1536,
    ropeTheta: 100000, rmsEps: 1e-5, contextLength: 8192)

  public func validate(source: String = "config") throws {
    func check(_ ok: Bool, _ key: String, _ expected: String, _ found: Any) throws {
      if !ok { throw LLMError.badConfig(source: source, key: key, expected: expected, found: "\(found)") }
    }
    try check(vocabSize > 0, "vocab_size", "> 0", vocabSize)
    try check(dim > 0, "embedding_length", "> 0", dim)
    try check(layers > 0, "block_count", "> 0", layers)
    try check(heads > 0, "attention.head_count", "> 0", heads)
    try check(
      kvHeads > 0 && heads % kvHeads == 0, "attention.head_count_kv",
      "a divisor of head_count \(heads)", kvHeads)
    try check(headDim > 0 && headDim % 2 == 0, "attention.key_length", "a positive even number", headDim)
    try check(ffnDim > 0, "feed_forward_length", "> 0", ffnDim)
    try check(
      ropeDims > 0 && ropeDims <= headDim && ropeDims % 2 == 0, "rope.dimension_count",
      "even and <= head dim \(headDim)", ropeDims)
    try check(ropeTheta.isFinite && ropeTheta > 0, "rope.freq_base", "> 0", ropeTheta)
    try check(rmsEps.isFinite && rmsEps > 0, "attention.layer_norm_rms_epsilon", "> 0", rmsEps)
    try check(contextLength > 0, "context_length", "> 0", contextLength)
  }
}

/// Errors of the LLM module. Messages name the file or key and what was expected and found.
public enum LLMError: Error, Equatable, CustomStringConvertible {
  case badConfig(source: String, key: String, expected: String, found: String)
  case unsupportedArchitecture(source: String, found: String)
  case missingTensor(source: String, name: String)
  case tensorShape(source: String, name: String, expected: [Int], found: [Int])
  case unsupportedTensorType(source: String, name: String, type: String)
  case tokenOutOfRange(token: Int, vocabSize: Int)
  case contextOverflow(needed: Int, capacity: Int)
  case badOption(name: String, value: String, expected: String)
  case emptyPrompt
  case modelFileMissing(path: String)
  /// An input file other than the model (a reference file) that does not exist.
  case inputFileMissing(path: String, what: String)
  /// A NaN or infinity where a number was expected (weights, logits, log-probabilities).
  case nonFinite(what: String)

  public var description: String {
    switch self {
    case .badConfig(let s, let k, let e, let f): return "\(s): key '\(k)': expected \(e), found \(f)"
    case .unsupportedArchitecture(let s, let f):
      return "\(s): key 'general.architecture': expected one of llama, qwen2, qwen3, found '\(f)'"
    case .missingTensor(let s, let n): return "\(s): tensor '\(n)' is missing"
    case .tensorShape(let s, let n, let e, let f): return "\(s): tensor '\(n)': expected dims \(e), found \(f)"
    case .unsupportedTensorType(let s, let n, let t): return "\(s): tensor '\(n)': type \(t) is not supported"
    case .tokenOutOfRange(let t, let v): return "token id \(t) is outside the vocabulary [0, \(v))"
    case .contextOverflow(let n, let c):
      return
        "the sequence needs \(n) positions but the context holds \(c) (prompt + new tokens must fit the model's context)"
    case .badOption(let n, let v, let e): return "option \(n): expected \(e), found \(v)"
    case .emptyPrompt: return "the prompt encodes to no tokens"
    case .modelFileMissing(let p): return "model file \(p) not found: run `seb model install` (or pass --model / --dir)"
    case .inputFileMissing(let p, let w): return "\(w) \(p) not found"
    case .nonFinite(let w): return "non-finite value in \(w)"
    }
  }
}

extension LLMError: LocalizedError {
  public var errorDescription: String? { description }
}

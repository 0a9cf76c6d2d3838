import Foundation
import LLM
// LoRA.swift: adapter configuration and adapter values (PEFT conventions).
//
// An adapter on projection W [N out, K in] adds (alpha / r) * B . dropout(A . x) to W x, with
// A [R, K] and B [N, R]. Invariants:
// - A, B are float32 and stored in this runtime's row order. For q and k of a llama GGUF that is
//   llama.cpp's permuted row order (model-facts 2.9); `PEFTExport` un-permutes B's rows on save.
//   A acts on the input side and is never permuted.
// - An adapter never owns or copies base weights; merge/unmerge edit the base in place.
import Tensor

/// LoRA naming on top of LLM's `Projection` (its raw values are PEFT's module names).
extension Projection {
  /// PEFT module path inside a layer (`self_attn.q_proj`, `mlp.gate_proj`, ...).
  public var peftPath: String {
    switch self {
    case .q, .k, .v, .o: return "self_attn.\(rawValue)"
    case .gate, .up, .down: return "mlp.\(rawValue)"
    }
  }
  /// GGUF tensor stem (`attn_q`, `ffn_down`, ...), model-facts 2.7.
  public var ggufName: String {
    switch self {
    case .q: return "attn_q"
    case .k: return "attn_k"
    case .v: return "attn_v"
    case .o: return "attn_output"
    case .gate: return "ffn_gate"
    case .up: return "ffn_up"
    case .down: return "ffn_down"
    }
  }
  /// Accepts PEFT (`q_proj`), short (`q`, `gate`) and GGUF (`attn_q`) spellings.
  public init?(loraName name: String) {
    if let p = Projection(rawValue: name) { self = p; return }
    guard
      let p = Projection.allCases.first(where: {
        $0.ggufName == name || String($0.rawValue.split(separator: "_")[0]) == name
      })
    else { return nil }
    self = p
  }
  /// Position in q, k, v, o, gate, up, down.
  public var index: Int { Projection.allCases.firstIndex(of: self) ?? 0 }

  /// (out N, in K) of this projection for a model shape.
  public func shape(_ s: LlamaConfig) -> (out: Int, in: Int) {
    switch self {
    case .q: return (s.qDim, s.dim)
    case .k, .v: return (s.kvDim, s.dim)
    case .o: return (s.dim, s.qDim)
    case .gate, .up: return (s.ffnDim, s.dim)
    case .down: return (s.dim, s.ffnDim)
    }
  }
}

/// How A is initialised (B always starts at 0, so a fresh adapter is the identity).
public enum LoRAInit: Sendable, Equatable {
  /// PEFT default: kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(K), 1/sqrt(K)), seeded SplitMix64.
  /// (Same distribution as torch; not torch's random stream.)
  case kaimingUniform
  /// The closed form of ../shared/reference/lora.json: A[i][j] = 0.01 sin(i + 0.1 j) in Double.
  case referenceSine
}

/// What to adapt and how.
public struct LoRAConfig: Sendable, Equatable {
  public var rank: Int
  public var alpha: Double
  public var dropout: Double
  public var targets: [Projection]
  /// Layers to adapt; nil = all.
  public var layers: [Int]?
  public var seed: UInt64
  public var initialization: LoRAInit

  public init(
    rank: Int = 32, alpha: Double = 64, dropout: Double = 0, targets: [Projection] = [.q, .v],
    layers: [Int]? = nil, seed: UInt64 = 42, initialization: LoRAInit = .kaimingUniform
  ) {
    self.rank = rank; self.alpha = alpha; self.dropout = dropout
    self.targets = Array(Set(targets)).sorted { $0.index < $1.index }; self.layers = layers; self.seed = seed
    self.initialization = initialization
  }
  /// PEFT scaling alpha / r (not rsLoRA's alpha / sqrt(r)).
  public var scale: Double { alpha / Double(rank) }

  /// Rejects values PEFT would crash on or silently accept (rank 0, dropout 1, NaN alpha...).
  public func validate(layerCount: Int) throws {
    guard rank >= 1 else { throw TrainingError.badHyperparameter(name: "rank", value: "\(rank)", expected: ">= 1") }
    guard alpha.isFinite, alpha > 0 else {
      throw TrainingError.badHyperparameter(name: "alpha", value: "\(alpha)", expected: "a finite value > 0")
    }
    guard dropout.isFinite, dropout >= 0, dropout < 1 else {
      throw TrainingError.badHyperparameter(name: "dropout", value: "\(dropout)", expected: "in [0, 1)")
    }
    guard !targets.isEmpty else {
      throw TrainingError.badHyperparameter(
        name: "targets", value: "[]", expected: "at least one of q,k,v,o,gate,up,down")
    }
    if let ls = layers {
      guard !ls.isEmpty, ls.allSatisfy({ $0 >= 0 && $0 < layerCount }), Set(ls).count == ls.count else {
        throw TrainingError.badHyperparameter(
          name: "layers", value: "\(ls)", expected: "distinct layer indices in 0..<\(layerCount)")
      }
    }
  }
}

/// One adapted projection: A [R, K] and B [N, R], float32, row-major.
public final class LoRAPair: @unchecked Sendable {
  public let layer: Int
  public let projection: Projection
  public let R: Int, N: Int, K: Int
  public var a: [Float]  // (R, K)
  public var b: [Float]  // (N, R)
  public init(layer: Int, projection: Projection, R: Int, N: Int, K: Int, a: [Float], b: [Float]) {
    self.layer = layer; self.projection = projection; self.R = R; self.N = N; self.K = K
    self.a = a; self.b = b
  }
}

/// A LoRA adapter: a value holding only A/B matrices plus the config that made them.
public struct LoRAAdapter: Sendable {
  public var config: LoRAConfig
  public var shape: LlamaConfig
  /// Sorted by (layer, projection).
  public var pairs: [LoRAPair]

  /// A fresh adapter (B = 0) for every (layer, target) of `config`.
  public init(config: LoRAConfig, shape: LlamaConfig) throws {
    try config.validate(layerCount: shape.layers)
    self.config = config; self.shape = shape
    var rng = TrainRNG(seed: config.seed)
    var ps: [LoRAPair] = []
    for l in (config.layers ?? Array(0..<shape.layers)).sorted() {
      for p in config.targets {
        let (n, k) = p.shape(shape)
        var a = [Float](repeating: 0, count: config.rank * k)
        switch config.initialization {
        case .kaimingUniform:
          let bound = 1 / Foundation.sqrt(Double(k))
          for i in 0..<a.count { a[i] = Float((2 * Double(rng.nextUnitFloat()) - 1) * bound) }
        case .referenceSine:
          for i in 0..<config.rank {
            for j in 0..<k { a[i * k + j] = Float(0.01 * Foundation.sin(Double(i) + 0.1 * Double(j))) }
          }
        }
        ps.append(
          LoRAPair(
            layer: l, projection: p, R: config.rank, N: n, K: k, a: a,
            b: [Float](repeating: 0, count: n * config.rank)))
      }
    }
    pairs = ps
  }

  public init(config: LoRAConfig, shape: LlamaConfig, pairs: [LoRAPair]) {
    self.config = config; self.shape = shape
    self.pairs = pairs.sorted { ($0.layer, $0.projection.index) < ($1.layer, $1.projection.index) }
  }

  /// A deep copy (pairs are reference types so the trainer can update them without copies).
  public func copy() -> LoRAAdapter {
    LoRAAdapter(
      config: config, shape: shape,
      pairs: pairs.map {
        LoRAPair(layer: $0.layer, projection: $0.projection, R: $0.R, N: $0.N, K: $0.K, a: $0.a, b: $0.b)
      })
  }

  public func pair(layer: Int, _ p: Projection) -> LoRAPair? {
    pairs.first { $0.layer == layer && $0.projection == p }
  }

  /// Number of trainable parameters.
  public var parameterCount: Int { pairs.reduce(0) { $0 + $1.a.count + $1.b.count } }
}

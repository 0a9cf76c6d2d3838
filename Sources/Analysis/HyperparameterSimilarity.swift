// Hyperparameter similarity of self-edit templates, exactly as (X) src/compute_similarity.py
// (reference-pipeline.md 4.1): pair similarity = mean over the 6 fixed keys (weights 1) of a
// per-key similarity on a fixed domain; linear keys 1 - |a-b|/(hi-lo), log keys
// 1 - |log a - log b| / |log hi - log lo| (log2 or log10; the base cancels but is kept for fidelity);
// values are NOT clamped to the domain, only the per-key similarity is clamped to [0, 1];
// a key missing on either side scores 0 (still counted in the denominator); a non-positive value on
// a log scale scores 0; non-numeric values score 1 if equal else 0. Group score = mean over the
// unordered pairs.
import Foundation

/// One proposed template: the instruction text and its hyperparameters (values as decoded from JSON).
public struct Template: Equatable, Sendable {
  public var instruction: String
  /// As proposed (the similarity measures read these, as the reference does).
  public var hyperparameters: [String: JSONValue]
  /// Keys the run's validation policy clamped, with the value it trained with instead.
  public var clamped: [String: Double]
  public init(instruction: String, hyperparameters: [String: JSONValue], clamped: [String: Double] = [:]) {
    self.instruction = instruction; self.hyperparameters = hyperparameters; self.clamped = clamped
  }
}

public enum HyperparameterSimilarity {
  public enum Scale: String, Sendable { case linear, log2, log10 }
  public struct Domain: Sendable, Equatable {
    public var key: String
    public var scale: Scale
    public var lo: Double
    public var hi: Double
  }

  /// The domains of compute_similarity.py, in its order.
  public static let domains: [Domain] = [
    Domain(key: "lora_rank", scale: .log2, lo: 4, hi: 64),
    Domain(key: "lora_alpha", scale: .log2, lo: 1, hi: 256),
    Domain(key: "lora_dropout", scale: .linear, lo: 0, hi: 1),
    Domain(key: "learning_rate", scale: .log10, lo: 1e-5, hi: 5e-3),
    Domain(key: "num_epochs", scale: .linear, lo: 1, hi: 20),
    Domain(key: "gradient_accumulation_steps", scale: .linear, lo: 1, hi: 8),
  ]

  static func clip01(_ x: Double) -> Double { min(1, max(0, x)) }

  /// Similarity of two values of one key on its domain.
  public static func keySimilarity(_ a: JSONValue?, _ b: JSONValue?, domain d: Domain) -> Double {
    guard let a, let b else { return 0 }
    guard case .number(let x) = a, case .number(let y) = b else { return a == b ? 1 : 0 }
    switch d.scale {
    case .linear:
      return clip01(1 - abs(x - y) / (d.hi - d.lo))
    case .log2, .log10:
      guard x > 0, y > 0 else { return 0 }
      let f: (Double) -> Double = d.scale == .log2 ? { Foundation.log2($0) } : { Foundation.log10($0) }
      return clip01(1 - abs(f(x) - f(y)) / abs(f(d.hi) - f(d.lo)))
    }
  }

  /// Weighted (all weights 1) mean over the fixed keys.
  public static func pair(_ a: [String: JSONValue], _ b: [String: JSONValue]) -> Double {
    domains.reduce(0) { $0 + keySimilarity(a[$1.key], b[$1.key], domain: $1) } / Double(domains.count)
  }

  /// Mean over unordered pairs; nil for fewer than two templates (no pair to compare).
  public static func group(_ hps: [[String: JSONValue]]) -> Double? {
    meanOverPairs(hps.count) { pair(hps[$0], hps[$1]) }
  }
}

/// Mean of f(i, j) over all i < j; nil when n < 2.
func meanOverPairs(_ n: Int, _ f: (Int, Int) throws -> Double) rethrows -> Double? {
  guard n >= 2 else { return nil }
  var s = 0.0, k = 0
  for i in 0..<n { for j in (i + 1)..<n { s += try f(i, j); k += 1 } }
  return s / Double(k)
}

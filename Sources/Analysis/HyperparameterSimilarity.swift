// Hyperparameter similarity of self-edit templates, exactly as (X) src/compute_similarity.py
// (reference-pipeline.md 4.1): pair similarity = mean over the 6 fixed keys (weights 1) of a
// per-key similarity on a fixed domain; linear keys 1 - |a-b|/(hi-lo), log keys
// 1 - |log a - log b| / |log hi - log lo| (log2 or log10; the base cancels but is kept for fidelity);
// values are NOT clamped to the domain, only the per-key similarity is clamped to [0, 1];
// a key missing on either side scores 0 (still counted in the denominator); a non-positive value on
// a log scale scores 0; non-numeric values score 1 if equal else 0. Group score = mean over the
// unordered pairs.
import Foundation
import Search

/// A template as the search proposes it (instruction + hyperparameters as proposed, which the
/// similarity measures read, as the reference does; `clamped` holds what the policy trained instead).
public typealias Template = SelfEditTemplate

extension SelfEditTemplate {
  /// A template read from a document decoded as `JSONValue` (released files, run files): numbers
  /// become floats and keys are sorted, which neither the measures nor the reports depend on.
  public init(instruction: String, hyperparameters: [String: JSONValue], clamped: [String: Double] = [:]) {
    self.init(instruction: instruction, hyperparameters: PyJSON(hyperparameters), clamped: clamped)
  }

  /// A proposed hyperparameter when it is a number (ints and floats; not booleans).
  public func proposed(_ key: String) -> Double? { hyperparameters[key]?.number }
}

extension PyJSON {
  public init(_ object: [String: JSONValue]) {
    self = .object(object.keys.sorted().map { ($0, PyJSON(object[$0]!)) })
  }

  public init(_ v: JSONValue) {
    switch v {
    case .null: self = .null
    case .bool(let b): self = .bool(b)
    case .integer, .number: self = .float(v.double!)  // as the released files' readers see them
    case .string(let s): self = .string(s)
    case .array(let a): self = .array(a.map(PyJSON.init))
    case .object(let o): self = PyJSON(o)
    }
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
  public static func keySimilarity(_ a: PyJSON?, _ b: PyJSON?, domain d: Domain) -> Double {
    guard let a, let b else { return 0 }
    // Booleans compare by equality, as before the template types merged (Python would count them as ints).
    guard let x = a.number, let y = b.number else { return a == b ? 1 : 0 }
    switch d.scale {
    case .linear:
      return clip01(1 - abs(x - y) / (d.hi - d.lo))
    case .log2, .log10:
      guard x > 0, y > 0 else { return 0 }
      let f: (Double) -> Double = d.scale == .log2 ? { Foundation.log2($0) } : { Foundation.log10($0) }
      return clip01(1 - abs(f(x) - f(y)) / abs(f(d.hi) - f(d.lo)))
    }
  }

  /// Weighted (all weights 1) mean over the fixed keys of two hyperparameter objects.
  public static func pair(_ a: PyJSON, _ b: PyJSON) -> Double {
    domains.reduce(0) { $0 + keySimilarity(a[$1.key], b[$1.key], domain: $1) } / Double(domains.count)
  }

  /// Mean over unordered pairs; nil for fewer than two templates (no pair to compare).
  public static func group(_ hps: [PyJSON]) -> Double? {
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

// Statistics shared by every report: means with seeded bootstrap 95% intervals over passages,
// paired differences between methods on the same passages, macro and micro averages.
// Invariants: deterministic (SplitMix64 seeded by the caller; same inputs and seed -> same bytes);
// resampling is over passages (the unit of independence), never over questions; intervals are the
// percentile interval (2.5th and 97.5th percentiles of the resampled means, linear interpolation
// between order statistics, as numpy's default `percentile`).
import Foundation
import Workspace

/// A point estimate with a confidence interval.
public struct Estimate: Equatable, Codable, Sendable {
  public var mean: Double
  public var lower: Double
  public var upper: Double
  /// Number of units (passages) the estimate is over.
  public var n: Int
  public init(mean: Double, lower: Double, upper: Double, n: Int) {
    self.mean = mean; self.lower = lower; self.upper = upper; self.n = n
  }
}

public enum Stats {
  public static func mean(_ xs: [Double]) -> Double {
    xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
  }

  /// Sample standard deviation (n-1); NaN below 2 values.
  public static func sampleStd(_ xs: [Double]) -> Double {
    guard xs.count > 1 else { return .nan }
    let m = mean(xs)
    return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
  }

  /// numpy-style percentile (linear interpolation) of already sorted values; q in [0, 100].
  public static func percentile(sorted xs: [Double], _ q: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let pos = q / 100 * Double(xs.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, xs.count - 1)
    let frac = pos - Double(lo)
    return xs[lo] + (xs[hi] - xs[lo]) * frac
  }

  /// Mean of per-passage values with a percentile-bootstrap interval. `level` 0.95 -> 2.5/97.5.
  /// Throws on empty input. One value gives a zero-width interval.
  public static func bootstrapMean(
    _ values: [Double], resamples: Int = 2000, level: Double = 0.95,
    seed: UInt64 = 0
  ) throws -> Estimate {
    guard !values.isEmpty else {
      throw ExperimentError.invalidInput(what: "bootstrap", expected: "at least one value", found: "none")
    }
    guard resamples > 0, level > 0, level < 1 else {
      throw ExperimentError.invalidInput(
        what: "bootstrap", expected: "resamples > 0 and 0 < level < 1",
        found: "resamples \(resamples), level \(level)")
    }
    var rng = SplitMix64(seed: seed)
    let n = values.count
    var means = [Double](repeating: 0, count: resamples)  // (resamples)
    for r in 0..<resamples {
      var s = 0.0
      for _ in 0..<n { s += values[rng.below(n)] }
      means[r] = s / Double(n)
    }
    means.sort()
    let tail = (1 - level) / 2 * 100
    return Estimate(
      mean: mean(values), lower: percentile(sorted: means, tail),
      upper: percentile(sorted: means, 100 - tail), n: n)
  }

  /// Macro average: mean over units of (correct / total of that unit). Units with total 0 are skipped.
  public static func macro(correct: [Int], total: [Int]) -> Double {
    var vals: [Double] = []
    for (c, t) in zip(correct, total) where t > 0 { vals.append(Double(c) / Double(t)) }
    return mean(vals)
  }

  /// Micro average: all correct over all total.
  public static func micro(correct: [Int], total: [Int]) -> Double {
    let t = total.reduce(0, +)
    return t == 0 ? .nan : Double(correct.reduce(0, +)) / Double(t)
  }
}

/// Paired comparison of two methods on the same passages: per-passage difference a - b.
public struct PairedDifference: Equatable, Codable, Sendable {
  public var difference: Estimate
  /// Passages where a > b, a < b, a == b.
  public var wins: Int
  public var losses: Int
  public var ties: Int
  /// Two-sided exact sign-test p-value over non-tied passages (1 when all tie).
  public var signTestP: Double

  /// `a[i]` and `b[i]` are the two methods' scores on passage i. Same seed -> same interval.
  public init(a: [Double], b: [Double], resamples: Int = 2000, seed: UInt64 = 0) throws {
    guard a.count == b.count else {
      throw ExperimentError.invalidInput(
        what: "paired difference", expected: "equal numbers of passages",
        found: "\(a.count) and \(b.count)")
    }
    let d = zip(a, b).map { $0 - $1 }
    difference = try Stats.bootstrapMean(d, resamples: resamples, seed: seed)
    wins = d.filter { $0 > 0 }.count
    losses = d.filter { $0 < 0 }.count
    ties = d.count - wins - losses
    signTestP = PairedDifference.signTest(wins: wins, losses: losses)
  }

  /// Exact two-sided binomial test with p = 1/2, computed in log space so large n do not overflow.
  public static func signTest(wins: Int, losses: Int) -> Double {
    let n = wins + losses
    guard n > 0 else { return 1 }
    let k = min(wins, losses)
    var tail = 0.0
    for i in 0...k {
      let logC = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
      tail += exp(logC - Double(n) * log(2.0))
    }
    return min(1, 2 * tail)
  }
}

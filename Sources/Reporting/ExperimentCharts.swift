// Chart builders over plain tables, for the paper report and for the experiment commands' own runs.
// None of them reads a file: callers pass numbers (per-passage scores, per-iteration values).
import Analysis
import Foundation

/// Per-iteration scores of one method, with per-passage values for the interval.
public struct IterationScores: Sendable {
  public var method: String
  public var iterations: [Int]
  /// perPassage[i] = the passage scores at iterations[i].
  public var perPassage: [[Double]]
  public init(method: String, iterations: [Int], perPassage: [[Double]]) {
    self.method = method; self.iterations = iterations; self.perPassage = perPassage
  }
}

public enum ExperimentCharts {
  /// Accuracy per iteration per method, each with a seeded bootstrap 95% band over passages.
  public static func accuracyPerIteration(name: String, title: String, methods: [IterationScores],
                                          references: [ReferenceLine] = [], seed: UInt64 = 0, resamples: Int = 2000,
                                          yLabel: String = "accuracy (macro over passages)") throws -> Chart {
    var series: [Series] = []
    for (k, m) in methods.enumerated() {
      let est = try m.perPassage.enumerated().map { i, v in
        try Stats.bootstrapMean(v, resamples: resamples, seed: seed &+ UInt64(k * 1000 + i))
      }
      series.append(Series(name: m.method + " (95% CI band)", x: m.iterations.map(Double.init), y: est.map(\.mean),
                           lower: est.map(\.lower), upper: est.map(\.upper)))
    }
    return Chart(name: name, title: title, xLabel: "iteration", yLabel: yLabel,
                 kind: .lines(series, references: references), integerXTics: true)
  }

  /// Per-passage gain of method B against method A: one point per passage.
  public static func gainScatter(name: String, title: String, methodA: String, gainsA: [Double],
                                 methodB: String, gainsB: [Double]) -> Chart {
    let lo = min(gainsA.min() ?? 0, gainsB.min() ?? 0, 0) - 0.05
    let hi = max(gainsA.max() ?? 0, gainsB.max() ?? 0, 0) + 0.05
    return Chart(name: name, title: title, xLabel: "per-passage gain: \(methodA)", yLabel: "per-passage gain: \(methodB)",
                 kind: .scatter(x: gainsA, y: gainsB, pointLabel: "one passage"), yRange: lo...hi, xRange: lo...hi)
  }

  /// Bar chart of per-method means with 95% intervals.
  public static func methodBars(name: String, title: String, yLabel: String, rows: [(method: String, estimate: Estimate)],
                                yRange: ClosedRange<Double>? = nil) -> Chart {
    Chart(name: name, title: title, xLabel: "method", yLabel: yLabel,
          kind: .bars(rows.map { Bar(label: $0.method, value: $0.estimate.mean, lower: $0.estimate.lower, upper: $0.estimate.upper) }),
          yRange: yRange)
  }

  /// Similarity per iteration for several variants, with a threshold line.
  public static func similarityPerIteration(name: String, title: String, yLabel: String,
                                            series: [(name: String, values: [Double?])], threshold: ReferenceLine?,
                                            yRange: ClosedRange<Double> = 0...1.05) -> Chart {
    let s = series.map { entry -> Series in
      let pts = entry.values.enumerated().compactMap { i, v in v.map { (Double(i), $0) } }
      return Series(name: entry.name, x: pts.map(\.0), y: pts.map(\.1))
    }
    return Chart(name: name, title: title, xLabel: "iteration", yLabel: yLabel,
                 kind: .lines(s, references: threshold.map { [$0] } ?? []), yRange: yRange, integerXTics: true)
  }
}

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

/// One run's validation per iteration (a strategy search): the adapted score with its interval and
/// the un-adapted proposer's score on the same passages.
public struct ValidationSeries: Sendable {
  public var run: String
  public var iterations: [Int]
  public var score: [Estimate?]
  public var gain: [Estimate?]
  public var baseline: [Double?]
  public init(run: String, iterations: [Int], score: [Estimate?], gain: [Estimate?], baseline: [Double?]) {
    self.run = run; self.iterations = iterations; self.score = score; self.gain = gain; self.baseline = baseline
  }
}

public enum ExperimentCharts {
  /// The model whose embeddings the paper's text-collapse threshold (0.92) was set on. The line is
  /// drawn only on that measure: not on another embedding model's (MiniLM), not on lexical ones.
  public static let textThresholdModel = CollapseThresholds.paperTextModel

  /// Accuracy per iteration per method, each with a seeded bootstrap 95% interval over passages (whiskers).
  public static func accuracyPerIteration(
    name: String, title: String, methods: [IterationScores],
    references: [ReferenceLine] = [], seed: UInt64 = 0, resamples: Int = 2000,
    xLabel: String = "iteration",
    yLabel: String = "accuracy (macro over passages)"
  ) throws -> Chart {
    var series: [Series] = []
    for (k, m) in methods.enumerated() {
      let est = try m.perPassage.enumerated().map { i, v in
        try Stats.bootstrapMean(v, resamples: resamples, seed: seed &+ UInt64(k * 1000 + i))
      }
      series.append(
        Series(
          name: m.method + ": mean, 95% interval", x: m.iterations.map(Double.init), y: est.map(\.mean),
          lower: est.map(\.lower), upper: est.map(\.upper)))
    }
    return Chart(
      name: name, title: title, xLabel: xLabel, yLabel: yLabel,
      kind: .panels(split(series, references: references)), integerXTics: true,
      notes: ["Whiskers: percentile-bootstrap 95% interval over passages (\(resamples) resamples)."])
  }

  /// Per-passage gain of method B against method A: one point per passage. Pass method ids or
  /// names: the axes show `MethodNames.display`.
  public static func gainScatter(
    name: String, title: String, methodA: String, gainsA: [Double],
    methodB: String, gainsB: [Double]
  ) -> Chart {
    Chart(
      name: name, title: title, xLabel: "per-passage gain: \(MethodNames.display(methodA))",
      yLabel: "per-passage gain: \(MethodNames.display(methodB))",
      kind: .scatter(x: gainsA, y: gainsB, pointLabel: "one passage"))
  }

  /// Bar chart of per-method means with 95% intervals; ticks show display names, the .dat the ids.
  public static func methodBars(
    name: String, title: String, yLabel: String, rows: [(method: String, estimate: Estimate)],
    yRange: ClosedRange<Double>? = nil
  ) -> Chart {
    Chart(
      name: name, title: title, xLabel: "method", yLabel: yLabel,
      kind: .bars(
        rows.map {
          Bar(
            label: MethodNames.display($0.method), value: $0.estimate.mean, lower: $0.estimate.lower,
            upper: $0.estimate.upper, id: $0.method)
        }),
      yRange: yRange)
  }

  /// Similarity (or any per-iteration value) for several variants, with an optional threshold line
  /// that belongs to this measure; more than 6 variants become panels.
  public static func similarityPerIteration(
    name: String, title: String, yLabel: String,
    series: [(name: String, values: [Double?])], threshold: ReferenceLine?,
    yRange: ClosedRange<Double>? = nil, counts: Bool = false
  ) -> Chart {
    Chart(
      name: name, title: title, xLabel: "iteration", yLabel: yLabel,
      kind: .panels(split(series.compactMap(points), references: threshold.map { [$0] } ?? [])), yRange: yRange,
      integerXTics: true,
      integerYTics: counts, notes: missing(series.map { ($0.name, $0.values.contains { $0 != nil }) }))
  }

  /// A note naming the variants a chart leaves out because they have no value at any iteration.
  static func missing(_ present: [(name: String, any: Bool)]) -> [String] {
    let gone = present.filter { !$0.any }.map(\.name)
    return gone.isEmpty ? [] : ["No value at any iteration (not drawn): " + gone.joined(separator: ", ") + "."]
  }

  /// Text similarity of the templates per iteration: one panel per measure (each says what computes
  /// it), one series per run. The text threshold is drawn only on `textThresholdModel`'s embeddings.
  public static func textSimilarity(
    name: String, title: String, runs: [(name: String, collapse: [IterationCollapse])],
    threshold: Double
  ) -> Chart {
    var measures: [TextMeasure] = []
    for r in runs {
      for m in r.collapse.first?.text.map(\.measure) ?? [] where !measures.contains(m) { measures.append(m) }
    }
    var panels: [Panel] = [], thresholdDrawn = false
    for m in measures {
      let series = runs.compactMap { r in points((r.name, r.collapse.map { $0.score(m) })) }
      guard !series.isEmpty else { continue }
      let own = m == .embedding(model: textThresholdModel)
      thresholdDrawn = thresholdDrawn || own
      let refs = own ? [ReferenceLine(label: "collapse threshold \(Markdown.f(threshold, 2))", y: threshold)] : []
      panels += split(series, references: refs, title: measureTitle(m))
    }
    var notes =
      thresholdDrawn
      ? []
      : [
        "The paper's text-collapse threshold (\(Markdown.f(threshold, 2))) is on \(textThresholdModel)'s "
          + "(1+cos)/2 scale; none of these measures is on that scale, so it is not drawn."
      ]
    notes += missing(runs.map { r in (r.name, r.collapse.contains { $0.text.contains { $0.value != nil } }) })
    return Chart(
      name: name, title: title, xLabel: "iteration", yLabel: "mean pairwise similarity",
      kind: .panels(panels), integerXTics: true, notes: notes)
  }

  /// The collapse charts of one file of template groups (`seb analyze similarity|collapse`): the
  /// hyperparameter similarity with its threshold, and the text similarity per measure (the text
  /// threshold only on the measure it belongs to).
  public static func collapse(
    stem: String, iterations its: [IterationCollapse], thresholds: CollapseThresholds
  ) -> [Chart] {
    [
      similarityPerIteration(
        name: "\(stem)-hp-similarity", title: "Intra-iteration hyperparameter similarity (\(stem))",
        yLabel: "mean pairwise hyperparameter similarity", series: [("hyperparameters", its.map(\.hyperparameter))],
        threshold: ReferenceLine(label: "threshold \(thresholds.hyperparameter)", y: thresholds.hyperparameter)),
      textSimilarity(
        name: "\(stem)-text-similarity", title: "Intra-iteration instruction similarity (\(stem))",
        runs: [(stem, its)], threshold: thresholds.text),
    ]
  }

  /// A panel title that says what computes the similarity.
  static func measureTitle(_ m: TextMeasure) -> String {
    switch m {
    case .embedding(let model): return "embedding cosine (1+cos)/2, model \(model)"
    case .tokenJaccard: return "token Jaccard (lexical)"
    case .tfidfCosine: return "TF-IDF cosine (lexical)"
    }
  }

  /// Validation score per iteration, one panel per run: the adapted score (whiskers: its interval)
  /// beside the un-adapted proposer's, the baseline the gains are measured against.
  public static func validationScore(name: String, metric: String, runs: [ValidationSeries]) -> Chart {
    let panels = runs.map { r in
      Panel(
        title: r.run,
        series: [
          Series(
            name: "adapted (exploit template): mean, 95% interval", x: r.iterations.map(Double.init),
            y: r.score.map { $0?.mean ?? .nan },
            lower: r.score.map { $0?.lower ?? .nan }, upper: r.score.map { $0?.upper ?? .nan }),
          Series(name: "un-adapted proposer", x: r.iterations.map(Double.init), y: r.baseline.map { $0 ?? .nan }),
        ])
    }
    return Chart(
      name: name, title: "validation \(metric) per iteration, adapted and un-adapted, 95% bootstrap CI over passages",
      xLabel: "iteration", yLabel: "validation \(metric)", kind: .panels(panels), integerXTics: true)
  }

  /// Validation gain over the un-adapted proposer per iteration, the runs side by side, a line at 0.
  public static func validationGain(name: String, metric: String, runs: [ValidationSeries]) -> Chart {
    let series = runs.map { r in
      Series(
        name: r.run, x: r.iterations.map(Double.init), y: r.gain.map { $0?.mean ?? .nan },
        lower: r.gain.map { $0?.lower ?? .nan }, upper: r.gain.map { $0?.upper ?? .nan })
    }
    return Chart(
      name: name,
      title: "validation \(metric) gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages",
      xLabel: "iteration", yLabel: "gain in \(metric)",
      kind: .panels(split(series, references: [ReferenceLine(label: "no gain", y: 0)])), integerXTics: true,
      notes: ["Whiskers: 95% interval of each run's mean gain."])
  }

  /// A named list of per-iteration values as a series (iteration = index); nil when none is known.
  static func points(_ entry: (name: String, values: [Double?])) -> Series? {
    let pts = entry.values.enumerated().compactMap { i, v in v.map { (Double(i), $0) } }
    return pts.isEmpty ? nil : Series(name: entry.name, x: pts.map(\.0), y: pts.map(\.1))
  }

  /// Small multiples: series in panels of at most `Chart.maxSeriesPerPanel`, each with the references.
  static func split(_ series: [Series], references: [ReferenceLine], title: String = "") -> [Panel] {
    let n = Chart.maxSeriesPerPanel
    guard series.count > n else { return [Panel(title: title, series: series, references: references)] }
    return stride(from: 0, to: series.count, by: n).map { i in
      let part = Array(series[i..<min(i + n, series.count)])
      return Panel(
        title: (title.isEmpty ? "" : title + ", ") + "series \(i + 1)-\(i + part.count) of \(series.count)",
        series: part, references: references)
    }
  }
}

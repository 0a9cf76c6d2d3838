// The chart style that cannot mislead (issue 24): every chart kind is rendered with adversarial
// data built in memory (one outlier, identical series, all-positive values, all-negative gains,
// more series than one panel holds) and the generated gnuplot settings are checked: bar axes
// contain 0, outliers are counted and do not set the view, labels share one precision, series
// differ in dash and marker, legends sit below every plot, thresholds only on their measure.
import Analysis
import Experiment
import Foundation
import Reporting
import Testing

/// A generated script read back: the lines of each panel and of the legend, and the page height.
struct ChartScriptReading {
  var panels: [[String]] = []
  var legend: [String] = []
  var title = ""
  var height = 0.0

  init(_ gp: String) {
    var current: Int? = nil, inLegend = false
    for raw in gp.split(separator: "\n") {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("# panel") { panels.append([]); current = panels.count - 1; inLegend = false; continue }
      if line.hasPrefix("# legend") { inLegend = true; current = nil; continue }
      if line.hasPrefix("set multiplot title ") { title = String(line.dropFirst("set multiplot title ".count)) }
      if let r = line.range(of: #"size \d+,(\d+)"#, options: .regularExpression) {
        height = Double(line[r].split(separator: ",").last!) ?? 0
      }
      if inLegend { legend.append(line) } else if let c = current { panels[c].append(line) }
    }
  }

  static func value(_ lines: [String], _ prefix: String) -> String? {
    lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
  }
  static func range(_ lines: [String], _ axis: String) -> ClosedRange<Double>? {
    guard let v = value(lines, "set \(axis)range [") else { return nil }
    let parts = v.dropLast().split(separator: ":").compactMap { Double($0) }
    return parts.count == 2 ? parts[0]...parts[1] : nil
  }
  static func screen(_ lines: [String], _ margin: String) -> Double? {
    value(lines, "set \(margin) at screen ").flatMap(Double.init)
  }
  /// Plot elements (the `plot` line and its continuations).
  static func plots(_ lines: [String]) -> [String] {
    guard let i = lines.firstIndex(where: { $0.hasPrefix("plot ") }) else { return [] }
    var out: [String] = []
    for l in lines[i...] { out.append(l); if !l.hasSuffix("\\") { break } }
    return out
  }
  /// "dt X" and "pt Y" of a style.
  static func style(_ line: String, _ key: String) -> String? {
    guard let r = line.range(of: key + #" (\([0-9,]+\)|[0-9]+)"#, options: .regularExpression) else { return nil }
    return String(line[r])
  }
  /// The legend's line series (a dash and a marker; a scatter's points have no line).
  var seriesEntries: [String] {
    legend.filter { $0.contains("keyentry") && $0.contains(" pt ") && $0.contains(" dt ") }
  }
}

/// Charts of every kind with data chosen to break a naive style.
enum AdversarialCharts {
  static func est(_ m: Double, _ half: Double) -> Estimate {
    Estimate(mean: m, lower: m - half, upper: m + half, n: 200)
  }

  static func scatterData() -> (x: [Double], y: [Double]) {
    var x = (0..<60).map { sin(Double($0) * 1.3) * 0.8 + 0.4 }
    var y = (0..<60).map { cos(Double($0) * 0.7) * 1.5 - 0.5 }
    x += [0.2, 0.2, 0.2, 0.421]; y += [0.2, 0.2, 0.2, -9.89]  // three at one place, one far out
    return (x, y)
  }

  static func collapse(embedder: String) throws -> [IterationCollapse] {
    let a = Template(instruction: "same words here", hyperparameters: [:]),
      b = Template(instruction: "other text entirely", hyperparameters: [:])
    return try Collapse.analyze(
      [[a, b], [a, a]],
      embedder: FixedEmbedder(name: embedder, vectors: ["same words here": [1, 0], "other text entirely": [0, 1]]))
  }

  static func validation(_ run: String) -> ValidationSeries {
    ValidationSeries(
      run: run, iterations: [0, 1], score: [est(-6.4, 0.5), est(-6.2, 0.4)], gain: [est(-0.46, 0.3), est(-0.4, 0.3)],
      baseline: [-5.94, -5.95])
  }

  static func all() throws -> [Chart] {
    let (sx, sy) = scatterData()
    let identical: [(name: String, values: [Double?])] = [
      ("archive", [1, 1]), ("qd", [1, 1]), ("noarchive", [0.7, 0.78]),
    ]
    let nine = (0..<9).map { i in (name: "series \(i)", values: [Double(i) / 10, Double(i) / 10] as [Double?]) }
    return [
      ExperimentCharts.methodBars(
        name: "bars-positive", title: "all positive, far from 0", yLabel: "characters",
        rows: [
          ("implications", est(977, 150)), ("released:iter2_val.json", est(850, 40)),
          ("released:gpt4_1_val.json", est(2093, 70)),
        ]),
      ExperimentCharts.methodBars(
        name: "bars-negative", title: "all-negative gains", yLabel: "gain",
        rows: [
          ("implications", est(-0.912, 0.16)), ("rewrite", est(-0.827, 0.16)),
          ("released:base_val.json", est(-0.1, 0.05)),
        ]),
      ExperimentCharts.methodBars(
        name: "bars-outlier", title: "one bar far above the others", yLabel: "accuracy",
        rows: [
          ("base", est(0.0382, 0.01)), ("passage", est(0.0643, 0.015)), ("released:gpt4_1_val.json", est(0.11, 0.02)),
          ("released:base_val.json", est(9, 0.02)),
        ]),
      ExperimentCharts.gainScatter(
        name: "scatter-outlier", title: "one passage far out", methodA: "passage", gainsA: sx,
        methodB: "released:gpt4_1_val.json", gainsB: sy),
      ExperimentCharts.similarityPerIteration(
        name: "lines-identical", title: "identical series", yLabel: "hyperparameter similarity",
        series: identical, threshold: ReferenceLine(label: "collapse threshold 0.98", y: 0.98)),
      ExperimentCharts.similarityPerIteration(
        name: "lines-outlier", title: "one value far out", yLabel: "tokens",
        series: [("a", [180, 64, 5000]), ("b", [170, 180, 175])], threshold: nil),
      ExperimentCharts.similarityPerIteration(
        name: "lines-nine", title: "nine series", yLabel: "similarity", series: nine, threshold: nil),
      ExperimentCharts.textSimilarity(
        name: "text-minilm", title: "MiniLM and lexical",
        runs: [
          ("r1", try collapse(embedder: "all-MiniLM-L6-v2")),
          ("r2", try collapse(embedder: "all-MiniLM-L6-v2")),
        ], threshold: 0.92),
      ExperimentCharts.textSimilarity(
        name: "text-paper-model", title: "the paper's embedding model",
        runs: [("r1", try collapse(embedder: ExperimentCharts.textThresholdModel))],
        threshold: 0.92),
      ExperimentCharts.validationScore(
        name: "score-identical", metric: "gold_loglik", runs: [validation("archive"), validation("qd")]),
      ExperimentCharts.validationGain(
        name: "gain-identical", metric: "gold_loglik",
        runs: [validation("archive"), validation("qd"), validation("rewrite")]),
      try ExperimentCharts.accuracyPerIteration(
        name: "accuracy", title: "per round",
        methods: [
          IterationScores(
            method: "SEAL", iterations: [0, 1, 2], perPassage: [[0, 1, 0.5, 0.5], [1, 1, 0.5, 0], [1, 1, 1, 0.5]])
        ],
        references: [ReferenceLine(label: "base 0.33", y: 0.33)], resamples: 200),
    ]
  }

  static func named(_ name: String) throws -> (chart: Chart, dat: String, gp: ChartScriptReading) {
    let c = try #require(try all().first { $0.name == name })
    let (dat, gp) = try ChartWriter.render(c)
    return (c, dat, ChartScriptReading(gp))
  }
}

@Suite("Chart style")
struct ChartStyleTests {
  @Test(
    "every chart kind: axis titles, at most 6 series a panel, distinct dash and marker, no translucent bands, the legend below every plot"
  )
  func everyChart() throws {
    for c in try AdversarialCharts.all() {
      let (_, gp) = try ChartWriter.render(c)
      let s = ChartScriptReading(gp)
      #expect(!s.panels.isEmpty, "\(c.name)")
      #expect(!gp.contains("filledcurves") && !gp.contains("transparent"), "\(c.name): translucent band")
      #expect(!gp.contains("rotate"), "\(c.name): rotated tick labels")
      for p in s.panels {
        #expect(
          ChartScriptReading.value(p, "set xlabel \"").map { !$0.hasPrefix("\"") } == true, "\(c.name): x axis title")
        #expect(
          ChartScriptReading.value(p, "set ylabel \"").map { !$0.hasPrefix("\"") } == true, "\(c.name): y axis title")
        let series = Set(
          ChartScriptReading.plots(p).filter { $0.contains(".dat\" index") }.compactMap {
            $0.range(of: #"index \d+"#, options: .regularExpression).map { String($0.description) }
          })
        #expect(series.count <= Chart.maxSeriesPerPanel, "\(c.name): \(series.count) series in a panel")
        // The legend band ends below the panel's tic labels and x label (two text lines).
        if !s.legend.isEmpty, let top = ChartScriptReading.screen(s.legend, "tmargin"),
          let bottom = ChartScriptReading.screen(p, "bmargin")
        {
          #expect(top + 34 / s.height < bottom, "\(c.name): legend reaches into a panel's x label")
        }
      }
      let entries = s.seriesEntries
      #expect(
        Set(entries.compactMap { ChartScriptReading.style($0, "dt") }).count == entries.count,
        "\(c.name): dash patterns repeat")
      #expect(
        Set(entries.compactMap { ChartScriptReading.style($0, "pt") }).count == entries.count,
        "\(c.name): markers repeat")
      if !s.legend.isEmpty { #expect(s.legend.contains { $0.hasPrefix("set key at screen") && $0.contains("box") }) }
    }
  }

  @Test(
    "a bar chart's value axis contains 0: all-positive bars stand on it, all-negative gains hang from it, no bar is cut"
  )
  func barsFromZero() throws {
    let pos = try AdversarialCharts.named("bars-positive")
    let r = try #require(ChartScriptReading.range(pos.gp.panels[0], "y"))
    #expect(r.lowerBound == 0 && r.upperBound > 2163)
    let neg = try #require(ChartScriptReading.range(try AdversarialCharts.named("bars-negative").gp.panels[0], "y"))
    #expect(neg.upperBound == 0 && neg.lowerBound < -1.072)
    let out = try #require(ChartScriptReading.range(try AdversarialCharts.named("bars-outlier").gp.panels[0], "y"))
    #expect(out.lowerBound == 0 && out.upperBound > 9.02)
    // A gain chart with both signs shows the zero line.
    let mixed = Chart(
      name: "m", title: "t", xLabel: "method", yLabel: "gain",
      kind: .bars([Bar(label: "a", value: 0.49), Bar(label: "b", value: -0.9)]))
    let m = ChartScriptReading(try ChartWriter.render(mixed).gp)
    #expect(
      ChartScriptReading.range(m.panels[0], "y").map { $0.contains(0) && $0.lowerBound < -0.9 && $0.upperBound > 0.49 }
        == true)
    #expect(m.panels[0].contains { $0.hasPrefix("set xzeroaxis") })
  }

  @Test("bar labels share one precision; ticks show display names, the .dat keeps the raw ids")
  func barLabels() throws {
    func labels(_ dat: String) -> [String] {
      dat.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
        $0.split(separator: "\"").last.map(String.init)
      }
    }
    // val200's contains bars: three decimals for all, none in scientific notation.
    let val200 = Chart(
      name: "v", title: "t", xLabel: "method", yLabel: "accuracy",
      kind: .bars([0.0382, 0.0643, 0.11, 0.175, 0.046, 0.0486].map { Bar(label: "m", value: $0) }))
    #expect(labels(try ChartWriter.render(val200).dat) == ["0.038", "0.064", "0.110", "0.175", "0.046", "0.049"])
    #expect(labels(try AdversarialCharts.named("bars-outlier").dat) == ["0.04", "0.06", "0.11", "9.00"])
    let big = try AdversarialCharts.named("bars-positive")
    #expect(labels(big.dat) == ["977", "850", "2093"])
    let tics = try #require(ChartScriptReading.value(big.gp.panels[0], "set xtics ("))
    #expect(tics.contains("GPT-4.1 self-edits") && !tics.contains("released:") && !tics.contains("e+03"))
    #expect(big.dat.contains("\"released:gpt4_1_val.json\""))
    #expect(MethodNames.display("released:gpt4_1_val.json") == "GPT-4.1 self-edits (released)")
    #expect(MethodNames.display("released:base_val.json") == "Qwen2.5-7B base self-edits (released)")
    #expect(
      MethodNames.display("implications") == "implications"
        && MethodNames.display("released:x.json") == "x.json (released)")
  }

  @Test("a scatter's outlier is drawn at the edge and counted in a note; it does not set the view")
  func scatterOutlier() throws {
    let s = try AdversarialCharts.named("scatter-outlier")
    let y = try #require(ChartScriptReading.range(s.gp.panels[0], "y"))
    #expect(y.lowerBound > -3 && y.contains(0) && y.contains(1))
    #expect(s.gp.title.contains("1 point beyond the view") && s.gp.title.contains("-9.89"))
    #expect(s.dat.contains("\n\n# beyond the view") && s.dat.contains(" 0.421 -9.89\n"))
    // Three passages at one place are one point of area 3, and the legend says larger = several.
    #expect(s.dat.contains("0.2 0.2 3\n") && s.gp.legend.contains { $0.contains("several at one place") })
    #expect(!s.gp.panels[0].contains("set size square"))
  }

  @Test("identical series are drawn side by side, with their own dash and marker, and a note says so")
  func identicalSeries() throws {
    let s = try AdversarialCharts.named("lines-identical")
    let blocks = s.dat.components(separatedBy: "\n\n\n")
    #expect(blocks.count == 3)
    let drawnX = blocks.map { b in
      b.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ")[4] }
    }
    #expect(drawnX[0] != drawnX[1])
    #expect(s.gp.title.contains("side by side"))
    #expect(s.gp.seriesEntries.count == 3)
  }

  @Test("a value far out on a line chart stays in view (each point is an aggregate, never cut)")
  func linesOutlier() throws {
    let y = try #require(ChartScriptReading.range(try AdversarialCharts.named("lines-outlier").gp.panels[0], "y"))
    #expect(y.contains(5000) && y.contains(64))
  }

  @Test(
    "the 0.92 text threshold only on text-embedding-3-large's panel: never on MiniLM or lexical measures; each panel names its measure"
  )
  func thresholdOnItsMeasure() throws {
    let mini = try AdversarialCharts.named("text-minilm")
    #expect(mini.gp.panels.count == 3)
    for p in mini.gp.panels { #expect(!ChartScriptReading.plots(p).contains { $0.contains("0.92 with lines") }) }
    #expect(mini.gp.title.contains("not drawn"))
    #expect(mini.gp.panels.contains { ($0.first { $0.hasPrefix("set title") } ?? "").contains("all-MiniLM-L6-v2") })
    #expect(mini.gp.panels.contains { ($0.first { $0.hasPrefix("set title") } ?? "").contains("Jaccard (lexical)") })
    let paper = try AdversarialCharts.named("text-paper-model")
    let with = paper.gp.panels.filter { ChartScriptReading.plots($0).contains { $0.contains("0.92 with lines") } }
    #expect(
      with.count == 1
        && (with[0].first { $0.hasPrefix("set title") } ?? "").contains(ExperimentCharts.textThresholdModel))
    // The hyperparameter threshold stays on the hyperparameter chart.
    #expect(
      ChartScriptReading.plots(try AdversarialCharts.named("lines-identical").gp.panels[0]).contains {
        $0.contains("0.98 with lines")
      })
  }

  @Test("more than 6 series become small multiples; one panel of 7 is refused")
  func smallMultiples() throws {
    let nine = try AdversarialCharts.named("lines-nine")
    #expect(nine.gp.panels.count == 2 && nine.gp.seriesEntries.count == 9)
    let seven = (0..<7).map { Series(name: "s\($0)", x: [0, 1], y: [1, 2]) }
    #expect(throws: ReportingError.self) {
      try ChartWriter.render(
        Chart(name: "c", title: "t", xLabel: "x", yLabel: "y", kind: .lines(seven, references: [])))
    }
    #expect(throws: ReportingError.self) {
      try ChartWriter.render(
        Chart(name: "c", title: "t", xLabel: "", yLabel: "y", kind: .bars([Bar(label: "a", value: 1)])))
    }
  }

  @Test("a series without points is left out; a chart with nothing to draw says so")
  func emptySeries() throws {
    let some = Chart(
      name: "e", title: "t", xLabel: "x", yLabel: "y",
      kind: .lines([Series(name: "a", x: [0, 1], y: [1, 2]), Series(name: "none", x: [], y: [])], references: []))
    let entries = ChartScriptReading(try ChartWriter.render(some).gp).seriesEntries
    #expect(some.hasPoints && entries.count == 1)
    let none = Chart(
      name: "n", title: "t", xLabel: "x", yLabel: "y",
      kind: .panels([Panel(title: "p", series: [Series(name: "none", x: [], y: [])])]))
    #expect(!none.hasPoints)
    #expect(throws: ReportingError.self) { try ChartWriter.render(none) }
  }

  @Test(
    "the search score chart shows the un-adapted proposer beside the adapted score in every run's panel; intervals are whiskers"
  )
  func searchScoreBaseline() throws {
    let s = try AdversarialCharts.named("score-identical")
    #expect(s.gp.panels.count == 2)
    for p in s.gp.panels {
      let plots = ChartScriptReading.plots(p)
      #expect(plots.contains { $0.contains("yerrorbars") } && plots.filter { $0.contains("linespoints") }.count == 1)
    }
    #expect(
      s.gp.legend.contains { $0.contains("un-adapted proposer") } && s.gp.legend.contains { $0.contains("yerrorlines") }
    )
    let gain = try AdversarialCharts.named("gain-identical")
    #expect(
      ChartScriptReading.plots(gain.gp.panels[0]).contains {
        $0.hasPrefix("0 with lines") || $0.contains(" 0 with lines")
      })
  }

  @Test("gnuplot draws every adversarial chart (skipped without gnuplot)")
  func gnuplotRenders() throws {
    guard let exe = ChartWriter.findOnPath("gnuplot") else { return }
    let dir = NSTemporaryDirectory() + "seb-chart-style-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for c in try AdversarialCharts.all() {
      let o = try ChartWriter(directory: dir, gnuplot: exe).write(c)
      #expect(o.rendered, "\(c.name): \(o.message ?? "")")
    }
  }
}

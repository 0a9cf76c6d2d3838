// The gnuplot script of a chart: every kind is drawn as one or more panels in a multiplot whose
// margins are computed here in pixels, so nothing depends on gnuplot's automatic margins (which
// put an outside legend over the x label). Top to bottom: the title and notes, the panels (each
// with its title, tics and axis titles), then the legend in its own band at the foot, outside
// every plot. Style rules:
// - a series' colour, dash pattern and marker follow its name, the same in every panel, all three
//   distinct for up to 10 names (grey print and colour-blind readers still tell them apart);
// - intervals are whiskers (`yerrorlines`), never translucent bands that blend into colours the
//   legend does not show; on an iteration axis, series whose points coincide (or which carry
//   whiskers) are drawn side by side, and a note says by how much;
// - bars: ticks are wrapped display names, labels share one precision and sit beyond the whisker.
import Foundation

/// One plot of a chart; `settings` are gnuplot lines after the panel's `reset`.
struct PlotPanel {
  var title: String
  var settings: [String]
  var plots: [String]
  /// Lines of the x tic labels (wrapped bar names).
  var tickRows = 1
}

struct KeyEntry {
  var style: String
  var title: String
}

/// What a chart kind draws: data, panels, legend entries and notes for the title block.
struct Drawing {
  var dat: String
  var panels: [PlotPanel]
  var key: [KeyEntry]
  var notes: [String]
  /// A wider page than the default (many bars).
  var width: Double? = nil
}

extension ChartWriter {
  static func num(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "NaN" }
  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
  /// A double-quoted gnuplot string of several lines.
  static func quote(lines: [String]) -> String {
    "\"" + lines.map { String(quote($0).dropFirst().dropLast()) }.joined(separator: "\\n") + "\""
  }
  static func range(_ r: ClosedRange<Double>) -> String { "[\(num(r.lowerBound)):\(num(r.upperBound))]" }

  // Tableau 10 colours, and as many dash patterns and markers, one triple per series name.
  static let colors = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
  ]
  static let dashes = ["1", "2", "3", "4", "5", "(16,6)", "(2,4,8,4)", "(10,3,2,3,2,3)", "(24,8)", "(4,8)"]
  static let points = [5, 6, 7, 8, 9, 10, 11, 12, 13, 4]
  static let referenceDashes = ["2", "3", "4", "(16,6)"]
  static let referenceColor = "#444444"

  static func seriesStyle(_ i: Int) -> String {
    "lw 2 dt \(dashes[i]) pt \(points[i]) ps 1.2 lc rgb \"\(colors[i])\""
  }
  static func referenceStyle(_ j: Int) -> String {
    "lw 1.5 dt \(referenceDashes[j % referenceDashes.count]) lc rgb \"\(referenceColor)\""
  }

  // MARK: - Lines and small multiples

  static func lines(_ c: Chart, _ given: [Panel]) throws -> Drawing {
    // A series without points has nothing to draw (and an empty data block would shift gnuplot's indices).
    let panels = given.map {
      Panel(title: $0.title, series: $0.series.filter { !$0.x.isEmpty }, references: $0.references)
    }
    .filter { !$0.series.isEmpty }
    try validate(c, panels)
    var names: [String] = [], refs: [String] = []
    for p in panels {
      for s in p.series where !names.contains(s.name) { names.append(s.name) }
      for r in p.references where !refs.contains(r.label) { refs.append(r.label) }
    }
    guard names.count <= colors.count else {
      throw ReportingError.invalidChart(
        name: c.name, expected: "at most \(colors.count) differently named series", found: "\(names.count)")
    }
    let all = panels.flatMap(\.series)
    let yr =
      c.yRange
      ?? ChartView.fit(
        all.flatMap { $0.y + ($0.lower ?? []) + ($0.upper ?? []) },
        including: panels.flatMap { $0.references.map(\.y) })
    let xs = all.flatMap(\.x).filter(\.isFinite)
    let xr = c.xRange ?? (c.integerXTics ? ((xs.min() ?? 0) - 0.4)...((xs.max() ?? 0) + 0.4) : ChartView.fit(xs))
    var dat =
      "# blocks (gnuplot index) in order: "
      + panels.flatMap { p in p.series.map { (p.title.isEmpty ? "" : p.title + ": ") + $0.name } }
      .joined(separator: " | ") + "\n# x y lower upper x_drawn (x_drawn = x moved sideways where series coincide)\n"
    var block = 0, maxOffset = 0.0
    var out: [PlotPanel] = []
    for p in panels {
      let offsets =
        c.integerXTics && needsDodge(p, span: yr.upperBound - yr.lowerBound)
        ? ChartView.dodge(p.series.count) : Array(repeating: 0.0, count: p.series.count)
      maxOffset = max(maxOffset, offsets.map(abs).max() ?? 0)
      var plots: [String] = []
      for (s, dx) in zip(p.series, offsets) {
        dat += (block > 0 ? "\n\n" : "") + dataBlock(s, dx: dx)
        plots += seriesPlots(s, file: quote(c.name + ".dat"), index: block, style: names.firstIndex(of: s.name)!)
        block += 1
      }
      plots += p.references.map { "\(num($0.y)) with lines \(referenceStyle(refs.firstIndex(of: $0.label)!)) notitle" }
      var settings = ["set xrange \(range(xr))", "set yrange \(range(yr))"]
      if c.integerXTics { settings.append("set xtics 1") }
      if c.integerYTics { settings.append("set ytics 1") }
      out.append(PlotPanel(title: p.title, settings: settings, plots: plots))
    }
    var key = names.enumerated().map { i, n in
      KeyEntry(
        style: (all.contains { $0.name == n && $0.lower != nil } ? "yerrorlines " : "linespoints ") + seriesStyle(i),
        title: n)
    }
    key += refs.enumerated().map { KeyEntry(style: "lines " + referenceStyle($0.offset), title: $0.element) }
    var notes: [String] = []
    if maxOffset > 0 {
      let what = all.contains { $0.lower != nil } ? "equal values and their whiskers" : "equal values"
      notes.append(
        "Series are drawn side by side (x moved by up to ±\(String(format: "%.2g", maxOffset))) so that \(what) stay visible."
      )
    }
    return Drawing(dat: dat, panels: out, key: key, notes: notes)
  }

  static func validate(_ c: Chart, _ panels: [Panel]) throws {
    guard !panels.isEmpty else {
      throw ReportingError.invalidChart(name: c.name, expected: "at least one series with points", found: "none")
    }
    for p in panels {
      guard p.series.count <= Chart.maxSeriesPerPanel else {
        throw ReportingError.invalidChart(
          name: c.name, expected: "at most \(Chart.maxSeriesPerPanel) series per panel (split them into panels)",
          found: "\(p.series.count) in \"\(p.title)\"")
      }
      for s in p.series {
        guard s.x.count == s.y.count, (s.lower?.count ?? s.x.count) == s.x.count,
          (s.upper?.count ?? s.x.count) == s.x.count
        else {
          throw ReportingError.invalidChart(
            name: c.name, expected: "x, y, lower, upper of equal length in series \(s.name)",
            found: "\(s.x.count), \(s.y.count), \(s.lower?.count ?? -1), \(s.upper?.count ?? -1)")
        }
      }
    }
  }

  /// One data block: x y lower upper x_drawn.
  static func dataBlock(_ s: Series, dx: Double) -> String {
    var out = "# \(s.name)\n"
    for k in 0..<s.x.count {
      out +=
        "\(num(s.x[k])) \(num(s.y[k])) \(num(s.lower?[k] ?? s.y[k])) \(num(s.upper?[k] ?? s.y[k])) \(num(s.x[k] + dx))\n"
    }
    return out
  }

  static func seriesPlots(_ s: Series, file: String, index: Int, style i: Int) -> [String] {
    guard s.lower != nil, s.upper != nil else {
      return ["\(file) index \(index) using 5:2 with linespoints \(seriesStyle(i)) notitle"]
    }
    // Whiskers solid whatever the series' dash (a dotted whisker is hard to see), the line dashed.
    return [
      "\(file) index \(index) using 5:2:3:4 with yerrorbars lw 1.5 dt 1 pt \(points[i]) ps 1.2 lc rgb \"\(colors[i])\" notitle",
      "\(file) index \(index) using 5:2 with lines lw 2 dt \(dashes[i]) lc rgb \"\(colors[i])\" notitle",
    ]
  }

  /// Whether a panel's series must be drawn side by side: several carry whiskers, or two share a point.
  static func needsDodge(_ p: Panel, span: Double) -> Bool {
    guard p.series.count > 1 else { return false }
    if p.series.filter({ $0.lower != nil }).count > 1 { return true }
    let tol = 0.015 * span
    for i in 0..<p.series.count {
      for j in (i + 1)..<p.series.count {
        let a = p.series[i], b = p.series[j]
        for (xa, ya) in zip(a.x, a.y) where ya.isFinite {
          if zip(b.x, b.y).contains(where: { $0.0 == xa && $0.1.isFinite && abs($0.1 - ya) <= tol }) { return true }
        }
      }
    }
    return false
  }

  // MARK: - Bars

  static func bars(_ c: Chart, _ bars: [Bar]) throws -> Drawing {
    guard !bars.isEmpty else {
      throw ReportingError.invalidChart(name: c.name, expected: "at least one bar", found: "none")
    }
    var yr = ChartView.barRange(bars)
    if let given = c.yRange { yr = min(yr.lowerBound, given.lowerBound)...max(yr.upperBound, given.upperBound) }
    let span = yr.upperBound - yr.lowerBound
    let decimals = ChartView.decimals(bars.map(\.value))
    let file = quote(c.name + ".dat")
    // A value label sits beyond the whisker on the bar's side of 0, centred half a line away.
    var dat = "# index id value lower upper label_y label (labels: \(decimals) decimals)\n"
    for (i, b) in bars.enumerated() {
      // A zero bar's label goes where the view has room (below, when the view ends at 0).
      let above = b.value > 0 || (b.value == 0 && yr.upperBound > 0)
      let anchor = above ? (b.upper ?? b.value) + 0.05 * span : (b.lower ?? b.value) - 0.05 * span
      dat +=
        "\(i) \(quote(b.id ?? b.label)) \(num(b.value)) \(num(b.lower ?? b.value)) \(num(b.upper ?? b.value)) \(num(anchor)) "
      dat += quote(ChartView.format(b.value, decimals: decimals)) + "\n"
    }
    // Horizontal, wrapped tick labels: no rotated text running under its neighbour or off the page;
    // many bars widen the page so that each keeps room for its name.
    let page = max(Layout.width(columns: 1), Layout.left + Layout.right + Layout.barWidth * Double(bars.count))
    let width = max(8, Int((page - Layout.left - Layout.right) / Double(bars.count) / Layout.wideCharWidth) - 2)
    let ticks = bars.map { ChartView.wrap($0.label, width: width) }
    var settings = [
      "set xrange [-0.6:\(num(Double(bars.count) - 0.4))]", "set yrange \(range(yr))",
      "set xtics (" + zip(ticks, bars.indices).map { "\(quote(lines: $0)) \($1)" }.joined(separator: ", ")
        + ") scale 0",
      "set style fill solid 0.6 border -1", "set boxwidth 0.6",
    ]
    if yr.lowerBound < 0 { settings.append("set xzeroaxis lt 1 lw 1.5 lc rgb \"#555555\"") }
    var plots = ["\(file) using 1:3 with boxes lc rgb \"\(colors[0])\" notitle"]
    if bars.contains(where: { $0.lower != nil }) {
      plots.append("\(file) using 1:3:4:5 with yerrorbars lc rgb \"#222222\" pt 7 ps 0.5 lw 1.5 notitle")
    }
    plots.append("\(file) using 1:6:7 with labels center notitle")
    let panel = PlotPanel(title: "", settings: settings, plots: plots, tickRows: ticks.map(\.count).max() ?? 1)
    return Drawing(dat: dat, panels: [panel], key: [], notes: [], width: page)
  }

  // MARK: - Scatter

  static let outlierStyle = "pt 12 ps 2.2 lw 2 lc rgb \"#d62728\""

  static func scatter(_ c: Chart, x: [Double], y: [Double], pointLabel: String) throws -> Drawing {
    guard x.count == y.count, !x.isEmpty else {
      throw ReportingError.invalidChart(
        name: c.name, expected: "equal, non-zero numbers of x and y", found: "\(x.count) and \(y.count)")
    }
    // The view fits the points inside the fences (and 0, the axes of a gain); the rest sit at its edge.
    let fx = ChartView.fences(x), fy = ChartView.fences(y)
    let inside = x.indices.filter {
      x[$0].isFinite && y[$0].isFinite && (fx?.contains(x[$0]) ?? true) && (fy?.contains(y[$0]) ?? true)
    }
    let xr = c.xRange ?? ChartView.fit(inside.map { x[$0] }, including: [0])
    let yr = c.yRange ?? ChartView.fit(inside.map { y[$0] }, including: [0])
    var counts: [String: Int] = [:], order: [(Double, Double)] = [], beyond: [(Double, Double)] = []
    for k in x.indices where x[k].isFinite && y[k].isFinite {
      guard xr.contains(x[k]), yr.contains(y[k]) else { beyond.append((x[k], y[k])); continue }
      let key = "\(num(x[k])) \(num(y[k]))"
      if counts[key] == nil { order.append((x[k], y[k])) }
      counts[key, default: 0] += 1
    }
    let file = quote(c.name + ".dat")
    // Points at one place are drawn once, their area growing with how many there are.
    var dat = "# x y count (points at the same place, drawn once with area ~ count)\n"
    for (a, b) in order { dat += "\(num(a)) \(num(b)) \(counts["\(num(a)) \(num(b))"]!)\n" }
    var plots = [
      "\(file) index 0 using 1:2:(0.7*sqrt($3)) with points pt 7 ps variable lc rgb \"\(colors[0])\" notitle",
      "x with lines lw 1 dt 2 lc rgb \"\(referenceColor)\" notitle",
    ]
    let several = counts.values.contains { $0 > 1 }
    var key = [
      KeyEntry(
        style: "points pt 7 ps 0.7 lc rgb \"\(colors[0])\"",
        title: pointLabel + (several ? " (larger: several at one place)" : "")),
      KeyEntry(style: "lines lw 1 dt 2 lc rgb \"\(referenceColor)\"", title: "y = x"),
    ]
    var notes: [String] = []
    if several, let top = order.max(by: { counts["\(num($0.0)) \(num($0.1))"]! < counts["\(num($1.0)) \(num($1.1))"]! })
    {
      let n = counts["\(num(top.0)) \(num(top.1))"]!
      notes.append(
        "A point's area grows with the number of points at one place (the largest: \(n) at (\(num(top.0)), \(num(top.1))))."
      )
    }
    if !beyond.isEmpty {
      dat += "\n\n# beyond the view: x_drawn y_drawn x y (drawn at the view's edge)\n"
      for (a, b) in beyond {
        dat +=
          "\(num(min(max(a, xr.lowerBound), xr.upperBound))) \(num(min(max(b, yr.lowerBound), yr.upperBound))) \(num(a)) \(num(b))\n"
      }
      plots.append("\(file) index 1 using 1:2 with points \(outlierStyle) notitle")
      key.append(KeyEntry(style: "points " + outlierStyle, title: "beyond the view, drawn at its edge"))
      notes.append(outlierNote(beyond))
    }
    let settings = [
      "set xrange \(range(xr))", "set yrange \(range(yr))", "set xzeroaxis lt 1 lc rgb \"#888888\"",
      "set yzeroaxis lt 1 lc rgb \"#888888\"", "set grid xtics ytics lc rgb \"#dddddd\"",
    ]
    return Drawing(dat: dat, panels: [PlotPanel(title: "", settings: settings, plots: plots)], key: key, notes: notes)
  }

  /// "1 point beyond the view (drawn at its edge): (0.38, -9.89)"; more than three are summarised.
  static func outlierNote(_ beyond: [(Double, Double)]) -> String {
    let g = { (v: Double) in String(format: "%.3g", v) }
    let head = "\(beyond.count) point\(beyond.count == 1 ? "" : "s") beyond the view (drawn at its edge): "
    let listed = beyond.prefix(3).map { "(\(g($0.0)), \(g($0.1)))" }.joined(separator: ", ")
    return head + listed + (beyond.count > 3 ? ", ..." : "")
  }

  // MARK: - Script

  static func script(_ c: Chart, _ d: Drawing) -> String {
    let l = Layout(panels: d.panels, notes: d.notes + c.notes, key: d.key, width: d.width)
    var body = "set multiplot title \(quote(lines: [c.title] + l.noteLines))\n"
    for (i, p) in d.panels.enumerated() {
      let m = l.margins(panel: i)
      body += "# panel \(i + 1)\(p.title.isEmpty ? "" : ": " + p.title)\nreset\n" + common
      body += "set lmargin at screen \(num(m.left))\nset rmargin at screen \(num(m.right))\n"
      body += "set tmargin at screen \(num(m.top))\nset bmargin at screen \(num(m.bottom))\n"
      body += p.title.isEmpty ? "unset title\n" : "set title \(quote(lines: l.titleLines(p.title)))\n"
      // gnuplot places the x label one tic line below the axis: move it below wrapped tic labels.
      body +=
        "set xlabel \(quote(c.xLabel))\(p.tickRows > 1 ? " offset 0,-\(p.tickRows - 1)" : "")\nset ylabel \(quote(c.yLabel))\n"
      body += p.settings.joined(separator: "\n") + "\nunset key\n"
      body += "plot " + p.plots.joined(separator: ", \\\n     ") + "\n"
    }
    if !d.key.isEmpty {
      // The legend: an empty plot over the band at the foot, holding only the key.
      body +=
        "# legend, below every panel and its x label\nreset\nunset border\nunset xtics\nunset ytics\nset xrange [0:1]\nset yrange [0:1]\n"
      body +=
        "set lmargin at screen 0\nset rmargin at screen 1\nset tmargin at screen \(num(l.keyTop))\nset bmargin at screen 0\n"
      body +=
        "set key at screen 0.5, screen \(num(l.keyBottom)) center bottom vertical maxrows \(l.keyRows) Left reverse box samplen 3\n"
      body +=
        "plot NaN notitle, \\\n     "
        + d.key.map { "keyentry with \($0.style) title \(quote($0.title))" }.joined(separator: ", \\\n     ") + "\n"
    }
    body += "unset multiplot\n"
    let indented = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
      .joined(separator: "\n")
    let size = "size \(Int(l.width)),\(Int(l.height))"
    return """
      # \(c.title)
      # Regenerate: gnuplot \(c.name).gp   (reads \(c.name).dat, writes \(c.name).png and \(c.name).svg)
      do for [fmt in "png svg"] {
        if (fmt eq "png") { set terminal pngcairo \(size) noenhanced font "DejaVu Sans,11" } else { set terminal svg \(size) dynamic noenhanced font "DejaVu Sans,11" }
        set output \(quote(c.name + ".")) . fmt
      \(indented)
        unset output
      }

      """
  }

  static let common = "set grid ytics lc rgb \"#dddddd\"\nset border 3\nset tics nomirror\n"
}

/// The page in pixels (converted to gnuplot's screen fractions): title block, a grid of panels each
/// with room for its title, tics and x label, and the legend band at the foot.
struct Layout {
  static let lineHeight = 17.0
  static let charWidth = 7.2
  /// A generous character width, for text that must not run into its neighbour (bar ticks).
  static let wideCharWidth = 8.2
  static let left = 92.0, right = 28.0
  static func width(columns: Int) -> Double { columns >= 3 ? 1260 : 1000 }
  /// Page pixels per bar beyond which a bar chart widens.
  static let barWidth = 118.0
  func plotWidth() -> Double { width / Double(columns) - Layout.left - Layout.right }

  var width: Double, height: Double
  var columns: Int, top: Double, cellHeight: Double, panelTitle: Double, plotHeight: Double
  var noteLines: [String]
  var keyRows: Int, keyHeight: Double

  init(panels: [PlotPanel], notes: [String], key: [KeyEntry], width page: Double? = nil) {
    let n = panels.count
    columns = n <= 3 ? n : (n == 4 ? 2 : 3)
    let rows = (n + columns - 1) / columns
    let w = max(page ?? 0, Layout.width(columns: columns))
    width = w
    noteLines = notes.flatMap { ChartView.wrap($0, width: Int(w / Layout.charWidth) - 8) }
    top = 16 + Layout.lineHeight * Double(1 + noteLines.count) + 12
    let titleWidth = Int((w / Double(columns) - Layout.left - Layout.right) / Layout.charWidth)
    let titleRows = panels.map { $0.title.isEmpty ? 0 : ChartView.wrap($0.title, width: titleWidth).count }.max() ?? 0
    panelTitle = 6 + Layout.lineHeight * Double(titleRows) + (titleRows > 0 ? 8 : 0)
    plotHeight = rows == 1 ? 380 : 250
    // Tic labels, a gap, the x label, a gap.
    let tickRows = panels.map(\.tickRows).max() ?? 1
    cellHeight = panelTitle + plotHeight + Layout.lineHeight * Double(tickRows) + 10 + Layout.lineHeight + 22
    // Legend columns as many as fit the page (entries sized generously), so its row count is known.
    let longest = key.map { $0.title.count }.max() ?? 0
    let entry = Double(longest) * Layout.charWidth + 90
    let keyColumns = max(1, min(key.count, Int((w - 40) / entry)))
    keyRows = key.isEmpty ? 0 : (key.count + keyColumns - 1) / keyColumns
    keyHeight = key.isEmpty ? 0 : Layout.lineHeight * Double(keyRows) + 18
    height = (top + Double(rows) * cellHeight + keyHeight + 12).rounded()
  }

  /// A panel title wrapped to its plot's width.
  func titleLines(_ title: String) -> [String] {
    ChartView.wrap(title, width: Int(plotWidth() / Layout.charWidth))
  }

  /// Screen fractions of panel i's plot area.
  func margins(panel i: Int) -> (left: Double, right: Double, top: Double, bottom: Double) {
    let cell = width / Double(columns)
    let col = Double(i % columns), row = Double(i / columns)
    let t = top + row * cellHeight + panelTitle
    return (
      (col * cell + Layout.left) / width, ((col + 1) * cell - Layout.right) / width,
      1 - t / height, 1 - (t + plotHeight) / height
    )
  }

  var keyBottom: Double { 8 / height }
  var keyTop: Double { (keyHeight + 10) / height }
}

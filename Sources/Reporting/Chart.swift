// Charts through gnuplot. A chart is a plain description (series of numbers, labels, reference
// lines); `ChartWriter` writes, beside each other in one folder, NAME.dat (the data), NAME.gp (a
// script that reads NAME.dat and writes NAME.png and NAME.svg) and, when gnuplot is installed, the
// two images. So every chart can be regenerated (`gnuplot NAME.gp` in that folder) and restyled.
// gnuplot missing or failing -> the .dat and .gp are still written and the result carries a message.
// Invariants: output bytes depend only on the chart (numbers printed with %.6g, fixed styles);
// text is passed with gnuplot's `noenhanced` so underscores and carets print literally.
import Foundation

public struct Series: Sendable {
  public var name: String
  public var x: [Double]
  public var y: [Double]
  /// Optional confidence band (same length as x).
  public var lower: [Double]?
  public var upper: [Double]?
  public init(name: String, x: [Double], y: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
    self.name = name; self.x = x; self.y = y; self.lower = lower; self.upper = upper
  }
}

public struct ReferenceLine: Sendable {
  public var label: String
  public var y: Double
  public init(label: String, y: Double) { self.label = label; self.y = y }
}

public struct Bar: Sendable {
  public var label: String
  public var value: Double
  public var lower: Double?
  public var upper: Double?
  public init(label: String, value: Double, lower: Double? = nil, upper: Double? = nil) {
    self.label = label; self.value = value; self.lower = lower; self.upper = upper
  }
}

public struct Chart: Sendable {
  public enum Kind: Sendable {
    /// Lines with points per series, optional bands, horizontal reference lines.
    case lines([Series], references: [ReferenceLine])
    /// One bar per label, with optional interval whiskers.
    case bars([Bar])
    /// Points (x, y) with the diagonal y = x and the axes through 0.
    case scatter(x: [Double], y: [Double], pointLabel: String)
  }
  /// File stem (no extension), e.g. "hp-similarity".
  public var name: String
  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var kind: Kind
  public var yRange: ClosedRange<Double>?
  public var xRange: ClosedRange<Double>?
  /// Integer x tics (iterations) instead of gnuplot's automatic ones.
  public var integerXTics: Bool
  public init(name: String, title: String, xLabel: String, yLabel: String, kind: Kind,
              yRange: ClosedRange<Double>? = nil, xRange: ClosedRange<Double>? = nil, integerXTics: Bool = false) {
    self.name = name; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.kind = kind
    self.yRange = yRange; self.xRange = xRange; self.integerXTics = integerXTics
  }
}

public struct ChartOutput: Sendable {
  public var name: String
  public var files: [String]
  public var rendered: Bool
  public var message: String?
  public var png: String { name + ".png" }
  public var svg: String { name + ".svg" }
}

public enum ReportingError: Error, LocalizedError, Equatable {
  case cannotWrite(path: String, reason: String)
  case invalidChart(name: String, expected: String, found: String)
  public var errorDescription: String? {
    switch self {
    case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
    case let .invalidChart(name, expected, found): return "chart \(name): expected \(expected), found \(found)"
    }
  }
}

public struct ChartWriter {
  public var directory: String
  /// gnuplot executable; nil = look it up on PATH.
  public var gnuplot: String?
  public init(directory: String, gnuplot: String? = nil) { self.directory = directory; self.gnuplot = gnuplot }

  static func num(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "NaN" }
  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  // Tableau 10: the most series a chart of ours has is 9 (text similarity), each with its own colour.
  static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                       "#bcbd22", "#17becf"]

  /// The .dat and .gp text for a chart.
  public static func render(_ c: Chart) throws -> (dat: String, gp: String) {
    var dat = "# \(c.title)\n"
    var gp = """
    # \(c.title)
    # Regenerate: gnuplot \(c.name).gp   (reads \(c.name).dat, writes \(c.name).png and \(c.name).svg)
    set title \(quote(c.title)) noenhanced
    set xlabel \(quote(c.xLabel)) noenhanced
    set ylabel \(quote(c.yLabel)) noenhanced
    set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
    set grid ytics lc rgb "#dddddd"
    set border 3
    set tics nomirror

    """
    if let r = c.yRange { gp += "set yrange [\(num(r.lowerBound)):\(num(r.upperBound))]\n" }
    if let r = c.xRange { gp += "set xrange [\(num(r.lowerBound)):\(num(r.upperBound))]\n" }
    if c.integerXTics { gp += "set xtics 1\n" }
    var plots: [String] = []
    var legendEntries = 0  // bar charts have no key
    let file = quote(c.name + ".dat")
    switch c.kind {
    case let .lines(series, refs):
      guard !series.isEmpty else { throw ReportingError.invalidChart(name: c.name, expected: "at least one series", found: "none") }
      dat += "# blocks (gnuplot index) in order: " + series.map(\.name).joined(separator: " | ") + "\n# x y lower upper\n"
      for (i, s) in series.enumerated() {
        guard s.x.count == s.y.count, (s.lower?.count ?? s.x.count) == s.x.count, (s.upper?.count ?? s.x.count) == s.x.count else {
          throw ReportingError.invalidChart(name: c.name, expected: "x, y, lower, upper of equal length in series \(s.name)",
                                            found: "\(s.x.count), \(s.y.count), \(s.lower?.count ?? -1), \(s.upper?.count ?? -1)")
        }
        if i > 0 { dat += "\n\n" }
        dat += "# \(s.name)\n"
        for k in 0..<s.x.count {
          dat += "\(num(s.x[k])) \(num(s.y[k])) \(num(s.lower?[k] ?? s.y[k])) \(num(s.upper?[k] ?? s.y[k]))\n"
        }
        let color = colors[i % colors.count]
        if s.lower != nil, s.upper != nil {
          plots.append("\(file) index \(i) using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb \"\(color)\" notitle")
        }
        // Dash type and point type as well as colour: series stay apart in grey print and for
        // colour-blind readers.
        plots.append("\(file) index \(i) using 1:2 with linespoints lw 2 dt \(1 + i % 5) pt \(5 + i % 6) ps 1.1 lc rgb \"\(color)\" title \(quote(s.name))")
      }
      legendEntries = series.count + refs.count
      for (j, r) in refs.enumerated() {
        plots.append("\(num(r.y)) with lines dt \(2 + j % 3) lw 2 lc rgb \"#444444\" title \(quote(r.label))")
      }
      if c.xRange == nil {
        let xs = series.flatMap(\.x).filter(\.isFinite)
        if let lo = xs.min(), let hi = xs.max() { gp += "set xrange [\(num(lo - 0.25)):\(num(hi + 0.25))]\n" }
      }
    case let .bars(bars):
      guard !bars.isEmpty else { throw ReportingError.invalidChart(name: c.name, expected: "at least one bar", found: "none") }
      dat += "# index label value lower upper\n"
      for (i, b) in bars.enumerated() {
        dat += "\(i) \(quote(b.label)) \(num(b.value)) \(num(b.lower ?? b.value)) \(num(b.upper ?? b.value))\n"
      }
      gp += "set style fill solid 0.6 border -1\nset boxwidth 0.6\nset xtics rotate by -25 left noenhanced\nset xrange [-0.6:\(num(Double(bars.count) - 0.4))]\nset key off\nset bmargin 8\n"
      plots.append("\(file) using 1:3:xtic(2) with boxes lc rgb \"\(colors[0])\" title \"value\"")
      if bars.contains(where: { $0.lower != nil }) {
        plots.append("\(file) using 1:3:4:5 with yerrorbars lc rgb \"#222222\" pt 0 lw 1.5 title \"95% interval\"")
        plots.append("\(file) using 1:(column(5)):(sprintf(\"%.3g\", column(3))) with labels offset 0,0.8 notitle")
      } else {
        plots.append("\(file) using 1:3:(sprintf(\"%.4g\", column(3))) with labels offset 0,0.8 notitle")
      }
    case let .scatter(x, y, pointLabel):
      guard x.count == y.count, !x.isEmpty else {
        throw ReportingError.invalidChart(name: c.name, expected: "equal, non-zero numbers of x and y", found: "\(x.count) and \(y.count)")
      }
      dat += "# x y\n"
      for k in 0..<x.count { dat += "\(num(x[k])) \(num(y[k]))\n" }
      gp += "set size square\nset xzeroaxis lt 1 lc rgb \"#888888\"\nset yzeroaxis lt 1 lc rgb \"#888888\"\n"
      plots.append("\(file) using 1:2 with points pt 7 ps 0.8 lc rgb \"\(colors[0])\" title \(quote(pointLabel))")
      plots.append("x with lines dt 2 lc rgb \"#444444\" title \"y = x\"")
      legendEntries = 2
    }
    // gnuplot 5.4 sizes the bottom margin of an outside key without the x label, so the key box
    // covered it: the key sits at the page's foot in two columns and the margin holds its rows.
    if legendEntries > 0 { gp += "set bmargin \(4 + (legendEntries + 1) / 2)\n" }
    let plot = "plot " + plots.joined(separator: ", \\\n     ")
    gp += """

    set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
    set output \(quote(c.name + ".png"))
    \(plot)
    set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
    set output \(quote(c.name + ".svg"))
    replot
    unset output

    """
    return (dat, gp)
  }

  /// Writes NAME.dat and NAME.gp, then runs gnuplot in `directory` if it can be found.
  public func write(_ chart: Chart) throws -> ChartOutput {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let (dat, gp) = try ChartWriter.render(chart)
    let datPath = (directory as NSString).appendingPathComponent(chart.name + ".dat")
    let gpPath = (directory as NSString).appendingPathComponent(chart.name + ".gp")
    try writeText(dat, to: datPath)
    try writeText(gp, to: gpPath)
    var out = ChartOutput(name: chart.name, files: [chart.name + ".dat", chart.name + ".gp"], rendered: false, message: nil)
    guard let exe = gnuplot ?? ChartWriter.findOnPath("gnuplot") else {
      out.message = "gnuplot not found on PATH: wrote \(chart.name).dat and \(chart.name).gp only (install gnuplot, then run `gnuplot \(chart.name).gp` in \(directory))"
      return out
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = [chart.name + ".gp"]
    p.currentDirectoryURL = URL(fileURLWithPath: directory)
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    do { try p.run() } catch {
      out.message = "cannot start \(exe): \(error.localizedDescription)"
      return out
    }
    let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    if p.terminationStatus == 0 {
      out.rendered = true
      out.files += [chart.name + ".png", chart.name + ".svg"]
    } else {
      out.message = "gnuplot failed on \(chart.name).gp (status \(p.terminationStatus)): \(msg.prefix(400))"
    }
    return out
  }

  public static func findOnPath(_ tool: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let p = "\(dir)/\(tool)"
      if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
  }
}

public func writeText(_ text: String, to path: String) throws {
  do {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  } catch {
    throw ReportingError.cannotWrite(path: path, reason: error.localizedDescription)
  }
}

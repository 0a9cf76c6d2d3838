// Charts through gnuplot. A chart is a plain description (series of numbers, labels, reference
// lines); `ChartWriter` writes, beside each other in one folder, NAME.dat (the data), NAME.gp (a
// script that reads NAME.dat and writes NAME.png and NAME.svg) and, when gnuplot is installed, the
// two images. So every chart can be regenerated (`gnuplot NAME.gp` in that folder) and restyled.
// gnuplot missing or failing -> the .dat and .gp are still written and the result carries a message.
// Invariants: output bytes depend only on the chart (numbers printed with %.6g, fixed styles);
// the terminals are `noenhanced` so underscores and carets print literally. The style rules (axes,
// outliers, legends, small multiples) are in ChartView.swift and ChartScript.swift.
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
  /// What the tick says (a display name: `MethodNames.display`).
  public var label: String
  public var value: Double
  public var lower: Double?
  public var upper: Double?
  /// The raw id behind the label (kept in the .dat), e.g. `released:gpt4_1_val.json`.
  public var id: String?
  public init(label: String, value: Double, lower: Double? = nil, upper: Double? = nil, id: String? = nil) {
    self.label = label; self.value = value; self.lower = lower; self.upper = upper; self.id = id
  }
}

/// One panel of small multiples: its own title, series and reference lines; the axes are shared.
public struct Panel: Sendable {
  public var title: String
  public var series: [Series]
  public var references: [ReferenceLine]
  public init(title: String, series: [Series], references: [ReferenceLine] = []) {
    self.title = title; self.series = series; self.references = references
  }
}

public struct Chart: Sendable {
  public enum Kind: Sendable {
    /// Lines with points per series (intervals as whiskers), horizontal reference lines.
    case lines([Series], references: [ReferenceLine])
    /// Small multiples: one panel each, sharing the axes, the styles of equally named series and one legend.
    case panels([Panel])
    /// One bar per label, with optional interval whiskers; the value axis contains 0.
    case bars([Bar])
    /// Points (x, y) with the diagonal y = x and the axes through 0; outliers drawn at the edge.
    case scatter(x: [Double], y: [Double], pointLabel: String)
  }
  /// More series than this in one panel cannot be told apart: split them into panels.
  public static let maxSeriesPerPanel = 6
  /// File stem (no extension), e.g. "hp-similarity".
  public var name: String
  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var kind: Kind
  /// A fixed view instead of the fitted one (a bar chart's still contains 0).
  public var yRange: ClosedRange<Double>?
  public var xRange: ClosedRange<Double>?
  /// Integer x tics (iterations) instead of gnuplot's automatic ones; coinciding series are dodged.
  public var integerXTics: Bool
  /// Integer y tics (counts).
  public var integerYTics: Bool
  /// Lines under the title: what a measure is computed with, why a line is (not) drawn.
  public var notes: [String]
  public init(
    name: String, title: String, xLabel: String, yLabel: String, kind: Kind,
    yRange: ClosedRange<Double>? = nil, xRange: ClosedRange<Double>? = nil, integerXTics: Bool = false,
    integerYTics: Bool = false, notes: [String] = []
  ) {
    self.name = name; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.kind = kind
    self.yRange = yRange; self.xRange = xRange; self.integerXTics = integerXTics; self.integerYTics = integerYTics
    self.notes = notes
  }
}

extension Chart {
  /// Whether there is anything to draw (a report leaves out a chart of runs that have no value yet).
  public var hasPoints: Bool {
    switch kind {
    case .lines(let series, _): return series.contains { !$0.x.isEmpty }
    case .panels(let panels): return panels.contains { $0.series.contains { !$0.x.isEmpty } }
    case .bars(let bars): return !bars.isEmpty
    case .scatter(let x, _, _): return !x.isEmpty
    }
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
    case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
    case .invalidChart(let name, let expected, let found): return "chart \(name): expected \(expected), found \(found)"
    }
  }
}

public struct ChartWriter {
  public var directory: String
  /// gnuplot executable; nil = look it up on PATH.
  public var gnuplot: String?
  public init(directory: String, gnuplot: String? = nil) { self.directory = directory; self.gnuplot = gnuplot }

  /// The .dat and .gp text for a chart (ChartScript.swift draws each kind).
  public static func render(_ c: Chart) throws -> (dat: String, gp: String) {
    guard !c.xLabel.isEmpty, !c.yLabel.isEmpty else {
      throw ReportingError.invalidChart(
        name: c.name, expected: "a title on both axes", found: "x \"\(c.xLabel)\", y \"\(c.yLabel)\"")
    }
    let d: Drawing
    switch c.kind {
    case .lines(let series, let refs): d = try lines(c, [Panel(title: "", series: series, references: refs)])
    case .panels(let panels): d = try lines(c, panels)
    case .bars(let bars): d = try self.bars(c, bars)
    case .scatter(let x, let y, let label): d = try scatter(c, x: x, y: y, pointLabel: label)
    }
    return ("# \(c.title)\n" + d.dat, script(c, d))
  }

  /// Writes NAME.dat and NAME.gp, then runs gnuplot in `directory` if it can be found.
  public func write(_ chart: Chart) throws -> ChartOutput {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let (dat, gp) = try ChartWriter.render(chart)
    let datPath = (directory as NSString).appendingPathComponent(chart.name + ".dat")
    let gpPath = (directory as NSString).appendingPathComponent(chart.name + ".gp")
    try writeText(dat, to: datPath)
    try writeText(gp, to: gpPath)
    var out = ChartOutput(
      name: chart.name, files: [chart.name + ".dat", chart.name + ".gp"], rendered: false, message: nil)
    guard let exe = gnuplot ?? ChartWriter.findOnPath("gnuplot") else {
      out.message =
        "gnuplot not found on PATH: wrote \(chart.name).dat and \(chart.name).gp only (install gnuplot, then run `gnuplot \(chart.name).gp` in \(directory))"
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
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  } catch {
    throw ReportingError.cannotWrite(path: path, reason: error.localizedDescription)
  }
}

// `seb report paper` and `seb report graders`: regenerate the published numbers and the grader
// fidelity study from the released files into Markdown + charts. Thin: all work is in Analysis and
// Reporting. The sentence-embedding model comes from `Runtime.embedder()` (nil when not installed).
import Analysis
import ArgumentParser
import Experiment
import Foundation
import Reporting

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Reports: of your runs (seb report RUN...), or the papers' numbers from the released files.",
    discussion: """
      seb report runs/smoke [runs/other ...] [--out DIR]   # Markdown + charts of run directories (default: <first run>/report)
      seb report paper                                     # regenerate the papers' numbers
      """,
    subcommands: [Runs.self, Paper.self, Graders.self], defaultSubcommand: Runs.self)

  struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Markdown report of run directories: every method and grader with intervals, paired comparisons, charts.")
    @Argument(help: "Run directories (written by seb run / seb baseline / seb merge, or all by seb search).") var runs:
      [String]
    @Option(help: "Output folder (default: <first run>/report).") var out: String?
    @Option(help: "gnuplot executable (default: gnuplot on PATH).") var gnuplot: String?
    @Option(help: "Seed of the between-run bootstrap intervals.") var seed: UInt64 = 0
    @Option(help: "A Markdown file (your reading of the numbers) placed after the report's header.") var notes: String?
    @OptionGroup var embeddings: EmbeddingOptions

    func validate() throws { if runs.isEmpty { throw ValidationError("give at least one run directory") } }

    func run() throws {
      let out = self.out ?? RunLayout(runs[0]).report
      try AtomicFile.checkCreatable(directory: out)
      var text: String?
      if let notes {
        guard let d = FileManager.default.contents(atPath: notes) else {
          throw ExperimentError.missingFile(path: notes, what: "--notes file")
        }
        text = String(decoding: d, as: UTF8.self)
      }
      // Strategy-search runs (seb search) get the search report with the collapse charts.
      let search = runs.map(SearchRun.isSearchRun)
      if search.contains(true) {
        guard !search.contains(false) else {
          throw ValidationError(
            "give either search runs (seb search) or knowledge-incorporation runs (seb run), not both: "
              + zip(runs, search).map { "\($0) is \($1 ? "a search run" : "not")" }.joined(separator: ", "))
        }
        let loaded = try runs.map { try SearchRun.load($0) }
        let embedder = try Runtime.embedder(embeddings)
        let o = try AtomicFile.staged(directory: out) { dir in
          (
            try SearchReport.write(
              runs: loaded, outDir: dir, command: ReportCommand.commandLine(), embedder: embedder, gnuplot: gnuplot,
              notes: text), dir
          )
        }
        for m in o.0.messages { eprint(m.replacingOccurrences(of: o.1, with: out)) }
        print("wrote \(out)/README.md and \(o.0.charts.count) charts")
        return
      }
      let files = try runs.map { try RunFiles.load(dir: $0) }
      let o = try AtomicFile.staged(directory: out) { dir in
        (
          try RunReport.write(
            runs: files, outDir: dir, command: ReportCommand.commandLine(), gnuplot: gnuplot, seed: seed, notes: text),
          dir
        )
      }
      for c in o.0.charts { if let m = c.message { eprint(m.replacingOccurrences(of: o.1, with: out)) } }
      print("wrote \(out)/README.md and \(o.0.charts.count) charts")
    }
  }

  struct Options: ParsableArguments {
    @Option(help: "Data root (default: env SEB_DATA_ROOT, else ../shared/data beside the package root).")
    var data: String?
    @Option(
      help:
        "Output folder (default: runs/reports/paper under the package root; --out Reports/paper replaces the committed report)."
    )
    var out: String?
    @Option(help: "gnuplot executable (default: gnuplot on PATH).")
    var gnuplot: String?
  }

  static func commandLine() -> String {
    "seb " + CommandLine.arguments.dropFirst().joined(separator: " ")
  }

  struct Paper: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Regenerate every [recomputed] number of paper-numbers.md, side by side with the papers, with charts.")
    @OptionGroup var options: Options
    @Option(help: "Seed of the bootstrap intervals.") var seed: UInt64 = 0
    @Option(help: "Bootstrap resamples.") var resamples: Int = 2000
    @Option(help: "Text-similarity collapse threshold.") var textThreshold: Double = 0.92
    @Option(help: "Hyperparameter-similarity collapse threshold.") var hpThreshold: Double = 0.98
    @Flag(help: "Skip the sha256 of the files read.") var noHash = false
    @OptionGroup var embeddings: EmbeddingOptions

    func validate() throws {
      guard resamples > 0 else { throw ValidationError("--resamples must be positive, got \(resamples)") }
    }

    func run() throws {
      let dataRoot = Paths.dataRoot(explicit: options.data)
      let out = options.out ?? Paths.defaultReportDir("paper")
      try AtomicFile.checkCreatable(directory: out)
      let embedder = try Runtime.embedder(embeddings)
      let thresholds = CollapseThresholds(text: textThreshold, hyperparameter: hpThreshold)
      let r = try PaperNumbers.regenerate(
        dataRoot: dataRoot, embedder: embedder, seed: seed, resamples: resamples,
        hashFiles: !noHash, thresholds: thresholds)
      var shown = r
      shown.dataRoot = Paths.display(dataRoot)
      let (o, staging) = try AtomicFile.staged(directory: out) { dir in
        (
          try PaperReport.write(
            shown, outDir: dir, command: ReportCommand.commandLine(), thresholds: thresholds, gnuplot: options.gnuplot),
          dir
        )
      }
      for m in o.messages { eprint(m.replacingOccurrences(of: staging, with: out)) }
      let bad = r.checks.filter { !$0.matches }
      print(
        "wrote \(out)/\((o.markdownPath as NSString).lastPathComponent) and \(o.charts.count) charts; \(r.checks.count - bad.count)/\(r.checks.count) published numbers match"
      )
      for c in bad { print("MISMATCH \(c.id): published \(c.published), regenerated \(c.computedText) (\(c.source))") }
      for d in r.disagreements { print("note: \(d)") }
      if !bad.isEmpty { throw ExitCode(1) }
    }
  }

  struct Graders: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Score the offline graders (EM, F1 at thresholds, contains) against gpt-4.1's verdicts in SEAL's files."
    )
    @OptionGroup var options: Options
    @Option(parsing: .upToNextOption, help: "F1 thresholds.") var f1: [Double] = [0.3, 0.5, 0.7]

    func validate() throws {
      guard f1.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
        throw ValidationError("--f1 thresholds must be in (0, 1], got \(f1)")
      }
    }

    func run() throws {
      let dataRoot = Paths.dataRoot(explicit: options.data)
      let out = options.out ?? Paths.defaultReportDir("paper")
      try AtomicFile.checkCreatable(directory: out)
      let (report, files) = try GraderFidelity.evaluateReleased(
        dataRoot: dataRoot, graders: OfflineGrader.standardSet(f1Thresholds: f1))
      let md = GraderReport.markdown(
        report, files: files, dataRoot: Paths.display(dataRoot), command: ReportCommand.commandLine())
      let path = (out as NSString).appendingPathComponent("graders.md")
      try writeText(md, to: path)
      print("wrote \(path): \(report.answers) answers, \(report.results.count) graders")
      for g in report.results {
        let name = g.grader.padding(toLength: 34, withPad: " ", startingAt: 0)
        print(
          name
            + String(
              format: " agreement %.4f precision %.4f recall %.4f kappa %.4f", g.overall.agreement,
              g.overall.precision, g.overall.recall, g.overall.kappa) + " same order: "
            + (g.sameRankingAsJudge ? "yes" : "no"))
      }
    }
  }
}

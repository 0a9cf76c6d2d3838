// `seb analyze similarity|lengths|collapse FILE`: ad-hoc analysis of a template file (a JSON list of
// iterations, each a list of templates, as the released *_templates_by_iter.json) or of any JSON
// holding `training_sequences` lists. Prints Markdown; --out DIR also writes charts there.
// The lead plugs in the embedding model and the tokenizer through the static hooks.
import Analysis
import ArgumentParser
import Foundation
import Reporting

struct AnalyzeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "analyze", abstract: "Similarity, training-data length and collapse of ad-hoc files.",
    subcommands: [Similarity.self, LengthsCommand.self, CollapseCommand.self])

  struct Thresholds: ParsableArguments {
    @Option(help: "Text-similarity collapse threshold (embedding scale).") var textThreshold: Double = 0.92
    @Option(help: "Hyperparameter-similarity collapse threshold.") var hpThreshold: Double = 0.98
    var value: CollapseThresholds { CollapseThresholds(text: textThreshold, hyperparameter: hpThreshold) }
  }

  /// Charts of one analysis (Reporting's collapse charts), written whole into `out` or not at all.
  static func charts(_ its: [IterationCollapse], thresholds: CollapseThresholds, out: String, stem: String) throws {
    let charts = ExperimentCharts.collapse(stem: stem, iterations: its, thresholds: thresholds)
    let (outputs, staging) = try AtomicFile.staged(directory: out) { dir in
      (try charts.map { try ChartWriter(directory: dir).write($0) }, dir)
    }
    for o in outputs {
      print("chart: " + o.files.map { (out as NSString).appendingPathComponent($0) }.joined(separator: ", "))
      if let m = o.message { eprint(m.replacingOccurrences(of: staging, with: out)) }
    }
  }

  struct Similarity: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Per-iteration hyperparameter and text similarity of template groups.")
    @Argument(
      help: "JSON list of iterations, each a list of {data_creation_instruction, hyperparameters} (or strings).")
    var file: String
    @Option(help: "Also write charts into this folder.") var out: String?
    @OptionGroup var embeddings: EmbeddingOptions
    func run() throws {
      if let out { try AtomicFile.checkCreatable(directory: out) }
      let groups = try Collapse.loadTemplateGroups(file)
      let its = try Collapse.analyze(groups, embedder: try Runtime.embedder(embeddings))
      print("# Similarity of \(file)\n")
      print(
        Markdown.table(
          ["iter", "templates", "hyperparameter sim."] + (its.first?.text.map { "text: \($0.measure.name)" } ?? []),
          its.map { it in
            ["\(it.iteration)", "\(it.templates)", Markdown.f(it.hyperparameter)]
              + it.text.map { $0.value.map { Markdown.f($0) } ?? ($0.note ?? "—") }
          }))
      if let out { try AnalyzeCommand.charts(its, thresholds: CollapseThresholds(), out: out, stem: "similarity") }
    }
  }

  struct LengthsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "lengths",
      abstract: "Training-data length per (template, passage, completion), as compute_dataset_len.py.")
    @Argument(help: "Any JSON holding objects with a list-valued training_sequences.") var file: String
    func run() throws {
      let doc = try JSONValue.load(file)
      let counter = try Runtime.tokenCounter()
      var rows: [[String]] = []
      func row(_ name: String, _ s: LengthSummary) -> [String] {
        [
          name, "\(s.lists)", "\(s.emptyLists)", "\(s.sequences)", Markdown.f(s.meanCharacters, 1),
          s.meanTokens.map { Markdown.f($0, 1) } ?? "not computed (tokenizer not installed)",
        ]
      }
      let all = Lengths.summarize(doc, tokenCounter: counter)
      guard all.lists > 0 else {
        throw AnalysisError.malformed(
          path: file, key: "(anywhere)", expected: "objects with a list-valued training_sequences", found: "none")
      }
      // A top-level list of groups (e.g. iterations) also gets one row per group.
      if case .array(let top) = doc, top.allSatisfy({ if case .array = $0 { return true } else { return false } }) {
        for (i, g) in top.enumerated() { rows.append(row("group \(i)", Lengths.summarize(g, tokenCounter: counter))) }
      }
      rows.append(row("all", all))
      print("# Training-data length of \(file)\n")
      print(
        Markdown.table(
          ["scope", "lists", "empty lists", "sequences", "mean characters per list", "mean tokens per list"], rows,
          rightAligned: [1, 2, 3, 4, 5]))
    }
  }

  struct CollapseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "collapse", abstract: "Per-iteration collapse: similarity, distinct instructions, threshold flags.")
    @Argument(help: "JSON list of iterations, each a list of templates.") var file: String
    @OptionGroup var thresholds: Thresholds
    @Option(help: "Also write charts into this folder.") var out: String?
    @OptionGroup var embeddings: EmbeddingOptions
    func run() throws {
      if let out { try AtomicFile.checkCreatable(directory: out) }
      let t = thresholds.value
      let its = try Collapse.analyze(
        try Collapse.loadTemplateGroups(file), embedder: try Runtime.embedder(embeddings), thresholds: t)
      print("# Collapse of \(file)\n")
      print(PaperReport.collapseTable(its, thresholds: t))
      let flagged = its.filter { $0.hyperparameterFlag || !$0.textFlags.isEmpty }.map { "\($0.iteration)" }
      print(
        flagged.isEmpty
          ? "No iteration crosses a threshold." : "Iterations crossing a threshold: " + flagged.joined(separator: ", "))
      if let out { try AnalyzeCommand.charts(its, thresholds: t, out: out, stem: "collapse") }
    }
  }
}

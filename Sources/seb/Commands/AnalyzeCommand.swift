// `seb analyze similarity|lengths|collapse FILE`: ad-hoc analysis of a template file (a JSON list of
// iterations, each a list of templates, as the released *_templates_by_iter.json) or of any JSON
// holding `training_sequences` lists. Prints Markdown (Reporting's AdHocReport); --out DIR also
// writes charts there. The embedder and the token counter come from the installed models (Runtime).
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

  /// Charts of one analysis, written whole into `out` or not at all.
  static func charts(_ its: [IterationCollapse], thresholds: CollapseThresholds, out: String, stem: String) throws {
    for o in try AdHocReport.writeCharts(its, thresholds: thresholds, out: out, stem: stem) {
      print("chart: " + o.files.joined(separator: ", "))
      if let m = o.message { eprint(m) }
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
      print(AdHocReport.similarity(its, file: file))
      if let out { try AnalyzeCommand.charts(its, thresholds: CollapseThresholds(), out: out, stem: "similarity") }
    }
  }

  struct LengthsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "lengths",
      abstract: "Training-data length per (template, passage, completion), as compute_dataset_len.py.")
    @Argument(help: "Any JSON holding objects with a list-valued training_sequences.") var file: String
    func run() throws {
      print(try AdHocReport.lengths(try JSONValue.load(file), file: file, tokenCounter: try Runtime.tokenCounter()))
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
      print(AdHocReport.collapse(its, thresholds: t, file: file))
      if let out { try AnalyzeCommand.charts(its, thresholds: t, out: out, stem: "collapse") }
    }
  }
}

// AdHocReport.swift: what `seb analyze` prints and draws for a file that is not a run (a template
// file as the released *_templates_by_iter.json, or any JSON holding `training_sequences` lists):
// Markdown, and on request the collapse charts, written whole into a folder or not at all.
import Analysis
import Foundation
import Workspace

public enum AdHocReport {
  /// Per-iteration hyperparameter and text similarity.
  public static func similarity(_ its: [IterationCollapse], file: String) -> String {
    "# Similarity of \(file)\n\n"
      + Markdown.table(
        ["iter", "templates", "hyperparameter sim."] + (its.first?.text.map { "text: \($0.measure.name)" } ?? []),
        its.map { it in
          ["\(it.iteration)", "\(it.templates)", Markdown.f(it.hyperparameter)]
            + it.text.map { $0.value.map { Markdown.f($0) } ?? ($0.note ?? "—") }
        })
  }

  /// Per-iteration collapse, and which iterations cross a threshold.
  public static func collapse(_ its: [IterationCollapse], thresholds: CollapseThresholds, file: String) -> String {
    let flagged = its.filter { $0.hyperparameterFlag || !$0.textFlags.isEmpty }.map { "\($0.iteration)" }
    return "# Collapse of \(file)\n\n" + PaperReport.collapseTable(its, thresholds: thresholds) + "\n"
      + (flagged.isEmpty
        ? "No iteration crosses a threshold." : "Iterations crossing a threshold: " + flagged.joined(separator: ", "))
  }

  /// Training-data length as the search repo's compute_dataset_len.py counts it: every list, and
  /// one row per group where the document is a list of lists (iterations, say).
  public static func lengths(_ doc: JSONValue, file: String, tokenCounter: ((String) -> Int)?) throws -> String {
    func row(_ name: String, _ s: LengthSummary) -> [String] {
      [
        name, "\(s.lists)", "\(s.emptyLists)", "\(s.sequences)", Markdown.f(s.meanCharacters, 1),
        s.meanTokens.map { Markdown.f($0, 1) } ?? "not computed (tokenizer not installed)",
      ]
    }
    let all = Lengths.summarize(doc, tokenCounter: tokenCounter)
    guard all.lists > 0 else {
      throw AnalysisError.malformed(
        path: file, key: "(anywhere)", expected: "objects with a list-valued training_sequences", found: "none")
    }
    var rows: [[String]] = []
    if let top = doc.array, top.allSatisfy({ $0.array != nil }) {
      for (i, g) in top.enumerated() {
        rows.append(row("group \(i)", Lengths.summarize(g, tokenCounter: tokenCounter)))
      }
    }
    rows.append(row("all", all))
    return "# Training-data length of \(file)\n\n"
      + Markdown.table(
        ["scope", "lists", "empty lists", "sequences", "mean characters per list", "mean tokens per list"], rows,
        rightAligned: [1, 2, 3, 4, 5])
  }

  /// Writes the collapse charts into `out` (all of them or none); per chart, its files (paths
  /// under `out`) and what gnuplot said, if anything.
  public static func writeCharts(
    _ its: [IterationCollapse], thresholds: CollapseThresholds, out: String, stem: String, gnuplot: String? = nil
  ) throws -> [(files: [String], message: String?)] {
    let charts = ExperimentCharts.collapse(stem: stem, iterations: its, thresholds: thresholds)
    let (outputs, staging) = try AtomicFile.staged(directory: out) { dir in
      (try charts.map { try ChartWriter(directory: dir, gnuplot: gnuplot).write($0) }, dir)
    }
    return outputs.map { o in
      (
        o.files.map { (out as NSString).appendingPathComponent($0) },
        o.message.map { $0.replacingOccurrences(of: staging, with: out) }
      )
    }
  }
}

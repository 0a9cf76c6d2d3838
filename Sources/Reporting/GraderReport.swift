// The grader-fidelity report: each offline grader against gpt-4.1's verdicts in SEAL's released
// evaluation files, overall and per file, and whether it ranks the methods as the judge does.
import Analysis
import Foundation

public enum GraderReport {
  public static func markdown(_ r: GraderFidelityReport, files: [String], dataRoot: String, command: String) -> String {
    var md = """
      # Offline graders against the gpt-4.1 judge

      Produced by `\(command)` (do not edit by hand). Data root: `\(dataRoot)`.
      Answers: \(r.answers) (baseline and adapter answers of \(r.methods.count) released evaluation files, the judge's yes/no as truth).
      References: "single" = the answer stored with the question (SEAL's, the first official reference);
      "all" = every official reference from `squad/explorer/dev-v1.1.explorer.json.gz` (matched by context and question;
      \(r.unmatchedReferences) answers had no match and fell back to the single answer). The .gz file is read by running
      `gzip -dc` (Foundation on Linux has no gzip decoder; Analysis stays free of C dependencies).
      Normalisation: SQuAD v1.1 (lowercase, strip punctuation, drop a/an/the, collapse whitespace). Predictions are stripped,
      as SEAL does before grading.

      ## Overall

      """
    md += Markdown.table(
      ["Grader", "Agreement", "Precision", "Recall", "Cohen's κ", "TP", "FP", "FN", "TN"],
      r.results.map { g in
        let a = g.overall
        return [
          g.grader, Markdown.f(a.agreement), Markdown.f(a.precision), Markdown.f(a.recall), Markdown.f(a.kappa),
          "\(a.truePositive)", "\(a.falsePositive)", "\(a.falseNegative)", "\(a.trueNegative)",
        ]
      },
      rightAligned: Set(1...8))
    md += "\n## Ranking of the methods (macro adapter accuracy)\n\n"
    md += "Judge: " + r.judgeAccuracy.map { "\($0.method) \(Markdown.f($0.accuracy))" }.joined(separator: ", ")
    md += "; order " + r.judgeRanking.joined(separator: " > ") + ".\n\n"
    md += Markdown.table(
      ["Grader"] + r.methods + ["Order", "Same order as judge", "Kendall τ"],
      r.results.map { g in
        [g.grader] + g.methodAccuracy.map { Markdown.f($0.accuracy) }
          + [g.ranking.joined(separator: " > "), g.sameRankingAsJudge ? "yes" : "no", Markdown.f(g.kendallTau, 2)]
      },
      rightAligned: Set(1...r.methods.count))
    md += "\n## Per file\n\n"
    for m in r.methods {
      md += "\n### `\(PaperNumbers.evalDir)/\(m).json`\n\n"
      md += Markdown.table(
        ["Grader", "Agreement", "Precision", "Recall", "Cohen's κ", "n"],
        r.results.compactMap { g in
          guard let a = g.perMethod.first(where: { $0.method == m })?.agreement else { return nil }
          return [
            g.grader, Markdown.f(a.agreement), Markdown.f(a.precision), Markdown.f(a.recall), Markdown.f(a.kappa),
            "\(a.n)",
          ]
        }, rightAligned: Set(1...5))
    }
    md += "\n## Files read\n\n" + files.map { "- `\($0)`" }.joined(separator: "\n") + "\n"
    return md
  }
}

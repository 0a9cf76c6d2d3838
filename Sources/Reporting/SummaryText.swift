// SummaryText.swift: the plain-text summary table of a knowledge-incorporation run.
import Experiment
import Foundation

/// A run summary as the terminal shows it after `seb run`, `seb merge` and `seb judge`: one line per
/// method with `contains` (all references) and its interval, its gain, EM, F1, gold log-likelihood
/// and the failures.
public enum SummaryText {
  public static func table(_ s: RunSummary) -> String {
    var lines = [
      "run \(s.name): \(s.passages) passages, \(s.questions) questions, \(s.foundEvaluations)/\(s.expectedEvaluations) evaluations"
        + (s.complete ? "" : " (incomplete)")
    ]
    lines.append(
      "method                       contains(all)        gain            EM(all)   F1(all)   gold-LL   fails")
    for (name, m) in s.methods.sorted(by: { $0.key < $1.key }) {
      func f(_ k: Metric) -> String { m.metrics[k].map { String(format: "%.3f", $0.adapter.mean) } ?? "  -  " }
      let c = m.metrics[.containsAll]
      let cell =
        c.map { String(format: "%.3f [%.3f,%.3f]", $0.adapter.mean, $0.adapter.lower, $0.adapter.upper) } ?? "-"
      let gain = c.map { String(format: "%+.3f", $0.gain.mean) } ?? "-"
      lines.append(
        name.padding(toLength: 29, withPad: " ", startingAt: 0)
          + cell.padding(toLength: 21, withPad: " ", startingAt: 0)
          + gain.padding(toLength: 16, withPad: " ", startingAt: 0) + f(.emAll) + "     " + f(.f1All) + "     "
          + (m.metrics[.goldLogLikelihood].map { String(format: "%.3f", $0.adapter.mean) } ?? "-") + "    \(m.failures)"
      )
    }
    return lines.joined(separator: "\n")
  }
}

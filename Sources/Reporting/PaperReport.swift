// The paper report: the regenerated published numbers beside the papers' values, and the charts of
// the released data, as Markdown with relative links. Input: a PaperRegeneration (plain tables);
// every number printed comes from it. Output folder layout: README.md, charts/*.{dat,gp,png,svg}.
import Analysis
import Foundation

public struct ReportOutput: Sendable {
  public var markdownPath: String
  public var charts: [ChartOutput]
  public var messages: [String]
}

public enum PaperReport {
  static let chartFolder = "charts"

  public static func collapseTable(_ its: [IterationCollapse], thresholds: CollapseThresholds) -> String {
    let measures = its.first?.text.map(\.measure) ?? []
    var header = ["iter", "templates", "distinct instructions", "hyperparameter sim."]
    header += measures.map { "text: \($0.name)" }
    header.append(
      "flags (\(thresholds.textModel) > \(Markdown.f(thresholds.text, 2)), hp > \(Markdown.f(thresholds.hyperparameter, 2)))"
    )
    let rows = its.map { it -> [String] in
      var r = ["\(it.iteration)", "\(it.templates)", "\(it.distinctInstructions)", Markdown.f(it.hyperparameter)]
      r += it.text.map { $0.value.map { Markdown.f($0) } ?? ($0.note ?? "—") }
      var flags: [String] = []
      if it.hyperparameterFlag { flags.append("hyperparameters") }
      flags += it.textFlags
      r.append(flags.isEmpty ? "" : flags.joined(separator: "; "))
      return r
    }
    return Markdown.table(header, rows, rightAligned: Set(0..<(header.count - 1)))
  }

  /// The highest embedding score of each variant beside the paper's statement, or why there is none.
  static func embeddingPeaks(_ search: [ReleasedSearchCollapse], thresholds: CollapseThresholds) -> String {
    var peaks: [String] = [], model: String?
    for v in search {
      let scores = v.iterations.flatMap { it in
        it.text.filter { $0.measure.isEmbedding && $0.value != nil }.map { (it.iteration, $0) }
      }
      guard let best = scores.max(by: { $0.1.value! < $1.1.value! }) else { continue }
      if case .embedding(let m) = best.1.measure { model = m }
      peaks.append("\(v.name) \(Markdown.f(best.1.value!)) (iteration \(best.0))")
    }
    guard let model else { return "No embedding score was computed (no embedding model installed or given)." }
    let paper = "The paper reports both variants above \(Markdown.f(thresholds.text, 2)) on `\(thresholds.textModel)`."
    if model == thresholds.textModel {
      return paper + " Here the highest scores are " + peaks.joined(separator: ", ") + "."
    }
    return paper + " The highest `\(model)` scores here are " + peaks.joined(separator: ", ")
      + ": another model's scale, so they are shown without flags (no cut-off on it can be calibrated from the released data, "
      + "which holds no `\(thresholds.textModel)` scores of these templates)."
  }

  /// Builds the charts for the released data.
  public static func charts(_ r: PaperRegeneration, thresholds: CollapseThresholds) throws -> [Chart] {
    var charts: [Chart] = []
    charts.append(
      ExperimentCharts.similarityPerIteration(
        name: "hp-similarity", title: "Intra-iteration hyperparameter similarity, released Qwen3-8B search templates",
        yLabel: "mean pairwise hyperparameter similarity",
        series: r.search.map { ("\($0.name) variant", $0.iterations.map(\.hyperparameter)) },
        threshold: ReferenceLine(
          label: "collapse threshold \(Markdown.f(thresholds.hyperparameter, 2))", y: thresholds.hyperparameter)))
    charts.append(
      ExperimentCharts.textSimilarity(
        name: "text-similarity", title: "Intra-iteration instruction similarity, released Qwen3-8B search templates",
        runs: r.search.map { ("\($0.name) variant", $0.iterations) }, threshold: thresholds.text))
    charts.append(
      ExperimentCharts.methodBars(
        name: "seal-single-passage",
        title: "SEAL single-passage accuracy (released gpt-4.1 verdicts), 95% bootstrap CI over 200 passages",
        yLabel: "accuracy (macro over passages)", rows: r.seal.map { ($0.name, $0.macro) }))
    charts.append(
      ExperimentCharts.methodBars(
        name: "self-edit-length",
        title: "Mean self-edit length (first completion, 200 eval passages), 95% bootstrap CI",
        yLabel: "characters", rows: r.lengths.map { ($0.method, $0.estimate) }))
    let byKey = Dictionary(uniqueKeysWithValues: r.seal.map { ($0.key, $0) })
    if let b = byKey["base"], let i1 = byKey["iter1"], let i2 = byKey["iter2"], let g = byKey["gpt4_1"],
      let base = byKey["baseline"]
    {
      charts.append(
        try ExperimentCharts.accuracyPerIteration(
          name: "seal-accuracy-per-round",
          title: "SEAL accuracy per ReST-EM round (released files), 95% bootstrap CI over 200 passages",
          methods: [
            IterationScores(
              method: "SEAL self-edits", iterations: [0, 1, 2],
              perPassage: [b.perPassage, i1.perPassage, i2.perPassage])
          ],
          references: [
            ReferenceLine(label: "GPT-4.1 implications \(Markdown.f(g.macro.mean))", y: g.macro.mean),
            ReferenceLine(label: "base model, no adaptation \(Markdown.f(base.macro.mean))", y: base.macro.mean),
          ],
          seed: r.seed, resamples: r.resamples, xLabel: "ReST-EM round (0 = base-model self-edits, before any round)"))
      let g0 = zip(b.perPassage, base.perPassage).map { $0 - $1 }
      let g2 = zip(i2.perPassage, base.perPassage).map { $0 - $1 }
      charts.append(
        ExperimentCharts.gainScatter(
          name: "gain-scatter-iter2-vs-base",
          title: "Per-passage gain over the un-adapted model (base.json baseline verdicts)",
          methodA: "base-model implications", gainsA: g0, methodB: "SEAL round 2", gainsB: g2))
    }
    return charts
  }

  /// Writes README.md and the charts into `outDir`.
  public static func write(
    _ r: PaperRegeneration, outDir: String, command: String,
    thresholds: CollapseThresholds = CollapseThresholds(), gnuplot: String? = nil
  ) throws -> ReportOutput {
    let writer = ChartWriter(directory: (outDir as NSString).appendingPathComponent(chartFolder), gnuplot: gnuplot)
    let outs = try charts(r, thresholds: thresholds).map { try writer.write($0) }
    let chart = Dictionary(uniqueKeysWithValues: outs.map { ($0.name, $0) })
    func link(_ n: String, _ alt: String) -> String {
      chart[n].map { Markdown.chart($0, folder: chartFolder, alt: alt) } ?? ""
    }

    let matched = r.checks.filter(\.matches).count
    var md = """
      # Published numbers regenerated from the released files

      Produced by `\(command)` (do not edit by hand; rerun the command). Data root: `\(r.dataRoot)`.
      Bootstrap: \(r.resamples) resamples over passages, seed \(r.seed), percentile 95% intervals.

      **\(matched) of \(r.checks.count) [recomputed] numbers of `paper-numbers.md` match to the printed precision** (4 decimals unless the document prints fewer).

      """
    if !r.disagreements.isEmpty {
      md +=
        "\n## Where the released files and the paper disagree\n\n"
        + r.disagreements.map { "- " + $0 }.joined(separator: "\n") + "\n"
    }

    md += "\n## SEAL single-passage knowledge incorporation (Qwen2.5-7B, gpt-4.1 judge)\n\n"
    md += Markdown.table(
      ["Method", "Paper (%)", "File", "Macro [95% CI]", "Micro", "Passages", "Questions"],
      r.seal.map { m in
        [
          m.name, m.paper ?? "—", "`\(m.source)`\(m.key == "baseline" ? " (baseline verdicts)" : "")",
          Markdown.estimate(m.macro), Markdown.f(m.micro), "\(m.correct.count)", "\(m.total.reduce(0, +))",
        ]
      },
      rightAligned: [1, 3, 4, 5, 6])
    md += "\n" + link("seal-single-passage", "SEAL single-passage accuracy per method")
    md += "\n### Paired differences on the same 200 passages\n\n"
    md += Markdown.table(
      ["A", "B", "mean(A − B) [95% CI]", "A better", "B better", "ties", "sign test p"],
      r.pairs.map { p in
        [
          p.a, p.b, Markdown.estimate(p.result.difference), "\(p.result.wins)", "\(p.result.losses)",
          "\(p.result.ties)", Markdown.f(p.result.signTestP, 4),
        ]
      }, rightAligned: [2, 3, 4, 5, 6])
    md += "\n" + link("seal-accuracy-per-round", "SEAL accuracy per ReST-EM round")
    md += "\n" + link("gain-scatter-iter2-vs-base", "Per-passage gain scatter")

    md += "\n## Continued pretraining (200 passages at once; micro over questions)\n\n"
    md += Markdown.table(
      ["Method", "Paper (%)", "File", "Micro", "Questions"],
      r.cpt.map { [$0.name, $0.paper, "`\($0.source)`", Markdown.f($0.micro), "\($0.questions)"] },
      rightAligned: [1, 3, 4])

    md += "\n## ReST-EM ranking runs (train side)\n\n"
    md += Markdown.table(
      ["Round", "File", "Passages", "Baseline", "Mean adapter", "Mean best-of-5"],
      r.ranking.map {
        [
          String($0.round), "`\($0.source)`", "\($0.baseline.count)", Markdown.f(Stats.mean($0.baseline)),
          Markdown.f(Stats.mean($0.adapter)), Markdown.f(Stats.mean($0.bestOfK)),
        ]
      }, rightAligned: [0, 2, 3, 4, 5])

    md += "\n## Self-edit length (characters of the first non-blank completion, first 200 eval passages)\n\n"
    md += Markdown.table(
      ["Method", "File", "Mean [95% CI]"],
      r.lengths.map { [$0.method, "`\($0.source)`", Markdown.estimate($0.estimate, 1)] }, rightAligned: [2])
    md += "\n" + link("self-edit-length", "Self-edit length per method")

    md += "\n## Search over self-edit strategies: collapse of the released training templates (Qwen3-8B)\n\n"
    md += """
      Hyperparameter similarity: fixed-domain formula of (X) `compute_similarity.py` (reference-pipeline.md 4.1).
      Text similarity, three measures, each named: \(r.embedderName.map { "embedding model `\($0)` with (1+cos)/2" } ?? "embedding: not computed (model not installed)"); token Jaccard (lowercase, tokens `[a-z0-9']+`); TF-IDF cosine (smooth idf fitted on all instructions of the file). The paper's text similarity used OpenAI `text-embedding-3-large` (give `--embeddings-url` and a key to compute it); offline, none of these columns is the paper's number, and the flags column applies the paper's \(Markdown.f(thresholds.text, 2)) only to `\(thresholds.textModel)` scores. \(embeddingPeaks(r.search, thresholds: thresholds))

      """
    for v in r.search {
      md += "\n### \(v.name) (`\(v.source)`)\n\n" + collapseTable(v.iterations, thresholds: thresholds)
      let hps = v.iterations.compactMap(\.hyperparameter)
      md += "\nMean hyperparameter similarity over iterations: \(Markdown.f(Stats.mean(hps))).\n"
    }
    md += "\n" + link("hp-similarity", "Hyperparameter similarity per iteration, both variants, threshold line")
    md += "\n" + link("text-similarity", "Text similarity per iteration, both variants, all computed measures")

    md += "\n## Every [recomputed] number of paper-numbers.md\n\n"
    md += Markdown.table(
      ["Check", "Quantity", "paper-numbers.md", "Regenerated", "Match", "Source"],
      r.checks.map {
        [$0.id, $0.label, $0.published, $0.computedText, $0.matches ? "yes" : "**NO**", "`\($0.source)`"]
      },
      rightAligned: [2, 3])
    md +=
      "\nNot regenerated: the prompt-variant table (`seal/results/query_server/alternate_prompts/` is not in the data root; its values stay [paper]), and the search paper's accuracies and length figures (their files are not released).\n"

    md += "\n## Files read\n\n"
    md += Markdown.table(
      ["File (relative to the data root)", "Bytes", "sha256"],
      r.files.map { ["`\($0.path)`", "\($0.bytes)", $0.sha256.map { "`\($0)`" } ?? "—"] }, rightAligned: [1])
    let path = (outDir as NSString).appendingPathComponent("README.md")
    try writeText(md, to: path)
    return ReportOutput(markdownPath: path, charts: outs, messages: outs.compactMap(\.message))
  }
}

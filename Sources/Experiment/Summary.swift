// Summary.swift: run records -> the numbers a run reports (reference-pipeline 2.4 and 3.7).
// Levels: question -> evaluation run (mean over the passage's questions) -> self-edit (mean over
// runs) -> passage (mean over self-edits, against the passage's own un-adapted baseline) -> macro
// over passages; micro over every graded answer. Intervals are 95% percentile-bootstrap intervals
// resampling passages (questions cluster within a passage). Failed evaluations are counted and
// left out, never scored as wrong; a normalised gain is undefined when the baseline is already 1:
// such passages are counted and left out (the reference's epsilon form is reported beside it).
import Foundation
import Workspace

public struct MetricSummary: Codable, Equatable, Sendable {
  public var adapter: Estimate
  public var baseline: Estimate
  public var gain: Estimate
  /// Share of (passage, self-edit) pairs whose adapter beats the passage's baseline.
  public var winRate: Double
  /// Mean over passages of mean_s (A - B) / (1 - B), passages with B = 1 left out (bounded metrics).
  public var normalizedGain: Estimate?
  /// Passages left out of `normalizedGain` because their baseline is 1.
  public var baselineIsOne: Int
  /// The search repo's overall form: mean over (passage, self-edit) of (A - B) / (1 - B + 1e-6).
  public var normalizedGainReference: Double?
  public var adapterMicro: Double
  public var baselineMicro: Double
  /// Answers graded (adapter side) and answers whose grade failed (judge only).
  public var answers: Int
  public var gradeFailures: Int
}

public struct MethodSummary: Codable, Equatable, Sendable {
  public var passages: Int
  public var evaluations: Int
  public var failures: Int
  /// Distinct failure reasons with their counts.
  public var failureReasons: [String: Int]
  public var meanSequences: Double?
  public var meanTrainingTokens: Double?
  public var meanFinalLoss: Double?
  public var metrics: [Metric: MetricSummary]
}

public struct PairedSummary: Codable, Equatable, Sendable {
  public var a: String
  public var b: String
  public var metric: Metric
  /// Per-passage difference a - b, bootstrap interval, wins/losses/ties and sign test.
  public var comparison: PairedDifference
}

public struct RunSummary: Codable, Equatable, Sendable {
  public var name: String
  public var split: String
  public var seed: UInt64
  public var configSHA256: String
  public var modelSHA256: String
  public var passages: Int
  public var questions: Int
  public var methods: [String: MethodSummary]
  public var paired: [PairedSummary]
  /// Evaluations expected and found: a summary of an unfinished run says so.
  public var expectedEvaluations: Int
  public var foundEvaluations: Int
  public var complete: Bool
}

public enum Summarize {
  /// Stable 64-bit FNV-1a, for seeds derived from names.
  public static func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }

  /// Per-passage values of one method and metric: (baseline B_p, [Ā_p,s]) for passages that have both.
  struct PassageValues {
    var baseline: [Int: Double] = [:]
    var perSelfEdit: [Int: [Double]] = [:]
    var adapterAnswers: [Double] = []
    var baselineAnswers: [Int: [Double]] = [:]
    var gradeFailures = 0
  }

  static func values(metric: Metric, method: String, records: [EvalRecord], judged: [String: Bool?]) -> PassageValues {
    var v = PassageValues()
    func answerValues(_ r: EvalRecord) -> ([Double], Int) {
      var out: [Double] = []
      var failed = 0
      for a in r.answers {
        if metric == .judge {
          switch judged["\(r.key)/q\(a.q)"] {
          case .some(.some(let ok)): out.append(ok ? 1 : 0)
          default: failed += 1
          }
        } else if let x = a.grades.value(metric) {
          out.append(x)
        }
      }
      return (out, failed)
    }
    for r in records where r.kind == .baseline {
      let (xs, _) = answerValues(r)
      if !xs.isEmpty { v.baseline[r.passage] = Stats.mean(xs); v.baselineAnswers[r.passage] = xs }
    }
    // (passage, selfEdit) -> run values
    var runs: [Int: [Int: [Double]]] = [:]
    for r in records where r.kind == .adapter && r.method == method && r.failure == nil {
      let (xs, failed) = answerValues(r)
      v.gradeFailures += failed
      guard !xs.isEmpty else { continue }
      runs[r.passage, default: [:]][r.selfEdit, default: []].append(Stats.mean(xs))
      v.adapterAnswers += xs
    }
    for (p, bySE) in runs where v.baseline[p] != nil {
      v.perSelfEdit[p] = bySE.keys.sorted().map { Stats.mean(bySE[$0]!) }
    }
    return v
  }

  public static func metricSummary(
    _ metric: Metric, method: String, records: [EvalRecord], judged: [String: Bool?], seed: UInt64
  ) throws -> MetricSummary? {
    let v = values(metric: metric, method: method, records: records, judged: judged)
    let passages = v.perSelfEdit.keys.sorted()
    guard !passages.isEmpty else { return nil }
    let s = seed ^ fnv1a("\(method)/\(metric.rawValue)")
    let adapter = passages.map { Stats.mean(v.perSelfEdit[$0]!) }
    let base = passages.map { v.baseline[$0]! }
    let gains = zip(adapter, base).map { $0 - $1 }
    var wins = 0, pairs = 0
    var normPerPassage: [Double] = [], normRef: [Double] = []
    var baselineIsOne = 0
    for p in passages {
      let b = v.baseline[p]!
      let se = v.perSelfEdit[p]!
      for a in se { pairs += 1; if a > b { wins += 1 }; normRef.append((a - b) / (1 - b + 1e-6)) }
      if b >= 1 { baselineIsOne += 1 } else { normPerPassage.append(Stats.mean(se.map { ($0 - b) / (1 - b) })) }
    }
    let baseAnswers = passages.flatMap { v.baselineAnswers[$0]! }
    return MetricSummary(
      // The baseline's resampling seed does not depend on the method: equal passage sets, equal intervals.
      adapter: try Stats.bootstrapMean(adapter, seed: s),
      baseline: try Stats.bootstrapMean(base, seed: seed ^ fnv1a("baseline/\(metric.rawValue)")),
      gain: try Stats.bootstrapMean(gains, seed: s &+ 2), winRate: Double(wins) / Double(pairs),
      normalizedGain: metric.isBounded && !normPerPassage.isEmpty
        ? try Stats.bootstrapMean(normPerPassage, seed: s &+ 3) : nil,
      baselineIsOne: metric.isBounded ? baselineIsOne : 0,
      normalizedGainReference: metric.isBounded ? Stats.mean(normRef) : nil,
      adapterMicro: Stats.mean(v.adapterAnswers), baselineMicro: Stats.mean(baseAnswers),
      answers: v.adapterAnswers.count, gradeFailures: v.gradeFailures)
  }

  /// Per-passage adapter scores of a method (for paired comparisons and scatter charts).
  public static func perPassage(
    _ metric: Metric, method: String, records: [EvalRecord], judged: [String: Bool?]
  ) -> [Int: (adapter: Double, baseline: Double)] {
    let v = values(metric: metric, method: method, records: records, judged: judged)
    var out: [Int: (Double, Double)] = [:]
    for (p, se) in v.perSelfEdit { out[p] = (Stats.mean(se), v.baseline[p]!) }
    return out
  }

  /// The summary of a run. `judged`: verdicts by "<record key>/q<i>" (nil value = judge failed).
  public static func run(
    config: RunConfig, configSHA256: String, modelSHA256: String, passages: Int, questions: Int,
    records: [EvalRecord], judged: [String: Bool?] = [:]
  ) throws -> RunSummary {
    let metrics = Metric.allCases.filter { $0 != .judge || !judged.isEmpty }
    var methods: [String: MethodSummary] = [:]
    for m in config.methodNames {
      let rs = records.filter { $0.kind == .adapter && $0.method == m }
      let ok = rs.filter { $0.failure == nil }
      var reasons: [String: Int] = [:]
      for r in rs { if let f = r.failure { reasons[f, default: 0] += 1 } }
      let trained = ok.compactMap(\.training)
      var ms: [Metric: MetricSummary] = [:]
      for metric in metrics {
        if let s = try metricSummary(metric, method: m, records: records, judged: judged, seed: config.seed) {
          ms[metric] = s
        }
      }
      methods[m] = MethodSummary(
        passages: Set(ok.map(\.passage)).count, evaluations: rs.count, failures: rs.count - ok.count,
        failureReasons: reasons,
        meanSequences: ok.isEmpty ? nil : Stats.mean(ok.map { Double($0.sequences.count) }),
        meanTrainingTokens: trained.isEmpty ? nil : Stats.mean(trained.map { Double($0.tokens) }),
        meanFinalLoss: trained.isEmpty ? nil : Stats.mean(trained.compactMap { $0.losses.last }),
        metrics: ms)
    }
    var paired: [PairedSummary] = []
    for ref in ["base", "passage"] where config.methodNames.contains(ref) {
      for m in config.methodNames where m != ref && !(ref == "passage" && m == "base") {
        for metric in metrics {
          let a = perPassage(metric, method: m, records: records, judged: judged)
          let b = perPassage(metric, method: ref, records: records, judged: judged)
          let common = a.keys.filter { b[$0] != nil }.sorted()
          guard !common.isEmpty else { continue }
          let d = try PairedDifference(
            a: common.map { a[$0]!.adapter }, b: common.map { b[$0]!.adapter },
            seed: config.seed ^ fnv1a("paired/\(m)/\(ref)/\(metric.rawValue)"))
          paired.append(PairedSummary(a: m, b: ref, metric: metric, comparison: d))
        }
      }
    }
    let expected = passages * config.evaluationsPerPassage
    return RunSummary(
      name: config.name, split: URL(fileURLWithPath: config.split).deletingPathExtension().lastPathComponent,
      seed: config.seed, configSHA256: configSHA256, modelSHA256: modelSHA256,
      passages: passages, questions: questions, methods: methods, paired: paired,
      expectedEvaluations: expected, foundEvaluations: records.count, complete: records.count == expected)
  }
}

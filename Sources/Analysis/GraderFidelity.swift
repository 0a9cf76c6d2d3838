// Grader fidelity: how well each offline grader reproduces gpt-4.1's yes/no verdicts in SEAL's
// released evaluation files (5 files x 974 questions x {baseline, adapter} answers = 9,740).
// Treats the judge as truth: precision/recall of the grader's "yes", raw agreement and Cohen's
// kappa = (p_o - p_e) / (1 - p_e) with p_e from the two marginals (1 - p_e = 0 -> kappa 1 if p_o = 1).
// Ranking: each grader's macro adapter accuracy per method, and whether it orders the methods as the
// judge does (ties broken by method order, so both orderings are total); Kendall's tau-a also given.
import Foundation

/// One graded answer as a plain record.
public struct GradedAnswer: Sendable {
  public var method: String
  public var passage: Int
  public var side: String  // "baseline" or "adapter"
  public var prediction: String
  public var single: String
  public var references: [String]
  public var judge: Bool
  public init(
    method: String, passage: Int, side: String, prediction: String, single: String, references: [String], judge: Bool
  ) {
    self.method = method; self.passage = passage; self.side = side; self.prediction = prediction
    self.single = single; self.references = references; self.judge = judge
  }
}

public struct Agreement: Equatable, Sendable {
  public var truePositive = 0, falsePositive = 0, falseNegative = 0, trueNegative = 0
  public init() {}
  public mutating func add(grader: Bool, judge: Bool) {
    switch (grader, judge) {
    case (true, true): truePositive += 1
    case (true, false): falsePositive += 1
    case (false, true): falseNegative += 1
    case (false, false): trueNegative += 1
    }
  }
  public var n: Int { truePositive + falsePositive + falseNegative + trueNegative }
  public var agreement: Double { Double(truePositive + trueNegative) / Double(n) }
  public var precision: Double { Double(truePositive) / Double(truePositive + falsePositive) }
  public var recall: Double { Double(truePositive) / Double(truePositive + falseNegative) }
  public var kappa: Double {
    let n = Double(self.n)
    let po = agreement
    let pe =
      (Double(truePositive + falsePositive) / n) * (Double(truePositive + falseNegative) / n)
      + (Double(falseNegative + trueNegative) / n) * (Double(falsePositive + trueNegative) / n)
    return pe == 1 ? (po == 1 ? 1 : 0) : (po - pe) / (1 - pe)
  }
}

public struct GraderResult: Sendable {
  public var grader: String
  public var overall: Agreement
  public var perMethod: [(method: String, agreement: Agreement)]
  /// Macro adapter accuracy per method under this grader.
  public var methodAccuracy: [(method: String, accuracy: Double)]
  public var ranking: [String]
  public var sameRankingAsJudge: Bool
  public var kendallTau: Double
}

public struct GraderFidelityReport: Sendable {
  public var answers: Int
  public var methods: [String]
  public var judgeAccuracy: [(method: String, accuracy: Double)]
  public var judgeRanking: [String]
  public var results: [GraderResult]
  public var unmatchedReferences: Int
}

public enum GraderFidelity {
  /// Builds the answer table from SEAL eval runs (method name, verdict table) and the reference map.
  public static func answers(
    runs: [(method: String, passages: [SEALFiles.PassageVerdicts])],
    references: [String: [String]]
  ) -> (answers: [GradedAnswer], unmatched: Int) {
    var out: [GradedAnswer] = [], unmatched = 0
    for (method, passages) in runs {
      for (p, pv) in passages.enumerated() {
        for (j, q) in pv.questions.enumerated() {
          let refs = references[SEALFiles.referenceKey(context: pv.context, question: q.question)] ?? []
          if refs.isEmpty { unmatched += 1 }
          out.append(
            GradedAnswer(
              method: method, passage: p, side: "baseline",
              prediction: (q.baseline_answer ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
              single: q.answer, references: refs, judge: pv.baselineCorrect[j]))
          out.append(
            GradedAnswer(
              method: method, passage: p, side: "adapter",
              prediction: (q.adapter_answer ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
              single: q.answer, references: refs, judge: pv.adapterCorrect[j]))
        }
      }
    }
    return (out, unmatched)
  }

  /// Macro adapter accuracy per method from a verdict function.
  static func macroAccuracy(
    _ answers: [GradedAnswer], methods: [String], verdict: (GradedAnswer) -> Bool
  ) -> [(method: String, accuracy: Double)] {
    methods.map { m in
      var correct: [Int: Int] = [:], total: [Int: Int] = [:]
      for a in answers where a.method == m && a.side == "adapter" {
        total[a.passage, default: 0] += 1
        if verdict(a) { correct[a.passage, default: 0] += 1 }
      }
      let ps = total.keys.sorted()
      return (m, Stats.macro(correct: ps.map { correct[$0] ?? 0 }, total: ps.map { total[$0]! }))
    }
  }

  static func ranking(_ acc: [(method: String, accuracy: Double)]) -> [String] {
    acc.enumerated().sorted { ($0.element.accuracy, -$0.offset) > ($1.element.accuracy, -$1.offset) }.map(
      \.element.method)
  }

  /// Kendall's tau-a between two score lists over the same items.
  public static func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
    let n = min(x.count, y.count)
    guard n >= 2 else { return .nan }
    var s = 0.0
    for i in 0..<n {
      for j in (i + 1)..<n {
        let a = (x[i] - x[j]).sign == .minus ? -1.0 : (x[i] == x[j] ? 0 : 1)
        let b = (y[i] - y[j]).sign == .minus ? -1.0 : (y[i] == y[j] ? 0 : 1)
        s += a * b
      }
    }
    return s / Double(n * (n - 1) / 2)
  }

  public static func evaluate(
    _ answers: [GradedAnswer], methods: [String], graders: [OfflineGrader], unmatched: Int = 0
  ) -> GraderFidelityReport {
    let judgeAcc = macroAccuracy(answers, methods: methods) { $0.judge }
    let judgeRank = ranking(judgeAcc)
    let results = graders.map { g -> GraderResult in
      let verdicts = answers.map { g.grade(prediction: $0.prediction, single: $0.single, all: $0.references) }
      var overall = Agreement()
      var per = [String: Agreement]()
      for (a, v) in zip(answers, verdicts) {
        overall.add(grader: v, judge: a.judge); per[a.method, default: Agreement()].add(grader: v, judge: a.judge)
      }
      let accuracy = macroAccuracyAligned(answers, verdicts: verdicts, methods: methods)
      let rank = ranking(accuracy)
      return GraderResult(
        grader: g.name, overall: overall, perMethod: methods.map { ($0, per[$0] ?? Agreement()) },
        methodAccuracy: accuracy, ranking: rank, sameRankingAsJudge: rank == judgeRank,
        kendallTau: kendallTau(judgeAcc.map(\.accuracy), accuracy.map(\.accuracy)))
    }
    return GraderFidelityReport(
      answers: answers.count, methods: methods, judgeAccuracy: judgeAcc, judgeRanking: judgeRank,
      results: results, unmatchedReferences: unmatched)
  }

  static func macroAccuracyAligned(
    _ answers: [GradedAnswer], verdicts: [Bool], methods: [String]
  ) -> [(method: String, accuracy: Double)] {
    methods.map { m in
      var correct: [Int: Int] = [:], total: [Int: Int] = [:]
      for (a, v) in zip(answers, verdicts) where a.method == m && a.side == "adapter" {
        total[a.passage, default: 0] += 1
        if v { correct[a.passage, default: 0] += 1 }
      }
      let ps = total.keys.sorted()
      return (m, Stats.macro(correct: ps.map { correct[$0] ?? 0 }, total: ps.map { total[$0]! }))
    }
  }

  /// Loads the five released eval runs and the explorer references from a data root and evaluates.
  public static func evaluateReleased(
    dataRoot: String, graders: [OfflineGrader]
  ) throws -> (report: GraderFidelityReport, files: [String]) {
    let methods = ["naive", "base", "gpt4_1", "iter1", "iter2"]
    var runs: [(method: String, passages: [SEALFiles.PassageVerdicts])] = []
    var files: [String] = []
    for m in methods {
      let rel = "\(PaperNumbers.evalDir)/\(m).json"
      runs.append((m, try SEALFiles.loadEvalRun((dataRoot as NSString).appendingPathComponent(rel))))
      files.append(rel)
    }
    let refRel = "squad/explorer/dev-v1.1.explorer.json.gz"
    let refs = try SEALFiles.loadExplorerReferences((dataRoot as NSString).appendingPathComponent(refRel))
    files.append(refRel)
    let (answers, unmatched) = answers(runs: runs, references: refs)
    return (evaluate(answers, methods: methods, graders: graders, unmatched: unmatched), files)
  }
}

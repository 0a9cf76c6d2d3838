// Readers for SEAL's released files (reference-pipeline.md 2.4, 4.4; shared/data/README.md), mapped
// to plain tables: per passage, per question verdicts. Only the fields the analysis needs are
// decoded; a missing or mistyped one is a typed error naming the file and key path.
// - results/query_server/{eval,train}/*.json: `articles[].completions[].{stats, questions[]}`.
//   The eval runs use k=1, eval_times=1, so completion 0 holds the graded answers.
//   rank_iter1.json has empty question lists and null stds (older code), so rankings use `stats`.
// - results/cpt/*.json: `server_reply.{baseline,adapter}_correct` lists over all 974 questions.
// - data/synthetic_data/eval/*_val.json: `[{title, context, completions: [String]}]`.
import Foundation

public enum SEALFiles {
  public struct Question: Decodable, Sendable {
    public var question: String
    public var answer: String
    public var baseline_answer: String?
    public var adapter_answer: String?
    public var baseline_correct: Bool?
    public var adapter_correct: Bool?
  }
  public struct CompletionStats: Decodable, Sendable {
    public var baseline_mean: Double?
    public var adapter_mean: Double?
  }
  public struct Completion: Decodable, Sendable {
    public var text: String?
    public var stats: CompletionStats
    public var questions: [Question]
  }
  public struct Article: Decodable, Sendable {
    public var title: String
    public var context: String
    public var completions: [Completion]
  }
  public struct QueryServerRun: Decodable, Sendable {
    public var articles: [Article]
  }
  public struct CPTReply: Decodable, Sendable {
    public var baseline_correct: [Bool]
    public var adapter_correct: [Bool]
  }
  public struct CPTRun: Decodable, Sendable {
    public var server_reply: CPTReply
  }
  public struct GeneratedPassage: Decodable, Sendable {
    public var title: String
    public var context: String
    public var completions: [String]
  }

  /// One single-passage evaluation run as a plain table: per passage, the judge's verdicts of the
  /// baseline and adapter answers of the graded completion.
  public struct PassageVerdicts: Sendable {
    public var title: String
    public var context: String
    public var questions: [Question]
    public var baselineCorrect: [Bool]
    public var adapterCorrect: [Bool]
  }

  public static func loadEvalRun(_ path: String) throws -> [PassageVerdicts] {
    let run = try decodeFile(QueryServerRun.self, path: path)
    return try run.articles.enumerated().map { i, a in
      guard let c = a.completions.first else {
        throw AnalysisError.malformed(
          path: path, key: "articles[\(i)].completions", expected: "at least one completion", found: "none")
      }
      guard !c.questions.isEmpty else {
        throw AnalysisError.malformed(
          path: path, key: "articles[\(i)].completions[0].questions", expected: "graded questions", found: "none")
      }
      var base: [Bool] = [], adpt: [Bool] = []
      for (j, q) in c.questions.enumerated() {
        guard let b = q.baseline_correct, let d = q.adapter_correct else {
          throw AnalysisError.malformed(
            path: path, key: "articles[\(i)].completions[0].questions[\(j)]",
            expected: "baseline_correct and adapter_correct", found: "null")
        }
        base.append(b); adpt.append(d)
      }
      return PassageVerdicts(
        title: a.title, context: a.context, questions: c.questions, baselineCorrect: base, adapterCorrect: adpt)
    }
  }

  /// A ReST-EM ranking run (k completions per passage, each with its mean over eval runs).
  public struct RankingPassage: Sendable {
    public var baselineMeans: [Double]  // (K) per completion
    public var adapterMeans: [Double]  // (K) per completion
  }

  public static func loadRankingRun(_ path: String) throws -> [RankingPassage] {
    let run = try decodeFile(QueryServerRun.self, path: path)
    func number(_ v: Double?, _ key: String) throws -> Double {
      guard let v else { throw AnalysisError.malformed(path: path, key: key, expected: "a number", found: "null") }
      return v
    }
    return try run.articles.enumerated().map { i, a in
      guard !a.completions.isEmpty else {
        throw AnalysisError.malformed(
          path: path, key: "articles[\(i)].completions", expected: "completions", found: "none")
      }
      return RankingPassage(
        baselineMeans: try a.completions.enumerated().map { j, c in
          try number(c.stats.baseline_mean, "articles[\(i)].completions[\(j)].stats.baseline_mean")
        },
        adapterMeans: try a.completions.enumerated().map { j, c in
          try number(c.stats.adapter_mean, "articles[\(i)].completions[\(j)].stats.adapter_mean")
        })
    }
  }

  public static func loadCPT(_ path: String) throws -> CPTReply {
    try decodeFile(CPTRun.self, path: path).server_reply
  }

  public static func loadGenerated(_ path: String) throws -> [GeneratedPassage] {
    try decodeFile([GeneratedPassage].self, path: path)
  }

  /// The self-edit a k=1 evaluation trains on: the first completion that is not blank ("" if none).
  public static func firstNonEmpty(_ completions: [String]) -> String {
    completions.first { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } ?? ""
  }

  /// SQuAD-explorer dev file: all reference answers keyed by (stripped context, stripped question).
  public static func loadExplorerReferences(_ path: String) throws -> [String: [String]] {
    struct Answer: Decodable { var text: String }
    struct QA: Decodable { var question: String; var answers: [Answer] }
    struct Paragraph: Decodable { var context: String; var qas: [QA] }
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Root: Decodable { var data: [Article] }
    let data = path.hasSuffix(".gz") ? try Gunzip.decompress(path: path) : try readFile(path)
    let root = try decodeData(Root.self, data: data, path: path)
    var out: [String: [String]] = [:]
    for a in root.data {
      for p in a.paragraphs {
        for q in p.qas {
          out[referenceKey(context: p.context, question: q.question), default: []].append(
            contentsOf: q.answers.map(\.text))
        }
      }
    }
    return out
  }

  public static func referenceKey(context: String, question: String) -> String {
    context.trimmingCharacters(in: .whitespacesAndNewlines) + "\u{1F}"
      + question.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

// Records.swift: what a run directory holds, as types. The harness appends them; Analysis and
// Reporting read them. Record bytes depend only on config, seed, model and data: times live in
// `timings.jsonl`, never here.
import Foundation

/// Every offline grade of one answer (reference-pipeline 2.4): SQuAD exact match and F1 against
/// SEAL's single answer and against all official references, `contains`, and the gold answer's
/// mean token log-likelihood after the prompt (dense: it moves while answers are still wrong).
public struct Grades: Codable, Equatable, Sendable {
  public var emSingle: Bool
  public var emAll: Bool
  public var f1Single: Double
  public var f1All: Double
  public var containsSingle: Bool
  public var containsAll: Bool
  public var goldLogLikelihood: Double

  public init(prediction: String, question: Question, goldLogLikelihood: Double) {
    let refs = question.references.isEmpty ? [question.answer] : question.references
    emSingle = Grading.exactMatch(prediction, question.answer)
    emAll = Grading.exactMatch(prediction, references: refs)
    f1Single = Grading.f1(prediction, question.answer)
    f1All = Grading.f1(prediction, references: refs)
    containsSingle = Grading.contains(prediction, question.answer)
    containsAll = Grading.contains(prediction, references: refs)
    self.goldLogLikelihood = goldLogLikelihood
  }

  /// The value of `metric` for this answer.
  public func value(_ metric: Metric) -> Double? {
    switch metric {
    case .emSingle: return emSingle ? 1 : 0
    case .emAll: return emAll ? 1 : 0
    case .f1Single: return f1Single
    case .f1All: return f1All
    case .containsSingle: return containsSingle ? 1 : 0
    case .containsAll: return containsAll ? 1 : 0
    case .goldLogLikelihood: return goldLogLikelihood
    case .judge: return nil
    }
  }
}

/// The metrics a run reports. Accuracy-like ones lie in [0, 1] and get a normalised gain.
/// As a dictionary key it encodes as its raw value (CodingKeyRepresentable), so summaries keep
/// their JSON objects and an unknown metric name fails to decode.
public enum Metric: String, ConfigChoice, CodingKeyRepresentable {
  case containsAll = "contains_all"
  case containsSingle = "contains_single"
  case emAll = "em_all"
  case emSingle = "em_single"
  case f1All = "f1_all"
  case f1Single = "f1_single"
  case goldLogLikelihood = "gold_loglik"
  /// SEAL's yes/no judge (a separate, re-runnable stage).
  case judge

  public var isBounded: Bool { self != .goldLogLikelihood }
  public var label: String {
    switch self {
    case .containsAll: return "contains (all refs)"
    case .containsSingle: return "contains (single)"
    case .emAll: return "EM (all refs)"
    case .emSingle: return "EM (single)"
    case .f1All: return "F1 (all refs)"
    case .f1Single: return "F1 (single)"
    case .goldLogLikelihood: return "gold log-lik"
    case .judge: return "judge yes/no"
    }
  }
}

public struct AnswerRecord: Codable, Equatable, Sendable {
  /// Position of the question in its passage.
  public var q: Int
  public var text: String
  public var grades: Grades
  public init(q: Int, text: String, grades: Grades) { self.q = q; self.text = text; self.grades = grades }
}

public struct TrainingSummary: Codable, Equatable, Sendable {
  public var sequences: Int
  public var steps: Int
  public var tokens: Int
  public var losses: [Double]
  public init(sequences: Int, steps: Int, tokens: Int, losses: [Double]) {
    self.sequences = sequences; self.steps = steps; self.tokens = tokens; self.losses = losses
  }
}

/// One evaluation: the un-adapted model on a passage (`kind` baseline), or one adapter trained on
/// one self-edit of one method, for one evaluation run (`kind` adapter).
public struct EvalRecord: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, Sendable { case baseline, adapter }
  public var kind: Kind
  /// "" for baseline records.
  public var method: String
  /// Position of the passage in the split.
  public var passage: Int
  public var selfEdit: Int
  public var run: Int
  public var selfEditText: String?
  public var sequences: [String]
  public var training: TrainingSummary?
  /// Why this evaluation has no answers (no training sequence, non-finite loss, endpoint down...).
  public var failure: String?
  public var answers: [AnswerRecord]

  public init(
    kind: Kind, method: String, passage: Int, selfEdit: Int = 0, run: Int = 0, selfEditText: String? = nil,
    sequences: [String] = [], training: TrainingSummary? = nil, failure: String? = nil, answers: [AnswerRecord] = []
  ) {
    self.kind = kind; self.method = method; self.passage = passage; self.selfEdit = selfEdit; self.run = run
    self.selfEditText = selfEditText; self.sequences = sequences; self.training = training; self.failure = failure
    self.answers = answers
  }

  /// Unique within a run: what resuming and merging key on.
  public var key: String {
    kind == .baseline
      ? EvalRecord.baselineKey(passage: passage)
      : EvalRecord.key(method: method, passage: passage, selfEdit: selfEdit, run: run)
  }
  public static func baselineKey(passage: Int) -> String { "baseline/p\(passage)" }
  public static func key(method: String, passage: Int, selfEdit: Int, run: Int) -> String {
    SelfEditRecord.key(method: method, passage: passage, selfEdit: selfEdit) + "/r\(run)"
  }
}

/// A generated self-edit (the generation stage's output, kept so that a resumed run never
/// regenerates and a killed run loses at most the batch in flight).
public struct SelfEditRecord: Codable, Equatable, Sendable {
  public var method: String
  public var passage: Int
  public var selfEdit: Int
  public var text: String
  /// nil when the self-edit could not be obtained (the reason is recorded).
  public var failure: String?
  public var completionTokens: Int
  public var finish: String
  public init(
    method: String, passage: Int, selfEdit: Int, text: String, failure: String? = nil, completionTokens: Int,
    finish: String
  ) {
    self.method = method; self.passage = passage; self.selfEdit = selfEdit; self.text = text; self.failure = failure
    self.completionTokens = completionTokens; self.finish = finish
  }
  public var key: String { SelfEditRecord.key(method: method, passage: passage, selfEdit: selfEdit) }
  public static func key(method: String, passage: Int, selfEdit: Int) -> String { "\(method)/p\(passage)/s\(selfEdit)" }
}

/// A judge verdict for one answer (the judge stage; cached by prompt and judge model).
public struct JudgeRecord: Codable, Equatable, Sendable {
  /// EvalRecord.key of the graded evaluation.
  public var record: String
  public var q: Int
  public var judge: String
  /// nil when the judge failed (counted, never taken as "wrong").
  public var verdict: Bool?
  public var reply: String
  public var failure: String?
  public init(record: String, q: Int, judge: String, verdict: Bool?, reply: String, failure: String? = nil) {
    self.record = record; self.q = q; self.judge = judge; self.verdict = verdict; self.reply = reply;
    self.failure = failure
  }
  public var key: String { "\(record)/q\(q)" }
}

/// SEAL's verdict rule: True iff `\byes\b` matches and `\bno\b` does not (case-insensitive).
public func judgeVerdict(_ reply: String) -> Bool {
  func has(_ w: String) -> Bool {
    (try! NSRegularExpression(pattern: "\\b(\(w))\\b", options: [.caseInsensitive]))
      .firstMatch(in: reply, range: NSRange(reply.startIndex..., in: reply)) != nil
  }
  return has("yes") && !has("no")
}

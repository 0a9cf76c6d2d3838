// Judging.swift: the paper's reward, judged QA accuracy (reference-pipeline 3.6): after a stage's
// answers are recorded, a yes/no judge (OpenAI-compatible) grades every answer with the search
// repo's prompt (Data/prompts/judge-search.txt, `SQUAD_GRADE_TEMPLATE` byte for byte), or with
// SEAL's (judge-seal.txt, 2.4) for `restem-seal`. Verdicts are cached in `judge-verdicts.jsonl` by
// (judge, question, gold, answer), so the baseline's and repeated answers are asked once and a rerun
// asks only what is new. A failed call is recorded as a failure and retried by the next run, never
// scored as "no": the stage's results wait until every answer has a verdict.
import Experiment
import Foundation
import Search
import SelfEdit
import Workspace

/// One graded answer (a line of `judge-verdicts.jsonl`).
public struct SearchJudgeRecord: Codable, Equatable, Sendable {
  /// "<model>@<url>", then " judge-seal" under SEAL's prompt: verdicts of another judge or prompt are not reused.
  public var judge: String
  /// The question as the student saw it, the gold answer, the stripped answer (the prompt's fields).
  public var question: String
  public var gold: String
  public var answer: String
  /// nil: the call failed (`failure` says why).
  public var verdict: Bool?
  public var reply: String
  /// The reply had neither a lone "yes" nor a "no": "no", as the reference's final fallback.
  public var unparsed: Bool?
  public var failure: String?

  var key: String { Self.key(judge: judge, question: question, gold: gold, answer: answer) }
  static func key(judge: String, question: String, gold: String, answer: String) -> String {
    [judge, question, gold, answer].joined(separator: "\u{1F}")
  }
}

/// The search repo's verdict rule: a lone "yes" is correct, a "no" is not, neither is unparsed.
public func searchJudgeVerdict(_ reply: String) -> Bool? {
  if judgeVerdict(reply) { return true }
  let no = try! NSRegularExpression(pattern: "\\b(no)\\b", options: [.caseInsensitive])
  return no.firstMatch(in: reply, range: NSRange(reply.startIndex..., in: reply)) != nil ? false : nil
}

public struct SearchJudge {
  public let spec: EndpointSpec
  public let path: String
  public let rule: JudgeRule
  let template: String
  public var log: (String) -> Void = { _ in }
  public var name: String { "\(spec.model)@\(spec.url)" + (rule == .search ? "" : " \(rule.prompt)") }

  /// `path`: the run's verdict file.
  public init(spec: EndpointSpec, path: String, prompts: PromptLibrary, rule: JudgeRule = .search) throws {
    self.spec = spec
    self.path = path
    self.rule = rule
    template = try prompts.text(rule.prompt)
  }

  /// Verdicts of this judge by key, the latest line of a key winning (a success after a failure).
  public func verdicts() throws -> [String: SearchJudgeRecord] {
    var out: [String: SearchJudgeRecord] = [:]
    for (n, line) in try RecordLog.read(path: path).lines.enumerated() {
      do {
        let r = try CanonicalJSON.decoder().decode(SearchJudgeRecord.self, from: line)
        if r.judge == name { out[r.key] = r }
      } catch {
        throw ExperimentError.malformed(
          path: path, key: "line \(n + 1)", expected: "a judge verdict", found: "\(error)")
      }
    }
    return out
  }

  /// Grades every (question, gold, answer) without a verdict; throws `judgeFailures` when some
  /// calls failed (after recording what succeeded).
  public func grade(_ items: [(question: String, gold: String, answer: String)]) throws {
    var have = try verdicts()
    var todo: [(question: String, gold: String, answer: String)] = []
    var seen = Set<String>()
    for it in items {
      let answer = TrainingSequences.pyStrip(it.answer)  // the reference strips `pred`
      let k = SearchJudgeRecord.key(judge: name, question: it.question, gold: it.gold, answer: answer)
      if have[k]?.verdict == nil && seen.insert(k).inserted { todo.append((it.question, it.gold, answer)) }
    }
    guard !todo.isEmpty else { return }
    let endpoint = ChatEndpoint(spec: spec)
    let out = try RecordLog(path: path)
    var failed = 0, last = ""
    let t0 = Date()
    for (n, it) in todo.enumerated() {
      var r = SearchJudgeRecord(
        judge: name, question: it.question, gold: it.gold, answer: it.answer, verdict: nil, reply: "")
      let prompt = PromptLibrary.fill(template, ["question": it.question, "gold": it.gold, "pred": it.answer])
      do {
        if rule == .seal && it.answer.isEmpty {
          r.verdict = false  // SEAL: an empty prediction is wrong without a call
        } else {
          // Temperature 0: the references sample at the API default (the search repo retries a
          // reply without a verdict up to 5 times; at 0 a retry repeats it), so one call, then "no".
          r.reply = try endpoint.complete(prompt, temperature: 0)
          // Both references' rule: "yes" and no "no" (SEAL has no retry either: neither is "no").
          if let v = searchJudgeVerdict(r.reply) { r.verdict = v } else { r.verdict = false; r.unparsed = true }
        }
      } catch {
        r.failure = AtomicFile.describe(error)
        failed += 1
        last = r.failure ?? ""
      }
      try out.append(try CanonicalJSON.line(r))
      have[r.key] = r
      if (n + 1) % 50 == 0 || n + 1 == todo.count {
        let s = Date().timeIntervalSince(t0)
        log(
          String(
            format: "  judge: %d/%d answers, %.1f/s, ETA %@%@", n + 1, todo.count, Double(n + 1) / s,
            ProgressMeter.duration(s / Double(n + 1) * Double(todo.count - n - 1)),
            failed > 0 ? ", \(failed) failures" : ""))
      }
    }
    if failed > 0 { throw SearchError.judgeFailures(count: failed, url: spec.url, last: last) }
  }

  /// The judged accuracy of each record's answers (absent while any answer lacks a verdict).
  public func scores(
    _ records: [String: SearchEvalRecord], passages: [Passage], topic: Bool
  ) throws -> [String: Double] {
    let have = try verdicts()
    var out: [String: Double] = [:]
    for (key, r) in records where r.failure == nil && !r.answers.isEmpty {
      let p = passages[r.passage]
      var yes = 0
      var complete = true
      for (q, a) in zip(p.questions, r.answers) {
        let k = SearchJudgeRecord.key(
          judge: name, question: InnerLoop.questionText(q, title: p.title, topic: topic), gold: q.answer,
          answer: TrainingSequences.pyStrip(a))
        guard let v = have[k]?.verdict else { complete = false; break }
        if v { yes += 1 }
      }
      if complete { out[key] = Double(yes) / Double(p.questions.count) }
    }
    return out
  }
}

extension SearchRunner {
  /// The run's judge (its endpoint, verdict file and the variant's prompt), nil without one.
  func judge() throws -> SearchJudge? {
    guard let spec = config.judge else { return nil }
    var j = try SearchJudge(
      spec: spec, path: layout.judgeVerdicts, prompts: options.prompts, rule: config.variant.judgeRule)
    j.log = options.log
    return j
  }

  /// A stage's records with the judge's accuracy added to their scores (as metric `judge`).
  func addJudgeScores(_ recs: inout [String: SearchEvalRecord], iteration i: Int, stage: String) throws {
    guard let j = try judge() else { return }
    let passages =
      stage == "val"
      ? try loadPassages(config.validationSplit, config.validationPassages)
      : try loadPassages(config.trainSplit(iteration: i), config.trainPassages)
    for (k, v) in try j.scores(recs, passages: passages, topic: config.evaluation.topic) {
      recs[k]?.scores[.judge] = v
    }
  }

  /// Grades every answer of a stage whose evaluations are all recorded (the judge runs in the
  /// process that continues the run, not in evaluation shards).
  func judgeStage(_ i: Int, _ stage: String, passages: [Passage]) throws {
    guard let j = try judge() else { return }
    let recs = try records(i, stage, judged: false)
    var items: [(question: String, gold: String, answer: String)] = []
    for r in recs.values.sorted(by: { $0.key < $1.key }) where r.failure == nil {
      let p = passages[r.passage]
      for (q, a) in zip(p.questions, r.answers) {
        items.append((InnerLoop.questionText(q, title: p.title, topic: config.evaluation.topic), q.answer, a))
      }
    }
    try j.grade(items)
  }
}

/// `seb judge` on a search run directory: every recorded answer of every iteration and stage
/// graded by `spec` (verdicts cached in the run's `judge-verdicts.jsonl`), and the judge's
/// accuracy of each stage's baseline and adapted answers (macro over passages, as the search's
/// write_results). The run's own files and reward are left as they are.
public struct StageJudgement: Sendable {
  public var iteration: Int
  public var stage: String
  public var baseline: Double
  public var adapted: Double
  public var answers: Int
}

extension SearchJudge {
  /// The judge's rule should be the run's (`config.variant.judgeRule`).
  public func judgeRun(dir: String, dataRoot: String) throws -> [StageJudgement] {
    let config = try SearchConfig.load(path: SearchLayout(dir).config)
    func passages(_ split: String, _ n: Int) throws -> [Passage] {
      Array(try SplitManifest.load(split).passages(dataRoot: dataRoot).prefix(n))
    }
    let val = try passages(config.validationSplit, config.validationPassages)
    var out: [StageJudgement] = []
    for i in 0..<config.iterations {
      let train = try passages(config.trainSplit(iteration: i), config.trainPassages)
      let d = SearchLayout(dir).iteration(i)
      for stage in ["seed", "train", "val"] {
        let recs = try SearchRunner.stageRecords(iterDir: d, stage: stage)
        guard !recs.isEmpty else { continue }
        let ps = stage == "val" ? val : train
        var items: [(question: String, gold: String, answer: String)] = []
        for r in recs.values.sorted(by: { $0.key < $1.key }) where r.failure == nil {
          let p = ps[r.passage]
          for (q, a) in zip(p.questions, r.answers) {
            items.append((InnerLoop.questionText(q, title: p.title, topic: config.evaluation.topic), q.answer, a))
          }
        }
        try grade(items)
        let s = try scores(recs, passages: ps, topic: config.evaluation.topic)
        func macro(_ base: Bool) -> Double {
          var byPassage: [Int: [Double]] = [:]
          for (k, v) in s where (recs[k]?.template == nil) == base {
            byPassage[recs[k]!.passage, default: []].append(v)
          }
          let means = byPassage.values.map { $0.reduce(0, +) / Double($0.count) }
          return means.isEmpty ? .nan : means.reduce(0, +) / Double(means.count)
        }
        out.append(
          StageJudgement(iteration: i, stage: stage, baseline: macro(true), adapted: macro(false), answers: items.count)
        )
      }
    }
    return out
  }
}

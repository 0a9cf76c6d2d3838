// Judge.swift: SEAL's yes/no grader as a stage of its own (reference-pipeline 2.4), separate from
// generation and re-runnable on a finished run: through the local model (greedy, chat template)
// or an OpenAI-compatible endpoint. Verdicts are appended to judge.jsonl and cached by
// (prompt, judge model), so a rerun only asks what is new; an empty answer is "no" without a call
// (as SEAL); a judge failure is recorded as a failure, never as "wrong".
import EngineAPI
import Experiment
import Foundation
import Workspace

public enum JudgeBackend {
  case local(Engine)
  case endpoint(ChatEndpoint)

  public var name: String {
    switch self {
    case .local(let e): return "local:\(e.identity.model)"
    case .endpoint(let e): return "\(e.spec.model)@\(e.spec.url)"
    }
  }
}

public enum Judge {
  /// Verdicts by "<record key>/q<i>" (see `RunFiles.judgeVerdicts`).
  public static func verdicts(path: String, judge: String? = nil) throws -> [String: Bool?] {
    try RunFiles.judgeVerdicts(path: path, judge: judge)
  }

  /// Judges every answer of the run that has no verdict from this judge yet (failed ones are retried).
  /// Returns (judged now, failures now).
  @discardableResult
  public static func run(
    dir: String, backend: JudgeBackend, dataRoot: String, prompts: PromptLibrary = PromptLibrary(),
    log: (String) -> Void = { _ in }
  ) throws -> (judged: Int, failed: Int) {
    let config = try RunConfig.load(path: RunLayout(dir).config)
    let records = try RunFiles.recordFiles(in: dir).flatMap { try RunFiles.decodeLines(EvalRecord.self, path: $0) }
    let (_, passages) = try Harness.passages(config: config, dataRoot: dataRoot)
    let template = try prompts.text("judge-seal")
    let path = RunLayout(dir).judge
    // Verdicts of this judge already recorded (by prompt and judge model: other judges' verdicts do not count).
    var have: [String: JudgeRecord] = [:]
    for j in try RunFiles.decodeLines(JudgeRecord.self, path: path) where j.judge == backend.name { have[j.key] = j }
    // Cache of replies by (judge, prompt) across records (the baseline and base answers repeat).
    var cache: [String: String] = [:]
    let out = try RecordLog(path: path)
    var judged = 0, failed = 0
    let todo = records.filter { $0.failure == nil }.flatMap { r in r.answers.map { (r, $0) } }
      .filter { have["\($0.0.key)/q\($0.1.q)"]?.verdict == nil }
    for (n, (r, a)) in todo.enumerated() {
      let p = passages[r.passage]
      let q = p.questions[a.q]
      let question = config.evaluation.topic ? "Topic: \(p.title)\n\(q.question)" : q.question
      let prompt = PromptLibrary.fill(template, ["question": question, "gold": q.answer, "pred": a.text])
      var rec = JudgeRecord(record: r.key, q: a.q, judge: backend.name, verdict: false, reply: "")
      if a.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        rec.reply = "(empty answer: no without a call)"
      } else if let c = cache[prompt] {
        rec.reply = c; rec.verdict = judgeVerdict(c)
      } else {
        do {
          let reply = try ask(backend, prompt)
          cache[prompt] = reply
          rec.reply = reply; rec.verdict = judgeVerdict(reply)
        } catch {
          rec.verdict = nil; rec.failure = AtomicFile.describe(error); failed += 1
        }
      }
      try out.append(try CanonicalJSON.line(rec))
      judged += 1
      if (n + 1) % 50 == 0 || n + 1 == todo.count { log("judge: \(n + 1)/\(todo.count) answers, \(failed) failures") }
    }
    return (judged, failed)
  }

  static func ask(_ backend: JudgeBackend, _ prompt: String) throws -> String {
    switch backend {
    case .endpoint(let e):
      // Temperature 0: SEAL's grader ran at the API default (1.0), which makes grades stochastic (5, S3).
      return try e.complete(prompt, temperature: 0)
    case .local(let e):
      return try e.generate(
        [GenerateRequest(prompt: e.chatPrompt(system: nil, user: prompt), maxTokens: 8)], batchSize: 8, progress: nil)[
          0
        ].text
    }
  }
}

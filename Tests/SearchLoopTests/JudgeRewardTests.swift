// JudgeRewardTests.swift: the paper's reward through a judge endpoint (a python3 stub started by
// the test): the grading prompt is the search repo's byte for byte, failed calls are recorded
// and retried by the next run (never scored as "no"), and the judge's accuracy is the reward.
import CPUEngine
import Experiment
import Foundation
import Search
import SearchLoop
import Testing
import Workspace

/// A stub `/v1/chat/completions`: 500 while `flag` exists, else "Yes." when the student answer
/// contains "town" and "No." otherwise; every prompt is appended to `log`.
final class JudgeStub {
  let process = Process()
  let port: Int
  static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }

  init(flag: String, log: String) throws {
    let script = """
      import http.server, json, os, sys
      class H(http.server.BaseHTTPRequestHandler):
          def do_POST(self):
              body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
              if os.path.exists(sys.argv[1]):
                  self.send_response(500); self.end_headers(); return
              prompt = body["messages"][0]["content"]
              with open(sys.argv[2], "a") as f: f.write(json.dumps(prompt) + "\\n")
              student = prompt.split("Student answer: ")[1].split("\\n")[0]
              text = "Yes." if "town" in student else "No."
              out = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
              self.send_response(200); self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
          def log_message(self, *a): pass
      s = http.server.HTTPServer(("127.0.0.1", 0), H)
      print(s.server_address[1], flush=True)
      s.serve_forever()
      """
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script, flag, log]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    var line = Data()
    while let b = try pipe.fileHandleForReading.read(upToCount: 1), !b.isEmpty, b != Data("\n".utf8) { line += b }
    port = Int(String(decoding: line, as: UTF8.self)) ?? 0
  }
  deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

@Suite("judge reward", .serialized)
struct JudgeRewardTests {
  @Test("the grading prompt is the search repo's SQUAD_GRADE_TEMPLATE byte for byte (reference-pipeline 3.6)")
  func promptIsTheReference() throws {
    let doc = try String(contentsOfFile: packageRoot + "/../shared/docs/reference-pipeline.md", encoding: .utf8)
    let marker = "claude-haiku-4-5-20251001"
    let after = try #require(doc.range(of: marker)).upperBound
    let start = try #require(doc.range(of: "Prompt, verbatim: `\"", range: after..<doc.endIndex)).upperBound
    let end = try #require(doc.range(of: "\"`", range: start..<doc.endIndex)).lowerBound
    let reference = String(doc[start..<end]).replacingOccurrences(of: "\\n", with: "\n")
    #expect(try PromptLibrary(directory: packageRoot + "/Data/prompts").text("judge-search") == reference)
    #expect(searchJudgeVerdict("Yes.") == true)
    #expect(searchJudgeVerdict("No, it is not.") == false)
    #expect(searchJudgeVerdict("yes and no") == false)
    #expect(searchJudgeVerdict("The answer is incorrect.") == nil)
  }

  @Test("a failing judge stops the run without a verdict; the next run retries and the judge's accuracy is the reward")
  func failuresRetriedNeverNo() throws {
    guard JudgeStub.available else { return }
    let fx = try SearchFixture()
    let flag = fx.root + "/judge-down"
    let log = fx.root + "/judge-prompts.jsonl"
    FileManager.default.createFile(atPath: flag, contents: Data())
    let stub = try JudgeStub(flag: flag, log: log)
    fx.config.iterations = 1
    fx.config.reward = "judge"
    fx.config.judge = EndpointSpec(
      url: "http://127.0.0.1:\(stub.port)/v1", model: "stub", maxTokens: 4, retries: 0, timeoutSeconds: 20)
    do {
      try fx.run("j")
      Issue.record("a run whose judge failed completed")
    } catch SearchError.judgeFailures(let n, let url, _) {
      #expect(n > 0)
      #expect(url == "http://127.0.0.1:\(stub.port)/v1")
    }
    let verdicts = try RecordLog.read(path: fx.path("j", "judge-verdicts.jsonl")).lines.map {
      try CanonicalJSON.decoder().decode(SearchJudgeRecord.self, from: $0)
    }
    #expect(!verdicts.isEmpty && verdicts.allSatisfy { $0.verdict == nil && $0.failure != nil })
    #expect(!FileManager.default.fileExists(atPath: fx.path("j", "iter-00/train-results.json")))

    try FileManager.default.removeItem(atPath: flag)
    let s = try #require(try withExtendedLifetime(stub) { try fx.run("j") })
    let overall = try #require(s.iterations[0].validation.overall["judge"])
    #expect(overall.baseline >= 0 && overall.baseline <= 1)
    #expect(s.iterations[0].train.overall["gold_loglik"] != nil)
    // Each distinct (question, gold, answer) was asked once, with the search repo's prompt.
    let prompts = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    #expect(Set(prompts).count == prompts.count)
    #expect(prompts.allSatisfy { $0.hasPrefix("\"You are a grading assistant. Determine whether") })
    let final = try RecordLog.read(path: fx.path("j", "judge-verdicts.jsonl")).lines.map {
      try CanonicalJSON.decoder().decode(SearchJudgeRecord.self, from: $0)
    }.filter { $0.verdict != nil }
    #expect(final.count == prompts.count)
    // A rerun of the finished run asks nothing.
    _ = try withExtendedLifetime(stub) { try fx.run("j") }
    #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == prompts.count)
  }
}

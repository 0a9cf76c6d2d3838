// JudgeRewardTests.swift: the paper's reward through a judge endpoint (a python3 stub started by
// the test): the grading prompt is the search repo's byte for byte, failed calls are recorded
// and retried by the next run (never scored as "no"), and the judge's accuracy is the reward.
import Analysis
import CPUEngine
import Experiment
import Foundation
import Reporting
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
    fx.config.reward = .judge
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
    let overall = try #require(s.iterations[0].validation.overall[.judge])
    #expect(overall.baseline >= 0 && overall.baseline <= 1)
    #expect(s.iterations[0].train.overall[.goldLogLikelihood] != nil)
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

@Suite("SEAL's ReST-EM", .serialized)
struct ReSTEMSEALTests {
  @Test(
    "restem-seal defaults to SEAL's inner loop; trainSplits needs one split per iteration and agrees with trainSplit")
  func configDefaults() throws {
    let c = try SearchConfig.parse(Data(#"{"variant": "restem-seal", "iterations": 2}"#.utf8), path: "c.json")
    #expect(c.training.lossMask == .sealPadded && c.training.padLength == 2048 && !c.training.appendEOS)
    #expect(c.evaluation.template == .seal && c.evaluation.topic)
    #expect(c.variant.judgeRule == .seal && SearchVariant.restem.judgeRule == .search)
    // seb search --variant restem-seal on another variant's file: the defaults follow the variant run.
    let o = try SearchConfig.parse(
      Data(#"{"variant": "search-noarchive", "training": {"epochs": 2}}"#.utf8), path: "c.json", variant: .restemSEAL)
    #expect(o.variant == .restemSEAL && o.training.lossMask == .sealPadded && o.training.epochs == 2)
    #expect(o.evaluation.template == .seal)
    // Today's restem keeps the search repo's inner loop.
    let r = try SearchConfig.parse(Data(#"{"variant": "restem"}"#.utf8), path: "c.json")
    #expect(r.training.appendEOS && r.training.lossMask == .unpadded && r.evaluation.template == .chat)
    let s = try SearchConfig.parse(
      Data(#"{"variant": "restem-seal", "iterations": 2, "trainSplits": ["a", "b"]}"#.utf8), path: "c.json")
    #expect(s.trainSplit == "a" && s.trainSplit(iteration: 1) == "b" && s.splits == ["a", "b", "val200"])
    for (text, key) in [
      (#"{"variant": "restem-seal", "iterations": 3, "trainSplits": ["a"]}"#, "trainSplits"),
      (#"{"variant": "restem", "iterations": 2, "trainSplits": ["a"]}"#, "trainSplits"),
      (#"{"variant": "restem-seal", "trainSplits": []}"#, "trainSplits"),
      (#"{"variant": "restem-seal", "trainSplit": "x", "trainSplits": ["a"]}"#, "trainSplit"),
    ] {
      do {
        _ = try SearchConfig.parse(Data(text.utf8), path: "c.json")
        Issue.record("accepted \(text)")
      } catch { #expect("\(error)".contains(key), "\(error)") }
    }
    // A config without trainSplits reads (and writes) as before.
    #expect(!String(decoding: try r.canonical(), as: UTF8.self).contains("trainSplits"))
    #expect(throws: Never.self) { try SearchConfig.load(path: packageRoot + "/Data/configs/restem-seal-small.json") }
  }

  @Test(
    "restem-seal: new passages in round 2, empty completions dropped (never trained on), SEAL's judge name and empty answers unasked"
  )
  func runsAsSEAL() throws {
    guard JudgeStub.available else { return }
    let fx = try SearchFixture(variant: .restemSEAL)
    let stub = try JudgeStub(flag: fx.root + "/never", log: fx.root + "/judge-prompts.jsonl")
    fx.config.iterations = 2
    // Round 2 trains on Zed 3-5, which nothing else asks about (validation is Zed 0-2).
    fx.config.trainSplits = [fx.root + "/tiny-train.json", fx.root + "/tiny-val.json"]
    fx.config.trainSplit = fx.config.trainSplits![0]
    fx.config.validationSplit = fx.root + "/tiny-train.json"
    fx.config.baselineCompletions = 2
    fx.config.runs = 2
    fx.config.training.lossMask = .sealPadded
    fx.config.training.padLength = 64
    fx.config.training.appendEOS = false
    fx.config.evaluation.template = .seal
    fx.config.evaluation.topic = true
    fx.config.reward = .judge
    fx.config.judge = EndpointSpec(
      url: "http://127.0.0.1:\(stub.port)/v1", model: "stub", maxTokens: 4, retries: 0, timeoutSeconds: 20)
    let s = try #require(try withExtendedLifetime(stub) { try fx.run("rs") })
    #expect(s.iterations.count == 2 && s.iterations[1].train.overall[.judge] != nil)
    for (i, titles) in [(0, ["Zed 0", "Zed 1", "Zed 2"]), (1, ["Zed 3", "Zed 4", "Zed 5"])] {
      let comps = try CanonicalJSON.decoder().decode(
        CompletionStage.self, from: fx.file("rs", String(format: "iter-%02d/train-completions.json", i)))
      #expect(comps.completions.count == 3 * 2)
      let rows = String(decoding: fx.file("rs", String(format: "iter-%02d/sft-rows.jsonl", i)), as: UTF8.self)
        .split(separator: "\n").map { try! CanonicalJSON.decoder().decode(SFTRow.self, from: Data($0.utf8)) }
      // One row per passage with an evaluable completion, its prompt the passage's, its completion stripped.
      let evaluable = Set(comps.completions.filter { $0.failure == nil }.map(\.passage))
      #expect(rows.count == evaluable.count)
      for r in rows {
        #expect(titles.contains { r.prompt.contains("\n\($0)\n") }, "\(r.prompt)")
        #expect(r.completion == TrainingSequences.pyStrip(r.completion) && !r.completion.isEmpty)
      }
      // Empty completions are failures (dropped), never trained on.
      for c in comps.completions where TrainingSequences.pyStrip(c.text).isEmpty { #expect(c.failure != nil) }
    }
    let verdicts = try RecordLog.read(path: fx.path("rs", "judge-verdicts.jsonl")).lines.map {
      try CanonicalJSON.decoder().decode(SearchJudgeRecord.self, from: $0)
    }
    #expect(verdicts.allSatisfy { $0.judge.hasSuffix(" judge-seal") && $0.verdict != nil })
    #expect(verdicts.filter { $0.answer.isEmpty }.allSatisfy { $0.verdict == false && $0.reply.isEmpty })
    #expect(verdicts.contains { $0.question == "Topic: Zed 3\nWhere is Zed 3?" })  // round 2's own passages
  }

  @Test(
    "SEAL's judge: SEAL's grading prompt filled with the Topic question, an empty answer is 'no' unasked, verdicts kept apart"
  )
  func sealJudgeRule() throws {
    guard JudgeStub.available else { return }
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("seb-sealjudge-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let log = root + "/prompts.jsonl"
    let stub = try JudgeStub(flag: root + "/never", log: log)
    let spec = EndpointSpec(
      url: "http://127.0.0.1:\(stub.port)/v1", model: "stub", maxTokens: 4, retries: 0, timeoutSeconds: 20)
    let prompts = PromptLibrary(directory: packageRoot + "/Data/prompts")
    let seal = try SearchJudge(spec: spec, path: root + "/v.jsonl", prompts: prompts, rule: .seal)
    let items = [("Topic: Zed\nWhere?", "town", " in town "), ("Topic: Zed\nColor?", "blue", "  ")]
    try withExtendedLifetime(stub) { try seal.grade(items) }
    let asked = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    let sealText = PromptLibrary.fill(
      try prompts.text("judge-seal"), ["question": "Topic: Zed\nWhere?", "gold": "town", "pred": "in town"])
    let expected = String(decoding: try JSONEncoder().encode(sealText), as: UTF8.self)
    #expect(asked.count == 1 && asked.first.map(String.init) == expected)
    let v = try seal.verdicts()
    #expect(v.count == 2 && v.values.filter { $0.verdict == true }.count == 1)
    // The search prompt's judge does not reuse SEAL's verdicts.
    let search = try SearchJudge(spec: spec, path: root + "/v.jsonl", prompts: prompts)
    let none = try search.verdicts()
    #expect(none.isEmpty && search.name != seal.name)
  }
}

extension ReSTEMSEALTests {
  @Test(
    "the settings table: restem-seal's defaults at SEAL's counts match SEAL on every row; the small config names its departures"
  )
  func settingsTable() throws {
    let seal = try SearchConfig.parse(
      Data(
        #"""
        {"variant": "restem-seal", "iterations": 3, "baselineCompletions": 5, "runs": 3, "trainPassages": 50,
         "trainSplits": ["seal-iter0", "seal-iter1"], "validationPassages": 200, "proposer": {"completionMaxTokens": 8192},
         "reward": "judge", "judge": {"url": "https://api.openai.com/v1", "model": "gpt-4.1"}}
        """#.utf8), path: "c.json")
    func rows(_ c: SearchConfig) throws -> [[String]] {
      let table = SearchReport.sealSettingsTable(try JSONValue.parse(try c.canonical(), path: "c"))
      return table.split(separator: "\n").dropFirst(2).map {
        $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      }
    }
    let all = try rows(seal)
    #expect(all.count == 19 && all.allSatisfy { $0.last == "yes" }, "\(all.filter { $0.last != "yes" })")
    let small = try rows(try SearchConfig.load(path: packageRoot + "/Data/configs/restem-seal-small.json"))
    #expect(
      Set(small.filter { $0.last != "yes" }.map { $0[0] })
        == [
          "ReST-EM rounds (ranking + SFT update)", "models validated", "train passages per round",
          "self-edit token cap", "pads (EOS) in the loss, padded to", "reward",
          "validation: passages / runs per self-edit",
        ])
  }
}

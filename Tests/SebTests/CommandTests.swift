// End-to-end tests of the `seb` executable on a tiny GGUF model written by the test: help text,
// JSON output, exit codes. They run the binary built next to the test bundle.
import Foundation
import GGUF
import LLM
import TestSupport
import Testing
import Experiment
import Workspace

private enum Seb {
  /// The products directory holds both the test bundle and `seb`.
  static var binary: URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("seb")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return nil
  }

  struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  static func run(_ args: [String]) throws -> Result {
    let p = Process()
    p.executableURL = binary!
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["SEB_BLAS_CORE"] = "native"  // no re-exec needed for tiny models
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  /// A tiny llama GGUF (300-token byte-level vocab) in a temporary file.
  static func tinyModel(context: Int = 128) throws -> String {
    let cfg = LlamaConfig(vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
                          ropeTheta: 10000, rmsEps: 1e-5, contextLength: context)
    let bytes = try TinyGGUF.make(config: cfg, seed: 5)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seb-tiny-\(UUID().uuidString).gguf").path
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    return path
  }
}

@Suite("seb command line", .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct CommandTests {
  @Test("--help lists every verb and teaches with examples")
  func help() throws {
    let r = try Seb.run(["--help"])
    #expect(r.status == 0)
    for verb in ["model", "tokenize", "generate", "score", "verify", "train", "embed", "report", "analyze"] {
      #expect(r.stdout.contains(verb), "missing \(verb)")
    }
    let g = try Seb.run(["generate", "--help"])
    #expect(g.stdout.contains("--temperature") && g.stdout.contains("Examples"))
  }

  @Test("tokenize --json prints ids and pieces that decode back to the text")
  func tokenize() throws {
    let model = try Seb.tinyModel()
    let r = try Seb.run(["tokenize", "--model", model, "--json", "ab c"])
    #expect(r.status == 0, "\(r.stderr)")
    let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let pieces = obj["pieces"] as! [String]
    #expect((obj["ids"] as! [Int]).count == pieces.count)
    #expect(pieces.joined().replacingOccurrences(of: "Ġ", with: " ") == "ab c")
  }

  @Test("generate --json reports token counts and timings, and the same seed gives the same text")
  func generate() throws {
    let model = try Seb.tinyModel()
    let args = ["generate", "--model", model, "--prompt", "hello", "--max-tokens", "6", "--temperature", "1", "--n", "2",
                "--seed", "3", "--json", "--threads", "1"]
    let a = try Seb.run(args), b = try Seb.run(args)
    #expect(a.status == 0, "\(a.stderr)")
    let obj = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as! [String: Any]
    for key in ["promptTokens", "generatedTokens", "prefillSeconds", "decodeSeconds", "samples", "threads", "blasCore"] {
      #expect(obj[key] != nil, "missing \(key)")
    }
    #expect((obj["samples"] as! [[String: Any]]).count == 2)
    let textA = (obj["samples"] as! [[String: Any]]).map { $0["tokens"] as! [Int] }
    let objB = try JSONSerialization.jsonObject(with: Data(b.stdout.utf8)) as! [String: Any]
    #expect(textA == (objB["samples"] as! [[String: Any]]).map { $0["tokens"] as! [Int] })
  }

  @Test("verify prints one row per case, N passed, M failed, and exits non-zero on a mismatch")
  func verify() throws {
    let model = try Seb.tinyModel()
    let ids = try JSONSerialization.jsonObject(with: Data(try Seb.run(["tokenize", "--model", model, "--json", "ab"]).stdout.utf8)) as! [String: Any]
    let good = ids["ids"] as! [Int]
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("seb-ref-\(UUID().uuidString).json")
    let ref: [String: Any] = ["cases": [["text": "ab", "ids": good], ["text": "ab", "ids": good + [1]]]]
    try JSONSerialization.data(withJSONObject: ref).write(to: file)
    let r = try Seb.run(["verify", "tokenizer", "--model", model, "--reference", file.path])
    #expect(r.status != 0)
    #expect(r.stdout.contains("1 passed, 1 failed"))
  }

  @Test("model info on a malformed file fails with a message naming the file")
  func malformed() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seb-bad-\(UUID().uuidString).gguf").path
    #expect(FileManager.default.createFile(atPath: path, contents: Data("GGUX\u{3}\0\0\0".utf8)))
    let r = try Seb.run(["model", "info", path])
    #expect(r.status != 0)
    #expect(r.stderr.contains(path) || r.stdout.contains(path))
  }
}

@Suite("seb experiment commands", .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct ExperimentCommandTests {
  func temp() -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-cli-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  @Test("--help lists the experiment verbs")
  func help() throws {
    let r = try Seb.run(["--help"])
    for verb in ["run", "baseline", "merge", "check", "judge", "split"] { #expect(r.stdout.contains(verb), "missing \(verb)") }
  }

  @Test("a config with a misspelt key fails naming file and key, before creating the run directory")
  func badConfig() throws {
    let d = temp()
    try Data("{\"trainig\": {}}".utf8).write(to: URL(fileURLWithPath: d + "/c.json"))
    let r = try Seb.run(["run", d + "/c.json", "--out", d + "/run", "--model", try Seb.tinyModel()])
    #expect(r.status == 65)
    #expect(!r.stderr.contains("Usage:"))
    #expect(r.stderr.contains("c.json") && r.stderr.contains("trainig"))
    #expect(!FileManager.default.fileExists(atPath: d + "/run"))
  }

  @Test("an unwritable --out fails before any work, naming the path")
  func unwritableOut() throws {
    let d = temp()
    try Data("x".utf8).write(to: URL(fileURLWithPath: d + "/file"))
    let r = try Seb.run(["baseline", "--method", "passage", "--out", d + "/file/run", "--model", try Seb.tinyModel()])
    #expect(r.status == 73)
    #expect(r.stderr.contains(d + "/file"))
  }

  @Test("check and report on a directory without a summary name the missing file")
  func missingSummary() throws {
    let d = temp()
    try Data("{\"metrics\": {\"complete\": {\"equals\": true}}}".utf8).write(to: URL(fileURLWithPath: d + "/e.json"))
    let c = try Seb.run(["check", d, "--expect", d + "/e.json"])
    #expect(c.status == 66 && c.stderr.contains(d + "/summary.json"))
    let m = try Seb.run(["run", d + "/e.json", "--out", d + "/r", "--model", d + "/none.gguf"])
    #expect(m.status == 65 || m.status == 66)
    let u = try Seb.run(["run"])
    #expect(u.status == 64 && u.stderr.contains("Usage"))
    try Data("{}".utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
    let r = try Seb.run(["report", d])
    #expect(r.status != 0 && r.stderr.contains("summary.json"))
  }

  @Test("check exits 1 naming each metric outside its band")
  func checkFails() throws {
    let d = temp()
    try Data("{\"complete\": false, \"passages\": 2}".utf8).write(to: URL(fileURLWithPath: d + "/summary.json"))
    try Data("{\"metrics\": {\"complete\": {\"equals\": true}, \"passages\": {\"value\": 2, \"tolerance\": 0}}}".utf8)
      .write(to: URL(fileURLWithPath: d + "/e.json"))
    let r = try Seb.run(["check", d, "--expect", d + "/e.json"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("FAIL  complete") && r.stdout.contains("ok    passages") && r.stdout.contains("1 passed, 1 failed"))
  }

  @Test("train refuses a NaN clip, a huge rank and a rank wider than the model before loading, naming the option")
  func trainFlags() throws {
    let d = temp()
    try Data("hello".utf8).write(to: URL(fileURLWithPath: d + "/data.txt"))
    let model = try Seb.tinyModel()
    let nan = try Seb.run(["train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--max-grad-norm", "nan"])
    #expect(nan.status == 64 && nan.stderr.contains("--max-grad-norm"))
    let huge = try Seb.run(["train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--rank", "100000"])
    #expect(huge.status == 65 && huge.stderr.contains("options.rank"))
    let wide = try Seb.run(["train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--rank", "500"])
    #expect(wide.status == 65 && wide.stderr.contains("training.rank"))
    #expect(!FileManager.default.fileExists(atPath: d + "/a"))
  }

  @Test("train --config takes the run config's training object and its checks")
  func trainConfig() throws {
    let d = temp()
    try Data("hello world\n\nsecond piece".utf8).write(to: URL(fileURLWithPath: d + "/data.txt"))
    try Data("{\"rank\": 4, \"epochs\": 0}".utf8).write(to: URL(fileURLWithPath: d + "/bad.json"))
    let bad = try Seb.run(["train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/bad.json"])
    #expect(bad.status != 0 && bad.stderr.contains("training.epochs"))
    try Data("{\"rank\": 4, \"alpha\": 8, \"epochs\": 1}".utf8).write(to: URL(fileURLWithPath: d + "/ok.json"))
    let ok = try Seb.run(["train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json", "--json"])
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(ok.stdout.contains("\"steps\":2"))
    // An existing adapter directory is refused; --force replaces it whole (no stale file survives).
    try Data("stale".utf8).write(to: URL(fileURLWithPath: d + "/a/stale.txt"))
    let again = try Seb.run(["train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json"])
    #expect(again.status == 73 && again.stderr.contains("--force"))
    let forced = try Seb.run(["train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json", "--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: d + "/a").sorted() == ["adapter_config.json", "adapter_model.safetensors"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.contains(".tmp-") || $0.contains(".old-") }.isEmpty)
  }
}

@Suite("seb run survives kill -9", .serialized, .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct KillResumeTests {
  /// A data root with 4 tiny passages and its split manifest; returns (data root, config path).
  func fixture(_ d: String) throws -> (String, String) {
    try FileManager.default.createDirectory(atPath: d + "/data/squad", withIntermediateDirectories: true)
    var ps: [[String: Any]] = []
    for i in 0..<4 {
      ps.append(["title": "Zed \(i)", "context": "Zed \(i) lives in town \(i * 7). It is blue.",
                 "questions": [["question": "Where does Zed \(i) live?", "answer": "town \(i * 7)"], ["question": "Color?", "answer": "blue"]]])
    }
    try JSONSerialization.data(withJSONObject: ps).write(to: URL(fileURLWithPath: d + "/data/squad/squad_val.json"))
    let split = try SplitManifest.make(name: "tiny", source: "squad/squad_val.json",
                                       passages: try Datasets.loadSEAL(path: d + "/data/squad/squad_val.json"), start: 0, count: 4)
    try CanonicalJSON.pretty(split).write(to: URL(fileURLWithPath: d + "/tiny.json"))
    let config = """
      {"name": "kill", "seed": 5, "split": "\(d)/tiny.json", "methods": ["base", "passage", "implications"],
       "selfEdit": {"maxTokens": 16}, "training": {"rank": 4, "alpha": 8, "epochs": 3}, "evaluation": {"maxTokens": 6}}
      """
    try Data(config.utf8).write(to: URL(fileURLWithPath: d + "/c.json"))
    return (d + "/data", d + "/c.json")
  }

  @Test("killing a run at several moments and re-running gives the uninterrupted summary, byte for byte")
  func killResume() throws {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-kill-\(UUID().uuidString)").path
    let (data, cfg) = try fixture(d)
    let model = try Seb.tinyModel(context: 1024)
    let args = { (out: String) in ["run", cfg, "--out", out, "--data", data, "--model", model, "--threads", "1"] }
    let whole = try Seb.run(args(d + "/whole"))
    try #require(whole.status == 0, "\(whole.stderr)")
    let want = FileManager.default.contents(atPath: d + "/whole/summary.json")
    var kills = 0
    for delay in [0.02, 0.08, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0] {
      let p = Process()
      p.executableURL = Seb.binary!
      p.arguments = args(d + "/killed")
      var env = ProcessInfo.processInfo.environment
      env["SEB_BLAS_CORE"] = "native"
      p.environment = env
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      Thread.sleep(forTimeInterval: delay)
      if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
      p.waitUntilExit()
    }
    let last = try Seb.run(args(d + "/killed"))
    #expect(last.status == 0, "\(last.stderr)")
    #expect(kills > 0)
    #expect(FileManager.default.contents(atPath: d + "/killed/summary.json") == want)
    let lines = String(decoding: FileManager.default.contents(atPath: d + "/killed/records.jsonl")!, as: UTF8.self).split(separator: "\n")
    #expect(Set(lines).count == lines.count && lines.count == 4 * 4)
  }
}

import Experiment
// End-to-end tests of the `seb` executable on a tiny GGUF model written by the test: help text,
// JSON output, exit codes. They run the binary built next to the test bundle.
import Foundation
import GGUF
import LLM
import TestSupport
import Testing
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

  /// Starts `seb` with output discarded (for tests that kill it).
  static func start(_ args: [String]) throws -> Process {
    let p = Process()
    p.executableURL = binary!
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["SEB_BLAS_CORE"] = "native"
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
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
    return Result(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  /// A tiny llama GGUF (300-token byte-level vocab) in a temporary file.
  static func tinyModel(context: Int = 128) throws -> String {
    let cfg = LlamaConfig(
      vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
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
    let args = [
      "generate", "--model", model, "--prompt", "hello", "--max-tokens", "6", "--temperature", "1", "--n", "2",
      "--seed", "3", "--json", "--threads", "1",
    ]
    let a = try Seb.run(args), b = try Seb.run(args)
    #expect(a.status == 0, "\(a.stderr)")
    let obj = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as! [String: Any]
    for key in ["promptTokens", "generatedTokens", "prefillSeconds", "decodeSeconds", "samples", "threads", "blasCore"]
    {
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
    let ids =
      try JSONSerialization.jsonObject(
        with: Data(try Seb.run(["tokenize", "--model", model, "--json", "ab"]).stdout.utf8)) as! [String: Any]
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
    for verb in ["run", "baseline", "merge", "check", "judge", "split"] {
      #expect(r.stdout.contains(verb), "missing \(verb)")
    }
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

  @Test("seb run and seb search refuse a directory that holds another config with exit 73, naming it")
  func configConflict() throws {
    let configs =
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path + "/Data/configs"
    for (args, name) in [
      (["run", configs + "/smoke.json"], "run"),
      (["search", configs + "/search-smoke.json", "--variant", "search-noarchive"], "search"),
    ] {
      let d = temp()
      try FileManager.default.createDirectory(atPath: d + "/out", withIntermediateDirectories: true)
      try Data("{\"name\": \"another run\"}".utf8).write(to: URL(fileURLWithPath: d + "/out/config.json"))
      let r = try Seb.run(args + ["--out", d + "/out", "--model", try Seb.tinyModel()])
      #expect(r.status == 73, "\(name): \(r.stderr)")
      #expect(r.stderr.contains(d + "/out") && r.stderr.contains("different config"), "\(name): \(r.stderr)")
    }
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
    #expect(
      r.stdout.contains("FAIL  complete") && r.stdout.contains("ok    passages")
        && r.stdout.contains("1 passed, 1 failed"))
  }

  @Test("train refuses a NaN clip, a huge rank and a rank wider than the model before loading, naming the option")
  func trainFlags() throws {
    let d = temp()
    try Data("hello".utf8).write(to: URL(fileURLWithPath: d + "/data.txt"))
    let model = try Seb.tinyModel()
    let nan = try Seb.run([
      "train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--max-grad-norm", "nan",
    ])
    #expect(nan.status == 64 && nan.stderr.contains("--max-grad-norm"))
    let huge = try Seb.run([
      "train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--rank", "100000",
    ])
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
    let bad = try Seb.run([
      "train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config",
      d + "/bad.json",
    ])
    #expect(bad.status != 0 && bad.stderr.contains("training.epochs"))
    try Data("{\"rank\": 4, \"alpha\": 8, \"epochs\": 1}".utf8).write(to: URL(fileURLWithPath: d + "/ok.json"))
    let ok = try Seb.run([
      "train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json",
      "--json",
    ])
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(ok.stdout.contains("\"steps\":2"))
    // An existing adapter directory is refused; --force replaces it whole (no stale file survives).
    try Data("stale".utf8).write(to: URL(fileURLWithPath: d + "/a/stale.txt"))
    let again = try Seb.run([
      "train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json",
    ])
    #expect(again.status == 73 && again.stderr.contains("--force"))
    let forced = try Seb.run([
      "train", "--model", try Seb.tinyModel(), "--data", d + "/data.txt", "--out", d + "/a", "--config", d + "/ok.json",
      "--force",
    ])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: d + "/a").sorted() == [
        "adapter_config.json", "adapter_model.safetensors",
      ])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.contains(".tmp-") || $0.contains(".old-") }
        .isEmpty)
  }

  @Test("train --config cuts prompt + completion rows to maxLength, prompt included, as the inner loop cuts sequences")
  func trainConfigTruncatesLongPrompts() throws {
    let d = temp()
    let row = "{\"prompt\": \"a long prompt that is longer than the limit\", \"completion\": \" done\"}\n"
    try Data((row + row).utf8).write(to: URL(fileURLWithPath: d + "/data.jsonl"))
    try Data("{\"rank\": 4, \"alpha\": 8, \"epochs\": 1, \"maxLength\": 4}".utf8).write(
      to: URL(fileURLWithPath: d + "/c.json"))
    let r = try Seb.run([
      "train", "--model", try Seb.tinyModel(), "--data", d + "/data.jsonl", "--out", d + "/a", "--config",
      d + "/c.json", "--json",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("\"tokens\":8"), "\(r.stdout)")
  }
}

@Suite(
  "seb run survives kill -9", .serialized,
  .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct KillResumeTests {
  /// A data root with 4 tiny passages and its split manifest; returns (data root, config path).
  func fixture(_ d: String) throws -> (String, String) {
    try FileManager.default.createDirectory(atPath: d + "/data/squad", withIntermediateDirectories: true)
    var ps: [[String: Any]] = []
    for i in 0..<4 {
      ps.append([
        "title": "Zed \(i)", "context": "Zed \(i) lives in town \(i * 7). It is blue.",
        "questions": [
          ["question": "Where does Zed \(i) live?", "answer": "town \(i * 7)"],
          ["question": "Color?", "answer": "blue"],
        ],
      ])
    }
    try JSONSerialization.data(withJSONObject: ps).write(to: URL(fileURLWithPath: d + "/data/squad/squad_val.json"))
    let split = try SplitManifest.make(
      name: "tiny", source: "squad/squad_val.json",
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
      let p = try Seb.start(args(d + "/killed"))
      Thread.sleep(forTimeInterval: delay)
      if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
      p.waitUntilExit()
    }
    let last = try Seb.run(args(d + "/killed"))
    #expect(last.status == 0, "\(last.stderr)")
    #expect(kills > 0)
    #expect(FileManager.default.contents(atPath: d + "/killed/summary.json") == want)
    let lines = String(decoding: FileManager.default.contents(atPath: d + "/killed/records.jsonl")!, as: UTF8.self)
      .split(separator: "\n")
    #expect(Set(lines).count == lines.count && lines.count == 4 * 4)
  }

  @Test("a report of one config run twice (say on two engines) names each run by its directory and pairs them")
  func reportTwoRunsOfOneConfig() throws {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-two-\(UUID().uuidString)").path
    let (data, cfg) = try fixture(d)
    let model = try Seb.tinyModel(context: 1024)
    let r = try Seb.run(["run", cfg, "--out", d + "/cpu", "--data", data, "--model", model, "--threads", "1"])
    try #require(r.status == 0, "\(r.stderr)")
    try FileManager.default.copyItem(atPath: d + "/cpu", toPath: d + "/gpu")
    let rep = try Seb.run(["report", d + "/cpu", d + "/gpu", "--out", d + "/rep"])
    try #require(rep.status == 0, "\(rep.stderr)")
    let md = String(decoding: FileManager.default.contents(atPath: d + "/rep/README.md")!, as: UTF8.self)
    #expect(md.contains("## kill (cpu)\n") && md.contains("## kill (gpu)\n"))
    #expect(md.contains("| kill (gpu) - kill (cpu) | passage | f1_all | 4 | 0.0000 [0.0000, 0.0000] | 0 / 0 / 4 |"))
    #expect(md.contains("| kill (gpu) / kill (cpu) | (un-adapted) | 4 | 8 / 8 | — |"))
    let implications = md.split(separator: "\n").first {
      $0.hasPrefix("| kill (gpu) / kill (cpu) | implications | 4 |")
    }
    #expect(implications?.hasSuffix("| 4 / 4 |") == true, "\(md)")
  }
}

/// One bad input to one command: what it must print and exit with, and what must not exist after.
struct BadInput: CustomTestStringConvertible, Sendable {
  let name: String
  let args: [String]  // $D = a fresh folder with the files below, $M = a tiny model
  let status: Int32
  let message: String  // a piece of the one stderr line
  var absent: [String] = ["$D/out"]  // nothing partial left behind
  var testDescription: String { name }
}

@Suite(
  "seb refuses bad input: named error, exit code by kind, nothing partial",
  .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct BadInputTests {
  static let cases: [BadInput] = [
    // model files
    BadInput(
      name: "missing model file", args: ["tokenize", "hi", "--model", "$D/none.gguf"], status: 66,
      message: "$D/none.gguf"),
    BadInput(
      name: "a text file as model", args: ["generate", "--prompt", "hi", "--model", "$D/text.txt"], status: 65,
      message: "not a GGUF file"),
    BadInput(
      name: "truncated model", args: ["score", "--prompt", "a", "--continuation", "b", "--model", "$D/truncated.gguf"],
      status: 65, message: "$D/truncated.gguf"),
    BadInput(
      name: "model info of a missing file", args: ["model", "info", "$D/none.gguf"], status: 66, message: "$D/none.gguf"
    ),
    // generate / score options and inputs
    BadInput(
      name: "NaN temperature", args: ["generate", "--prompt", "hi", "--model", "$M", "--temperature", "nan"],
      status: 65, message: "temperature"),
    BadInput(
      name: "top-p above 1", args: ["generate", "--prompt", "hi", "--model", "$M", "--top-p", "2"], status: 65,
      message: "top-p"),
    BadInput(name: "empty prompt", args: ["generate", "--prompt", "", "--model", "$M"], status: 65, message: "prompt"),
    BadInput(
      name: "prompt beyond the context", args: ["generate", "--prompt", "$LONG", "--model", "$M", "--max-tokens", "4"],
      status: 65, message: "context"),
    BadInput(
      name: "score prompt beyond the context",
      args: ["score", "--prompt", "$LONG", "--continuation", "x", "--model", "$M"], status: 65, message: "context"),
    BadInput(
      name: "empty continuation", args: ["score", "--prompt", "hi", "--continuation", "", "--model", "$M"], status: 65,
      message: "continuation"),
    BadInput(
      name: "missing adapter",
      args: ["score", "--prompt", "hi", "--continuation", "x", "--model", "$M", "--adapter", "$D/none"], status: 65,
      message: "$D/none"),
    BadInput(
      name: "adapter for another model",
      args: ["score", "--prompt", "hi", "--continuation", "x", "--model", "$M", "--adapter", "$D/wide-adapter"],
      status: 65, message: "adapter"),
    // verify
    BadInput(
      name: "missing reference", args: ["verify", "logits", "--reference", "$D/none.json", "--model", "$M"], status: 66,
      message: "reference file $D/none.json"),
    BadInput(
      name: "reference with no cases", args: ["verify", "logits", "--reference", "$D/nocases.json", "--model", "$M"],
      status: 65, message: "at least one case"),
    BadInput(
      name: "reference that is not JSON", args: ["verify", "tokenizer", "--reference", "$D/text.txt", "--model", "$M"],
      status: 65, message: "$D/text.txt"),
    BadInput(
      name: "unknown verify kind", args: ["verify", "nothing", "--reference", "$D/nocases.json"], status: 64,
      message: "nothing"),
    // train: data, options, outputs
    BadInput(
      name: "missing training data", args: ["train", "--model", "$M", "--data", "$D/none.txt", "--out", "$D/out"],
      status: 66, message: "$D/none.txt"),
    BadInput(
      name: "JSONL row without text", args: ["train", "--model", "$M", "--data", "$D/notext.jsonl", "--out", "$D/out"],
      status: 65, message: "$D/notext.jsonl:1"),
    BadInput(
      name: "JSON that is not an array",
      args: ["train", "--model", "$M", "--data", "$D/object.json", "--out", "$D/out"], status: 65,
      message: "$D/object.json"),
    BadInput(
      name: "non-UTF-8 data", args: ["train", "--model", "$M", "--data", "$D/binary.txt", "--out", "$D/out"],
      status: 65, message: "UTF-8"),
    BadInput(
      name: "empty data file", args: ["train", "--model", "$M", "--data", "$D/empty.txt", "--out", "$D/out"],
      status: 65, message: "no training sequence"),
    BadInput(
      name: "sequence beyond the context",
      args: ["train", "--model", "$M", "--data", "$D/long.txt", "--out", "$D/out"], status: 65, message: "context"),
    BadInput(
      name: "zero epochs",
      args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/out", "--epochs", "0"], status: 65,
      message: "epochs"),
    BadInput(
      name: "NaN learning rate",
      args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/out", "--lr", "nan"], status: 65,
      message: "learningRate"),
    BadInput(
      name: "dropout of 1",
      args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/out", "--dropout", "1"], status: 65,
      message: "dropout"),
    BadInput(
      name: "unknown target",
      args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/out", "--targets", "q,zz"], status: 64,
      message: "zz"),
    BadInput(
      name: "output is a file", args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/text.txt"],
      status: 73, message: "$D/text.txt", absent: []),
    BadInput(
      name: "bad --config",
      args: ["train", "--model", "$M", "--data", "$D/data.txt", "--out", "$D/out", "--config", "$D/text.txt"],
      status: 65, message: "$D/text.txt"),
    // run / baseline / merge / check / report / judge / split
    BadInput(
      name: "missing run config", args: ["run", "$D/none.json", "--out", "$D/out", "--model", "$M"], status: 66,
      message: "$D/none.json"),
    BadInput(
      name: "run config that is not JSON", args: ["run", "$D/text.txt", "--out", "$D/out", "--model", "$M"], status: 65,
      message: "$D/text.txt"),
    BadInput(
      name: "run config with a wrong type", args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--model", "$M"],
      status: 65, message: "seed"),
    BadInput(
      name: "unknown method", args: ["baseline", "--method", "nosuch", "--out", "$D/out", "--model", "$M"], status: 65,
      message: "nosuch"),
    BadInput(
      name: "unknown split",
      args: ["baseline", "--method", "passage", "--split", "nosuch", "--out", "$D/out", "--model", "$M"], status: 66,
      message: "nosuch"),
    BadInput(
      name: "shard 3 of 2", args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--shard", "3/2"], status: 64,
      message: "3/2"),
    BadInput(
      name: "zero adapters per step",
      args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--adapters-per-step", "0"], status: 64,
      message: "adapters-per-step"),
    BadInput(
      name: "zero answer batch",
      args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--answer-batch", "0"], status: 64,
      message: "--answer-batch must be >= 1"),
    BadInput(
      name: "zero stop-after",
      args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--stop-after", "0"], status: 64,
      message: "--stop-after must be > 0"),
    BadInput(
      name: "stop-after on a search",
      args: ["run", "$D/search-judge.json", "--out", "$D/out", "--stop-after", "60", "--model", "$M"], status: 64,
      message: "not to a search"),
    BadInput(
      name: "limit on a search",
      args: ["run", "$D/search-judge.json", "--out", "$D/out", "--limit", "3", "--model", "$M"], status: 64,
      message: "--limit, --stop-after, --answer-batch and --keep-adapters apply to knowledge-incorporation runs"),
    BadInput(
      name: "zero limit", args: ["run", "$D/wrongtype.json", "--out", "$D/out", "--limit", "0"], status: 64,
      message: "limit"),
    BadInput(
      name: "run output under a file",
      args: ["baseline", "--method", "passage", "--out", "$D/text.txt/run", "--model", "$M"], status: 73,
      message: "$D/text.txt", absent: []),
    BadInput(
      name: "merge of a folder that is no run", args: ["merge", "$D/empty", "--out", "$D/out"], status: 66,
      message: "config.json"),
    BadInput(
      name: "check without a summary", args: ["check", "$D/empty", "--expect", "$D/nocases.json"], status: 66,
      message: "summary.json", absent: []),
    BadInput(
      name: "report of a folder that is no run", args: ["report", "$D/empty", "--out", "$D/out"], status: 66,
      message: "config.json"),
    BadInput(
      name: "judge of a folder that is no run", args: ["judge", "$D/empty", "--model", "$M"], status: 66,
      message: "config.json", absent: []),
    BadInput(
      name: "split from a missing source",
      args: ["split", "make", "x", "--source", "squad/none.json", "--count", "3", "--data", "$D", "--out", "$D/out"],
      status: 66, message: "none.json"),
    BadInput(
      name: "split of zero passages",
      args: ["split", "make", "x", "--source", "squad.json", "--count", "0", "--data", "$D", "--out", "$D/out"],
      status: 65, message: "count"),
    // search
    BadInput(
      name: "missing search config", args: ["search", "$D/none.json", "--out", "$D/out", "--model", "$M"], status: 66,
      message: "$D/none.json"),
    BadInput(
      name: "search config with an unknown key",
      args: ["search", "$D/search-badkey.json", "--out", "$D/out", "--model", "$M"], status: 65, message: "temprature"),
    BadInput(
      name: "search config with an unknown variant",
      args: ["run", "$D/search-badvariant.json", "--out", "$D/out", "--model", "$M"], status: 65, message: "variant"),
    BadInput(
      name: "search config with an inline judge reward",
      args: ["search", "$D/search-judge.json", "--out", "$D/out", "--model", "$M"], status: 65, message: "reward"),
    BadInput(
      name: "unknown --variant", args: ["search", "$D/search-judge.json", "--out", "$D/out", "--variant", "magic"],
      status: 64, message: "magic"),
    BadInput(
      name: "search with an unknown split",
      args: ["search", "$D/search-nosplit.json", "--out", "$D/out", "--model", "$M"], status: 66, message: "nosuch"),
    BadInput(
      name: "report of a search run mixed with another run",
      args: ["report", "$D/searchrun", "$D/empty", "--out", "$D/out"], status: 64, message: "$D/empty"),
    // analysis and reports
    BadInput(
      name: "analyze a missing file", args: ["analyze", "similarity", "$D/none.json", "--out", "$D/out"], status: 66,
      message: "$D/none.json"),
    BadInput(
      name: "analyze a file that is not JSON", args: ["analyze", "collapse", "$D/text.txt", "--out", "$D/out"],
      status: 65, message: "not JSON"),
    BadInput(
      name: "analyze JSON of the wrong shape", args: ["analyze", "collapse", "$D/nocases.json", "--out", "$D/out"],
      status: 65, message: "$D/nocases.json"),
    BadInput(
      name: "paper report from a missing data root", args: ["report", "paper", "--data", "$D/none", "--out", "$D/out"],
      status: 66, message: "$D/none"),
    BadInput(
      name: "embed without the model", args: ["embed", "x", "--dir", "$D/none"], status: 66, message: "$D/none"),
    // what the model cannot do inside a run is bad data too (the engine's error, as LLMError's)
    BadInput(
      name: "run whose answer prompts exceed the context",
      args: ["baseline", "--method", "base", "--limit", "1", "--out", "$D/run", "--model", "$M"], status: 65,
      message: "context"),
    // every writer checks its output before any work (/proc takes no new entry, even for root)
    BadInput(
      name: "report into /proc", args: ["report", "$D/searchrun", "--out", "/proc/seb-x"], status: 73,
      message: "/proc/seb-x"),
    BadInput(
      name: "graders report into /proc", args: ["report", "graders", "--out", "/proc/seb-x"], status: 73,
      message: "/proc/seb-x"),
    BadInput(
      name: "paper report into /proc", args: ["report", "paper", "--data", "$D/none", "--out", "/proc/seb-x"],
      status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "analyze charts into /proc", args: ["analyze", "similarity", "$D/none.json", "--out", "/proc/seb-x"],
      status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "collapse charts into /proc", args: ["analyze", "collapse", "$D/none.json", "--out", "/proc/seb-x"],
      status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "merge into /proc", args: ["merge", "$D/empty", "--out", "/proc/seb-x"], status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "split into /proc",
      args: [
        "split", "make", "s", "--source", "squad.json", "--data", "$D", "--count", "1", "--out", "/proc/seb-x/s.json",
      ], status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "search into /proc", args: ["search", "$D/search-ok.json", "--out", "/proc/seb-x", "--model", "$M"],
      status: 73, message: "/proc/seb-x"),
    BadInput(
      name: "judge whose judge.jsonl is a folder", args: ["judge", "$D/judgerun", "--model", "$M"], status: 73,
      message: "$D/judgerun/judge.jsonl"),
  ]

  /// The folder every case reads from.
  static func fixture() throws -> (dir: String, model: String) {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-bad-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: d + "/empty", withIntermediateDirectories: true)
    func write(_ name: String, _ text: String) throws {
      try Data(text.utf8).write(to: URL(fileURLWithPath: d + "/" + name))
    }
    try write("text.txt", "just some text\n")
    try write("data.txt", "hello world\n\nsecond piece")
    try write("notext.jsonl", "{\"txt\": \"x\"}\n")
    try write("object.json", "{\"text\": \"x\"}")
    try Data([0xFF, 0xFE, 0x00, 0x41]).write(to: URL(fileURLWithPath: d + "/binary.txt"))
    try write("empty.txt", "")
    try write("long.txt", String(repeating: "long text ", count: 200))
    try write("nocases.json", "{\"cases\": []}")
    try write("search-badkey.json", "{\"variant\": \"search-noarchive\", \"proposer\": {\"temprature\": 1}}")
    try write("search-badvariant.json", "{\"variant\": \"search-magic\"}")
    try write("search-judge.json", "{\"variant\": \"search-qd\", \"reward\": \"judge\"}")
    try write("search-ok.json", "{\"variant\": \"rewrite\"}")
    try write("search-nosplit.json", "{\"variant\": \"rewrite\", \"trainSplit\": \"nosuch\"}")
    try FileManager.default.createDirectory(atPath: d + "/searchrun", withIntermediateDirectories: true)
    try write("searchrun/config.json", "{\"variant\": \"rewrite\", \"name\": \"x\", \"iterations\": 1}")
    try write("wrongtype.json", "{\"name\": \"x\", \"seed\": \"zero\", \"split\": \"val200\", \"methods\": [\"base\"]}")
    try FileManager.default.createDirectory(atPath: d + "/judgerun/judge.jsonl", withIntermediateDirectories: true)
    try write("judgerun/config.json", "{\"name\": \"x\", \"methods\": [\"base\"]}")
    try write(
      "squad.json",
      "[{\"title\": \"T\", \"context\": \"C\", \"questions\": [{\"question\": \"Q\", \"answer\": \"A\"}]}]")
    let model = try Seb.tinyModel(context: 128)
    let full = try Data(contentsOf: URL(fileURLWithPath: model))
    try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: d + "/truncated.gguf"))
    // An adapter made for a wider model (rank 2 on q of a 128-wide model).
    try FileManager.default.createDirectory(atPath: d + "/wide-adapter", withIntermediateDirectories: true)
    try write(
      "wide-adapter/adapter_config.json",
      "{\"r\": 2, \"lora_alpha\": 4, \"target_modules\": [\"q_proj\"], \"peft_type\": \"LORA\"}")
    try write("wide-adapter/adapter_model.safetensors", "")
    return (d, model)
  }

  @Test("each bad input ends in one named error line, its exit code and nothing partial", arguments: cases)
  func refuses(_ c: BadInput) throws {
    let (d, model) = try Self.fixture()
    func sub(_ s: String) -> String {
      s.replacingOccurrences(of: "$LONG", with: String(repeating: "word ", count: 300))
        .replacingOccurrences(of: "$D", with: d).replacingOccurrences(of: "$M", with: model)
    }
    let before = Set((try? FileManager.default.subpathsOfDirectory(atPath: d)) ?? [])
    let r = try Seb.run(c.args.map(sub))
    #expect(r.status == c.status, "\(c.name): exit \(r.status), stderr: \(r.stderr)")
    #expect(r.stderr.contains(sub(c.message)), "\(c.name): stderr: \(r.stderr)")
    if c.status != 64 { #expect(!r.stderr.contains("Usage:"), "\(c.name): usage text for a runtime error") }
    for p in c.absent.map(sub) { #expect(!FileManager.default.fileExists(atPath: p), "\(c.name): \(p) exists") }
    // No temporary or staging file is left anywhere in the folder.
    let after = Set((try? FileManager.default.subpathsOfDirectory(atPath: d)) ?? [])
    let leftovers = after.subtracting(before).filter {
      $0.contains(".tmp-") || $0.contains(".staging-") || $0.contains(".old-") || $0.contains(".seb-probe-")
    }
    #expect(leftovers.isEmpty, "\(c.name): left \(leftovers)")
  }
}

@Suite(
  "Ctrl-C and kill -9 leave the old output", .serialized,
  .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"))
struct InterruptTests {
  @Test(
    "SIGINT or SIGKILL during seb train --force leaves the previous adapter byte for byte and no temporary files (SIGINT)",
    arguments: [SIGINT, SIGKILL])
  func interruptedTrain(signal sig: Int32) throws {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-int-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    try Data((0..<60).map { "piece \($0) of the data" }.joined(separator: "\n\n").utf8).write(
      to: URL(fileURLWithPath: d + "/data.txt"))
    let model = try Seb.tinyModel()
    let first = try Seb.run([
      "train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--rank", "4", "--epochs", "1",
    ])
    try #require(first.status == 0, "\(first.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: d + "/a").sorted()
    let old = try files.map { try Data(contentsOf: URL(fileURLWithPath: d + "/a/" + $0)) }
    let p = try Seb.start([
      "train", "--model", model, "--data", d + "/data.txt", "--out", d + "/a", "--rank", "4", "--epochs", "1000",
      "--force",
    ])
    Thread.sleep(forTimeInterval: 1.5)
    kill(p.processIdentifier, sig)
    p.waitUntilExit()
    if sig == SIGINT { #expect(p.terminationStatus == 130, "exit \(p.terminationStatus)") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: d + "/a").sorted() == files)
    for (f, data) in zip(files, old) {
      #expect(try Data(contentsOf: URL(fileURLWithPath: d + "/a/" + f)) == data, "\(f) changed")
    }
    let litter = try FileManager.default.contentsOfDirectory(atPath: d).filter {
      $0.contains(".tmp-") || $0.contains(".old-")
    }
    #expect(litter.isEmpty, "left \(litter)")
  }
}

@Suite(
  "seb search killed with SIGKILL", .enabled(if: Seb.binary != nil, "the seb executable is built beside the tests"),
  .serialized)
struct SearchKillTests {
  /// A data root (6 passages, short meta prompts, a 4-entry seed archive), two split manifests and a config.
  static func fixture() throws -> (dir: String, config: String) {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-searchkill-\(UUID().uuidString)").path
    try SearchDataRoot.write(at: d, train: "train", val: "val")
    let config = """
      {"name": "kill", "variant": "search-archive", "iterations": 2, "templates": 2, "trainSplit": "\(d)/train.json", "trainPassages": 3,
       "validationSplit": "\(d)/val.json", "validationPassages": 2, "proposer": {"templateMaxTokens": 200, "completionMaxTokens": 40},
       "training": {"rank": 4, "alpha": 8, "epochs": 2}, "evaluation": {"maxTokens": 4}, "sft": {"rank": 4, "alpha": 8, "maxLength": 128}}
      """
    try Data(config.utf8).write(to: URL(fileURLWithPath: d + "/search.json"))
    return (d, d + "/search.json")
  }

  @Test(
    "kill -9 at arbitrary moments, resumed each time: the finished run equals an uninterrupted one, every file but the manifest"
  )
  func killedAndResumed() throws {
    let (d, config) = try Self.fixture()
    let model = try Seb.tinyModel(context: 4096)
    let args = { (out: String) in
      ["search", config, "--out", out, "--data", d + "/data", "--model", model, "--threads", "1", "--block-size", "2"]
    }
    let t0 = Date()
    let whole = try Seb.run(args(d + "/whole"))
    try #require(whole.status == 0, "\(whole.stderr)")
    // Kills at growing fractions of an uninterrupted run's time: early ones land in the first
    // stages, later ones deeper; the last invocation runs to the end.
    let full = Date().timeIntervalSince(t0)
    var kills = 0, finished = false
    for round in 0..<40 where !finished {
      let p = try Seb.start(args(d + "/killed"))
      Thread.sleep(forTimeInterval: full * (0.1 + 0.07 * Double(round)))
      if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
      p.waitUntilExit()
      finished = p.terminationReason == .exit && p.terminationStatus == 0
    }
    #expect(finished && kills >= 1, "finished \(finished) after \(kills) kills")
    let a = SearchDataRoot.snapshot(d + "/whole"), b = SearchDataRoot.snapshot(d + "/killed")
    #expect(a.keys.sorted() == b.keys.sorted())
    for (k, v) in a.sorted(by: { $0.key < $1.key }) where b[k] != v {
      Issue.record("differs after \(kills) kills: \(k)")
    }
  }
}

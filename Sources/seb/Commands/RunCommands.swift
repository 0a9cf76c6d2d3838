// RunCommands.swift: `seb run`, `seb baseline`, `seb merge`, `seb check`, `seb judge`,
// `seb split make`. Argument parsing and printing only: the harness is module SelfEdit, the
// config, splits and expectations are module Experiment.
import ArgumentParser
import CPUEngine
import EngineAPI
import Experiment
import Foundation
import LLM
import ModelStore
import Reporting
import Search
import SelfEdit
import Workspace

/// Loads the model once into the local engine and hashes it (the run manifest and summary name its sha256).
func loadEngineForRun(_ model: ModelOptions) throws -> (Engine, String, Int) {
  let threads = Runtime.setThreads(model.threads)
  let e = try LocalEngine(path: model.path)
  let sha = try SHA256.hashFile(at: URL(fileURLWithPath: model.path)).digest
  return (e, sha, threads)
}

struct RunOptions: ParsableArguments {
  @Option(help: "Run directory (created; the same directory again resumes).") var out: String
  @Option(help: "Data root (default: $SEB_DATA_ROOT, else ../shared/data beside the package).") var data: String?
  @Option(help: "Only the first N passages of the split (overrides the config's limit).") var limit: Int?
  @Option(
    help:
      "Evaluate only shard i of n: the blocks of --generation-batch passages b = p / batch with b % n == i - 1; merge with `seb merge`."
  ) var shard: String?
  @Option(help: "Override the config's seed.") var seed: UInt64?
  @Option(
    help:
      "Passages per block: their self-edits are generated together and their adapters trained together (with --adapters-per-step it fixes the float32 rounding, so keep it across shards and resumes)."
  ) var generationBatch = 8
  @Option(
    help: "Adapters trained together through the frozen base (packed steps; same results up to float32 rounding).")
  var adaptersPerStep = HarnessOptions.defaultAdaptersPerStep
  @Flag(help: "Save every trained adapter (PEFT format) under <out>/adapters/ (default: none is written).")
  var keepAdapters = false

  func validate() throws {
    if let l = limit, l < 1 { throw ValidationError("--limit must be >= 1, found \(l)") }
    if let s = shard { do { _ = try Shard.parse(s) } catch { throw ValidationError(AtomicFile.describe(error)) } }
    if generationBatch < 1 { throw ValidationError("--generation-batch must be >= 1, found \(generationBatch)") }
    if adaptersPerStep < 1 || adaptersPerStep > 64 {
      throw ValidationError("--adapters-per-step must be in 1...64, found \(adaptersPerStep)")
    }
  }
}

func runHarness(config c: RunConfig, model: ModelOptions, run: RunOptions) throws {
  var config = c
  if let l = run.limit { config.limit = l }
  if let s = run.seed { config.seed = s }
  try config.validate(path: "config")
  let shard = try run.shard.map(Shard.parse) ?? .whole
  // Fail on an unwritable --out before loading anything (and create nothing until the run starts).
  try AtomicFile.checkCreatable(directory: run.out)
  // The split, its data and the prompts before the model: a wrong name fails in a second.
  let dataRoot = Paths.dataRoot(explicit: run.data)
  _ = try Harness.passages(config: config, dataRoot: dataRoot)
  for name in ["answer-seal", "answer-chat-system"] { _ = try PromptLibrary().text(name) }
  let (engine, sha, threads) = try loadEngineForRun(model)
  var opts = HarnessOptions(dataRoot: dataRoot, out: run.out)
  opts.shard = shard
  opts.threads = threads
  opts.generationBatch = run.generationBatch
  opts.keepAdapters = run.keepAdapters
  opts.adaptersPerStep = run.adaptersPerStep
  opts.log = { eprint($0) }
  eprint(
    "run \(config.name): methods \(config.methods.joined(separator: ", ")), split \(config.split), seed \(config.seed), \(threads) threads, \(run.adaptersPerStep) adapters per step, into \(run.out)"
  )
  let h = try Harness(engine: engine, modelSHA256: sha, config: config, options: opts)
  if let s = try h.run() {
    print(SummaryText.table(s))
    print("wrote \(run.out)/summary.json")
  } else {
    print("shard \(shard.label) finished; combine the shards with `seb merge \(run.out) --out DIR`")
  }
}

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run (or resume) a knowledge-incorporation experiment from a config file.",
    discussion: """
      Writes a run directory: config.json, manifest.json, records.jsonl (one record per passage x self-edit x evaluation run), selfedits.jsonl, timings.jsonl and summary.json. Running again with the same --out resumes; another config against the same directory is refused.
      Example: seb run Data/configs/smoke.json --out runs/smoke && seb report runs/smoke
      """)
  @Argument(help: "Config JSON (see Data/configs/).") var config: String
  @OptionGroup var runOptions: RunOptions
  @OptionGroup var model: ModelOptions

  func run() throws {
    // A search config (it names a variant) runs the search with the same directory options.
    if let d = FileManager.default.contents(atPath: config), SearchConfig.isSearchConfig(d) {
      return try runSearch(
        try SearchConfig.parse(d, path: config), out: runOptions.out, data: runOptions.data, shard: runOptions.shard,
        seed: runOptions.seed, blockSize: runOptions.generationBatch, adaptersPerStep: runOptions.adaptersPerStep,
        model: model)
    }
    try runHarness(config: try RunConfig.load(path: config), model: model, run: runOptions)
  }
}

struct BaselineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "baseline", abstract: "Run one method on a split with SEAL's default settings.",
    discussion: """
      Methods: base, passage, implications, implications-long, implications-very-long, rewrite, self-qa, released:<file> (SEAL's released generations, e.g. released:gpt4_1_val.json), teacher.
      Example: seb baseline --method released:gpt4_1_val.json --split val200 --limit 10 --out runs/gpt41
      """)
  @Option(help: "Method name.") var method: String
  @Option(help: "Split manifest name (Data/splits/).") var split = "val200"
  @Option(help: "Self-edits per passage.") var k = 1
  @Option(help: "Evaluation runs per self-edit.") var runs = 1
  @OptionGroup var runOptions: RunOptions
  @OptionGroup var model: ModelOptions

  func run() throws {
    var c = RunConfig()
    c.name = "baseline-" + method.replacingOccurrences(of: ":", with: "-")
    c.methods = method == "base" ? ["base"] : ["base", method]
    c.split = split
    c.selfEdit.k = k
    c.evaluation.runs = runs
    try runHarness(config: c, model: model, run: runOptions)
  }
}

struct MergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge", abstract: "Merge shard run directories into one run (same bytes as an unsharded run).")
  @Argument(help: "Run directories holding shard files.") var inputs: [String]
  @Option(help: "New run directory.") var out: String
  func run() throws {
    try AtomicFile.checkCreatable(directory: out)
    let s = try Harness.merge(inputs: inputs, out: out)
    print(SummaryText.table(s))
    print("wrote \(out)/summary.json (\(s.foundEvaluations)/\(s.expectedEvaluations) evaluations)")
  }
}

struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Compare a run's summary with expected values and tolerance bands.",
    discussion:
      "Exits 1 naming each metric outside its band. Example: seb check runs/smoke --expect Data/configs/smoke.expect.json"
  )
  @Argument(help: "Run directory.") var dir: String
  @Option(help: "Expectation file.") var expect: String
  func run() throws {
    let sp = dir + "/summary.json"
    guard let s = FileManager.default.contents(atPath: sp) else {
      throw ExperimentError.missingFile(path: sp, what: "run summary")
    }
    guard let e = FileManager.default.contents(atPath: expect) else {
      throw ExperimentError.missingFile(path: expect, what: "expectation file")
    }
    let results = try Expectations.check(summary: s, summaryPath: sp, expectations: e, expectationsPath: expect)
    for r in results { print((r.passed ? "ok    " : "FAIL  ") + r.message) }
    let bad = results.filter { !$0.passed }
    print("\(results.count - bad.count) passed, \(bad.count) failed")
    if !bad.isEmpty { throw ExitCode(1) }
  }
}

struct JudgeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "judge",
    abstract: "Grade a run's answers with SEAL's yes/no judge (local model or an OpenAI-compatible endpoint).",
    discussion: """
      Re-runnable: only answers without a verdict are asked; failures are recorded and counted, never taken as wrong. Updates summary.json with the judge metric.
      Example: seb judge runs/smoke --url http://localhost:8000/v1 --judge-model gpt-4.1 --key-env OPENAI_API_KEY
      """)
  @Argument(help: "Run directory.") var dir: String
  @Option(help: "OpenAI-compatible base URL (default: the local model).") var url: String?
  @Option(help: "Judge model name at --url.") var judgeModel: String?
  @Option(help: "Environment variable with the API key.") var keyEnv: String?
  @Option(help: "Attempts after the first, with exponential backoff.") var retries = 3
  @Option(help: "Data root.") var data: String?
  @OptionGroup var model: ModelOptions

  func run() throws {
    // The run directory first: a wrong path or one that cannot take judge.jsonl is named before any model is loaded.
    _ = try RunConfig.load(path: dir + "/config.json")
    for f in ["judge.jsonl", "summary.json"] { try AtomicFile.checkCreatable(file: dir + "/" + f) }
    let backend: JudgeBackend
    if let url {
      guard let judgeModel else { throw ValidationError("--url needs --judge-model") }
      let spec = EndpointSpec(
        url: url, model: judgeModel, apiKeyEnv: keyEnv, maxTokens: 16, retries: retries, timeoutSeconds: 60)
      try spec.validate(path: "--url", key: "judge")
      backend = .endpoint(ChatEndpoint(spec: spec))
    } else {
      _ = Runtime.setThreads(model.threads)
      backend = .local(try LocalEngine(path: model.path))
    }
    let (n, failed) = try Judge.run(
      dir: dir, backend: backend, dataRoot: Paths.dataRoot(explicit: data), log: { eprint($0) })
    let config = try RunConfig.load(path: dir + "/config.json")
    let rd = RunDirectory(dir: dir, shard: .whole)
    if let manifest = try rd.manifest() {
      let s = try Harness.summarize(dir: dir, config: config, manifest: manifest, records: try rd.records())
      print(SummaryText.table(s))
    }
    print("judged \(n) answers (\(failed) failures) with \(backend.name)")
    if failed > 0 { throw ExitCode(1) }
  }
}

struct SplitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "split", abstract: "Make a split manifest (CPython random.seed; random.shuffle; slice).",
    discussion:
      "Example: seb split make val200 --source squad/squad_val.json --count 200 --out Data/splits/val200.json",
    subcommands: [Make.self])
  struct Make: ParsableCommand {
    @Argument(help: "Split name.") var name: String
    @Option(help: "Source file under the data root (SEAL passage format, .json or .json.gz).") var source: String
    @Option(help: "First position of the shuffle.") var start = 0
    @Option(help: "Passages.") var count: Int
    @Option(help: "Shuffle seed.") var seed: UInt64 = 42
    @Option(help: "Data root.") var data: String?
    @Option(help: "Output file.") var out: String
    func run() throws {
      try AtomicFile.checkCreatable(file: out)
      let root = Paths.dataRoot(explicit: data)
      let passages = try Datasets.loadSEAL(path: try Datasets.file(source, dataRoot: root))
      let m = try SplitManifest.make(
        name: name, source: source, passages: passages, seed: seed, start: start, count: count)
      try AtomicFile.write(try CanonicalJSON.pretty(m), to: out)
      print(
        "wrote \(out): \(m.count) passages, \(m.questions) questions, first indices \(m.indices.prefix(5).map(String.init).joined(separator: ", "))"
      )
    }
  }
}

struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve the local model as an OpenAI-compatible /v1/chat/completions endpoint on 127.0.0.1.",
    discussion: """
      For the teacher method and the judge without API keys: one request at a time, the model's chat template, temperature (default 0), top_p, max_tokens, seed.
      Example: seb serve --port 8199 &  then a config with "teacher": {"url": "http://127.0.0.1:8199/v1", "model": "smollm2"}
      """)
  @Option(help: "Port (0: any free port, printed on start).") var port = 8199
  @Option(help: "Model name reported in replies.") var name = "smollm2-135m-instruct"
  @OptionGroup var model: ModelOptions
  func run() throws {
    let m = try model.load()
    let server = try ChatServer(engine: LocalEngine(model: m.model), name: name, port: port)
    print("serving \(m.model.name) at http://127.0.0.1:\(server.port)/v1/chat/completions"); fflush(stdout)
    server.log = { eprint($0) }
    server.serve()
  }
}

// RunCommands.swift: `seb run`, `seb baseline`, `seb merge`, `seb check`, `seb judge`,
// `seb split make`. Argument parsing and printing only: the harness is module SelfEdit, the
// config, splits and expectations are module Experiment.
import ArgumentParser
import CPUEngine
import EngineAPI
import EngineServer
import Experiment
import Foundation
import LLM
import ModelStore
import RemoteEngine
import Reporting
import Search
import SearchLoop
import SelfEdit
import Workspace

/// --engine/--engine-token-env: where a run computes (a worker), for run, baseline and search.
struct EngineOptions: ParsableArguments {
  @Option(
    name: .customLong("engine"),
    help:
      "An engine worker's URL (seb worker, the PyTorch worker), e.g. http://127.0.0.1:8300; overrides the config's engine key (default: the in-process CPU engine)."
  ) var url: String?
  @Option(help: "Environment variable with the worker's bearer token.") var engineTokenEnv: String?
}

/// What every run verb (run, baseline, search) settles before its loop, in this order: the output
/// directory is creatable, the data and prompts the config names are readable (a wrong split fails
/// in a second), then the engine: a worker when a URL is given (flag, else config), else the model
/// loaded into the local engine.
struct PreparedRun {
  let dataRoot: String
  let shard: Shard
  let engine: Engine
  /// The local thread count (0 for a worker: its identity says what it runs on).
  let threads: Int
  /// The model's sha256, which the manifest and summary name.
  var modelSHA256: String { engine.identity.modelSHA256 }

  init(
    out: String, data: String?, shard: String?, configEngine: String?, model: ModelOptions, engine: EngineOptions,
    checkInputs: (_ dataRoot: String) throws -> Void
  ) throws {
    self.shard = try shard.map(Shard.parse) ?? .whole
    // Fail on an unwritable --out before loading anything (and create nothing until the run starts).
    try AtomicFile.checkCreatable(directory: out)
    dataRoot = Paths.dataRoot(explicit: data)
    try checkInputs(dataRoot)
    if let url = engine.url ?? configEngine {
      if model.modelPath != nil || model.threads != nil {
        throw ValidationError("--model and --threads are the worker's with --engine: give them to seb worker")
      }
      let e = try RemoteEngine(url: url, tokenEnv: engine.engineTokenEnv)
      eprint("engine \(e.url): \(e.identity.model) on \(e.identity.label)")
      (self.engine, threads) = (e, 0)
    } else {
      threads = Runtime.setThreads(model.threads)
      self.engine = try LocalEngine(path: model.path)
    }
  }
}

struct RunArguments: ParsableArguments {
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
  var adaptersPerStep = RunOptions.defaultAdaptersPerStep
  @Option(help: "Questions answered together (greedy decoding, an adapter per row; same answers up to float rounding).")
  var answerBatch = RunOptions.defaultAnswerBatch
  @Option(
    help:
      "Stop cleanly before a block that would end after this many seconds (judged by the longest block so far); exit 75, and the same command resumes. For jobs under a time limit."
  ) var stopAfter: Double?
  @Flag(help: "Save every trained adapter (PEFT format) under <out>/adapters/ (default: none is written).")
  var keepAdapters = false

  func validate() throws {
    if let l = limit, l < 1 { throw ValidationError("--limit must be >= 1, found \(l)") }
    if let s = shard { do { _ = try Shard.parse(s) } catch { throw ValidationError(AtomicFile.describe(error)) } }
    if generationBatch < 1 { throw ValidationError("--generation-batch must be >= 1, found \(generationBatch)") }
    if adaptersPerStep < 1 || adaptersPerStep > 64 {
      throw ValidationError("--adapters-per-step must be in 1...64, found \(adaptersPerStep)")
    }
    if answerBatch < 1 { throw ValidationError("--answer-batch must be >= 1, found \(answerBatch)") }
    if let s = stopAfter, !(s > 0) { throw ValidationError("--stop-after must be > 0 seconds, found \(s)") }
  }
}

/// What a run verb runs: a knowledge-incorporation config (`seb run`, `seb baseline`) or a search
/// config (`seb search`, and `seb run` on a file that names a variant).
enum ExperimentConfig {
  case harness(RunConfig)
  case search(SearchConfig)

  /// A config file of either kind (a search config names a variant); options a search does not
  /// take are refused before its file is checked.
  static func load(path: String, settings: RunSettings) throws -> ExperimentConfig {
    let d = try ConfigFile.read(path, what: "config")
    guard SearchConfig.isSearchConfig(d) else { return .harness(try RunConfig.parse(d, path: path)) }
    try settings.checkForSearch()
    return .search(try SearchConfig.parse(d, path: path))
  }
}

/// The run directory and execution settings every run verb takes (the harness-only ones at their
/// defaults for a search, which refuses them otherwise).
struct RunSettings {
  var out: String
  var data: String?
  var shard: String?
  var seed: UInt64?
  var blockSize = 8
  var adaptersPerStep = RunOptions.defaultAdaptersPerStep
  var limit: Int?
  var answerBatch = RunOptions.defaultAnswerBatch
  var stopAfter: Double?
  var keepAdapters = false

  func checkForSearch() throws {
    if limit != nil || stopAfter != nil || answerBatch != RunOptions.defaultAnswerBatch || keepAdapters {
      throw ValidationError(
        "--limit, --stop-after, --answer-batch and --keep-adapters apply to knowledge-incorporation runs, not to a search"
      )
    }
  }
}

extension RunArguments {
  var settings: RunSettings {
    RunSettings(
      out: out, data: data, shard: shard, seed: seed, blockSize: generationBatch, adaptersPerStep: adaptersPerStep,
      limit: limit, answerBatch: answerBatch, stopAfter: stopAfter, keepAdapters: keepAdapters)
  }
}

extension PreparedRun {
  /// The execution options of a run verb (the harness-only ones at their defaults for a search,
  /// which `checkForSearch` has made sure of).
  func options(_ s: RunSettings) -> RunOptions {
    var o = RunOptions(
      dataRoot: dataRoot, out: s.out, shard: shard, threads: threads, blockSize: s.blockSize,
      adaptersPerStep: s.adaptersPerStep, log: { eprint($0) })
    (o.keepAdapters, o.answerBatch, o.stopAfter) = (s.keepAdapters, s.answerBatch, s.stopAfter)
    return o
  }
}

/// The one path of `seb run`, `seb baseline` and `seb search`: overrides, checks, the engine
/// (`PreparedRun`), the loop, and what is printed.
func runExperiment(
  _ experiment: ExperimentConfig, _ s: RunSettings, model: ModelOptions, engine engineOptions: EngineOptions
)
  throws
{
  switch experiment {
  case .harness(var config):
    if let l = s.limit { config.limit = l }
    if let x = s.seed { config.seed = x }
    try config.validate(path: "config")
    let p = try PreparedRun(
      out: s.out, data: s.data, shard: s.shard, configEngine: config.engine, model: model, engine: engineOptions
    ) { root in
      _ = try Harness.passages(config: config, dataRoot: root)
      for name in ["answer-seal", "answer-chat-system"] { _ = try PromptLibrary().text(name) }
    }
    let opts = p.options(s)
    eprint(
      "run \(config.name): methods \(config.methodNames.joined(separator: ", ")), split \(config.split), seed \(config.seed), \(p.engine.identity.device), \(s.adaptersPerStep) adapters per step, into \(s.out)"
    )
    let h = try Harness(engine: p.engine, modelSHA256: p.modelSHA256, config: config, options: opts)
    if let summary = try h.run() {
      print(SummaryText.table(summary))
      print("wrote \(RunLayout(s.out).summary)")
    } else if h.stoppedEarly {
      print("stopped before the --stop-after limit; run the same command again to resume")
      throw ExitCode(75)
    } else {
      print("shard \(p.shard.label) finished; combine the shards with `seb merge \(s.out) --out DIR`")
    }
  case .search(var config):
    try s.checkForSearch()
    if let x = s.seed { config.seed = x }
    try config.validate(path: "config")
    let p = try PreparedRun(
      out: s.out, data: s.data, shard: s.shard, configEngine: config.engine, model: model, engine: engineOptions
    ) { root in
      for split in config.splits { _ = try SplitManifest.load(split).passages(dataRoot: root) }
    }
    let opts = p.options(s)
    eprint(
      "search \(config.name): variant \(config.variant.rawValue), \(config.iterations) iterations, M \(config.templatesPerIteration), "
        + "C \(config.trainCompletions), E \(config.runs), \(config.trainPassages) train / \(config.validationPassages) validation passages, "
        + "reward \(config.reward.rawValue), seed \(config.seed), \(p.engine.identity.device), \(s.adaptersPerStep) adapters per step, into \(s.out)"
    )
    guard
      let summary = try SearchRunner(engine: p.engine, modelSHA256: p.modelSHA256, config: config, options: opts).run()
    else {
      print(
        "shard \(opts.shard.label): this shard's evaluations are recorded; run the other shards, then run again to continue"
      )
      return
    }
    print(summary.text)
    print("wrote \(SearchLayout(s.out).summary)")
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
  @OptionGroup var runOptions: RunArguments
  @OptionGroup var model: ModelOptions
  @OptionGroup var engine: EngineOptions

  func run() throws {
    // A search config (it names a variant) runs the search with the same directory options.
    let s = runOptions.settings
    try runExperiment(try ExperimentConfig.load(path: config, settings: s), s, model: model, engine: engine)
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
  @OptionGroup var runOptions: RunArguments
  @OptionGroup var model: ModelOptions
  @OptionGroup var engine: EngineOptions

  func run() throws {
    var c = RunConfig()
    c.name = "baseline-" + method.replacingOccurrences(of: ":", with: "-")
    guard let m = Method(name: method) else {
      // As the config's own check words it (the method is the config's second entry).
      throw ExperimentError.malformed(path: "config", key: "methods[1]", expected: Method.expected, found: method)
    }
    c.methods = m == .base ? [.base] : [.base, m]
    c.split = split
    c.selfEdit.k = k
    c.evaluation.runs = runs
    try runExperiment(.harness(c), runOptions.settings, model: model, engine: engine)
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
    print("wrote \(RunLayout(out).summary) (\(s.foundEvaluations)/\(s.expectedEvaluations) evaluations)")
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
    let sp = RunLayout(dir).summary
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
    if let d = FileManager.default.contents(atPath: RunLayout(dir).config), SearchConfig.isSearchConfig(d) {
      return try judgeSearch()
    }
    // The run directory first: a wrong path or one that cannot take judge.jsonl is named before any model is loaded.
    _ = try RunConfig.load(path: RunLayout(dir).config)
    for f in [RunLayout(dir).judge, RunLayout(dir).summary] { try AtomicFile.checkCreatable(file: f) }
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
    let config = try RunConfig.load(path: RunLayout(dir).config)
    let rd = RunDirectory(dir: dir, shard: .whole)
    if let manifest = try rd.manifest() {
      let s = try Harness.summarize(dir: dir, config: config, manifest: manifest, records: try rd.records())
      print(SummaryText.table(s))
    }
    print("judged \(n) answers (\(failed) failures) with \(backend.name)")
    if failed > 0 { throw ExitCode(1) }
  }

  /// A search run: every stage's answers graded by the endpoint (the search repo's prompt; the
  /// config's judge when no --url), the judge's accuracy per iteration and stage printed.
  func judgeSearch() throws {
    let config = try SearchConfig.load(path: SearchLayout(dir).config)
    var spec: EndpointSpec
    if let url {
      guard let judgeModel else { throw ValidationError("--url needs --judge-model") }
      spec = EndpointSpec(
        url: url, model: judgeModel, apiKeyEnv: keyEnv, maxTokens: 16, retries: retries, timeoutSeconds: 60)
    } else if let j = config.judge {
      spec = j
    } else {
      throw ValidationError("a search run is judged through an endpoint: give --url and --judge-model (e.g. seb serve)")
    }
    try spec.validate(path: "--url", key: "judge")
    let verdicts = SearchLayout(dir).judgeVerdicts
    try AtomicFile.checkCreatable(file: verdicts)
    var judge = try SearchJudge(spec: spec, path: verdicts, prompts: PromptLibrary(), rule: config.variant.judgeRule)
    judge.log = { eprint($0) }
    print("iteration  stage  answers  judge baseline  judge adapted")
    for s in try judge.judgeRun(dir: dir, dataRoot: Paths.dataRoot(explicit: data)) {
      print(
        String(format: "%9d  %-5@  %7d  %14.4f  %13.4f", s.iteration + 1, s.stage, s.answers, s.baseline, s.adapted))
    }
    print("verdicts of \(judge.name) in \(verdicts)")
  }
}

struct SplitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "split", abstract: "Make a split manifest (CPython random.seed; random.shuffle; slice).",
    discussion:
      """
      Example: seb split make val200 --source squad/squad_val.json --count 200 --out Data/splits/val200.json
      The passages of a released run: seb split make seal-iter0 --source squad/squad_train.json.gz --match seal/results/query_server/train/rank_iter0.json --out Data/splits/seal-iter0.json
      """,
    subcommands: [Make.self])
  struct Make: ParsableCommand {
    @Argument(help: "Split name.") var name: String
    @Option(help: "Source file under the data root (SEAL passage format, .json or .json.gz).") var source: String
    @Option(help: "First position of the shuffle.") var start = 0
    @Option(help: "Passages (with --match: the first N of the file; default all).") var count: Int?
    @Option(help: "Shuffle seed.") var seed: UInt64 = 42
    @Option(
      help:
        "A file under the data root listing passages (records with a context, or {articles: [...]}): the split is its passages, in its order, instead of a shuffle slice."
    ) var match: String?
    @Option(help: "Data root.") var data: String?
    @Option(help: "Output file.") var out: String
    func run() throws {
      try AtomicFile.checkCreatable(file: out)
      let root = Paths.dataRoot(explicit: data)
      let passages = try Datasets.loadSEAL(path: try Datasets.file(source, dataRoot: root))
      let m: SplitManifest
      if let match {
        m = try SplitManifest.matching(
          name: name, source: source, passages: passages,
          reference: try JSONNode.load(try Datasets.file(match, dataRoot: root)), referenceName: match, count: count)
      } else {
        guard let count else { throw ValidationError("--count is required without --match") }
        m = try SplitManifest.make(
          name: name, source: source, passages: passages, seed: seed, start: start, count: count)
      }
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
      For the teacher method and the judge without API keys: the model's chat template, temperature (default 0), top_p, max_tokens, seed; concurrent connections, one generation at a time. Stops cleanly on SIGINT/SIGTERM. `seb worker` serves the same endpoint beside the engine protocol.
      Example: seb serve --port 8199 &  then a config with "teacher": {"url": "http://127.0.0.1:8199/v1", "model": "smollm2"}
      """)
  @Option(help: "Port (0: any free port, printed on start).") var port = 8199
  @Option(help: "Model name reported in replies.") var name = "smollm2-135m-instruct"
  @OptionGroup var server: ServerOptions
  @OptionGroup var model: ModelOptions
  func run() throws {
    var o = try server.options(port: port)
    o.engineRoutes = false
    o.name = name
    try serveEngine(model: model, options: o) { "serving \($0) at http://\(o.host):\($1)/v1/chat/completions" }
  }
}

struct WorkerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "worker",
    abstract: "Serve the local engine over the engine protocol (and /v1/chat/completions), for --engine URL.",
    discussion: """
      Runs with --engine http://HOST:PORT compute here: generation, adapter training (packed), scoring and the proposer's update, one request at a time in arrival order; answers are byte-identical to the in-process engine. Paths in requests (saved adapters, updated proposers) are this machine's: run the worker beside the run, or on a shared filesystem. Binds 127.0.0.1 unless --host is given, which then needs --token-env. The protocol: Sources/EngineAPI/PROTOCOL.md.
      Example: seb worker --port 8300 &  seb run Data/configs/smoke.json --engine http://127.0.0.1:8300 --out runs/smoke
      """)
  @Option(help: "Port (0: any free port, printed on start).") var port = 8300
  @OptionGroup var server: ServerOptions
  @OptionGroup var model: ModelOptions
  func run() throws {
    let o = try server.options(port: port)
    try serveEngine(model: model, options: o) {
      "worker: \($0) at http://\(o.host):\($1) (engine protocol \(Wire.version))"
    }
  }
}

/// --host/--token-env/--max-request-mb of the servers.
struct ServerOptions: ParsableArguments {
  @Option(help: "Address to bind (default 127.0.0.1; any other needs --token-env).") var host = "127.0.0.1"
  @Option(help: "Environment variable holding the bearer token every request must carry.") var tokenEnv: String?
  @Option(help: "Largest request body, in MiB.") var maxRequestMb = 256

  func options(port: Int) throws -> WorkerOptions {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, found \(port)") }
    guard maxRequestMb >= 1 else { throw ValidationError("--max-request-mb must be >= 1, found \(maxRequestMb)") }
    var o = WorkerOptions()
    o.host = host
    o.port = port
    o.maxRequestBytes = maxRequestMb << 20
    if let env = tokenEnv {
      guard let t = ProcessInfo.processInfo.environment[env], !t.isEmpty else {
        throw ValidationError("--token-env \(env): the variable is not set")
      }
      o.token = t
    }
    return o
  }
}

/// Loads the model into the local engine and serves it until SIGINT/SIGTERM; `banner(model, port)` once bound.
func serveEngine(model: ModelOptions, options: WorkerOptions, banner: @escaping (String, Int) throws -> String) throws {
  let m = try model.load()
  let engine = LocalEngine(model: m.model)
  let service = EngineService(engine: engine) { g in OutputSchemas.grammar(named: g.name) }
  var options = options
  options.handleSignals = true
  let server = try WorkerServer(service: service, options: options)
  server.log = { eprint($0) }
  let name = m.model.name
  let done = DispatchSemaphore(value: 0)
  final class Box: @unchecked Sendable { var error: Error? }
  let box = Box()
  Task {
    do {
      try await server.run { port in
        print((try? banner(name, port)) ?? "serving on port \(port)")
        fflush(stdout)
      }
    } catch { box.error = error }
    done.signal()
  }
  done.wait()
  if let e = box.error { throw e }
}

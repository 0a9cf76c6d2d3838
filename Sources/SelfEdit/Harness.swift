// Harness.swift: a knowledge-incorporation run (reference-pipeline 2.1-2.4, section 6): for every
// passage of the split (of this shard): the un-adapted baseline, then for each method its
// self-edits (generated in batches across passages, read from SEAL's released files, or written
// by a teacher endpoint), one fresh adapter per self-edit and evaluation run, closed-book answers
// and all grades, each appended to the run directory as soon as it exists. Resuming skips what is
// recorded; a torn last line is dropped; nothing is counted twice.
import EngineAPI
import Experiment
import Foundation
import Workspace

/// How a run executes, for the harness and the search alike: where it reads and writes, which
/// shard, and the settings that change speed or float32 rounding but not what is computed. The
/// last four are the harness's; a search leaves them at their defaults (`seb search` refuses them).
public struct RunOptions {
  public var dataRoot: String
  public var out: String
  public var shard: Shard = .whole
  public var threads: Int = 1
  public var prompts = PromptLibrary()
  /// Passages whose self-edits are generated together and whose adapters train together (a
  /// block; shards own whole blocks). Part of what fixes the bytes, like `adaptersPerStep`.
  public var blockSize = 8
  /// Adapters trained together through the frozen base (packed steps). Changes only float32
  /// summation order, so it is an execution setting like `threads`, recorded per invocation.
  public var adaptersPerStep = RunOptions.defaultAdaptersPerStep
  /// The default for this machine: 8 (measured 1.4x the training speed of 1 on 2 cores; a
  /// 2,048-row step holds ~2.5 GB of activations on SmolLM2-135M), fewer when a quarter of the
  /// physical memory cannot hold that.
  public static let defaultAdaptersPerStep: Int = {
    let quarter = Double(ProcessInfo.processInfo.physicalMemory) / 4
    return max(1, min(8, Int(quarter / (2.5e9 / 8))))
  }()
  /// Progress lines (stderr in `seb`).
  public var log: (String) -> Void = { _ in }
  /// Questions decoded together when answering (greedy, a different adapter per row). An execution
  /// setting like `adaptersPerStep`: on a GPU a larger batch is faster and rounds differently.
  public var answerBatch = RunOptions.defaultAnswerBatch
  public static let defaultAnswerBatch = 16
  /// Stop before a block that would end past this many seconds of the invocation (judged by the
  /// longest block so far), so a job under a time limit (a Slurm allocation, a leased GPU) ends
  /// cleanly between blocks instead of losing the block it is killed in. nil: run to the end.
  public var stopAfter: Double?
  /// Save every trained adapter (PEFT format) under `<out>/adapters/<record key>/` (off: nothing
  /// is written per adapter). Does not change any record or the summary.
  public var keepAdapters = false

  public init(dataRoot: String, out: String) { self.dataRoot = dataRoot; self.out = out }
  /// The settings every run verb gives.
  public init(
    dataRoot: String, out: String, shard: Shard, threads: Int, blockSize: Int, adaptersPerStep: Int,
    log: @escaping (String) -> Void
  ) {
    self.init(dataRoot: dataRoot, out: out)
    (self.shard, self.threads, self.blockSize, self.adaptersPerStep, self.log) = (
      shard, threads, blockSize, adaptersPerStep, log
    )
  }
}

public final class Harness {
  public let engine: Engine
  public let modelSHA256: String
  public let config: RunConfig
  public let options: RunOptions
  /// Set when `run()` stopped before the end under `options.stopAfter` (the run resumes).
  public private(set) var stoppedEarly = false
  let loop: InnerLoop
  let runDir: RunDirectory

  public init(engine: Engine, modelSHA256: String, config: RunConfig, options: RunOptions) throws {
    self.engine = engine
    self.modelSHA256 = modelSHA256
    self.config = config
    self.options = options
    loop = try InnerLoop(engine: engine, config: config, prompts: options.prompts)
    runDir = RunDirectory(dir: options.out, shard: options.shard)
  }

  /// The split's passages this run covers (all shards).
  public static func passages(config: RunConfig, dataRoot: String) throws -> (SplitManifest, [Passage]) {
    let split = try SplitManifest.load(config.split)
    let all = try split.passages(dataRoot: dataRoot)
    return (split, Array(all.prefix(config.passageCount(splitSize: all.count))))
  }

  /// Runs (or resumes) the run; returns the summary when this process covers the whole run.
  @discardableResult
  public func run() throws -> RunSummary? {
    let (split, passages) = try Harness.passages(config: config, dataRoot: options.dataRoot)
    let session = try RunSession(
      dir: options.out, config: try config.canonical(), manifestPath: runDir.manifestPath, modelSHA256: modelSHA256,
      engine: engine.identity
    ) {
      try makeManifest(split: split, passages: passages)
    }
    try runDir.checkShardLayout()
    let released = try loadReleased(passages)
    let existing = try runDir.records()
    var done = Set(existing.map(\.key))
    var selfEdits: [String: SelfEditRecord] = [:]
    for s in try runDir.selfEdits() { selfEdits[s.key] = s }
    try session.start(
      Invocation(
        started: isoNow(), finished: nil, host: ProcessInfo.processInfo.hostName, threads: options.threads,
        adaptersPerStep: options.adaptersPerStep, recordsAtStart: done.count, recordsAtEnd: nil, status: "running",
        answerBatch: options.answerBatch))

    let records = try RecordLog(path: runDir.recordsPath)
    let seLog = try RecordLog(path: runDir.selfEditsPath)
    let timings = try RecordLog(path: runDir.timingsPath)
    let mine = passages.indices.filter { options.shard.owns(passage: $0, blockSize: options.blockSize) }
    let total = mine.count * config.evaluationsPerPassage
    var progress = ProgressMeter(
      total: total, done: done.count, log: options.log,
      label: "\(config.name)" + (options.shard.isWhole ? "" : " shard \(options.shard.label)"))
    var baselines: [Int: EvalRecord] = [:]
    for r in existing where r.kind == .baseline { baselines[r.passage] = r }

    func append(_ r: EvalRecord, seconds: [String: Double]) throws {
      try records.append(try CanonicalJSON.line(r))
      var t = seconds
      t = t.mapValues { ($0 * 1000).rounded() / 1000 }
      try timings.append(try CanonicalJSON.line(Timing(key: r.key, seconds: t)))
      done.insert(r.key)
      progress.step(r.key)
    }

    // Blocks of the split (not of this shard), so a sharded run packs exactly what the whole run packs.
    let blocks = Dictionary(grouping: mine) { $0 / options.blockSize }.sorted { $0.key < $1.key }.map(\.value)
    let invocationStart = Date()
    var longestBlock = 0.0
    for (b, block) in blocks.enumerated() {
      // A block with a missing baseline answers all of them again: batched gold scoring rounds
      // differently with another batch, so a resumed block repeats the whole batch.
      let unanswered = block.contains { !done.contains(EvalRecord.baselineKey(passage: $0)) } ? block : []
      let keys = config.methods.flatMap { m in
        block.flatMap { p in
          (0..<config.selfEdits(for: m)).flatMap { s in
            (0..<config.runs(for: m)).map { EvalRecord.key(method: m.name, passage: p, selfEdit: s, run: $0) }
          }
        }
      }
      let pending = !unanswered.isEmpty || keys.contains { !done.contains($0) }
      let elapsed = Date().timeIntervalSince(invocationStart)
      if pending, let limit = options.stopAfter, longestBlock > 0, elapsed + longestBlock > limit {
        options.log(
          String(
            format:
              "stopping before block %d of %d: %.0f s of --stop-after %.0f s used, the longest block took %.0f s; "
              + "the same command resumes", b + 1, blocks.count, elapsed, limit, longestBlock))
        stoppedEarly = true
        break
      }
      progress.beginBlock(left: blocks.count - b)
      var trainedHere = false
      let blockStart = Date()
      defer {
        progress.endBlock(trained: trainedHere)
        if pending { longestBlock = max(longestBlock, Date().timeIntervalSince(blockStart)) }
      }
      let t0 = Date()
      let baseAnswers = try loop.answerMany(unanswered.map { (passages[$0], nil) }, batchSize: options.answerBatch)
      let baseSeconds = Date().timeIntervalSince(t0) / Double(max(1, unanswered.count))
      for (p, answers) in zip(unanswered, baseAnswers) where !done.contains(EvalRecord.baselineKey(passage: p)) {
        let r = EvalRecord(kind: .baseline, method: "", passage: p, answers: answers)
        baselines[p] = r
        try append(r, seconds: ["answer": baseSeconds])
      }
      guard keys.contains(where: { !done.contains($0) }) else { continue }
      trainedHere = true
      var all: [Pending] = []
      for method in config.methods {
        let m = method.name
        try ensureSelfEdits(
          method: method, block: block, passages: passages, released: released, known: &selfEdits, log: seLog,
          timings: timings)
        for p in block {
          for s in 0..<config.selfEdits(for: method) {
            for run in 0..<config.runs(for: method) {
              all.append(
                prepare(
                  method: method, passage: p, p: passages[p], selfEdit: s, run: run,
                  baseline: baselines[p]!,
                  selfEditRecord: selfEdits[SelfEditRecord.key(method: m, passage: p, selfEdit: s)]))
            }
          }
        }
      }
      // All of the block's adapters train packed, recorded ones too when the block was cut short:
      // the pack decides the float32 rounding, so a resumed block repeats it exactly.
      try trainAndAnswer(&all, passages: passages, answering: Set(all.map(\.record.key)).subtracting(done))
      for e in all where !done.contains(e.record.key) { try append(e.record, seconds: e.seconds) }
    }
    try session.finish(status: stoppedEarly ? "stopped" : "finished", recordsAtEnd: done.count)
    guard options.shard.isWhole, !stoppedEarly else { return nil }
    let summary = try Harness.summarize(
      dir: options.out, config: config, manifest: session.manifest, records: try runDir.records())
    return summary
  }

  struct Timing: Codable { var key: String; var seconds: [String: Double] }

  /// Writes summary.json from records (and judge verdicts when the judge stage ran).
  @discardableResult
  public static func summarize(
    dir: String, config: RunConfig, manifest: RunManifest, records: [EvalRecord]
  ) throws -> RunSummary {
    let judged = try Judge.verdicts(path: RunLayout(dir).judge)
    let s = try Summarize.run(
      config: config, configSHA256: manifest.configSHA256, modelSHA256: manifest.modelSHA256,
      passages: manifest.passages, questions: manifest.questions, records: records, judged: judged)
    try AtomicFile.write(try CanonicalJSON.pretty(s), to: RunLayout(dir).summary)
    return s
  }

  /// A new run's manifest (RunSession reopens an existing one).
  func makeManifest(split: SplitManifest, passages: [Passage]) throws -> RunManifest {
    var data: [String: String] = [:]
    let src = try Datasets.file(split.source, dataRoot: options.dataRoot)
    data[split.source] = try SHA256.hashFile(at: URL(fileURLWithPath: src)).digest
    for case .released(let f) in config.methods {
      let rel = Datasets.releasedDir + "/" + f
      data[rel] = try SHA256.hashFile(at: URL(fileURLWithPath: try Datasets.file(rel, dataRoot: options.dataRoot)))
        .digest
    }
    if let ex = try? Datasets.file(Datasets.explorerDevFile, dataRoot: options.dataRoot) {
      data[Datasets.explorerDevFile] = try SHA256.hashFile(at: URL(fileURLWithPath: ex)).digest
    }
    var prompts: [String: String] = [:]
    for name in ["answer-seal", "answer-chat-system"]
      + config.methods.compactMap({ if case .prompt(let p) = $0 { p } else { nil } })
      + (config.methods.contains(.teacher) ? ["implications"] : [])
    {
      prompts[name] = try options.prompts.sha256(name)
    }
    let splitBytes = try CanonicalJSON.pretty(split)
    return RunManifest(
      config: config, configSHA256: SHA256.hash(Array(try config.canonical())), seed: config.seed,
      shard: options.shard.label, model: engine.identity.model, modelSHA256: modelSHA256,
      modelBytes: engine.identity.modelBytes, split: split.name,
      splitManifestSHA256: SHA256.hash(Array(splitBytes)), dataFiles: data, passages: passages.count,
      questions: passages.reduce(0) { $0 + $1.questions.count }, promptSHA256: prompts, gitCommit: gitCommit(),
      invocations: [], engine: engine.identity)
  }

  /// Released completions by context, for the released methods of the config.
  func loadReleased(_ passages: [Passage]) throws -> [String: [String: [String]]] {
    var out: [String: [String: [String]]] = [:]
    for method in config.methods {
      guard case .released(let f) = method else { continue }
      let entries = try Datasets.loadReleased(
        path: try Datasets.file(Datasets.releasedDir + "/" + f, dataRoot: options.dataRoot))
      var byContext: [String: [String]] = [:]
      for e in entries where byContext[e.context] == nil { byContext[e.context] = e.completions }
      out[method.name] = byContext
    }
    return out
  }

  /// Makes sure every self-edit of the block exists (generated, released or from the teacher).
  func ensureSelfEdits(
    method kind: Method, block: [Int], passages: [Passage], released: [String: [String: [String]]],
    known: inout [String: SelfEditRecord], log: RecordLog, timings: RecordLog
  ) throws {
    let m = kind.name
    let k = config.selfEdits(for: kind)
    let missing = block.filter { p in
      (0..<k).contains { known[SelfEditRecord.key(method: m, passage: p, selfEdit: $0)] == nil }
    }
    guard !missing.isEmpty else { return }
    var new: [SelfEditRecord] = []
    let t0 = Date()
    switch kind {
    case .base, .passage: return
    case .prompt(let name):
      let template = try options.prompts.text(name)
      let texts = missing.map {
        PromptLibrary.fill(template, ["title": passages[$0].title, "context": passages[$0].context])
      }
      let seeds = missing.map { unitSeed(config.seed, "generate/\(m)/p\($0)") }
      let results = try loop.generate(prompts: texts, seeds: seeds, k: k, batchSize: options.blockSize)
      for (j, p) in missing.enumerated() {
        for r in results[j] {
          let text = loop.completionText(r)
          new.append(
            SelfEditRecord(
              method: m, passage: p, selfEdit: r.sample, text: text, failure: text.isEmpty ? "empty completion" : nil,
              completionTokens: r.tokens, finish: r.finish))
        }
      }
    case .released:
      for p in missing {
        let completions = released[m]?[passages[p].context]
        let chosen = Datasets.firstNonEmpty(completions ?? [], k: k)
        for s in 0..<k {
          let failure =
            completions == nil
            ? "passage not in the released file" : s < chosen.count ? nil : "fewer than \(s + 1) non-empty completions"
          new.append(
            SelfEditRecord(
              method: m, passage: p, selfEdit: s, text: s < chosen.count ? chosen[s] : "", failure: failure,
              completionTokens: 0, finish: "released"))
        }
      }
    case .teacher:
      guard let spec = config.teacher else { return }
      let endpoint = ChatEndpoint(spec: spec)
      let template = try options.prompts.text("implications")
      for p in missing {
        let prompt = PromptLibrary.fill(template, ["title": passages[p].title, "context": passages[p].context])
        for s in 0..<k {
          do {
            let text = TrainingSequences.pyStrip(
              try endpoint.complete(prompt, temperature: config.selfEdit.temperature, topP: config.selfEdit.topP))
            new.append(
              SelfEditRecord(
                method: m, passage: p, selfEdit: s, text: text, failure: text.isEmpty ? "empty completion" : nil,
                completionTokens: 0, finish: "teacher"))
          } catch let e as SelfEditError {
            new.append(
              SelfEditRecord(
                method: m, passage: p, selfEdit: s, text: "", failure: e.localizedDescription, completionTokens: 0,
                finish: "error"))
          }
        }
      }
    }
    let secs = (Date().timeIntervalSince(t0) / Double(max(1, new.count)) * 1000).rounded() / 1000
    for r in new where known[r.key] == nil {
      try log.append(try CanonicalJSON.line(r))
      try timings.append(try CanonicalJSON.line(Timing(key: "selfedit/" + r.key, seconds: ["generate": secs])))
      known[r.key] = r
    }
  }

  /// The training sequences of one self-edit of a method.
  public func sequences(kind: Method, p: Passage, selfEdit: SelfEditRecord?) -> [String] {
    switch kind {
    case .base: return []
    // SEAL's passage-only row: the single sequence title\ncontext (reference-pipeline 5, S9).
    case .passage:
      return [
        config.sequences.titlePrefix
          ? "\(p.title)\n\(TrainingSequences.pyStrip(p.context))" : TrainingSequences.pyStrip(p.context)
      ]
    default:
      return TrainingSequences.seal(
        completion: selfEdit?.text ?? "", context: p.context, title: p.title, options: config.sequences)
    }
  }

  /// One evaluation on its way: the record so far, and whether it still needs an adapter.
  struct Pending {
    var record: EvalRecord
    var needsTraining: Bool
    var seconds: [String: Double] = [:]
  }

  /// The record of one evaluation before training: base answers, recorded failures, sequences.
  func prepare(
    method kind: Method, passage: Int, p: Passage, selfEdit s: Int, run: Int, baseline: EvalRecord,
    selfEditRecord: SelfEditRecord?
  ) -> Pending {
    var r = EvalRecord(
      kind: .adapter, method: kind.name, passage: passage, selfEdit: s, run: run, selfEditText: selfEditRecord?.text)
    if case .base = kind { r.answers = baseline.answers; return Pending(record: r, needsTraining: false) }
    if let f = selfEditRecord?.failure {
      r.failure = "self-edit: \(f)"; return Pending(record: r, needsTraining: false)
    }
    if kind != .passage && selfEditRecord == nil {
      r.failure = "self-edit missing"; return Pending(record: r, needsTraining: false)
    }
    r.sequences = sequences(kind: kind, p: p, selfEdit: selfEditRecord)
    return Pending(record: r, needsTraining: true)
  }

  /// Trains the adapters of `items` packed (each seeded by its record key), then answers and
  /// grades all of them (recorded ones too: the batch fixes the gold scores' rounding); `answering`
  /// (the unrecorded) decides which adapters `keepAdapters` saves. Training time is the packed wall time shared out by
  /// trained tokens.
  func trainAndAnswer(_ items: inout [Pending], passages: [Passage], answering: Set<String>) throws {
    let idx = items.indices.filter { items[$0].needsTraining }
    guard !idx.isEmpty else { return }
    let t0 = Date()
    let log = options.log, first = items.first!.record.passage, last = items.last!.record.passage
    let trained = try loop.trainMany(
      idx.map { (items[$0].record.sequences ?? [], unitSeed(config.seed, "train/\(items[$0].record.key)")) },
      adaptersPerStep: options.adaptersPerStep
    ) { done, total in
      let s = Date().timeIntervalSince(t0)
      let eta = ProgressMeter.duration(s / Double(done) * Double(total - done))
      log(
        String(
          format: "  block of passages %d-%d: %d/%d adapters trained, %.2f/min, block ETA %@", first, last, done, total,
          Double(done) / s * 60, eta))
    }
    let trainSeconds = Date().timeIntervalSince(t0)
    // The engine holds every trained adapter until this block is answered.
    defer { engine.release(trained.compactMap { try? $0.get().adapter }) }
    let tokens = trained.map { (try? $0.get().summary.tokens) ?? 0 }
    let allTokens = max(1, tokens.reduce(0, +))
    var toAnswer: [(item: Int, adapter: AdapterHandle)] = []
    for (n, i) in idx.enumerated() {
      var r = items[i].record
      let share = trainSeconds * Double(tokens[n]) / Double(allTokens)
      items[i].seconds = ["train": share]
      switch trained[n] {
      case .failure(let e):
        r.failure = "training: \(e.localizedDescription)"
      case .success(let t):
        r.training = t.summary
        // Recorded ones are answered again too (the batch fixes the gold scores' rounding).
        if options.keepAdapters && answering.contains(r.key) {
          let dir =
            RunLayout(options.out).adapters + "/"
            + r.key.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "-")
          try engine.saveAdapter(t.adapter, to: dir)
        }
        toAnswer.append((i, t.adapter))
      }
      items[i].record = r
    }
    // Every adapter's questions in one batched decode; on an error, each alone to name the failure.
    let t1 = Date()
    let batch = toAnswer.map { (passages[items[$0.item].record.passage], Optional($0.adapter)) }
    if let all = try? loop.answerMany(batch, batchSize: options.answerBatch) {
      let secs = Date().timeIntervalSince(t1) / Double(max(1, toAnswer.count))
      for (a, answers) in zip(toAnswer, all) {
        items[a.item].record.answers = answers; items[a.item].seconds["answer"] = secs
      }
    } else {
      for a in toAnswer {
        let t = Date()
        do {
          items[a.item].record.answers = try loop.answer(passages[items[a.item].record.passage], adapter: a.adapter)
        } catch EngineError.model(let message) {
          items[a.item].record.failure = "answering: \(message)"
        }
        items[a.item].seconds["answer"] = Date().timeIntervalSince(t)
      }
    }
  }
}

/// Progress on one line per evaluation: count, rate over this invocation, ETA. Evaluations differ
/// in cost by orders of magnitude (a baseline answers, an adapter trains for minutes), so the ETA
/// comes from whole blocks of passages once one has finished in this invocation (their cost is
/// alike), and is "?" before that rather than a guess from the cheap first records.
public struct ProgressMeter {
  let total: Int
  var done: Int
  let startDone: Int
  let start = Date()
  let log: (String) -> Void
  let label: String
  var blocksLeft: Int?
  var blockSeconds: [Double] = []
  var blockStart = Date()

  public init(total: Int, done: Int, log: @escaping (String) -> Void, label: String) {
    self.total = total; self.done = done; startDone = done; self.log = log; self.label = label
  }

  /// Call before each block with the number of blocks left (this one included).
  public mutating func beginBlock(left: Int) { blocksLeft = left; blockStart = Date() }

  /// Call after each block; only blocks that trained count towards the ETA.
  public mutating func endBlock(trained: Bool) {
    if trained { blockSeconds.append(Date().timeIntervalSince(blockStart)) }
    if let b = blocksLeft { blocksLeft = b - 1 }
  }

  var eta: Double {
    guard let left = blocksLeft, !blockSeconds.isEmpty else { return .infinity }
    let mean = blockSeconds.reduce(0, +) / Double(blockSeconds.count)
    return mean * Double(max(0, left - 1)) + max(0, mean - Date().timeIntervalSince(blockStart))
  }

  public mutating func step(_ what: String) {
    done += 1
    let elapsed = Date().timeIntervalSince(start)
    let rate = Double(done - startDone) / max(elapsed, 1e-9) * 60
    log(
      String(
        format: "[%@] %d/%d evaluations  %.2f/min  ETA %@  %@", label, done, total, rate, ProgressMeter.duration(eta),
        what))
  }

  public static func duration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    if s < 60 { return String(format: "%.0fs", s) }
    if s < 3600 {
      return String(format: "%.0fm%02.0fs", (s / 60).rounded(.down), s.truncatingRemainder(dividingBy: 60))
    }
    return String(
      format: "%.0fh%02.0fm", (s / 3600).rounded(.down), (s.truncatingRemainder(dividingBy: 3600) / 60).rounded(.down))
  }
}

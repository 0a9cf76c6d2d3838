// SearchRunner.swift: a strategy-search run, iteration by iteration and stage by stage
// (reference-pipeline 3.1): propose templates -> complete them on the train passages -> train and
// evaluate every self-edit against the current proposer's baseline -> metrics and archive ->
// validation (one exploit template, one completion per validation passage) -> SFT rows -> proposer
// update, merged and saved as GGUF for the next iteration. Each stage's output is written whole
// when the stage ends (evaluations one record at a time), so `kill -9` at any moment resumes at
// the stage, or the record, where it stopped; evaluation stages take `--shard`.
import EngineAPI
import Experiment
import Foundation
import Search
import SelfEdit
import Workspace

extension SearchManifest: SessionManifest {}

/// What `seb check` and the reports read: per iteration, the validation result and the train
/// stage's templates, failures and clamps.
public struct SearchSummary: Codable, Equatable, Sendable {
  public struct Iteration: Codable, Equatable, Sendable {
    public var iteration: Int
    public var train: StageResults
    public var validation: StageResults
    public var validationTemplate: String?
    public var archiveSize: Int?
    public var coverage: Double?
    public var qdScore: Double?
    public var sftRows: Int?
    public var sftFinalLoss: Double?
  }
  public var name: String
  public var variant: String
  public var reward: Metric
  public var complete: Bool
  public var iterations: [Iteration]
  /// Proposals that never parsed, completions without training data, evaluations that failed,
  /// templates whose hyperparameters were clamped: all stages, all iterations.
  public var failedProposals: Int
  public var failedCompletions: Int
  public var failedEvaluations: Int
  public var clampedTemplates: Int
}

extension SearchSummary {
  /// What `seb search` prints at the end: one line per iteration, the reward on validation.
  public var text: String {
    iterations.map { it in
      let v = it.validation.overall[reward]
      return String(
        format:
          "iteration %d: validation %@ %.4f (gain %+.4f, 95%% [%.4f, %.4f]); train templates %d, failed proposals %d, failed completions %d",
        it.iteration + 1, reward.rawValue, v?.accuracy ?? .nan, v?.gain ?? .nan, v?.gainInterval.lower ?? .nan,
        v?.gainInterval.upper ?? .nan, it.train.templates.count, it.train.failedProposals, it.train.failedCompletions)
    }.joined(separator: "\n")
  }
}

public final class SearchRunner {
  let baseEngine: Engine
  let modelSHA256: String
  public let config: SearchConfig
  let options: RunOptions
  let dir: String
  var engines: [Int: Engine] = [:]
  /// Rebuilt checkpoints whose bytes differ from the recorded ones (see `rebuildCheckpoint`).
  var rebuildNotes: [String] = []
  /// The seed archive as this run scores it, with each entry's mean training tokens when measured.
  var seeds: (entries: [ArchiveEntry], tokens: [Double]?)?

  public init(engine: Engine, modelSHA256: String, config: SearchConfig, options: RunOptions) {
    baseEngine = engine
    self.modelSHA256 = modelSHA256
    self.config = config
    self.options = options
    dir = options.out
    engines[0] = engine
  }

  var layout: SearchLayout { SearchLayout(dir) }

  // MARK: Files

  static func readJSON<T: Decodable>(_ type: T.Type, _ path: String) throws -> T? {
    guard let d = FileManager.default.contents(atPath: path) else { return nil }
    do { return try CanonicalJSON.decoder().decode(T.self, from: d) } catch {
      throw ExperimentError.malformed(
        path: path, key: "(file)", expected: "a \(T.self) written by seb search", found: "\(error)")
    }
  }

  /// A stage's output: read if it exists, else computed and written whole.
  func stage<T: Codable>(_ path: String, _ make: () throws -> T) throws -> T {
    if let v = try Self.readJSON(T.self, path) { return v }
    let t0 = Date()
    let v = try make()
    try AtomicFile.write(try CanonicalJSON.pretty(v), to: path)
    try time(String(path.dropFirst(dir.count + 1)), since: t0)
    return v
  }

  /// Appends a stage's wall time to `timings.jsonl`.
  func time(_ stage: String, since t0: Date) throws {
    let s = (Date().timeIntervalSince(t0) * 1000).rounded() / 1000
    try RecordLog(path: layout.timings(shardSuffix: options.shard.suffix)).append(
      try CanonicalJSON.line(StageTiming(stage: stage, seconds: s)))
  }

  /// Every evaluation record of a stage, over all shard files (first record of a key wins), with
  /// the judge's accuracy among the scores when a judge is configured (`judged`).
  func records(_ i: Int, _ stage: String, judged: Bool = true) throws -> [String: SearchEvalRecord] {
    var out = try Self.stageRecords(iterDir: layout.iteration(i), stage: stage)
    if judged { try addJudgeScores(&out, iteration: i, stage: stage) }
    return out
  }

  /// A stage's evaluation records in one iteration directory, over all shard files.
  public static func stageRecords(iterDir d: String, stage: String) throws -> [String: SearchEvalRecord] {
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? [])
      .filter { SearchLayout.isEvaluations($0, stage: stage) }.sorted()
    var out: [String: SearchEvalRecord] = [:]
    for f in files {
      for line in try RecordLog.read(path: d + "/" + f).lines {
        do {
          let r = try CanonicalJSON.decoder().decode(SearchEvalRecord.self, from: line)
          if out[r.key] == nil { out[r.key] = r }
        } catch {
          throw ExperimentError.malformed(
            path: d + "/" + f, key: "(line)", expected: "an evaluation record", found: "\(error)")
        }
      }
    }
    return out
  }

  // MARK: Run

  /// Runs or resumes; returns the summary, or nil when other shards' evaluations are missing.
  @discardableResult
  public func run() throws -> SearchSummary? {
    let session = try RunSession(
      dir: dir, config: try config.canonical(), manifestPath: layout.manifest, modelSHA256: modelSHA256,
      engine: baseEngine.identity
    ) {
      try makeManifest()
    }
    try session.start(
      Invocation(
        started: isoNow(), finished: nil, host: ProcessInfo.processInfo.hostName, threads: options.threads,
        adaptersPerStep: options.adaptersPerStep, recordsAtStart: 0, recordsAtEnd: nil,
        status: "running" + (options.shard.isWhole ? "" : " shard \(options.shard.label)")))
    func finish(_ status: String) throws { try session.finish(status: status) }

    let val = try loadPassages(config.validationSplit, config.validationPassages)
    guard try scoreSeeds(train: try loadPassages(config.trainSplit(iteration: 0), config.trainPassages)) else {
      try finish("waiting for other shards (seed archive evaluations)"); return nil
    }
    var iterations: [SearchSummary.Iteration] = []
    for i in 0..<config.iterations {
      try AtomicFile.ensureDirectory(layout.iteration(i))
      let train = try loadPassages(config.trainSplit(iteration: i), config.trainPassages)
      let engine = try proposer(i)
      if !rebuildNotes.isEmpty { try session.update { $0.notes = rebuildNotes } }
      let proposer = try Proposer(engine: engine, config: config, prompts: options.prompts)
      proposer.log = options.log
      let prompt = try metaPrompt(i)
      options.log("[\(config.name)] iteration \(i + 1)/\(config.iterations): proposer \(engine.identity.model)")

      // Train stage.
      let proposals = try stage(layout.file(.trainProposals, iteration: i)) {
        options.log("  proposing \(config.templatesPerIteration) template(s)")
        return config.variant.proposesTemplates
          ? try proposer.proposeTemplates(
            prompt: prompt, slots: config.templates, exploitFraction: config.proposer.exploitFraction,
            seedName: "iter\(i)/train/propose")
          : try proposer.fixedTemplate(config.variant)
      }
      let completions = try stage(layout.file(.trainCompletions, iteration: i)) {
        options.log(
          "  completing \(proposals.templates.count) template(s) x \(train.count) passages x \(config.trainCompletions)"
        )
        return try proposer.complete(
          templates: proposals.templates, passages: train, completions: config.trainCompletions,
          seedName: "iter\(i)/train/complete")
      }
      guard
        try evaluate(
          i, "train", engine: engine, passages: train, proposals: proposals, completions: completions,
          c: config.trainCompletions)
      else {
        try finish("waiting for other shards (iteration \(i + 1) train evaluations)"); return nil
      }
      let trainResults = try stage(layout.file(.trainResults, iteration: i)) {
        try results(
          i, "train", passages: train.count, proposals: proposals, completions: completions, c: config.trainCompletions)
      }
      let archive = try updateArchive(i, proposals: proposals, completions: completions, results: trainResults)

      // Validation stage: one exploit template, one completion per validation passage.
      let valProposals = try stage(layout.file(.valProposals, iteration: i)) {
        options.log("  validation: proposing 1 template")
        return config.variant.proposesTemplates
          ? try proposer.proposeTemplates(
            prompt: prompt, slots: 1, exploitFraction: 1, seedName: "iter\(i)/val/propose")
          : try proposer.fixedTemplate(config.variant)
      }
      let valCompletions = try stage(layout.file(.valCompletions, iteration: i)) {
        options.log("  validation: completing on \(val.count) passages")
        return try proposer.complete(
          templates: valProposals.templates, passages: val, completions: 1, seedName: "iter\(i)/val/complete")
      }
      guard
        try evaluate(
          i, "val", engine: engine, passages: val, proposals: valProposals, completions: valCompletions, c: 1)
      else {
        try finish("waiting for other shards (iteration \(i + 1) validation evaluations)"); return nil
      }
      let valResults = try stage(layout.file(.valResults, iteration: i)) {
        try results(i, "val", passages: val.count, proposals: valProposals, completions: valCompletions, c: 1)
      }

      // Proposer update (not after the last iteration).
      var sftLog: SFTLog?
      if i < config.iterations - 1 {
        let rows = try sftRows(i, train: train, prompt: prompt, proposals: proposals, completions: completions)
        sftLog = try stage(layout.file(.sftLog, iteration: i)) {
          options.log("  proposer update: \(rows.count) SFT rows")
          return try engine.proposerUpdate(
            rows: rows, spec: config.sft, out: layout.file(.proposer, iteration: i), log: options.log)
        }
      }
      iterations.append(
        SearchSummary.Iteration(
          iteration: i, train: trainResults, validation: valResults,
          validationTemplate: valProposals.templates.first?.instruction,
          archiveSize: archive?.entries.count, coverage: archive?.coverage, qdScore: archive?.qdScore,
          sftRows: sftLog?.rows, sftFinalLoss: sftLog?.losses.last))
    }
    let all = iterations.flatMap { [$0.train, $0.validation] }
    let summary = SearchSummary(
      name: config.name, variant: config.variant.rawValue, reward: config.reward, complete: true,
      iterations: iterations,
      failedProposals: all.reduce(0) { $0 + $1.failedProposals },
      failedCompletions: all.reduce(0) { $0 + $1.failedCompletions },
      failedEvaluations: all.reduce(0) { $0 + $1.failedEvaluations },
      clampedTemplates: all.reduce(0) { $0 + $1.clampedTemplates })
    try AtomicFile.write(try CanonicalJSON.pretty(summary), to: layout.summary)
    try finish("finished")
    return summary
  }

  func loadPassages(_ split: String, _ n: Int) throws -> [Passage] {
    let m = try SplitManifest.load(split)
    let all = try m.passages(dataRoot: options.dataRoot)
    guard n <= all.count else {
      throw ExperimentError.invalidInput(
        what: "split \(split)", expected: "at least \(n) passages", found: "\(all.count)")
    }
    return Array(all.prefix(n))
  }

  /// The proposer of iteration i: the model given for 0, then the checkpoint the previous update
  /// wrote (rebuilt from the committed SFT rows when the file is missing, as in a fresh clone).
  func proposer(_ i: Int) throws -> Engine {
    if let e = engines[i] { return e }
    let path = layout.file(.proposer, iteration: i - 1)
    if !FileManager.default.fileExists(atPath: path) { try rebuildCheckpoint(i - 1) }
    let e = try baseEngine.loading(modelAt: path)
    engines = [0: baseEngine, i: e]  // the base stays: iteration 0 may be resumed in the same process
    return e
  }

  /// Checkpoints are not committed with a run (~145 MB each, gitignored), but the update that
  /// wrote one is a pure function of the previous proposer and `sft-rows.jsonl`: retrain it and
  /// check the bytes against the hash `sft-log.json` recorded. Another CPU kind can round the
  /// products differently; then the rebuilt file is used, the mismatch logged and kept in
  /// `rebuildNotes` for the manifest, so a reader knows later iterations ran on a near-copy.
  func rebuildCheckpoint(_ j: Int) throws {
    let out = layout.file(.proposer, iteration: j), logPath = layout.file(.sftLog, iteration: j),
      rowsPath = layout.file(.sftRows, iteration: j)
    guard let log = try Self.readJSON(SFTLog.self, logPath), FileManager.default.fileExists(atPath: rowsPath) else {
      throw ExperimentError.missingFile(
        path: out,
        what: "proposer checkpoint of iteration \(j + 1) (and no sft-log.json with sft-rows.jsonl to rebuild it from)")
    }
    let rows = try Self.readSFTRows(rowsPath)
    guard rows.count == log.rows else {
      throw ExperimentError.malformed(
        path: rowsPath, key: "(lines)", expected: "\(log.rows) rows as sft-log.json records", found: "\(rows.count)")
    }
    let previous = try proposer(j)
    options.log("  rebuilding \(out) from \(rows.count) SFT rows (the checkpoint is not part of the committed run)")
    _ = try previous.proposerUpdate(rows: rows, spec: config.sft, out: out, log: options.log)
    let sha = try SHA256.hashFile(at: URL(fileURLWithPath: out)).digest
    if sha != log.checkpointSHA256 {
      let note =
        "iter-\(String(format: "%02d", j))/proposer.gguf rebuilt with SHA-256 \(sha), recorded \(log.checkpointSHA256)"
      options.log("  warning: " + note)
      rebuildNotes.append(note)
    }
  }

  /// A new run's manifest (RunSession reopens an existing one).
  func makeManifest() throws -> SearchManifest {
    var data: [String: String] = [:]
    for f in [Self.metaPromptFile, Self.metaPromptArchiveFile, Self.archiveSeedFile] {
      data[f] = try SHA256.hashFile(at: URL(fileURLWithPath: try Datasets.file(f, dataRoot: options.dataRoot))).digest
    }
    for s in config.splits {
      let m = try SplitManifest.load(s)
      data[m.source] = try SHA256.hashFile(
        at: URL(fileURLWithPath: try Datasets.file(m.source, dataRoot: options.dataRoot))
      ).digest
    }
    var prompts: [String: String] = [:]
    for n in ["complete-template", "answer-chat-system", "answer-seal"]
      + [config.variant.fixedPrompt].compactMap({ $0 })
    {
      prompts[n] = try options.prompts.sha256(n)
    }
    return SearchManifest(
      config: config, configSHA256: SHA256.hash(Array(try config.canonical())), model: baseEngine.identity.model,
      modelSHA256: modelSHA256,
      dataFiles: data, promptSHA256: prompts, gitCommit: gitCommit(), invocations: [], engine: baseEngine.identity)
  }

  static let metaPromptFile = "self-edit-search/meta_prompt.txt"
  static let metaPromptArchiveFile = "self-edit-search/meta_prompt_archive.txt"
  static let archiveSeedFile = "self-edit-search/archive_seed.json"

  func readText(_ relative: String) throws -> String {
    let p = try Datasets.file(relative, dataRoot: options.dataRoot)
    guard let d = FileManager.default.contents(atPath: p), let s = String(data: d, encoding: .utf8) else {
      throw ExperimentError.malformed(path: p, key: "(file)", expected: "UTF-8 text", found: "unreadable")
    }
    return s
  }

  // MARK: Archive

  /// The seed archive as this run scores it (`SeedScores`). Measured: the seed templates are
  /// completed, trained and evaluated like proposals on the train passages by the iteration-0
  /// proposer (stages `iter-00/seed-*`), each entry then carrying the run's reward and normalized
  /// gain, sorted as the archive sorts; a seed with no evaluated self-edit is left out (counted
  /// in `seed-results.json`). False while other shards' seed evaluations are missing.
  func scoreSeeds(train: [Passage]) throws -> Bool {
    let file = try ArchiveEntry.load(try Datasets.file(Self.archiveSeedFile, dataRoot: options.dataRoot))
    guard config.variant.usesArchive, config.seedScores == .measured else { seeds = (file, nil); return true }
    try AtomicFile.ensureDirectory(layout.iteration(0))
    let engine = try proposer(0)
    let proposer = try Proposer(engine: engine, config: config, prompts: options.prompts)
    proposer.log = options.log
    let proposals = try stage(layout.file(.seedProposals, iteration: 0)) {
      proposer.seedTemplates(file, file: Self.archiveSeedFile)
    }
    let completions = try stage(layout.file(.seedCompletions, iteration: 0)) {
      options.log(
        "[\(config.name)] seed archive: completing \(proposals.templates.count) seed template(s) x \(train.count) passages x \(config.trainCompletions)"
      )
      return try proposer.complete(
        templates: proposals.templates, passages: train, completions: config.trainCompletions, seedName: "seed/complete"
      )
    }
    guard
      try evaluate(
        0, "seed", engine: engine, passages: train, proposals: proposals, completions: completions,
        c: config.trainCompletions)
    else { return false }
    let seedResults = try stage(layout.file(.seedResults, iteration: 0)) {
      try self.results(
        0, "seed", passages: train.count, proposals: proposals, completions: completions, c: config.trainCompletions)
    }
    var scored: [(entry: ArchiveEntry, tokens: Double)] = []
    for (t, r) in zip(proposals.templates, seedResults.templates) {
      let acc = r.accuracy[config.reward] ?? .nan
      guard !acc.isNaN else { continue }
      scored.append(
        (
          ArchiveEntry(
            template: file[t.index].template, accuracy: acc, normalizedGain: r.normalizedGain[config.reward] ?? .nan),
          r.meanDataTokens
        ))
    }
    let order = ArchiveEntry.rankOrder(scored.map(\.entry))
    seeds = (order.map { scored[$0].entry }, order.map { scored[$0].tokens })
    return true
  }

  /// The archive shown to iteration i (seed for 0, else what iteration i-1 left). Measured seeds
  /// are also the grid's first elites (their descriptors are known).
  func archiveEntries(_ i: Int) throws -> (entries: [ArchiveEntry], qd: QualityDiversityArchive?) {
    guard let (seed, seedTokens) = seeds else {
      throw ExperimentError.invalidInput(
        what: "search run", expected: "the seed archive scored before iteration 0", found: "not scored")
    }
    var entries = seed
    var qd = config.variant.gridSelection.map { QualityDiversityArchive(seed: seed, selection: $0) }
    if i == 0, let n = seedTokens, qd != nil {
      for (e, x) in zip(seed, n) { qd!.insert(e, meanTrainingTokens: x, learningRate: trainedLearningRate(e)) }
    }
    if i > 0, let f = try Self.readJSON(ArchiveFile.self, layout.file(.archive, iteration: i - 1)) {
      let loaded = try f.entries.map {
        ArchiveEntry(
          template: SelfEditTemplate(
            instruction: $0.instruction, hyperparameters: try PyJSON.loads($0.hyperparameters, source: "archive.json")),
          accuracy: $0.accuracy, normalizedGain: $0.normalizedGain)
      }
      if qd != nil {
        for (e, x) in zip(loaded, f.entries) {
          qd!.insert(e, meanTrainingTokens: x.meanDataTokens ?? 0, learningRate: trainedLearningRate(e))
        }
      } else {
        entries = loaded
      }
    }
    return (entries, qd)
  }

  /// The learning rate an entry's adapters trained with, for search-map-elites' grid axis (the
  /// validation policy applied to its template; nil: search-qd places cells by the proposed value).
  func trainedLearningRate(_ e: ArchiveEntry) -> Double? {
    config.variant == .mapElites
      ? config.validationPolicy.apply(e.template, base: config.training).spec.learningRate : nil
  }

  /// The meta prompt of iteration i: meta_prompt.txt, or meta_prompt_archive.txt filled from the archive.
  func metaPrompt(_ i: Int) throws -> String {
    guard config.variant.proposesTemplates else { return "" }
    guard config.variant.usesArchive else { return try readText(Self.metaPromptFile) }
    let a = try archiveEntries(i)
    return try MetaPrompt.fill(
      archiveTemplate: try readText(Self.metaPromptArchiveFile),
      archive: a.qd?.metaPromptEntries(seed: unitSeed(config.seed, "iter\(i)/parents")) ?? a.entries)
  }

  /// Appends this iteration's templates to the archive (search-archive), or offers them to the
  /// grid (search-qd), and writes `archive.json`; nil for the other variants.
  func updateArchive(
    _ i: Int, proposals: ProposalStage, completions: CompletionStage, results: StageResults
  ) throws -> ArchiveFile? {
    guard config.variant.usesArchive else { return nil }
    return try stage(layout.file(.archive, iteration: i)) {
      let (old, qd0) = try archiveEntries(i)
      var new: [ArchiveEntry] = [], tokens: [Double] = []
      for (t, r) in zip(proposals.templates, results.templates) {
        let tpl = try t.template()
        new.append(
          ArchiveEntry(
            template: SelfEditTemplate(instruction: tpl.instruction, hyperparameters: tpl.modelDump()),
            accuracy: r.accuracy[config.reward] ?? .nan, normalizedGain: r.normalizedGain[config.reward] ?? .nan))
        tokens.append(r.meanDataTokens)
      }
      func entry(_ e: ArchiveEntry, cell: [Int]? = nil, tokens: Double? = nil) -> ArchiveFile.Entry {
        ArchiveFile.Entry(
          instruction: e.template.instruction, hyperparameters: e.template.hyperparameters.dumps(ensureASCII: false),
          accuracy: e.accuracy, normalizedGain: e.normalizedGain, cell: cell, meanDataTokens: tokens)
      }
      if var qd = qd0 {
        for (e, n) in zip(new, tokens) where !e.accuracy.isNaN {
          qd.insert(e, meanTrainingTokens: n, learningRate: trainedLearningRate(e))
        }
        let cells = qd.elites.sorted { $0.key < $1.key }
        // The descriptor is kept with each elite so the grid can be rebuilt exactly.
        return ArchiveFile(
          entries: cells.map { c, e in
            entry(e, cell: [c.length, c.learningRate], tokens: qd.descriptors[c])
          }, coverage: qd.coverage, qdScore: qd.qdScore)
      }
      return ArchiveFile(
        entries: ArchiveEntry.update(old, with: new.filter { !$0.accuracy.isNaN }).map { entry($0) }, coverage: nil,
        qdScore: nil)
    }
  }
}

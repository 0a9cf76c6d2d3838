// Stages.swift: the evaluation, metrics and SFT-row stages of a search iteration.
import EngineAPI
import Experiment
import Foundation
import Search
import SelfEdit
import Workspace

extension SearchRunner {
  /// The inner loop's run settings: the config's training and answering (reference-pipeline 3.6).
  var loopConfig: RunConfig {
    var rc = RunConfig()
    rc.name = config.name
    rc.seed = config.seed
    rc.training = config.training
    rc.evaluation = config.evaluation
    rc.evaluation.runs = config.runs
    return rc
  }

  /// Trains and answers every (passage, template, completion, run) of this shard's blocks that
  /// is not yet recorded, with the un-adapted model's answers as each passage's baseline (greedy
  /// answers make the reference's T x C x E baseline runs identical, so one is evaluated).
  /// Returns whether every passage of the stage (all shards) is recorded.
  func evaluate(
    _ i: Int, _ stage: String, engine: Engine, passages: [Passage], proposals: ProposalStage,
    completions: CompletionStage, c: Int
  ) throws -> Bool {
    let loop = try InnerLoop(engine: engine, config: loopConfig, prompts: options.prompts)
    var done = Set(try records(i, stage, judged: false).keys)
    let templates = proposals.templates
    func keys(_ a: Int) -> [String] {
      [SearchEvalRecord.baselineKey(passage: a)]
        + templates.indices.flatMap { t in
          (0..<c).flatMap { k in
            (0..<config.runs(stage: stage)).map {
              SearchEvalRecord.key(passage: a, template: t, completion: k, run: $0)
            }
          }
        }
    }
    let log = try RecordLog(path: layout.evaluations(stage: stage, iteration: i, shardSuffix: options.shard.suffix))
    var byKey: [String: CompletionRecord] = [:]
    for r in completions.completions { byKey["\(r.template)/\(r.passage)/\(r.completion)"] = r }
    let mine = passages.indices.filter { options.shard.owns(passage: $0, blockSize: options.blockSize) }
    let blocks = Dictionary(grouping: mine) { $0 / options.blockSize }.sorted { $0.key < $1.key }.map(\.value)
    let todo = blocks.filter { $0.contains { a in keys(a).contains { !done.contains($0) } } }
    let t0 = Date()
    for (n, block) in todo.enumerated() {
      func append(_ r: SearchEvalRecord) throws {
        guard !done.contains(r.key) else { return }
        try log.append(try CanonicalJSON.line(r))
        done.insert(r.key)
      }
      // Answers are computed for the whole block even when some are recorded: batched gold
      // scoring rounds differently with another batch, so a resumed block repeats the batch.
      for (a, answers) in zip(block, try loop.answerMany(block.map { (passages[$0], nil) })) {
        try append(
          SearchEvalRecord(
            key: SearchEvalRecord.baselineKey(passage: a), passage: a, template: nil, completion: nil, run: nil,
            scores: passageScores(answers), answers: answers.map(\.text), training: nil, failure: nil))
      }
      // The block's adapters train packed, recorded ones too: the pack fixes the float32 rounding.
      var items: [(record: SearchEvalRecord, sequences: [String], spec: TrainingSpec)] = []
      var failed: [SearchEvalRecord] = []
      for a in block {
        for (t, tpl) in templates.enumerated() {
          for k in 0..<c {
            for e in 0..<config.runs(stage: stage) {
              let key = SearchEvalRecord.key(passage: a, template: t, completion: k, run: e)
              var r = SearchEvalRecord(
                key: key, passage: a, template: t, completion: k, run: e, scores: [:], answers: [], training: nil,
                failure: nil)
              guard let comp = byKey["\(t)/\(a)/\(k)"] else {
                r.failure = "completion missing"; failed.append(r); continue
              }
              if let f = comp.failure { r.failure = "completion: \(f)"; failed.append(r); continue }
              items.append((r, comp.sequences, tpl.training))
            }
          }
        }
      }
      for r in failed { try append(r) }
      let blockStart = Date()
      let trained = try loop.trainMany(
        items.map { ($0.sequences, unitSeed(config.seed, "iter\(i)/\(stage)/train/\($0.record.key)"), $0.spec) },
        adaptersPerStep: options.adaptersPerStep
      ) { d, total in
        let s = Date().timeIntervalSince(blockStart)
        self.options.log(
          String(
            format: "  %@ block %d/%d: %d/%d adapters trained, %.2f/min, block ETA %@", stage, n + 1, todo.count, d,
            total,
            Double(d) / s * 60, ProgressMeter.duration(s / Double(d) * Double(total - d))))
      }
      var answering: [(item: Int, adapter: AdapterHandle)] = []
      for (j, result) in trained.enumerated() {
        switch result {
        case .failure(let e): items[j].record.failure = "training: \(e.localizedDescription)"
        case .success(let t):
          items[j].record.training = TrainingBrief(t.summary)
          answering.append((j, t.adapter))
        }
      }
      defer { engine.release(answering.map(\.adapter)) }
      let answers = try loop.answerMany(
        answering.map { (passages[items[$0.item].record.passage], Optional($0.adapter)) })
      for (x, ans) in zip(answering, answers) {
        items[x.item].record.answers = ans.map(\.text)
        items[x.item].record.scores = passageScores(ans)
      }
      for it in items { try append(it.record) }
      try time(
        String(format: "iter-%02d/%@-evaluations/block-%d", i, stage, block[0] / options.blockSize), since: blockStart)
      let elapsed = Date().timeIntervalSince(t0)
      options.log(
        String(
          format: "  %@ evaluations: block %d/%d done, %.1f min/block, ETA %@", stage, n + 1, todo.count,
          elapsed / 60 / Double(n + 1),
          ProgressMeter.duration(elapsed / Double(n + 1) * Double(todo.count - n - 1))))
    }
    let all = try records(i, stage, judged: false)
    let missing = passages.indices.filter { a in keys(a).contains { all[$0] == nil } }
    if !missing.isEmpty {
      options.log(
        "  \(stage) evaluations of iteration \(i + 1): \(passages.count - missing.count)/\(passages.count) passages recorded; "
          + "the rest belong to other shards: run them, then run again to continue")
    }
    if missing.isEmpty { try judgeStage(i, stage, passages: passages) }
    return missing.isEmpty
  }

  /// write_results (reference-pipeline 3.7) from the records, for every metric; failed
  /// self-edits are left out of the means and counted.
  func results(
    _ i: Int, _ stage: String, passages nA: Int, proposals: ProposalStage, completions: CompletionStage, c: Int
  ) throws -> StageResults {
    let recs = try records(i, stage)
    let nT = proposals.templates.count, nE = config.runs(stage: stage)
    var templates: [StageResults.Template] = proposals.templates.map {
      StageResults.Template(
        index: $0.index, instruction: $0.instruction, hyperparameters: $0.hyperparameters, accuracy: [:],
        normalizedGain: [:],
        evaluated: 0, failed: 0, meanDataTokens: 0)
    }
    for t in 0..<nT {
      let comps = completions.completions.filter { $0.template == t && $0.failure == nil }
      templates[t].meanDataTokens =
        comps.isEmpty ? 0 : Double(comps.reduce(0) { $0 + $1.dataTokens }) / Double(comps.count)
    }
    var overall: [Metric: StageResults.Overall] = [:]
    var evaluations = 0, failedEvals = 0
    for a in 0..<nA {
      for t in 0..<nT {
        for k in 0..<c {
          for e in 0..<nE {
            evaluations += 1
            if recs[SearchEvalRecord.key(passage: a, template: t, completion: k, run: e)]?.failure != nil {
              failedEvals += 1; templates[t].failed += 1
            } else {
              templates[t].evaluated += 1
            }
          }
        }
      }
    }
    if nT > 0 {
      for m in config.metrics {
        let metric = m
        var base = [[[[Double]]]](), adapted = [[[[Double]]]]()
        for a in 0..<nA {
          let b = recs[SearchEvalRecord.baselineKey(passage: a)]?.scores[metric] ?? .nan
          base.append((0..<nT).map { _ in (0..<c).map { _ in [Double](repeating: b, count: nE) } })
          adapted.append(
            (0..<nT).map { t in
              (0..<c).map { k in
                (0..<nE).map { e in
                  recs[SearchEvalRecord.key(passage: a, template: t, completion: k, run: e)]?.scores[metric] ?? .nan
                }
              }
            })
        }
        let r = try SearchResults(base: base, adapted: adapted, skipMissing: true)
        for t in 0..<nT {
          templates[t].accuracy[metric] = r.templateAccuracy(t)
          templates[t].normalizedGain[metric] = r.templateNormalizedGain(t)
        }
        let o = r.overall
        // Per passage: its adapted mean and its gain over its baseline, for intervals over passages.
        var acc: [Double] = [], gain: [Double] = []
        for a in 0..<nA {
          let v = adapted[a].flatMap { $0.flatMap { $0 } }.filter { !$0.isNaN }
          guard !v.isEmpty else { continue }
          let m = v.reduce(0, +) / Double(v.count)
          acc.append(m); gain.append(m - r.articleBaseline(a))
        }
        let none = Estimate(mean: .nan, lower: .nan, upper: .nan, n: 0)
        overall[metric] = StageResults.Overall(
          baseline: o.baseline, accuracy: o.accuracy, gain: o.gain, winRate: o.winRate,
          normalizedGain: o.normalizedGain,
          accuracyInterval: acc.isEmpty ? none : try Stats.bootstrapMean(acc, seed: config.seed),
          gainInterval: gain.isEmpty ? none : try Stats.bootstrapMean(gain, seed: config.seed))
      }
    }
    return StageResults(
      reward: config.reward, passages: nA, templates: templates, overall: overall, evaluations: evaluations,
      failedEvaluations: failedEvals, failedCompletions: completions.completions.filter { $0.failure != nil }.count,
      failedProposals: proposals.failedSlots, clampedTemplates: proposals.templates.filter { !$0.clamped.isEmpty }.count
    )
  }

  /// The proposer's SFT rows of iteration i (reference-pipeline 3.9; fixed prompts 3.5; ReST-EM 2.6),
  /// selected by the reward; written to `sft-rows.jsonl`.
  static func readSFTRows(_ path: String) throws -> [SFTRow] {
    try RecordLog.read(path: path).lines.enumerated().map { n, line in
      do { return try CanonicalJSON.decoder().decode(SFTRow.self, from: line) } catch {
        throw ExperimentError.malformed(
          path: path, key: "line \(n + 1)", expected: "an SFT row {prompt, completion}", found: "\(error)")
      }
    }
  }

  func sftRows(
    _ i: Int, train: [Passage], prompt: String, proposals: ProposalStage, completions: CompletionStage
  ) throws -> [SFTRow] {
    let path = layout.file(.sftRows, iteration: i)
    if FileManager.default.fileExists(atPath: path) { return try Self.readSFTRows(path) }
    let recs = try records(i, "train")
    let nT = proposals.templates.count, c = config.trainCompletions, metric = config.reward
    var rows: [SFTRow] = []
    if nT > 0 {
      var base = [[[[Double]]]](), adapted = [[[[Double]]]]()
      for a in train.indices {
        let b = recs[SearchEvalRecord.baselineKey(passage: a)]?.scores[metric] ?? .nan
        base.append((0..<nT).map { _ in (0..<c).map { _ in [Double](repeating: b, count: config.runs) } })
        adapted.append(
          (0..<nT).map { t in
            (0..<c).map { k in
              (0..<config.runs).map { e in
                recs[SearchEvalRecord.key(passage: a, template: t, completion: k, run: e)]?.scores[metric] ?? .nan
              }
            }
          })
      }
      let r = try SearchResults(base: base, adapted: adapted, skipMissing: true)
      var byKey: [String: CompletionRecord] = [:]
      for x in completions.completions { byKey["\(x.template)/\(x.passage)/\(x.completion)"] = x }
      let proposer = try Proposer(engine: try self.proposer(i), config: config, prompts: options.prompts)
      if config.variant.proposesTemplates {
        for (a, t, k) in r.sftPairs(archive: config.variant.usesArchive) {
          guard let comp = byKey["\(t)/\(a)/\(k)"] else { continue }
          let tpl = try proposals.templates[t].template()
          let dumped = PyJSON.object([
            ("data_creation_instruction", .string(tpl.instruction)), ("hyperparameters", tpl.modelDump()),
          ])
          rows.append(SFTRow(prompt: prompt, completion: dumped.dumps(ensureASCII: false)))
          rows.append(
            SFTRow(
              prompt: proposer.completionPrompt(proposals.templates[t], train[a]),
              completion: PyJSON.object([("training_sequences", .array(comp.sequences.map { .string($0) }))]).dumps(
                ensureASCII: false)))
        }
      } else {
        for (a, t, k) in r.topCompletions(k: config.variant.isReSTEM ? 1 : 2) {
          guard let comp = byKey["\(t)/\(a)/\(k)"] else { continue }
          rows.append(
            SFTRow(
              prompt: proposer.completionPrompt(proposals.templates[t], train[a]),
              completion: config.variant.isReSTEM ? TrainingSequences.pyStrip(comp.text) : comp.text))  // 3.5: raw content; 2.6: stripped
        }
      }
    }
    var data = Data()
    for r in rows { data.append(try CanonicalJSON.line(r)); data.append(0x0A) }
    try AtomicFile.write(data, to: path)
    return rows
  }
}

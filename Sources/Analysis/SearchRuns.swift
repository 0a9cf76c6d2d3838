// SearchRuns.swift: a strategy-search run directory (written by `seb search`) read through the
// types the search writes (Search's SearchRecords), for the collapse analysis and reports of our
// own runs: per iteration the train templates (the groups the paper's collapse figures score),
// their scores, the training data's length, and the validation result with intervals. Reads
// files only; never the runtime.
import Experiment
import Foundation
import Search
import Workspace

public struct SearchRunIteration: Sendable {
  public var iteration: Int
  /// The train stage's valid templates (instruction + proposed hyperparameters).
  public var templates: [Template]
  /// Per template: the reward's mean accuracy and normalized gain on the train passages (NaN
  /// where no evaluation of the template succeeded).
  public var templateScores: [(accuracy: Double, normalizedGain: Double)]
  /// Template slots and how many never parsed; completions and how many failed; templates clamped.
  public var slots: Int
  public var failedProposals: Int
  public var completions: Int
  public var failedCompletions: Int
  public var clampedTemplates: Int
  /// Mean tokens of the train completions' sequences (failed ones left out).
  public var meanDataTokens: Double?
  /// Validation: metric -> (score, its 95% interval over passages; gain over the baseline, its interval).
  public var validation: [Metric: (score: Estimate, gain: Estimate, baseline: Double)]
  /// The validation stage's template (instruction + proposed hyperparameters).
  public var validationTemplate: Template?
  public var coverage: Double?
  public var qdScore: Double?
  public var archiveSize: Int?
  public var sftRows: Int?
}

public struct SearchRun: Sendable {
  public var dir: String
  public var name: String
  public var variant: String
  public var reward: Metric
  public var complete: Bool
  public var iterations: [SearchRunIteration]
  /// The run's `config.json` (every default filled in).
  public var config: JSONValue = .null
  /// Archive variants with measured seed scores: the seed templates with the run's reward and
  /// normalized gain on the train passages (`iter-00/seed-*`); empty otherwise.
  public var seeds: [(template: Template, accuracy: Double, normalizedGain: Double)] = []

  /// Whether `dir` holds a search run (its config names a variant).
  public static func isSearchRun(_ dir: String) -> Bool {
    guard let d = FileManager.default.contents(atPath: SearchLayout(dir).config) else { return false }
    return SearchConfig.isSearchConfig(d)
  }

  /// Reads every finished iteration (an iteration counts once its validation results exist).
  public static func load(_ dir: String) throws -> SearchRun {
    let layout = SearchLayout(dir)
    let config = try JSONValue.load(layout.config)
    guard let variant = config["variant"]?.string, let name = config["name"]?.string else {
      throw AnalysisError.malformed(
        path: layout.config, key: "variant", expected: "a search config", found: config.kind)
    }
    var reward = SearchConfig().reward
    if let r = config["reward"] {
      guard let m = r.string.flatMap(Metric.init(rawValue:)) else {
        throw AnalysisError.malformed(path: layout.config, key: "reward", expected: Metric.choices, found: r.kind)
      }
      reward = m
    }
    let total = config["iterations"]?.int ?? 0
    var its: [SearchRunIteration] = []
    for i in 0..<max(total, 0) {
      guard FileManager.default.fileExists(atPath: layout.file(.valResults, iteration: i)) else { break }
      its.append(try iteration(i, layout: layout, reward: reward))
    }
    var run = SearchRun(
      dir: dir, name: name, variant: variant, reward: reward,
      complete: FileManager.default.fileExists(atPath: layout.summary) && its.count == total, iterations: its)
    run.config = config
    let seedResults = layout.file(.seedResults, iteration: 0), seedProposals = layout.file(.seedProposals, iteration: 0)
    if FileManager.default.fileExists(atPath: seedResults) {
      let t = try templates(try stageFile(ProposalStage.self, seedProposals), path: seedProposals)
      let s = scores(try stageFile(StageResults.self, seedResults), reward: reward)
      run.seeds = zip(t, s).map { ($0, $1.accuracy, $1.normalizedGain) }
    }
    return run
  }

  /// A stage file through its type (what the search wrote), errors naming the file and key.
  static func stageFile<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
    try decodeFile(type, path: path, decoder: CanonicalJSON.decoder())
  }

  /// The valid templates of a proposals file (instruction + proposed hyperparameters, read as
  /// `JSONValue`, and the values a clamp trained instead).
  public static func templates(_ stage: ProposalStage, path: String) throws -> [Template] {
    try stage.templates.enumerated().map { j, t in
      Template(
        instruction: t.instruction, hyperparameters: try hyperparameters(t, path: path, j), clamped: t.clampedValues)
    }
  }

  static func hyperparameters(_ t: ProposedTemplate, path: String, _ j: Int) throws -> [String: JSONValue] {
    let hp = try JSONValue.parse(Data(t.hyperparameters.utf8), path: path + " templates[\(j)].hyperparameters")
    guard let o = hp.object else {
      throw AnalysisError.malformed(
        path: path, key: "templates[\(j)].hyperparameters", expected: "an object", found: hp.kind)
    }
    return o
  }

  /// Per template of a results file: the reward's accuracy and normalized gain.
  static func scores(_ results: StageResults, reward: Metric) -> [(accuracy: Double, normalizedGain: Double)] {
    results.templates.map { ($0.accuracy[reward] ?? .nan, $0.normalizedGain[reward] ?? .nan) }
  }

  static func iteration(_ i: Int, layout: SearchLayout, reward: Metric) throws -> SearchRunIteration {
    let f = { (file: SearchLayout.File) in layout.file(file, iteration: i) }
    let proposals = try stageFile(ProposalStage.self, f(.trainProposals))
    let results = try stageFile(StageResults.self, f(.trainResults))
    let completions = try stageFile(CompletionStage.self, f(.trainCompletions)).completions
    let val = try stageFile(StageResults.self, f(.valResults))
    let ok = completions.filter { $0.failure == nil }
    let validation = val.overall.mapValues { ($0.accuracyInterval, $0.gainInterval, $0.baseline) }
    var valTemplate: Template?
    if let p = try? stageFile(ProposalStage.self, f(.valProposals)), let t = p.templates.first {
      let hp = (try? hyperparameters(t, path: f(.valProposals), 0)) ?? [:]
      valTemplate = Template(instruction: t.instruction, hyperparameters: hp, clamped: t.clampedValues)
    }
    let archive = try? stageFile(ArchiveFile.self, f(.archive))
    var rows: Int?
    if let s = try? Data(contentsOf: URL(fileURLWithPath: f(.sftRows))) {
      rows = s.split(separator: 0x0A).count
    }
    return SearchRunIteration(
      iteration: i, templates: try templates(proposals, path: f(.trainProposals)),
      templateScores: scores(results, reward: reward), slots: proposals.slots,
      failedProposals: results.failedProposals, completions: completions.count,
      failedCompletions: completions.count - ok.count, clampedTemplates: results.clampedTemplates,
      meanDataTokens: ok.isEmpty ? nil : Double(ok.map(\.dataTokens).reduce(0, +)) / Double(ok.count),
      validation: validation, validationTemplate: valTemplate, coverage: archive?.coverage, qdScore: archive?.qdScore,
      archiveSize: archive?.entries.count, sftRows: rows)
  }
}
